/**
 * Which content coding a response takes, from the request's Accept-Encoding (RFC 9110 section 12.5.3), negotiated by
 * `negotiator`: quality values, `*`, `identity;q=0` and case as the RFC defines them.
 */
import type { IncomingHttpHeaders } from 'node:http';
import Negotiator from 'negotiator';

/** The codings a compressible response can take. */
export type ResponseCoding = 'gzip' | 'identity';

/**
 * gzip and the body as it is. Not `x-gzip`, gzip's old name, which no scraper sends: offered as a coding of its own it
 * would match a `*` that comes with `gzip;q=0`, and a client refusing gzip would get gzip under the other name.
 */
const OFFERED: readonly ResponseCoding[] = ['gzip', 'identity'];
/** At equal quality the smaller body wins: a scrape's text compresses about sevenfold. */
const PREFERRED: readonly ResponseCoding[] = ['gzip'];

/**
 * The coding to send a compressible body in: `gzip` when the client accepts it at least as much as the uncompressed
 * body, else `identity`. A client that refuses both (`gzip;q=0, identity;q=0`) gets `identity` too: a scrape answered
 * uncompressed is more use than a 406.
 */
export function responseCoding(headers: IncomingHttpHeaders): ResponseCoding {
  const [best] = new Negotiator({ headers }).encodings(OFFERED, { preferred: PREFERRED });
  return (best as ResponseCoding | undefined) ?? 'identity';
}
