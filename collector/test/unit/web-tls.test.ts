/**
 * The web configuration file on the real server, with real certificates made by openssl for this test: TLS, a
 * renewed certificate served without restart (and a broken renewal ignored), client certificates (verified, refused,
 * any with allowed SANs), basic auth with bcrypt hashes, and the file's extra headers. Everything on loopback.
 */
import { hashSync } from 'bcryptjs';
import { X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as path from 'node:path';
import type * as tls from 'node:tls';
import { createSockstatSource } from '../../src/sources/linux/sockstat';
import { CertificateAuthority, opensslAvailable, temporaryDirectory, type KeyPair } from '../helpers/certificates';
import { startCollector, type RunningCollector } from '../helpers/collector-in-process';

interface Answer {
  readonly status: number;
  readonly body: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly peer: tls.PeerCertificate;
}

interface ClientOptions {
  readonly ca?: string;
  readonly client?: KeyPair;
  readonly user?: string;
  readonly password?: string;
}

/** One HTTPS request on a new connection (no agent: each request is a new TLS handshake). */
function get(collector: RunningCollector, urlPath: string, options: ClientOptions): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = https.get(
      {
        host: '127.0.0.1',
        port: collector.port,
        path: urlPath,
        agent: false,
        ca: options.ca,
        cert: options.client?.cert,
        key: options.client?.key,
        auth: options.user === undefined ? undefined : `${options.user}:${options.password ?? ''}`,
        timeout: 10_000,
      },
      (response) => {
        const peer = (response.socket as tls.TLSSocket).getPeerCertificate();
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body, headers: response.headers, peer }));
      },
    );
    request.on('timeout', () => request.destroy(new Error('timed out')));
    request.on('error', reject);
  });
}

function fingerprint(pair: KeyPair): string {
  return new X509Certificate(pair.cert).fingerprint256;
}

const describeTls = opensslAvailable() ? describe : describe.skip;

describeTls('web configuration file (TLS, client certificates, basic auth)', () => {
  let dir: string;
  let ca: CertificateAuthority;
  let otherCa: CertificateAuthority;
  let server: KeyPair;
  let trustedClient: KeyPair;
  let strangerClient: KeyPair;
  let wrongSanClient: KeyPair;
  const running: RunningCollector[] = [];

  beforeAll(() => {
    dir = temporaryDirectory('kappie-tls-');
    ca = CertificateAuthority.create(path.join(dir, 'ca'), 'kt-ca');
    otherCa = CertificateAuthority.create(path.join(dir, 'other'), 'kt-other-ca');
    server = ca.issue('server', ['IP:127.0.0.1', 'DNS:localhost'], 'serverAuth');
    trustedClient = ca.issue('prometheus', ['DNS:prometheus.example'], 'clientAuth');
    wrongSanClient = ca.issue('intruder', ['DNS:intruder.example'], 'clientAuth');
    strangerClient = otherCa.issue('stranger', ['DNS:prometheus.example'], 'clientAuth');
  });

  afterAll(async () => {
    for (const collector of running) await collector.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function serveWith(name: string, yaml: string): Promise<RunningCollector> {
    const file = path.join(dir, `${name}.yml`);
    fs.writeFileSync(file, yaml);
    const collector = await startCollector([createSockstatSource()], { webConfigFile: file });
    running.push(collector);
    return collector;
  }

  /** Copies of the server pair this test may overwrite, in their own directory (the web config names them relatively). */
  function ownServerFiles(name: string): string {
    const own = path.join(dir, name);
    fs.mkdirSync(own);
    fs.copyFileSync(server.certFile, path.join(own, 'tls.crt'));
    fs.copyFileSync(server.keyFile, path.join(own, 'tls.key'));
    return own;
  }

  it('serves /metrics over TLS with the configured certificate, and nothing over plain HTTP', async () => {
    const collector = await serveWith(
      'tls',
      `tls_server_config:\n  cert_file: ${server.certFile}\n  key_file: ${server.keyFile}\n`,
    );
    expect(collector.url).toMatch(/^https:/);
    const answer = await get(collector, '/metrics', { ca: ca.pair.cert });
    expect(answer.status).toBe(200);
    expect(answer.body).toContain('kappie_udp_active_sockets');
    expect(answer.peer.fingerprint256).toBe(fingerprint(server));
    await expect(fetch(`http://127.0.0.1:${collector.port}/metrics`)).rejects.toThrow();
  });

  it('serves a renewed certificate on the next connection without a restart, and ignores a broken renewal', async () => {
    const own = ownServerFiles('renewal');
    const collector = await serveWith(
      'renewal',
      'tls_server_config:\n  cert_file: renewal/tls.crt\n  key_file: renewal/tls.key\n',
    );
    expect((await get(collector, '/healthz', { ca: ca.pair.cert })).peer.fingerprint256).toBe(fingerprint(server));

    // Rotation as cert-manager and kubelet do it: new files moved into place.
    const renewed = ca.issue('server-renewed', ['IP:127.0.0.1'], 'serverAuth');
    fs.copyFileSync(renewed.certFile, path.join(own, 'tls.crt.new'));
    fs.copyFileSync(renewed.keyFile, path.join(own, 'tls.key.new'));
    fs.renameSync(path.join(own, 'tls.crt.new'), path.join(own, 'tls.crt'));
    fs.renameSync(path.join(own, 'tls.key.new'), path.join(own, 'tls.key'));
    const after = await get(collector, '/metrics', { ca: ca.pair.cert });
    expect(after.status).toBe(200);
    expect(after.peer.fingerprint256).toBe(fingerprint(renewed));

    // Half a rotation (a certificate whose key is not there yet) must not take the endpoint down.
    const next = ca.issue('server-next', ['IP:127.0.0.1'], 'serverAuth');
    fs.copyFileSync(next.certFile, path.join(own, 'tls.crt'));
    const during = await get(collector, '/metrics', { ca: ca.pair.cert });
    expect(during.status).toBe(200);
    expect(during.peer.fingerprint256).toBe(fingerprint(renewed));
  });

  it('RequireAndVerifyClientCert: serves a client with a certificate of client_ca_file, refuses the others', async () => {
    const collector = await serveWith(
      'verify',
      `tls_server_config:
  cert_file: ${server.certFile}
  key_file: ${server.keyFile}
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: ${ca.certFile}
`,
    );
    expect((await get(collector, '/metrics', { ca: ca.pair.cert, client: trustedClient })).status).toBe(200);
    await expect(get(collector, '/metrics', { ca: ca.pair.cert })).rejects.toThrow();
    await expect(get(collector, '/metrics', { ca: ca.pair.cert, client: strangerClient })).rejects.toThrow();
  });

  it('RequireAnyClientCert with client_allowed_sans: serves only certificates that carry an allowed name', async () => {
    const collector = await serveWith(
      'sans',
      `tls_server_config:
  cert_file: ${server.certFile}
  key_file: ${server.keyFile}
  client_auth_type: RequireAnyClientCert
  client_allowed_sans: [prometheus.example]
`,
    );
    // Any CA (RequireAny does not verify), but the name must be allowed.
    expect((await get(collector, '/metrics', { ca: ca.pair.cert, client: strangerClient })).status).toBe(200);
    await expect(get(collector, '/metrics', { ca: ca.pair.cert, client: wrongSanClient })).rejects.toThrow();
    await expect(get(collector, '/metrics', { ca: ca.pair.cert })).rejects.toThrow();
  });

  it('basic auth with bcrypt hashes: 401 without or with wrong credentials, probes open, extra headers sent', async () => {
    const collector = await serveWith(
      'auth',
      `tls_server_config:
  cert_file: ${server.certFile}
  key_file: ${server.keyFile}
http_server_config:
  headers:
    Strict-Transport-Security: max-age=31536000
basic_auth_users:
  prometheus: '${hashSync('scrape-secret', 10)}'
`,
    );
    const anonymous = await get(collector, '/metrics', { ca: ca.pair.cert });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers['www-authenticate']).toMatch(/^Basic /);
    expect(anonymous.body).not.toContain('kappie_');
    expect((await get(collector, '/', { ca: ca.pair.cert })).status).toBe(401);
    const wrong = await get(collector, '/metrics', { ca: ca.pair.cert, user: 'prometheus', password: 'guess' });
    expect(wrong.status).toBe(401);
    const unknown = await get(collector, '/metrics', { ca: ca.pair.cert, user: 'nobody', password: 'scrape-secret' });
    expect(unknown.status).toBe(401);
    const good = await get(collector, '/metrics', { ca: ca.pair.cert, user: 'prometheus', password: 'scrape-secret' });
    expect(good.status).toBe(200);
    expect(good.body).toContain('kappie_udp_active_sockets');
    expect(good.headers['strict-transport-security']).toBe('max-age=31536000');
    expect(good.headers['x-content-type-options']).toBe('nosniff');
    expect((await get(collector, '/healthz', { ca: ca.pair.cert })).status).toBe(200);
    expect((await get(collector, '/readyz', { ca: ca.pair.cert })).status).toBe(200);
  });
});
