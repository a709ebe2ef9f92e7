/**
 * AKS node shapes as test hosts: a "node" network namespace wired the way a CNI wires a Kubernetes node, pod
 * namespaces behind it, and an "outside" namespace behind the node's uplink (the VNet gateway and everything beyond).
 * Each shape is named after the CNI it imitates:
 *
 * | shape | pods' host side | bridge | uplink |
 * |---|---|---|---|
 * | `kubenet` | `veth*` ports of `cbr0`, which holds the pod gateway | `cbr0` | `eth0` (default route), pod egress masqueraded |
 * | `azure-cni-transparent` | routed `azv*` (a /32 route each, proxy ARP) | none | `eth0` (default route); a host `veth-mgmt` pair |
 * | `azure-cni-bridge` | `azv*` ports of `azure0` | `azure0` holds the node address and default route | `eth0`, a port of `azure0` |
 * | `cilium` | routed `lxc*`, the `cilium_host`/`cilium_net` pair holds the router address | none | `eth0` |
 * | `enslaved-uplink` | routed `azv*` | - | `eth0` holds the address and routes, the "VF" `enP30832s1` is enslaved to it |
 *
 * What cannot be imitated here: the kernels this runs on have neither bonding nor team (nor macvlan), so the enslaved
 * uplink is a bridge `eth0` with the VF-like `enP30832s1` as its only port; the real shape (hv_netvsc `eth0` as the
 * master of an mlx5/MANA VF, a bond over NICs) is covered by the unit tests of link-roles.ts. No eBPF datapath either:
 * the Cilium shape has Cilium's devices and routes, not its BPF programs. Pods' `eth0` and the outside's `wan0` are
 * veths, as are the node's "physical" ports.
 *
 * IPv6 is off in every namespace, so nothing sends on its own (router and neighbour solicitations) and the counters
 * stay still between the test's readings. Addresses come from the benchmarking range 198.18.0.0/15 inside these
 * namespaces only. Everything lives in namespaces created through netns.ts: `remove()` (and netns.ts `cleanup()`, also
 * at process exit) deletes them, and with them every veth, bridge, route and nftables table inside.
 */
import { Namespace, run, uniqueName } from './netns';

export const NODE_SHAPES = [
  'kubenet',
  'azure-cni-transparent',
  'azure-cni-bridge',
  'cilium',
  'enslaved-uplink',
] as const;
export type NodeShapeName = (typeof NODE_SHAPES)[number];

export interface Pod {
  readonly ns: Namespace;
  /** The pod's address (on its `eth0`). */
  readonly address: string;
  /** The node side of the pod's veth. */
  readonly hostInterface: string;
}

export interface NodeShape {
  readonly shape: NodeShapeName;
  readonly node: Namespace;
  readonly outside: Namespace;
  readonly pods: readonly Pod[];
  /** The node's own address on the uplink subnet (what the outside reaches the host at). */
  readonly nodeAddress: string;
  /** The outside's address: the default gateway of the node (and of bridged pods). */
  readonly outsideAddress: string;
  /** The interface every packet crossing the node passes once: what kappie_forward_* and the flag counters count. */
  readonly uplink: string;
  /** Whether the uplink is a bridge port (its frames are switched: the flag counters use a bridge-family table). */
  readonly uplinkIsBridgePort: boolean;
  /** The node's interfaces that are not pod interfaces (besides lo): bridges, the uplink, its master, host veths. */
  readonly nodeInterfaces: readonly string[];
  /** Deletes every namespace of the shape (and so everything in them). Safe to call twice. */
  remove(): void;
}

const UPLINK_SUBNET = '198.18.0';
const POD_SUBNET = '198.18.10';
const OUTSIDE = `${UPLINK_SUBNET}.1`;
const NODE = `${UPLINK_SUBNET}.2`;

/**
 * The commands that build a shape, gathered per namespace and run as one `ip -batch` and one `sysctl` per namespace
 * (a process start is the slow part on a loaded machine): the node's batch first (it creates every veth, putting the
 * far ends into the pod and outside namespaces), then the others'.
 */
class Wiring {
  private readonly ipLines = new Map<Namespace, string[]>();
  private readonly sysctls = new Map<Namespace, string[]>();

  ip(ns: Namespace, line: string): void {
    this.ipLines.set(ns, [...(this.ipLines.get(ns) ?? []), line]);
  }

  sysctl(ns: Namespace, setting: string): void {
    this.sysctls.set(ns, [...(this.sysctls.get(ns) ?? []), setting]);
  }

  apply(node: Namespace): void {
    const order = [node, ...[...this.ipLines.keys()].filter((ns) => ns !== node)];
    for (const ns of order) {
      const lines = this.ipLines.get(ns);
      if (lines) run('ip', ['-n', ns.name, '-batch', '-'], `${lines.join('\n')}\n`);
    }
    for (const [ns, settings] of this.sysctls) ns.exec('sysctl', '-qw', ...settings);
  }
}

/** A new namespace with IPv6 off (before any interface exists, so every new one inherits it). */
function quietNamespace(prefix: string): Namespace {
  const ns = Namespace.create(prefix);
  ns.exec('sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1');
  return ns;
}

/** A veth with `hostName` in the node and `eth0` in the pod namespace `pod`. */
function podVeth(wiring: Wiring, node: Namespace, pod: Namespace, hostName: string): void {
  wiring.ip(node, `link add ${hostName} type veth peer name eth0 netns ${pod.name}`);
  wiring.ip(node, `link set ${hostName} up`);
  wiring.ip(pod, 'link set eth0 up');
}

/** The node's "physical" port `portName`, its far end `wan0` in the outside namespace with the gateway address. */
function wire(wiring: Wiring, node: Namespace, outside: Namespace, portName: string): void {
  wiring.ip(node, `link add ${portName} type veth peer name wan0 netns ${outside.name}`);
  wiring.ip(node, `link set ${portName} up`);
  wiring.ip(outside, `addr add ${OUTSIDE}/24 dev wan0`);
  wiring.ip(outside, 'link set wan0 up');
}

/** A pod routed by a /32 on its host veth (proxy ARP answers for the gateway), as Azure CNI transparent and Cilium. */
function routedPod(wiring: Wiring, node: Namespace, hostName: string, address: string, gateway: string): Pod {
  const ns = quietNamespace('ktpod');
  podVeth(wiring, node, ns, hostName);
  wiring.sysctl(node, `net.ipv4.conf.${hostName}.proxy_arp=1`);
  wiring.ip(node, `route add ${address}/32 dev ${hostName}`);
  wiring.ip(ns, `addr add ${address}/32 dev eth0`);
  wiring.ip(ns, `route add ${gateway}/32 dev eth0`);
  wiring.ip(ns, `route add default via ${gateway} dev eth0`);
  return { ns, address, hostInterface: hostName };
}

/** Node side of a routed node: `device` with the node address and the default route; the outside routes pods here. */
function routedUplink(wiring: Wiring, node: Namespace, outside: Namespace, device: string): void {
  wiring.ip(node, `addr add ${NODE}/24 dev ${device}`);
  wiring.ip(node, `link set ${device} up`);
  wiring.ip(node, `route add default via ${OUTSIDE}`);
  wiring.ip(outside, `route add ${POD_SUBNET}.0/24 via ${NODE}`);
}

function hostName(prefix: string): string {
  return uniqueName(prefix).slice(0, 15);
}

/**
 * Builds `shape` with `podCount` pods. Removes what it built when a step fails, and rethrows.
 */
export function buildNodeShape(shape: NodeShapeName, podCount = 2): NodeShape {
  const namespaces: Namespace[] = [];
  const remove = () => {
    for (const ns of namespaces.splice(0)) ns.delete();
  };
  try {
    const node = quietNamespace('ktnode');
    namespaces.push(node);
    const outside = quietNamespace('ktout');
    namespaces.push(outside);
    const wiring = new Wiring();
    wiring.sysctl(node, 'net.ipv4.ip_forward=1');
    const pods: Pod[] = [];
    const addPod = (pod: Pod) => {
      namespaces.push(pod.ns);
      pods.push(pod);
    };
    let uplink = 'eth0';
    let nodeInterfaces: string[];
    switch (shape) {
      case 'kubenet': {
        wiring.ip(node, 'link add cbr0 type bridge');
        wiring.ip(node, `addr add ${POD_SUBNET}.1/24 dev cbr0`);
        wiring.ip(node, 'link set cbr0 up');
        for (let i = 0; i < podCount; i++) {
          const hostInterface = hostName('veth');
          const ns = quietNamespace('ktpod');
          podVeth(wiring, node, ns, hostInterface);
          wiring.ip(node, `link set ${hostInterface} master cbr0`);
          const address = `${POD_SUBNET}.${11 + i}`;
          wiring.ip(ns, `addr add ${address}/24 dev eth0`);
          wiring.ip(ns, `route add default via ${POD_SUBNET}.1`);
          addPod({ ns, address, hostInterface });
        }
        wire(wiring, node, outside, 'eth0');
        routedUplink(wiring, node, outside, 'eth0');
        nodeInterfaces = ['cbr0', 'eth0'];
        break;
      }
      case 'azure-cni-transparent':
      case 'enslaved-uplink': {
        for (let i = 0; i < podCount; i++) {
          addPod(routedPod(wiring, node, hostName('azv'), `${POD_SUBNET}.${11 + i}`, '169.254.1.1'));
        }
        if (shape === 'enslaved-uplink') {
          wiring.ip(node, 'link add eth0 type bridge');
          wire(wiring, node, outside, 'enP30832s1');
          wiring.ip(node, 'link set enP30832s1 master eth0');
          routedUplink(wiring, node, outside, 'eth0');
          uplink = 'enP30832s1';
          nodeInterfaces = ['eth0', 'enP30832s1'];
        } else {
          wire(wiring, node, outside, 'eth0');
          routedUplink(wiring, node, outside, 'eth0');
          // A host veth pair (both ends on the node, e.g. a management namespace's plumbing): not a pod.
          wiring.ip(node, 'link add veth-mgmt type veth peer name mgmt-peer');
          wiring.ip(node, 'link set veth-mgmt up');
          wiring.ip(node, 'link set mgmt-peer up');
          nodeInterfaces = ['eth0', 'veth-mgmt', 'mgmt-peer'];
        }
        break;
      }
      case 'azure-cni-bridge': {
        wiring.ip(node, 'link add azure0 type bridge');
        wire(wiring, node, outside, 'eth0');
        wiring.ip(node, 'link set eth0 master azure0');
        wiring.ip(node, `addr add ${NODE}/24 dev azure0`);
        wiring.ip(node, 'link set azure0 up');
        wiring.ip(node, `route add default via ${OUTSIDE}`);
        for (let i = 0; i < podCount; i++) {
          const hostInterface = hostName('azv');
          const ns = quietNamespace('ktpod');
          podVeth(wiring, node, ns, hostInterface);
          wiring.ip(node, `link set ${hostInterface} master azure0`);
          // Pods take addresses in the node's subnet (the VNet) and the VNet gateway as their default route.
          const address = `${UPLINK_SUBNET}.${11 + i}`;
          wiring.ip(ns, `addr add ${address}/24 dev eth0`);
          wiring.ip(ns, `route add default via ${OUTSIDE}`);
          addPod({ ns, address, hostInterface });
        }
        nodeInterfaces = ['azure0', 'eth0'];
        break;
      }
      case 'cilium': {
        wiring.ip(node, 'link add cilium_host type veth peer name cilium_net');
        wiring.ip(node, `addr add ${POD_SUBNET}.1/32 dev cilium_host`);
        wiring.ip(node, 'link set cilium_host up');
        wiring.ip(node, 'link set cilium_net up');
        for (let i = 0; i < podCount; i++) {
          addPod(routedPod(wiring, node, hostName('lxc'), `${POD_SUBNET}.${11 + i}`, `${POD_SUBNET}.1`));
        }
        wire(wiring, node, outside, 'eth0');
        routedUplink(wiring, node, outside, 'eth0');
        nodeInterfaces = ['cilium_host', 'cilium_net', 'eth0'];
        break;
      }
    }
    wiring.apply(node);
    if (shape === 'kubenet') {
      // kubenet masquerades pod egress leaving the node (the ip-masq-agent's rule, in nftables form).
      node.exec(
        'nft',
        'add table ip kubenet_nat { chain postrouting { type nat hook postrouting priority 100; ' +
          `ip saddr ${POD_SUBNET}.0/24 ip daddr != ${POD_SUBNET}.0/24 oifname "eth0" masquerade; }; }`,
      );
    }
    return {
      shape,
      node,
      outside,
      pods,
      nodeAddress: NODE,
      outsideAddress: OUTSIDE,
      uplink,
      uplinkIsBridgePort: shape === 'azure-cni-bridge' || shape === 'enslaved-uplink',
      nodeInterfaces,
      remove,
    };
  } catch (error) {
    remove();
    throw error;
  }
}
