/** The web configuration file's parser: exporter-toolkit's keys, validated, with errors that name the key. */
import { parseWebConfig } from '../../src/web/web-config';
import { subjectAltNames } from '../../src/web/client-certificate';
import { parseBasicAuthorization } from '../../src/web/basic-auth';

const HASH = '$2y$10$X0h1gDsPszWURQaxFh.zoubFi6DXncSjhoQNJgRrnGs7EsimhC7zG';

describe('parseWebConfig', () => {
  it('reads an empty file as plain HTTP without authentication', () => {
    expect(parseWebConfig('')).toEqual({ tls: undefined, headers: {}, basicAuthUsers: new Map() });
  });

  it('reads TLS, client certificates, headers and users with exporter-toolkit defaults', () => {
    const config = parseWebConfig(`
tls_server_config:
  cert_file: server.crt
  key_file: server.key
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: ca.crt
  client_allowed_sans: [prometheus.example]
http_server_config:
  http2: true
  headers:
    X-Frame-Options: deny
    Strict-Transport-Security: max-age=31536000
basic_auth_users:
  prometheus: '${HASH}'
`);
    expect(config.tls).toEqual({
      cert: { file: 'server.crt' },
      key: { file: 'server.key' },
      clientAuthType: 'RequireAndVerifyClientCert',
      clientCa: { file: 'ca.crt' },
      clientAllowedSans: ['prometheus.example'],
      minVersion: 'TLSv1.2',
      maxVersion: 'TLSv1.3',
      preferServerCipherSuites: true,
    });
    expect(config.headers).toEqual({ 'X-Frame-Options': 'deny', 'Strict-Transport-Security': 'max-age=31536000' });
    expect(config.basicAuthUsers.get('prometheus')).toBe(HASH);
  });

  it.each([
    ['unknown top-level key', 'tls_config:\n  cert_file: a\n', /unknown key tls_config/],
    [
      'misspelled TLS key',
      'tls_server_config:\n  cert_file: a\n  keyfile: b\n',
      /tls_server_config: unknown key keyfile/,
    ],
    ['no key', 'tls_server_config:\n  cert_file: a\n', /needs cert_file and key_file/],
    [
      'file and inline',
      'tls_server_config:\n  cert: x\n  cert_file: a\n  key_file: b\n',
      /give cert or cert_file, not both/,
    ],
    [
      'bad client_auth_type',
      'tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: Sometimes\n',
      /tls_server_config\.client_auth_type: .*RequireAndVerifyClientCert/,
    ],
    [
      'verification without a CA',
      'tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: RequireAndVerifyClientCert\n',
      /needs client_ca_file/,
    ],
    [
      'allowed SANs without a required certificate',
      'tls_server_config:\n  cert_file: a\n  key_file: b\n  client_allowed_sans: [x]\n',
      /client_allowed_sans needs client_auth_type RequireAnyClientCert or RequireAndVerifyClientCert/,
    ],
    [
      'versions upside down',
      'tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: TLS13\n  max_version: TLS12\n',
      /min_version TLS13 is above max_version TLS12/,
    ],
    [
      'Go cipher suites',
      'tls_server_config:\n  cert_file: a\n  key_file: b\n  cipher_suites: [X]\n',
      /cipher_suites: is not supported/,
    ],
    ['rate limit', 'rate_limit:\n  interval: 1s\n  burst: 5\n', /rate_limit: is not supported/],
    ['plain-text password', 'basic_auth_users:\n  alice: secret\n', /basic_auth_users\.alice: is not a bcrypt hash/],
    [
      'bad X-Frame-Options',
      'http_server_config:\n  headers:\n    X-Frame-Options: allow\n',
      /must be deny or sameorigin/,
    ],
    ['an arbitrary header', 'http_server_config:\n  headers:\n    Set-Cookie: x\n', /unknown key Set-Cookie/],
    ['YAML that is not YAML', 'tls_server_config: [\n', /not valid YAML/],
  ])('refuses %s, naming the key', (_what, text, message) => {
    expect(() => parseWebConfig(text)).toThrow(message);
  });
});

describe('subjectAltNames', () => {
  it('reads every kind of name as Node writes them, quoted ones included', () => {
    expect(
      subjectAltNames('DNS:prometheus.example, IP Address:127.0.0.1, email:ops@example.com, URI:spiffe://c/ns/x'),
    ).toEqual(['prometheus.example', '127.0.0.1', 'ops@example.com', 'spiffe://c/ns/x']);
    expect(subjectAltNames('DNS:"a, b", DNS:c')).toEqual(['a, b', 'c']);
    expect(subjectAltNames(undefined)).toEqual([]);
  });
});

describe('parseBasicAuthorization', () => {
  it('reads the user and a password that may hold colons, and nothing from other schemes', () => {
    const header = `Basic ${Buffer.from('alice:pa:ss').toString('base64')}`;
    expect(parseBasicAuthorization(header)).toEqual({ user: 'alice', password: 'pa:ss' });
    expect(parseBasicAuthorization('Bearer abc')).toBeUndefined();
    expect(parseBasicAuthorization(`Basic ${Buffer.from('no-colon').toString('base64')}`)).toBeUndefined();
    expect(parseBasicAuthorization(undefined)).toBeUndefined();
  });
});
