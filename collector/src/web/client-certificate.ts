/**
 * The client-certificate policies of exporter-toolkit's client_auth_type (Go's crypto/tls ClientAuthType) and
 * client_allowed_sans, on a finished Node.js TLS handshake. Node asks for a certificate (requestCert) and refuses an
 * unverified one in the handshake only for RequireAndVerifyClientCert; the other policies are decided here, before
 * any request on the connection is answered.
 */
import type * as tls from 'node:tls';
import type { TlsServerConfig } from './web-config';

/**
 * The values of a certificate's `subjectaltname` as Node.js writes it ("DNS:a.example, IP Address:10.0.0.1,
 * email:x@y, URI:spiffe://..."; values with special characters are JSON-quoted). Pure.
 */
export function subjectAltNames(subjectaltname: string | undefined): string[] {
  if (!subjectaltname) return [];
  const names: string[] = [];
  for (const match of subjectaltname.matchAll(/(?:^|,\s*)[A-Za-z ]+:("(?:[^"\\]|\\.)*"|[^,]*)/g)) {
    const value = match[1]!;
    names.push(value.startsWith('"') ? (JSON.parse(value) as string) : value.trim());
  }
  return names;
}

/** Why the connection must be closed, or undefined when the client satisfies the policy. */
export function clientCertificateRefusal(socket: tls.TLSSocket, config: TlsServerConfig): string | undefined {
  const policy = config.clientAuthType;
  if (policy === 'NoClientCert' || policy === 'RequestClientCert') return undefined;
  const certificate = socket.getPeerCertificate();
  const presented = certificate !== null && Object.keys(certificate).length > 0;
  if (!presented) {
    return policy === 'VerifyClientCertIfGiven' ? undefined : `no client certificate (client_auth_type ${policy})`;
  }
  if ((policy === 'VerifyClientCertIfGiven' || policy === 'RequireAndVerifyClientCert') && !socket.authorized) {
    return `client certificate not verified by client_ca_file: ${String(socket.authorizationError)}`;
  }
  if (config.clientAllowedSans.length > 0) {
    const names = subjectAltNames(certificate.subjectaltname);
    if (!names.some((name) => config.clientAllowedSans.includes(name))) {
      return `client certificate names ${names.join(', ') || 'no subject alternative name'}, none in client_allowed_sans`;
    }
  }
  return undefined;
}
