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
import { Namespace, uniqueName } from './netns';

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
  /** The node's interfaces that are not pod interfaces (besides lo): bridges, the uplink, its master, host veths. */
  readonly nodeInterfaces: readonly string[];
  /** Deletes every namespace of the shape (and so everything in them). Safe to call twice. */
  remove(): void;
}

const UPLINK_SUBNET = '198.18.0';
const POD_SUBNET = '198.18.10';
const OUTSIDE = `${UPLINK_SUBNET}.1`;
const NODE = `${UPLINK_SUBNET}.2`;

function quiet(ns: Namespace): void {
  for (const scope of ['all', 'default']) ns.exec('sysctl', '-qw', `net.ipv6.conf.${scope}.disable_ipv6=1`);
}

function sysctl(ns: Namespace, key: string, value: string): void {
  ns.exec('sysctl', '-qw', `${key}=${value}`);
}

/** A veth with `hostName` in the node and `eth0` in a new pod namespace (both created in place, none in the root). */
function podVeth(node: Namespace, hostName: string): Namespace {
  const pod = Namespace.create('ktpod');
  quiet(pod);
  node.ip('link', 'add', hostName, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', pod.name);
  node.ip('link', 'set', hostName, 'up');
  pod.ip('link', 'set', 'eth0', 'up');
  return pod;
}

/** The outside namespace's end of the node's "physical" port, with the gateway address. */
function wire(node: Namespace, outside: Namespace, portName: string): void {
  node.ip('link', 'add', portName, 'type', 'veth', 'peer', 'name', 'wan0', 'netns', outside.name);
  node.ip('link', 'set', portName, 'up');
  outside.ip('addr', 'add', `${OUTSIDE}/24`, 'dev', 'wan0');
  outside.ip('link', 'set', 'wan0', 'up');
}

/** A pod routed by a /32 on its host veth (proxy ARP answers for the gateway), as Azure CNI transparent and Cilium. */
function routedPod(node: Namespace, hostName: string, address: string, gateway: string): Pod {
  const ns = podVeth(node, hostName);
  sysctl(node, `net.ipv4.conf.${hostName}.proxy_arp`, '1');
  node.ip('route', 'add', `${address}/32`, 'dev', hostName);
  ns.ip('addr', 'add', `${address}/32`, 'dev', 'eth0');
  ns.ip('route', 'add', `${gateway}/32`, 'dev', 'eth0');
  ns.ip('route', 'add', 'default', 'via', gateway, 'dev', 'eth0');
  return { ns, address, hostInterface: hostName };
}

/** Node side of a routed node: `eth0` (or `uplinkDevice`) with the node address and the default route. */
function routedUplink(node: Namespace, outside: Namespace, device: string): void {
  node.ip('addr', 'add', `${NODE}/24`, 'dev', device);
  node.ip('link', 'set', device, 'up');
  node.ip('route', 'add', 'default', 'via', OUTSIDE);
  outside.ip('route', 'add', `${POD_SUBNET}.0/24`, 'via', NODE);
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
    const node = Namespace.create('ktnode');
    namespaces.push(node);
    const outside = Namespace.create('ktout');
    namespaces.push(outside);
    quiet(node);
    quiet(outside);
    sysctl(node, 'net.ipv4.ip_forward', '1');
    const pods: Pod[] = [];
    const addPod = (pod: Pod) => {
      namespaces.push(pod.ns);
      pods.push(pod);
    };
    let uplink = 'eth0';
    let nodeInterfaces: string[];
    switch (shape) {
      case 'kubenet': {
        node.ip('link', 'add', 'cbr0', 'type', 'bridge');
        node.ip('addr', 'add', `${POD_SUBNET}.1/24`, 'dev', 'cbr0');
        node.ip('link', 'set', 'cbr0', 'up');
        for (let i = 0; i < podCount; i++) {
          const hostInterface = hostName('veth');
          const ns = podVeth(node, hostInterface);
          node.ip('link', 'set', hostInterface, 'master', 'cbr0');
          const address = `${POD_SUBNET}.${11 + i}`;
          ns.ip('addr', 'add', `${address}/24`, 'dev', 'eth0');
          ns.ip('route', 'add', 'default', 'via', `${POD_SUBNET}.1`);
          addPod({ ns, address, hostInterface });
        }
        wire(node, outside, 'eth0');
        routedUplink(node, outside, 'eth0');
        // kubenet masquerades pod egress leaving the node (the ip-masq-agent's rule, in nftables form).
        node.exec(
          'nft',
          'add table ip kubenet_nat { chain postrouting { type nat hook postrouting priority 100; ' +
            `ip saddr ${POD_SUBNET}.0/24 ip daddr != ${POD_SUBNET}.0/24 oifname "eth0" masquerade; }; }`,
        );
        nodeInterfaces = ['cbr0', 'eth0'];
        break;
      }
      case 'azure-cni-transparent':
      case 'enslaved-uplink': {
        for (let i = 0; i < podCount; i++) {
          addPod(routedPod(node, hostName('azv'), `${POD_SUBNET}.${11 + i}`, '169.254.1.1'));
        }
        if (shape === 'enslaved-uplink') {
          node.ip('link', 'add', 'eth0', 'type', 'bridge');
          wire(node, outside, 'enP30832s1');
          node.ip('link', 'set', 'enP30832s1', 'master', 'eth0');
          routedUplink(node, outside, 'eth0');
          uplink = 'enP30832s1';
          nodeInterfaces = ['eth0', 'enP30832s1'];
        } else {
          wire(node, outside, 'eth0');
          routedUplink(node, outside, 'eth0');
          // A host veth pair (both ends on the node, e.g. a management namespace's plumbing): not a pod.
          node.ip('link', 'add', 'veth-mgmt', 'type', 'veth', 'peer', 'name', 'mgmt-peer');
          node.ip('link', 'set', 'veth-mgmt', 'up');
          node.ip('link', 'set', 'mgmt-peer', 'up');
          nodeInterfaces = ['eth0', 'veth-mgmt', 'mgmt-peer'];
        }
        break;
      }
      case 'azure-cni-bridge': {
        node.ip('link', 'add', 'azure0', 'type', 'bridge');
        wire(node, outside, 'eth0');
        node.ip('link', 'set', 'eth0', 'master', 'azure0');
        node.ip('addr', 'add', `${NODE}/24`, 'dev', 'azure0');
        node.ip('link', 'set', 'azure0', 'up');
        node.ip('route', 'add', 'default', 'via', OUTSIDE);
        for (let i = 0; i < podCount; i++) {
          const hostInterface = hostName('azv');
          const ns = podVeth(node, hostInterface);
          node.ip('link', 'set', hostInterface, 'master', 'azure0');
          // Pods take addresses in the node's subnet (the VNet) and the VNet gateway as their default route.
          const address = `${UPLINK_SUBNET}.${11 + i}`;
          ns.ip('addr', 'add', `${address}/24`, 'dev', 'eth0');
          ns.ip('route', 'add', 'default', 'via', OUTSIDE);
          addPod({ ns, address, hostInterface });
        }
        nodeInterfaces = ['azure0', 'eth0'];
        break;
      }
      case 'cilium': {
        node.ip('link', 'add', 'cilium_host', 'type', 'veth', 'peer', 'name', 'cilium_net');
        node.ip('addr', 'add', `${POD_SUBNET}.1/32`, 'dev', 'cilium_host');
        node.ip('link', 'set', 'cilium_host', 'up');
        node.ip('link', 'set', 'cilium_net', 'up');
        for (let i = 0; i < podCount; i++) {
          addPod(routedPod(node, hostName('lxc'), `${POD_SUBNET}.${11 + i}`, `${POD_SUBNET}.1`));
        }
        wire(node, outside, 'eth0');
        routedUplink(node, outside, 'eth0');
        nodeInterfaces = ['cilium_host', 'cilium_net', 'eth0'];
        break;
      }
    }
    return {
      shape,
      node,
      outside,
      pods,
      nodeAddress: NODE,
      outsideAddress: OUTSIDE,
      uplink,
      nodeInterfaces,
      remove,
    };
  } catch (error) {
    remove();
    throw error;
  }
}
