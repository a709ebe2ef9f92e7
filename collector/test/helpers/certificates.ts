/**
 * Real X.509 certificates for TLS tests, made by the openssl command line in a temporary directory: a CA, server
 * certificates for 127.0.0.1, and client certificates with chosen subject alternative names. Keys are P-256 (fast to
 * make). `remove()` deletes the directory.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface KeyPair {
  readonly certFile: string;
  readonly keyFile: string;
  readonly cert: string;
  readonly key: string;
}

function openssl(cwd: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export class CertificateAuthority {
  private serial = 0;

  private constructor(
    readonly dir: string,
    readonly name: string,
    readonly pair: KeyPair,
  ) {}

  /** A new self-signed CA in `dir` (created when missing). */
  static create(dir: string, name: string): CertificateAuthority {
    fs.mkdirSync(dir, { recursive: true });
    openssl(
      dir,
      'req',
      '-x509',
      ...EC_KEY,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.crt`,
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
    );
    return new CertificateAuthority(dir, name, readPair(dir, name));
  }

  get certFile(): string {
    return this.pair.certFile;
  }

  /**
   * A certificate signed by this CA. `sans` are openssl subjectAltName entries (IP:127.0.0.1, DNS:x, URI:...);
   * `usage` is serverAuth or clientAuth.
   */
  issue(name: string, sans: readonly string[], usage: 'serverAuth' | 'clientAuth'): KeyPair {
    this.serial += 1;
    const extensions = path.join(this.dir, `${name}.ext`);
    fs.writeFileSync(extensions, `subjectAltName=${sans.join(',')}\nextendedKeyUsage=${usage}\n`);
    openssl(this.dir, 'req', ...EC_KEY, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
    openssl(
      this.dir,
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${this.name}.crt`,
      '-CAkey',
      `${this.name}.key`,
      '-set_serial',
      String(Date.now() * 100 + this.serial),
      '-out',
      `${name}.crt`,
      '-days',
      '2',
      '-extfile',
      extensions,
    );
    return readPair(this.dir, name);
  }
}

function readPair(dir: string, name: string): KeyPair {
  const certFile = path.join(dir, `${name}.crt`);
  const keyFile = path.join(dir, `${name}.key`);
  return { certFile, keyFile, cert: fs.readFileSync(certFile, 'utf8'), key: fs.readFileSync(keyFile, 'utf8') };
}

/** Whether the openssl command line is installed (the tests that need it say so when it is not). */
export function opensslAvailable(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A fresh temporary directory for certificates and web configuration files. */
export function temporaryDirectory(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}
