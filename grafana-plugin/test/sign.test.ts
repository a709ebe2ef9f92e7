/**
 * @jest-environment node
 *
 * `npm run sign` end to end with the real `@grafana/sign-plugin`, against a stand-in for grafana.com's signing
 * endpoint: a fake only because grafana.com cannot be reached from here. It follows sign-plugin's documented contract
 * (`POST $GRAFANA_COM_URL/plugins/ci/sign` over HTTPS with `Authorization: Bearer <GRAFANA_ACCESS_POLICY_TOKEN>` and
 * the manifest as JSON; the answer's body is the signed MANIFEST.txt) and is served with a self-signed certificate
 * this test creates with openssl and hands to Node as an extra CA. Not exercised: grafana.com's real signature.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { unzipSync } from 'fflate';
import packageJson from '../package.json';
import { zipName } from '../scripts/package-zip';

const pluginDir = path.resolve(__dirname, '..');
const SIGN_SCRIPT = path.join(pluginDir, 'scripts', 'sign.ts');
const ID = 'kappie-network-app';
const SIGNED = '-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n{"plugin":"kappie-network-app"}\n';
const opensslAvailable = spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0;

interface SignRequest {
  path?: string;
  authorization?: string;
  manifest: { plugin: string; version: string; files: Record<string, string>; rootUrls?: string[] };
}

const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');

(opensslAvailable ? describe : describe.skip)('npm run sign', () => {
  let scratch: string;
  let server: https.Server;
  let requests: SignRequest[];
  let baseEnv: NodeJS.ProcessEnv;
  let plugin: string;
  const dist: Record<string, string> = {
    'plugin.json': JSON.stringify({ id: ID, type: 'app', info: { version: '0.1.0' } }),
    'module.js': 'define([],()=>({}))',
    'dashboards/overview.json': '{"uid":"kappie-overview"}',
  };

  beforeAll(async () => {
    scratch = mkdtempSync(path.join(tmpdir(), 'kappie-sign-'));
    const key = path.join(scratch, 'key.pem');
    const cert = path.join(scratch, 'cert.pem');
    const openssl = spawnSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { encoding: 'utf8' },
    );
    if (openssl.status !== 0) throw new Error(`openssl failed: ${openssl.stderr}`);
    requests = [];
    server = https.createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => {
        requests.push({ path: req.url, authorization: req.headers.authorization, manifest: JSON.parse(body) });
        res.writeHead(200, { 'content-type': 'text/plain' }).end(SIGNED);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const env = { ...process.env };
    for (const name of Object.keys(env)) if (/_proxy$/i.test(name)) delete env[name];
    baseEnv = {
      ...env,
      GRAFANA_COM_URL: `https://127.0.0.1:${port}/api`,
      NODE_EXTRA_CA_CERTS: cert,
      NO_PROXY: '127.0.0.1,localhost',
      GRAFANA_ACCESS_POLICY_TOKEN: '',
      GRAFANA_API_KEY: '',
    };
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(scratch, { recursive: true, force: true });
  });

  beforeEach(() => {
    requests.length = 0;
    plugin = mkdtempSync(path.join(scratch, 'plugin-'));
    for (const [file, text] of Object.entries(dist)) {
      mkdirSync(path.dirname(path.join(plugin, 'dist', file)), { recursive: true });
      writeFileSync(path.join(plugin, 'dist', file), text);
    }
  });

  /** Runs the script as `npm run sign` does, asynchronously: the fake endpoint lives in this process. */
  const sign = (env: NodeJS.ProcessEnv, args: string[] = []) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, ['-r', require.resolve('ts-node/register'), SIGN_SCRIPT, ...args], {
        cwd: plugin,
        env: { ...env, TS_NODE_PROJECT: path.join(pluginDir, 'tsconfig.json') },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
      child.on('error', reject);
      child.on('close', (status) => resolve({ status, stdout, stderr }));
    });

  it('is the package script, with sign-plugin pinned', () => {
    expect(packageJson.scripts.sign).toBe('node -r ts-node/register scripts/sign.ts');
    expect(packageJson.devDependencies['@grafana/sign-plugin']).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('says what to do without a token, and sends nothing', async () => {
    const result = await sign(baseEnv);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('GRAFANA_ACCESS_POLICY_TOKEN is not set');
    expect(result.stderr).toContain('plugins:write');
    expect(requests).toEqual([]);
  });

  it('says to build first when there is no dist/', async () => {
    rmSync(path.join(plugin, 'dist'), { recursive: true });
    const result = await sign({ ...baseEnv, GRAFANA_ACCESS_POLICY_TOKEN: 'glc_test' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('npm run build');
  });

  it('sends the manifest of every file with the token, writes MANIFEST.txt and packs the signed zip', async () => {
    const result = await sign({ ...baseEnv, GRAFANA_ACCESS_POLICY_TOKEN: 'glc_test' }, [
      '--rootUrls',
      'https://grafana.example.com/',
    ]);
    expect(result.stderr).not.toMatch(/error|failed/i);
    expect(result.status).toBe(0);
    expect(requests).toHaveLength(1);
    const [request] = requests as [SignRequest];
    expect(request.path).toBe('/api/plugins/ci/sign');
    expect(request.authorization).toBe('Bearer glc_test');
    expect(request.manifest).toMatchObject({
      plugin: ID,
      version: '0.1.0',
      rootUrls: ['https://grafana.example.com/'],
    });
    expect(request.manifest.files).toEqual(Object.fromEntries(Object.entries(dist).map(([f, t]) => [f, sha256(t)])));
    expect(readFileSync(path.join(plugin, 'dist', 'MANIFEST.txt'), 'utf8')).toBe(SIGNED);
    const zip = unzipSync(new Uint8Array(readFileSync(path.join(plugin, 'build', zipName(ID, '0.1.0')))));
    expect(Buffer.from(zip[`${ID}/MANIFEST.txt`] ?? []).toString('utf8')).toBe(SIGNED);
  }, 60_000);
});
