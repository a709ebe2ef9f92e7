/**
 * prom-client's Registry on its own. The package index also loads the cluster aggregator, the push gateway and the
 * default process metrics (~8 MiB of resident memory in a collector that uses none of them), so the collector loads
 * only lib/registry, whose export is the same Registry class the package types describe.
 */
declare module 'prom-client/lib/registry' {
  import { Registry } from 'prom-client';
  export = Registry;
}
