/**
 * The BTF parser (collector/src/kernel/btf.ts) on the guest kernel's real /sys/kernel/btf/vmlinux. Where the kernel
 * resolves BTF argument names itself (CONFIG_PROBE_EVENTS_BTF_ARGS), one kprobe fetches skb->len both by name and
 * at our offset, and the two must agree on every drop; where it cannot, kappie_drop_bytes equal to nftables' byte
 * counts (drop-tests.ts) is the proof that the offset is right.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { BTF_KIND, functionParameters, memberLocation, parseBtf, type Btf } from '@kappie/collector/btf';
import { PORT_CLOSED, TRACEFS, type SuiteContext } from './context';
import { ADDRESS_B } from './namespaces';
import type { GuestRunner } from './runner';

const VMLINUX = '/sys/kernel/btf/vmlinux';
/** Drop functions taking (…, struct sk_buff *, enum skb_drop_reason), newest first. */
const DROP_FUNCTIONS = ['sk_skb_reason_drop', 'kfree_skb_reason'];
const CHECK_GROUP = 'kappievmbtf';
const CHECK_INSTANCE = `${TRACEFS}/instances/kappievmbtf`;

/** The drop function this kernel has, its skb argument position ($argN) and the offsets of len and protocol. */
function probePlan(btf: Btf) {
  const target = DROP_FUNCTIONS.find((fn) => btf.idsNamed(BTF_KIND.func, fn).length > 0);
  assert.ok(target, `BTF has none of ${DROP_FUNCTIONS.join(', ')}`);
  const skbArg = functionParameters(btf, target).findIndex((p) => p.type === 'struct sk_buff *') + 1;
  assert.ok(skbArg > 0, `${target} takes no struct sk_buff *`);
  return {
    target,
    skbArg,
    len: memberLocation(btf, 'sk_buff', 'len'),
    protocol: memberLocation(btf, 'sk_buff', 'protocol'),
    users: memberLocation(btf, 'sk_buff', 'users'),
  };
}

export function registerBtfTests(runner: GuestRunner, context: SuiteContext): void {
  let btf: Btf | undefined;

  runner.test(
    'BTF: /sys/kernel/btf/vmlinux of this kernel parses; sk_buff.len is a u32; the drop function takes an skb',
    () => {
      btf = parseBtf(fs.readFileSync(VMLINUX), VMLINUX);
      assert.ok(btf.typeCount > 10_000, `only ${btf.typeCount} types`);
      const plan = probePlan(btf);
      assert.equal(plan.len.size, 4);
      assert.equal(plan.protocol.size, 2);
    },
  );

  const readme = fs.readFileSync(`${TRACEFS}/README`, 'latin1');
  if (!/<argname>\[->field/.test(readme)) return;

  runner.test(
    'BTF: our offsets fetch the same skb->len, protocol and users as the BTF argument names the kernel resolves',
    async () => {
      assert.ok(btf, 'BTF did not parse');
      const plan = probePlan(btf);
      const skb = `$arg${plan.skbArg}`;
      const definition =
        `p:${CHECK_GROUP}/check ${plan.target} byname=skb->len:u32 byoffset=+${plan.len.offset}(${skb}):u32 ` +
        `protoname=skb->protocol:u16 protooffset=+${plan.protocol.offset}(${skb}):u16 ` +
        `usersname=skb->users.refs.counter:u32 usersoffset=+${plan.users.offset}(${skb}):u32`;
      fs.appendFileSync(`${TRACEFS}/kprobe_events`, `${definition}\n`);
      fs.mkdirSync(CHECK_INSTANCE);
      try {
        fs.writeFileSync(`${CHECK_INSTANCE}/events/${CHECK_GROUP}/check/enable`, '1');
        await context.network.a.send({ op: 'udp', to: ADDRESS_B, port: PORT_CLOSED, count: 5, size: 333 });
        fs.writeFileSync(`${CHECK_INSTANCE}/events/${CHECK_GROUP}/check/enable`, '0');
        const events = [
          ...fs
            .readFileSync(`${CHECK_INSTANCE}/trace`, 'latin1')
            .matchAll(
              /byname=(\d+) byoffset=(\d+) protoname=(\d+) protooffset=(\d+) usersname=(\d+) usersoffset=(\d+)/g,
            ),
        ];
        assert.ok(events.length >= 5, `only ${events.length} drops traced`);
        for (const [, byName, byOffset, protoName, protoOffset] of events) {
          assert.equal(byOffset, byName, 'skb->len at our offset differs from skb->len by name');
          assert.equal(protoOffset, protoName, 'skb->protocol at our offset differs from skb->protocol by name');
        }
        assert.ok(
          events.some((e) => e[1] === String(8 + 333)),
          'no drop of the 333-byte datagrams seen',
        );
      } finally {
        fs.rmdirSync(CHECK_INSTANCE);
        fs.appendFileSync(`${TRACEFS}/kprobe_events`, `-:${CHECK_GROUP}/check\n`);
      }
    },
  );
}
