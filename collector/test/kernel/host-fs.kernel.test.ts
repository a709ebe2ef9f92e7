/**
 * HostFs keeps the net/ files of the live procfs open and reads them again from offset 0 (kernel/host-fs.ts). This
 * checks on the running kernel that such a read is fresh: a counter read through the kept descriptor grows by the
 * datagrams sent between two reads, in a namespace of the test's own where nothing else sends.
 */
import * as path from 'node:path';
import { cleanup, describeKernel, Namespace, REPO_ROOT } from '../helpers/netns';

const DIST = path.join(REPO_ROOT, 'collector', 'dist');

/**
 * Runs in the namespace: reads Udp NoPorts of /proc/net/snmp through one HostFs (built dist), sends `count` datagrams
 * to a closed port on loopback, reads it again, and lists this process's descriptors on net/snmp around each step.
 */
const SCRIPT = `
const fs = require('node:fs');
const { createHostFs } = require(${JSON.stringify(path.join(DIST, 'kernel', 'host-fs.js'))});
const { parseSnmpTables } = require(${JSON.stringify(path.join(DIST, 'kernel', 'net-snmp.js'))});
const hostFs = createHostFs({ procPath: '/proc', sysPath: '/sys', tracefsPath: '/sys/kernel/tracing' });
const noPorts = () => parseSnmpTables(hostFs.readProc('net/snmp'), 'net/snmp', []).get('Udp').get('NoPorts');
const descriptors = () => fs.readdirSync('/proc/self/fd').filter((fd) => {
  try { return fs.readlinkSync('/proc/self/fd/' + fd).endsWith('/net/snmp'); } catch { return false; }
});
const before = noPorts();
const keptBefore = descriptors();
const socket = require('node:dgram').createSocket('udp4');
let left = Number(process.argv[1]);
const next = () => {
  if (left-- > 0) return socket.send('x', 9, '127.0.0.1', next);
  socket.close();
  const after = noPorts();
  const keptAfter = descriptors();
  hostFs.close();
  console.log(JSON.stringify({ before, after, keptBefore, keptAfter, afterClose: descriptors() }));
};
next();
`;

describeKernel('HostFs descriptors kept open on the live procfs', () => {
  let ns: Namespace;
  beforeAll(() => {
    ns = Namespace.create();
  });
  afterAll(cleanup);

  it('reads a counter anew through the same descriptor: Udp NoPorts grows by the datagrams sent between reads', () => {
    const result = JSON.parse(ns.exec(process.execPath, '-e', SCRIPT, '9')) as {
      before: number;
      after: number;
      keptBefore: string[];
      keptAfter: string[];
      afterClose: string[];
    };
    expect(result.after - result.before).toBe(9);
    expect(result.keptBefore).toHaveLength(1);
    expect(result.keptAfter).toEqual(result.keptBefore);
    expect(result.afterClose).toEqual([]);
  });
});
