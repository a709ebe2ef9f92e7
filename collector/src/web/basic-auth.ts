/**
 * HTTP basic authentication against the bcrypt hashes of the web configuration's basic_auth_users (RFC 7617), with
 * bcryptjs. A bcrypt comparison costs tens of milliseconds by design (cost 10: ~70 ms), so, like exporter-toolkit, a
 * successful or failed check is remembered for the exact (user, password, hash) triple: Prometheus sends the same
 * credentials at every scrape and pays the cost once. Only a SHA-256 of the triple is kept, never the password.
 */
import { compare } from 'bcryptjs';
import { createHash } from 'node:crypto';

/** Results remembered at most (oldest forgotten first): enough for every real client, bounded against a flood. */
const CACHE_ENTRIES = 256;

export interface BasicCredentials {
  readonly user: string;
  readonly password: string;
}

/** The user and password of an `Authorization: Basic ...` header, or undefined when there is none or it is malformed. */
export function parseBasicAuthorization(header: string | undefined): BasicCredentials | undefined {
  const match = header === undefined ? null : /^Basic\s+([A-Za-z0-9+/]+=*)\s*$/i.exec(header);
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export class BasicAuthChecker {
  private readonly results = new Map<string, boolean>();

  /**
   * True when `header` carries a user of `users` and the password matches that user's bcrypt hash. An unknown user
   * is compared against another user's hash anyway, so the answer takes as long as for a known one.
   */
  async allows(header: string | undefined, users: ReadonlyMap<string, string>): Promise<boolean> {
    const credentials = parseBasicAuthorization(header);
    if (!credentials || users.size === 0) return false;
    const known = users.get(credentials.user);
    const hash = known ?? users.values().next().value!;
    const key = createHash('sha256').update(`${credentials.user}\0${credentials.password}\0${hash}`).digest('base64');
    let result = this.results.get(key);
    if (result === undefined) {
      result = (await compare(credentials.password, hash)) && known !== undefined;
      if (this.results.size >= CACHE_ENTRIES) this.results.delete(this.results.keys().next().value!);
      this.results.set(key, result);
    }
    return result;
  }
}
