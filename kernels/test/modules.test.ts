import { moduleName, parseModulesDep, planModules } from '../src/modules';

/** Lines of Debian 6.12's modules.dep (depmod output for linux-image-6.12.117+deb12-cloud-amd64-unsigned). */
const MODULES_DEP = [
  'kernel/lib/libcrc32c.ko.xz:',
  'kernel/drivers/net/veth.ko.xz:',
  'kernel/net/netfilter/nfnetlink.ko.xz:',
  'kernel/net/netfilter/nf_tables.ko.xz: kernel/net/netfilter/nfnetlink.ko.xz kernel/lib/libcrc32c.ko.xz',
  'kernel/net/ipv4/inet_diag.ko.xz:',
  'kernel/net/ipv4/tcp_diag.ko.xz: kernel/net/ipv4/inet_diag.ko.xz',
  'kernel/net/ipv4/udp_diag.ko.xz: kernel/net/ipv4/inet_diag.ko.xz',
  '',
].join('\n');

describe('kernel modules', () => {
  it('names modules as the kernel does (- and _ alike, any compression)', () => {
    expect(moduleName('kernel/net/netfilter/nf_tables.ko.xz')).toBe('nf_tables');
    expect(moduleName('kernel/drivers/net/foo-bar.ko')).toBe('foo_bar');
  });

  it('loads dependencies first and each module once', () => {
    const plan = planModules(MODULES_DEP, 'kernel/net/ipv4/tcp_cubic.ko\n', [
      'veth',
      'nf_tables',
      'tcp_diag',
      'udp_diag',
      'tcp_cubic',
      'nft_objref',
    ]);
    expect(plan.load).toEqual([
      'kernel/drivers/net/veth.ko.xz',
      'kernel/net/netfilter/nfnetlink.ko.xz',
      'kernel/lib/libcrc32c.ko.xz',
      'kernel/net/netfilter/nf_tables.ko.xz',
      'kernel/net/ipv4/inet_diag.ko.xz',
      'kernel/net/ipv4/tcp_diag.ko.xz',
      'kernel/net/ipv4/udp_diag.ko.xz',
    ]);
    expect(plan.builtin).toEqual(['tcp_cubic']);
    expect(plan.missing).toEqual(['nft_objref']);
  });

  it('refuses a modules.dep line without a colon', () => {
    expect(() => parseModulesDep('kernel/a.ko\n')).toThrow(/line 1: no colon/);
  });
});
