/**
 * OS awareness end to end on the Drops page (its Linux-only panel: dropped bytes, which no Windows facility counts):
 * with only Windows nodes reporting, that panel is replaced by a note that says why, and its query is not sent; with
 * Linux nodes present it shows, titled as Linux-only. The overview's Lost events is the only other Linux-only panel.
 */
import { LABEL, METRICS, metricName } from '@kappie/collector/catalog';
import { screen, waitFor } from '@testing-library/react';
import { ROUTES } from '../src/constants';
import { isLinuxOnly, queryPlatforms } from '@kappie/dashboards/queries';
import { panelApplies } from '../src/scenes/osAware';
import { FakePrometheus, datasourceSettings, installFakeGrafana, type LabelValues } from './fake-grafana';
import { pagePanels } from './plugin-queries';
import { renderApp } from './render-app';

const dropsPanels = pagePanels('drops');
const linuxOnly = dropsPanels.filter(isLinuxOnly);
const everywhere = dropsPanels.filter((panel) => !isLinuxOnly(panel));

function setup(osValues: string[]) {
  const labelValues: LabelValues = {
    [LABEL.cluster]: ['aks-west'],
    [LABEL.os]: osValues,
    [LABEL.nodeName]: osValues.map((os) => `${os}-node`),
  };
  const settings = datasourceSettings('prom-main', 'prometheus');
  const prometheus = new FakePrometheus(settings, labelValues);
  installFakeGrafana([settings], { [settings.uid]: prometheus });
  renderApp(ROUTES.drops, { datasourceUid: 'prom-main' });
  return prometheus;
}

describe('Linux-only panels', () => {
  it('are the panels reading metrics the catalog lists for Linux only: dropped bytes and lost events', () => {
    expect(linuxOnly.map((panel) => panel.title)).toEqual(['Dropped bytes by reason']);
    for (const panel of linuxOnly) expect(queryPlatforms(panel)).toEqual(['linux']);
    expect(METRICS.dropBytes.platforms).toEqual(['linux']);
    // Only sources that can lose events export kappie_source_lost_events_total, and no Windows source streams events.
    expect(METRICS.sourceLostEvents.platforms).toEqual(['linux']);
    expect(
      pagePanels('overview')
        .filter(isLinuxOnly)
        .map((panel) => panel.title),
    ).toEqual(['Lost events']);
    for (const key of ['tcp', 'interfaces'] as const) expect(pagePanels(key).filter(isLinuxOnly)).toEqual([]);
  });

  it('are replaced by an explanation when only Windows nodes are selected, and their queries are not sent', async () => {
    const prometheus = setup(['windows']);
    const notes = await screen.findAllByTestId('kappie-linux-only-note', {}, { timeout: 20_000 });
    expect(notes).toHaveLength(linuxOnly.length);
    expect(await screen.findByText('Dropped bytes by reason: Linux nodes only')).toBeInTheDocument();
    expect(notes[0]).toHaveTextContent('The selected nodes run Windows');
    expect(screen.getAllByText(/a kprobe on the kernel drop function/).length).toBeGreaterThan(0);

    await waitFor(() => expect(prometheus.expressions().length).toBeGreaterThanOrEqual(everywhere.length));
    const sent = prometheus.expressions();
    expect(sent.sort()).toEqual(everywhere.map((panel) => panel.expr).sort());
    for (const panel of linuxOnly) expect(sent).not.toContain(panel.expr);
    expect(sent.join('\n')).not.toContain(metricName(METRICS.dropBytes));
  });

  it('show, titled as Linux-only, when Linux nodes are among the selected', async () => {
    const prometheus = setup(['linux', 'windows']);
    await waitFor(() => expect(prometheus.expressions().length).toBe(dropsPanels.length), { timeout: 20_000 });
    expect(await screen.findByText('Dropped bytes by reason (Linux nodes)')).toBeInTheDocument();
    expect(screen.queryByTestId('kappie-linux-only-note')).not.toBeInTheDocument();
  });
});

describe('panelApplies', () => {
  it('hides only on a positive "no node of a supported OS"', () => {
    expect(panelApplies(['linux'], ['windows'])).toBe(false);
    expect(panelApplies(['linux'], ['linux', 'windows'])).toBe(true);
    expect(panelApplies(['linux', 'windows'], ['windows'])).toBe(true);
    // Nothing selected or listed yet (no collector scraped, variables loading): keep the panel.
    expect(panelApplies(['linux'], [])).toBe(true);
  });
});
