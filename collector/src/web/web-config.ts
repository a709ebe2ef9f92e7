/**
 * The web configuration file (--web-config-file): the format of Prometheus' exporter-toolkit, which node_exporter,
 * windows_exporter and most exporters read with `--web.config.file`, so one file serves them all. Pure: YAML text in,
 * a validated WebConfig out, or a WebConfigError naming the key and what it accepts.
 *
 * Keys (exporter-toolkit docs/web-configuration.md):
 *   tls_server_config: cert_file/key_file (or cert/key inline PEM), client_auth_type, client_ca_file (or client_ca),
 *     client_allowed_sans, min_version, max_version, prefer_server_cipher_suites
 *   http_server_config: http2 (accepted; Kappie serves HTTP/1.1), headers (Content-Security-Policy, X-Frame-Options,
 *     X-Content-Type-Options, X-XSS-Protection, Strict-Transport-Security)
 *   basic_auth_users: { <user>: <bcrypt hash> }
 * cipher_suites, curve_preferences and rate_limit name Go's crypto/tls constants and a Go rate limiter: Kappie (Node.js
 * and OpenSSL) refuses them with a clear error instead of ignoring a security setting.
 */
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/** Go's crypto/tls ClientAuthType names, as exporter-toolkit accepts them. */
export const CLIENT_AUTH_TYPES = [
  'NoClientCert',
  'RequestClientCert',
  'RequireAnyClientCert',
  'VerifyClientCertIfGiven',
  'RequireAndVerifyClientCert',
] as const;
export type ClientAuthType = (typeof CLIENT_AUTH_TYPES)[number];

/** exporter-toolkit's TLS version names and OpenSSL's (Node's `minVersion`/`maxVersion`). */
const TLS_VERSIONS = { TLS10: 'TLSv1', TLS11: 'TLSv1.1', TLS12: 'TLSv1.2', TLS13: 'TLSv1.3' } as const;
type TlsVersionName = keyof typeof TLS_VERSIONS;
export type TlsVersion = (typeof TLS_VERSIONS)[TlsVersionName];

/** A PEM given inline or as a file (relative paths are relative to the web configuration file, as exporter-toolkit). */
export type PemSource = { readonly inline: string } | { readonly file: string };

export interface TlsServerConfig {
  readonly cert: PemSource;
  readonly key: PemSource;
  readonly clientAuthType: ClientAuthType;
  readonly clientCa: PemSource | undefined;
  /** Client certificates must carry one of these subject alternative names (DNS, IP, e-mail or URI), exactly. */
  readonly clientAllowedSans: readonly string[];
  readonly minVersion: TlsVersion;
  readonly maxVersion: TlsVersion;
  readonly preferServerCipherSuites: boolean;
}

export interface WebConfig {
  /** Undefined: plain HTTP. */
  readonly tls: TlsServerConfig | undefined;
  /** Response headers to add to every response (header name as written in the file). */
  readonly headers: Readonly<Record<string, string>>;
  /** User name to bcrypt hash; empty: no authentication. */
  readonly basicAuthUsers: ReadonlyMap<string, string>;
}

/** The file cannot be used: `message` names the key and what it accepts. */
export class WebConfigError extends Error {
  override readonly name = 'WebConfigError';
}

/** bcrypt's modular crypt format ($2a$, $2b$ or $2y$, two-digit cost, 22 characters of salt and 31 of hash). */
const BCRYPT_HASH = /^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/;

const unsupported = (why: string) =>
  z
    .unknown()
    .refine(() => false, { message: why })
    .optional();

const tlsVersion = z.enum(Object.keys(TLS_VERSIONS) as [TlsVersionName, ...TlsVersionName[]]);

const tlsServerConfigSchema = z.strictObject({
  cert: z.string().min(1).optional(),
  key: z.string().min(1).optional(),
  client_ca: z.string().min(1).optional(),
  cert_file: z.string().min(1).optional(),
  key_file: z.string().min(1).optional(),
  client_auth_type: z.enum(CLIENT_AUTH_TYPES).default('NoClientCert'),
  client_ca_file: z.string().min(1).optional(),
  client_allowed_sans: z.array(z.string().min(1)).default([]),
  min_version: tlsVersion.default('TLS12'),
  max_version: tlsVersion.default('TLS13'),
  prefer_server_cipher_suites: z.boolean().default(true),
  cipher_suites: unsupported("is not supported: Go's cipher suite names have no Node.js equivalent; remove it"),
  curve_preferences: unsupported("is not supported: Go's curve names have no Node.js equivalent; remove it"),
});

const headersSchema = z.strictObject({
  'Content-Security-Policy': z.string().optional(),
  'X-Frame-Options': z
    .string()
    .refine((v) => v === '' || ['deny', 'sameorigin'].includes(v.toLowerCase()), 'must be deny or sameorigin')
    .optional(),
  'X-Content-Type-Options': z
    .string()
    .refine((v) => v === '' || v.toLowerCase() === 'nosniff', 'must be nosniff')
    .optional(),
  'X-XSS-Protection': z.string().optional(),
  'Strict-Transport-Security': z.string().optional(),
});

const webConfigSchema = z.strictObject({
  tls_server_config: tlsServerConfigSchema.optional(),
  http_server_config: z
    .strictObject({
      http2: z.boolean().optional(),
      headers: headersSchema.optional(),
    })
    .optional(),
  basic_auth_users: z
    .record(z.string().min(1), z.string().regex(BCRYPT_HASH, 'is not a bcrypt hash (htpasswd -nBC 10 "" makes one)'))
    .optional(),
  rate_limit: unsupported(
    'is not supported by Kappie (the collector reuses gatherings instead: --scrape-reuse-window)',
  ),
});

function pem(inline: string | undefined, file: string | undefined, what: string): PemSource | undefined {
  if (inline !== undefined && file !== undefined) {
    throw new WebConfigError(`tls_server_config: give ${what} or ${what}_file, not both`);
  }
  if (inline !== undefined) return { inline };
  if (file !== undefined) return { file };
  return undefined;
}

function tlsConfigOf(raw: z.infer<typeof tlsServerConfigSchema>): TlsServerConfig {
  const cert = pem(raw.cert, raw.cert_file, 'cert');
  const key = pem(raw.key, raw.key_file, 'key');
  if (!cert || !key) throw new WebConfigError('tls_server_config: needs cert_file and key_file (or cert and key)');
  const clientCa = pem(raw.client_ca, raw.client_ca_file, 'client_ca');
  const verifies =
    raw.client_auth_type === 'VerifyClientCertIfGiven' || raw.client_auth_type === 'RequireAndVerifyClientCert';
  if (verifies && !clientCa) {
    throw new WebConfigError(
      `tls_server_config: client_auth_type ${raw.client_auth_type} needs client_ca_file (the CA that signs client certificates)`,
    );
  }
  if (!verifies && clientCa) {
    throw new WebConfigError(
      `tls_server_config: client_ca_file is only used with client_auth_type VerifyClientCertIfGiven or RequireAndVerifyClientCert (is ${raw.client_auth_type})`,
    );
  }
  const requiresCert =
    raw.client_auth_type === 'RequireAnyClientCert' || raw.client_auth_type === 'RequireAndVerifyClientCert';
  if (raw.client_allowed_sans.length > 0 && !requiresCert) {
    throw new WebConfigError(
      'tls_server_config: client_allowed_sans needs client_auth_type RequireAnyClientCert or RequireAndVerifyClientCert',
    );
  }
  const minVersion = TLS_VERSIONS[raw.min_version];
  const maxVersion = TLS_VERSIONS[raw.max_version];
  if (raw.min_version > raw.max_version) {
    throw new WebConfigError(
      `tls_server_config: min_version ${raw.min_version} is above max_version ${raw.max_version}`,
    );
  }
  return {
    cert,
    key,
    clientAuthType: raw.client_auth_type,
    clientCa,
    clientAllowedSans: raw.client_allowed_sans,
    minVersion,
    maxVersion,
    preferServerCipherSuites: raw.prefer_server_cipher_suites,
  };
}

/** One line per problem: `key.path: what is wrong`. */
function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const where = issue.path.map(String).join('.');
      const what =
        issue.code === 'unrecognized_keys'
          ? `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}`
          : issue.message;
      return where ? `${where}: ${what}` : what;
    })
    .join('; ');
}

/**
 * Parses and validates the text of a web configuration file. An empty file is the default (plain HTTP, no
 * authentication). Throws WebConfigError.
 */
export function parseWebConfig(text: string): WebConfig {
  let document: unknown;
  try {
    document = parseYaml(text) ?? {};
  } catch (error) {
    throw new WebConfigError(`not valid YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  const result = webConfigSchema.safeParse(document);
  if (!result.success) throw new WebConfigError(describeIssues(result.error));
  const raw = result.data;
  const headers = Object.fromEntries(
    Object.entries(raw.http_server_config?.headers ?? {}).filter(([, value]) => value !== undefined && value !== ''),
  ) as Record<string, string>;
  return {
    tls: raw.tls_server_config ? tlsConfigOf(raw.tls_server_config) : undefined,
    headers,
    basicAuthUsers: new Map(Object.entries(raw.basic_auth_users ?? {})),
  };
}
