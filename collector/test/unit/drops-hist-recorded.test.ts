/**
 * Real hist tables, recorded from Debian's 6.1 and 6.12 cloud kernels under qemu (`npm run test:kernels -- --record
 * DIR`) after the VM suite's hist tests: 25 datagrams to a closed UDP port, 25 SYNs to a closed TCP port, 25 forwarded
 * datagrams without a route, 2 x 25 datagrams dropped by nftables rules, each datagram 100 bytes of payload. The
 * suite checked these numbers against the kernel's own counters there; here the parsers read the same tables.
 */
import { parseHist } from '../../src/kernel/tracefs/hist';
import { addKprobeBytes } from '../../src/sources/linux/drops/kprobe-bytes';
import { DropTally } from '../../src/sources/linux/drops/tally';
import { parseEventFormat } from '../../src/kernel/tracefs/format';
import { fixture } from '../helpers/fixtures';

describe.each(['6.1', '6.12'])('hist tables recorded on Debian %s', (version) => {
  const counts = parseHist(fixture(`linux/tracefs/hist.kfree_skb.${version}`))[0]!;
  const bytes = parseHist(fixture(`linux/tracefs/hist.kprobe_bytes.${version}`))[0]!;
  const names = parseEventFormat(fixture(`linux/tracefs/kfree_skb.format.${version}`)).symbols.get('reason')!;

  function byReasonAndFunction(table: typeof counts, functionKey: string) {
    return Object.fromEntries(
      table.entries.map((e) => {
        const reason = e.keys['reason'];
        const fn = e.keys[functionKey];
        const name = reason && 'number' in reason ? names.get(reason.number) : undefined;
        return [`${name}|${fn && 'symbol' in fn ? fn.symbol : '?'}`, e.values['hitcount']];
      }),
    );
  }

  it('reads both tables whole, nothing lost', () => {
    expect(counts.dropped).toBe(0);
    expect(bytes.dropped).toBe(0);
    expect(counts.entries.reduce((sum, e) => sum + e.values['hitcount']!, 0)).toBe(counts.hits);
    expect(bytes.entries.reduce((sum, e) => sum + e.values['hitcount']!, 0)).toBe(bytes.hits);
  });

  it('the bytes kprobe saw the same drops as the tracepoint, per reason and function', () => {
    expect(byReasonAndFunction(bytes, 'caller')).toEqual(byReasonAndFunction(counts, 'location'));
  });

  it("sums skb->len per reason: the suite's traffic, byte for byte", () => {
    const tally = new DropTally();
    addKprobeBytes(bytes, names, tally);
    const byReason = (reason: string) =>
      tally
        .byteSamples()
        .filter((s) => s.labels.reason === reason)
        .reduce((sum, s) => sum + s.value, 0);
    // Whole IP packets (20 + 8 + 100 bytes) for nftables and the forwarding path.
    expect(byReason('NETFILTER_DROP')).toBe(50 * 128);
    expect(byReason('IP_INNOROUTES')).toBe(25 * 128);
    const udp = bytes.entries.find((e) => {
      const caller = e.keys['caller'];
      return caller && 'symbol' in caller && caller.symbol === '__udp4_lib_rcv';
    })!;
    // UDP drops after the IP header is pulled: 8 + 100 bytes each.
    expect(udp.values).toEqual({ hitcount: 25, len: 25 * 108 });
  });
});
