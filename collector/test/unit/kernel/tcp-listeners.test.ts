/** The listening-port check `kappie snapshot` makes before looking for a serving collector, on this host. */
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { ParseError } from '../../../src/errors';
import { isListening } from '../../../src/kernel/tcp-listeners';
import { newTcpSocketTally, tallyTcpTable } from '../../../src/kernel/tcp-table';

const TCP = [
  '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
  '   0: 0100007F:2759 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000 100 0 0 10 0',
  '   1: 0100007F:2759 0100007F:D2F0 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0000000000000000 20 4 30 10 -1',
  '   2: 0100007F:1F90 0100007F:8A2C 06 00000000:00000000 03:00000E2D 00000000     0        0 0 3 0000000000000000',
  '',
].join('\n');
const TCP6 = [
  '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
  '   0: 00000000000000000000000000000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3 1 0000000000000000 100 0 0 10 0',
  '',
].join('\n');

describe('listening TCP ports', () => {
  const listening = (text: string, family: 'tcp' | 'tcp6') => {
    const tally = newTcpSocketTally(false);
    tallyTcpTable(Buffer.from(text, 'latin1'), `/proc/net/${family}`, { family, littleEndian: true }, tally);
    return tally.listeningPorts;
  };

  it('are the local ports of sockets in LISTEN state, IPv4 and IPv6', () => {
    expect(listening(TCP, 'tcp')).toEqual(new Set([10073]));
    expect(listening(TCP6, 'tcp6')).toEqual(new Set([22]));
  });

  it('refuses a line that is not a socket, naming the file and line', () => {
    expect(() => listening(`${TCP}garbage line\n`, 'tcp')).toThrow(ParseError);
    expect(() => listening(`${TCP}garbage line\n`, 'tcp')).toThrow(/^\/proc\/net\/tcp:5: /);
  });

  it('tell whether a real listener is there', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      expect(isListening(port)).toBe(process.platform === 'linux' ? true : undefined);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    expect(isListening(port)).toBe(process.platform === 'linux' ? false : undefined);
    expect(isListening(port, '/nonexistent')).toBeUndefined();
  });
});
