/** The small HTML page at `/`: version, and each source's state and reason. Pure: gathering in, HTML out. */
import type { BuildInfo } from './build-info';
import type { Gathering } from './gatherer';

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function renderStatusPage(buildInfo: BuildInfo, nodeName: string, gathering: Gathering | undefined): string {
  const rows = (gathering?.sources ?? [])
    .map(
      (s) =>
        `<tr><td>${escapeHtml(s.name)}</td><td class="${s.up ? 'up' : 'down'}">${s.up ? 'up' : 'down'}</td>` +
        `<td>${(s.durationSeconds * 1000).toFixed(1)} ms</td><td>${escapeHtml(s.reason ?? '')}</td>` +
        `<td>${escapeHtml(s.description)}</td></tr>`,
    )
    .join('\n');
  const gathered = gathering ? new Date(gathering.at).toISOString() : 'not yet';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Kappie collector</title>
<style>body{font-family:sans-serif;margin:2em}td,th{padding:.3em .8em;text-align:left}.up{color:#1a7f37}.down{color:#cf222e;font-weight:bold}</style>
</head><body>
<h1>Kappie collector ${escapeHtml(buildInfo.version)}</h1>
<p>Node <b>${escapeHtml(nodeName)}</b> · ${escapeHtml(buildInfo.os)}/${escapeHtml(buildInfo.arch)} · kernel ${escapeHtml(buildInfo.kernel)} · last gathering ${gathered}</p>
<p><a href="/metrics">/metrics</a> · <a href="/healthz">/healthz</a> · <a href="/readyz">/readyz</a></p>
<table><thead><tr><th>source</th><th>state</th><th>took</th><th>reason</th><th>reads</th></tr></thead>
<tbody>
${rows}
</tbody></table>
</body></html>
`;
}
