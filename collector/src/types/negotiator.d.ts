/**
 * The part of `negotiator` (1.x, jshttp) that the collector uses. Its own package ships no types and
 * `@types/negotiator` describes 0.6, without the `preferred` option.
 */
declare module 'negotiator' {
  import type { IncomingHttpHeaders } from 'node:http';

  class Negotiator {
    constructor(request: { readonly headers: IncomingHttpHeaders });
    /**
     * The encodings of `available` that Accept-Encoding accepts (quality above 0; `identity` unless refused),
     * best first: by quality, then by `preferred` order, then by the header's order.
     */
    encodings(available: readonly string[], options?: { readonly preferred?: readonly string[] }): string[];
  }
  export = Negotiator;
}
