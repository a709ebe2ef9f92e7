/**
 * The small HTML page at `/`: version, what the collector installed in the kernel, and each source's state and
 * reason. It reloads itself (a meta refresh, no script) so a page left open follows the collector. Pure: gathering in,
 * HTML out; every value is HTML-escaped, and the only style is a fixed block whose hash the Content-Security-Policy
 * allows, so nothing a source reports can become markup or script.
 */
import { createHash } from 'node:crypto';
import type { BuildInfo } from './build-info';
import type { Gathering } from './gatherer';
import type { InstalledObject } from './installed-state';

/** Seconds between the page's reloads: often enough to follow a source going down, rarely enough to cost nothing. */
export const STATUS_PAGE_REFRESH_SECONDS = 10;

const STYLE =
  'body{font-family:sans-serif;margin:2em}td,th{padding:.3em .8em;text-align:left}' +
  '.up{color:#1a7f37}.down{color:#cf222e;font-weight:bold}';

/**
 * The Content-Security-Policy of the status page: nothing may load or run except the page's own style block (by
 * hash), and the page may not be framed.
 */
export const STATUS_PAGE_CSP = [
  "default-src 'none'",
  `style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`,
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export interface StatusPageInput {
  readonly buildInfo: BuildInfo;
  readonly nodeName: string;
  readonly gathering: Gathering | undefined;
  /** What the collector installs in the kernel (empty on Windows). */
  readonly installed: readonly InstalledObject[];
}

export function renderStatusPage({ buildInfo, nodeName, gathering, installed }: StatusPageInput): string {
  const rows = (gathering?.sources ?? [])
    .map(
      (s) =>
        `<tr><td>${escapeHtml(s.name)}</td><td class="${s.up ? 'up' : 'down'}">${s.up ? 'up' : 'down'}</td>` +
        `<td>${(s.durationSeconds * 1000).toFixed(1)} ms</td><td>${escapeHtml(s.reason ?? '')}</td>` +
        `<td>${escapeHtml(s.description)}</td></tr>`,
    )
    .join('\n');
  const kernelState = installed
    .map(
      (o) =>
        `<li>${escapeHtml(o.kind)} <code>${escapeHtml(o.name)}</code> (${escapeHtml(o.option)}): ${escapeHtml(o.purpose)}</li>`,
    )
    .join('\n');
  const gathered = gathering ? new Date(gathering.at).toISOString() : 'not yet';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="${STATUS_PAGE_REFRESH_SECONDS}">
<title>Kappie collector</title>
<style>${STYLE}</style>
</head><body>
<h1>Kappie collector ${escapeHtml(buildInfo.version)}</h1>
<p>Node <b>${escapeHtml(nodeName)}</b> · ${escapeHtml(buildInfo.os)}/${escapeHtml(buildInfo.arch)} · kernel ${escapeHtml(buildInfo.kernel)} · last gathering ${gathered} · this page reloads every ${STATUS_PAGE_REFRESH_SECONDS} s</p>
<p><a href="/metrics">/metrics</a> · <a href="/healthz">/healthz</a> · <a href="/readyz">/readyz</a></p>
${kernelState ? `<p>Installed in the kernel while serving (removed at stop):</p>\n<ul>\n${kernelState}\n</ul>\n` : ''}<table><thead><tr><th>source</th><th>state</th><th>took</th><th>reason</th><th>reads</th></tr></thead>
<tbody>
${rows}
</tbody></table>
</body></html>
`;
}
