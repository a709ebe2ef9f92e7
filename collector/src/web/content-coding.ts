/**
 * Which content coding a response takes, from the request's Accept-Encoding (RFC 9110 section 12.5.3), negotiated by
 * `negotiator`: quality values, `*`, `identity;q=0` and case as the RFC defines them.
 */
import type { IncomingHttpHeaders } from 'node:http';
import Negotiator from 'negotiator';

/** The codings a compressible response can take. `x-gzip` is gzip under its old name (RFC 9110 section 8.4.1.3). */
export type ResponseCoding = 'gzip' | 'x-gzip' | 'identity';

const OFFERED: readonly ResponseCoding[] = ['gzip', 'x-gzip', 'identity'];
/** At equal quality the smaller body wins: a scrape's text compresses about tenfold. */
const PREFERRED: readonly ResponseCoding[] = ['gzip', 'x-gzip'];

/**
 * The coding to send a compressible body in: `gzip` (or `x-gzip`, named as the client named it) when the client
 * accepts it at least as much as the uncompressed body, else `identity`. A client that refuses every coding offered
 * (`identity;q=0` without gzip) gets `identity` too: a scrape answered uncompressed is more use than a 406.
 */
export function responseCoding(headers: IncomingHttpHeaders): ResponseCoding {
  const [best] = new Negotiator({ headers }).encodings(OFFERED, { preferred: PREFERRED });
  return (best as ResponseCoding | undefined) ?? 'identity';
}
