/**
 * Traffic the stack tests make so the drop panels have something to show: only to loopback (here, or in a
 * namespace the test created), never to another address.
 */
import * as dgram from 'node:dgram';

/** A loopback UDP port nobody listens on: bound then closed, so datagrams to it are NO_SOCKET drops. */
export async function closedUdpPort(): Promise<number> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

/** Sends `count` datagrams to a closed loopback port (the kernel drops each with reason NO_SOCKET). */
export async function sendDatagramsToClosedPort(count: number): Promise<void> {
  const port = await closedUdpPort();
  const socket = dgram.createSocket('udp4');
  socket.on('error', () => {});
  for (let i = 0; i < count; i++) {
    await new Promise<void>((resolve) => socket.send('x', port, '127.0.0.1', () => resolve()));
  }
  await new Promise<void>((resolve) => socket.close(() => resolve()));
}
