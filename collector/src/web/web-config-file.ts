/**
 * The web configuration in force: the file given with --web-config-file and the certificate, key and CA files it
 * names, re-read when any of them changes. Each new connection and each request asks for the current configuration;
 * asking costs one stat per file, and the files are read again only when a stat differs (modification time, size or
 * inode: a Kubernetes Secret volume swaps a symlink, which changes the inode). This is exporter-toolkit's behaviour
 * (it reads the file at every connection) without reading and parsing at every connection.
 *
 * A change that cannot be used (bad YAML, a key that does not match its certificate) is logged once and the previous
 * configuration stays in force, so a certificate rotation that writes the files one at a time never takes the endpoint
 * down. At start there is no previous configuration: the error is the caller's (exit code 2).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tls from 'node:tls';
import type { Logger } from 'pino';
import { parseWebConfig, WebConfigError, type PemSource, type TlsServerConfig, type WebConfig } from './web-config';

/** What a connection needs for TLS, built from the configuration and its files. */
export interface TlsSetup {
  readonly config: TlsServerConfig;
  /**
   * Options of a Node.js TLS server: the PEMs read from the files, requestCert for every client_auth_type but
   * NoClientCert, rejectUnauthorized (a handshake refused unless the client certificate verifies) for
   * RequireAndVerifyClientCert. Checked at load: a key that does not match its certificate is a load error.
   */
  readonly serverOptions: tls.TlsOptions;
}

export interface LoadedWebConfig {
  readonly config: WebConfig;
  /** Undefined: plain HTTP. */
  readonly tls: TlsSetup | undefined;
}

/** The configuration of a collector started without --web-config-file: plain HTTP, no authentication. */
export const PLAIN_HTTP: LoadedWebConfig = {
  config: { tls: undefined, headers: {}, basicAuthUsers: new Map() },
  tls: undefined,
};

function statKey(file: string): string {
  try {
    const stats = fs.statSync(file);
    return `${stats.mtimeMs}:${stats.size}:${stats.ino}`;
  } catch (error) {
    return `unreadable: ${(error as NodeJS.ErrnoException).code ?? 'error'}`;
  }
}

function filesOf(config: WebConfig, directory: string): string[] {
  const sources = config.tls ? [config.tls.cert, config.tls.key, config.tls.clientCa] : [];
  return sources.flatMap((source) => (source && 'file' in source ? [path.resolve(directory, source.file)] : []));
}

function readPem(source: PemSource, directory: string, what: string): string {
  if ('inline' in source) return source.inline;
  const file = path.resolve(directory, source.file);
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new WebConfigError(`tls_server_config: cannot read the ${what} ${file}: ${(error as Error).message}`);
  }
}

function tlsSetupOf(config: TlsServerConfig, directory: string): TlsSetup {
  const cert = readPem(config.cert, directory, 'certificate');
  const key = readPem(config.key, directory, 'key');
  const ca = config.clientCa ? readPem(config.clientCa, directory, 'client CA') : undefined;
  const contextOptions: tls.SecureContextOptions = {
    cert,
    key,
    ca,
    minVersion: config.minVersion,
    maxVersion: config.maxVersion,
    honorCipherOrder: config.preferServerCipherSuites,
  };
  try {
    tls.createSecureContext(contextOptions);
  } catch (error) {
    throw new WebConfigError(
      `tls_server_config: the certificate, key or CA cannot be used: ${(error as Error).message}`,
    );
  }
  return {
    config,
    serverOptions: {
      ...contextOptions,
      requestCert: config.clientAuthType !== 'NoClientCert',
      rejectUnauthorized: config.clientAuthType === 'RequireAndVerifyClientCert',
    },
  };
}

/** Reads and validates the file and everything it names. Throws WebConfigError with the file name. */
function load(file: string): { loaded: LoadedWebConfig; watched: string[] } {
  const directory = path.dirname(path.resolve(file));
  try {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (error) {
      throw new WebConfigError((error as Error).message);
    }
    const config = parseWebConfig(text);
    return {
      loaded: { config, tls: config.tls ? tlsSetupOf(config.tls, directory) : undefined },
      watched: [path.resolve(file), ...filesOf(config, directory)],
    };
  } catch (error) {
    if (error instanceof WebConfigError) throw new WebConfigError(`${file}: ${error.message}`);
    throw error;
  }
}

export class WebConfigFile {
  private loaded: LoadedWebConfig;
  private watched: string[];
  private signature: string;
  /** The last reload error logged, so a broken file is reported once, not at every connection. */
  private lastError: string | undefined;

  /** Loads `file` now; throws WebConfigError (naming the file and the key) when it cannot be used. */
  constructor(
    readonly file: string,
    private readonly log: Logger,
  ) {
    const { loaded, watched } = load(file);
    this.loaded = loaded;
    this.watched = watched;
    this.signature = this.currentSignature();
  }

  /** The configuration in force, re-read first when the file or one it names changed. */
  current(): LoadedWebConfig {
    const signature = this.currentSignature();
    if (signature === this.signature) return this.loaded;
    try {
      const { loaded, watched } = load(this.file);
      this.loaded = loaded;
      this.watched = watched;
      this.signature = this.currentSignature();
      this.lastError = undefined;
      this.log.info({ file: this.file, tls: loaded.tls !== undefined }, 'web configuration reloaded');
    } catch (error) {
      const message = (error as Error).message;
      if (message !== this.lastError) {
        this.log.error(
          { file: this.file },
          `web configuration not reloaded, the previous one stays in force: ${message}`,
        );
        this.lastError = message;
      }
      // Try again only when the files change again.
      this.signature = signature;
    }
    return this.loaded;
  }

  private currentSignature(): string {
    return this.watched.map(statKey).join('|');
  }
}
