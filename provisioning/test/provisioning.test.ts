/**
 * Every provisioning file parses and has what Grafana requires of its kind (schemas/ are written from Grafana's
 * documented provisioning format), and the files agree with each other: the app points at a provisioned data source,
 * secrets stay in secureJsonData. Not exercised here: a running Grafana loading them (none on this machine).
 */
import Ajv from 'ajv';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import pluginJson from '../../grafana-plugin/src/plugin.json';

const ROOT = join(__dirname, '..');
const KINDS = ['datasources', 'dashboards', 'plugins'] as const;
type Kind = (typeof KINDS)[number];

const ajv = new Ajv({ allErrors: true, strict: false });
const validators = Object.fromEntries(
  KINDS.map((kind) => [
    kind,
    ajv.compile(JSON.parse(readFileSync(join(ROOT, 'schemas', `${kind}.schema.json`), 'utf8'))),
  ]),
) as Record<Kind, ReturnType<typeof ajv.compile>>;

function filesOf(kind: Kind): string[] {
  return readdirSync(join(ROOT, kind)).filter((f) => /\.ya?ml$/.test(f));
}
function load(kind: Kind, file: string): Record<string, unknown> {
  return parse(readFileSync(join(ROOT, kind, file), 'utf8')) as Record<string, unknown>;
}
function errorsOf(kind: Kind, document: unknown): string {
  const validate = validators[kind];
  return validate(document) ? '' : ajv.errorsText(validate.errors);
}

interface Datasource {
  uid: string;
  isDefault?: boolean;
  type: string;
  url: string;
  jsonData?: Record<string, unknown> & { azureCredentials?: Record<string, string> };
  secureJsonData?: Record<string, string>;
}
const datasources = filesOf('datasources').flatMap((f) => load('datasources', f).datasources as Datasource[]);

describe.each(KINDS)('provisioning/%s', (kind) => {
  it('has at least one file', () => expect(filesOf(kind).length).toBeGreaterThan(0));

  it.each(filesOf(kind))('%s matches the schema of its kind', (file) => {
    expect(errorsOf(kind, load(kind, file))).toBe('');
  });
});

describe('the schemas reject what Grafana rejects', () => {
  it.each([
    ['a data source without type', 'datasources', { apiVersion: 1, datasources: [{ name: 'x', url: 'http://p' }] }],
    [
      'a Prometheus data source without url',
      'datasources',
      { apiVersion: 1, datasources: [{ name: 'x', type: 'prometheus' }] },
    ],
    [
      'an Azure client secret in jsonData',
      'datasources',
      {
        apiVersion: 1,
        datasources: [
          {
            name: 'x',
            type: 'grafana-azureprometheus-datasource',
            url: 'https://w.westeurope.prometheus.monitor.azure.com',
            jsonData: { azureCredentials: { authType: 'clientsecret', clientSecret: 's' } },
          },
        ],
      },
    ],
    [
      'an unknown Azure auth type',
      'datasources',
      {
        apiVersion: 1,
        datasources: [
          {
            name: 'x',
            type: 'grafana-azureprometheus-datasource',
            url: 'https://w.westeurope.prometheus.monitor.azure.com',
            jsonData: { azureCredentials: { authType: 'password' } },
          },
        ],
      },
    ],
    [
      'a provider without options.path',
      'dashboards',
      { apiVersion: 1, providers: [{ name: 'k', type: 'file', options: {} }] },
    ],
    [
      'a folder together with foldersFromFilesStructure',
      'dashboards',
      {
        apiVersion: 1,
        providers: [{ name: 'k', type: 'file', folder: 'K', options: { path: '/d', foldersFromFilesStructure: true } }],
      },
    ],
    ['an app without its plugin id', 'plugins', { apiVersion: 1, apps: [{ disabled: false }] }],
    ['a datasource plugin id as an app', 'plugins', { apiVersion: 1, apps: [{ type: 'kappie-datasource' }] }],
    ['a wrong apiVersion', 'plugins', { apiVersion: 2, apps: [{ type: 'kappie-network-app' }] }],
  ] as const)('%s', (_what, kind, document) => {
    expect(errorsOf(kind, document)).not.toBe('');
  });
});

describe('the provisioning files agree', () => {
  it('gives every data source a unique uid', () => {
    const uids = datasources.map((d) => d.uid);
    expect(new Set(uids).size).toBe(uids.length);
  });

  it('provisions a BYO Prometheus whose URL comes from the environment', () => {
    const byo = datasources.find((d) => d.type === 'prometheus');
    expect(byo?.url).toBe('${PROMETHEUS_URL}');
  });

  it('provisions Azure managed Prometheus with Azure credentials from the environment and the secret kept secure', () => {
    const azure = datasources.find((d) => d.type === 'grafana-azureprometheus-datasource');
    expect(azure?.url).toBe('${AZURE_PROMETHEUS_QUERY_URL}');
    expect(azure?.jsonData?.azureCredentials?.authType).toBe('${AZURE_PROMETHEUS_AUTH_TYPE}');
    expect(Object.keys(azure?.secureJsonData ?? {})).toEqual(['azureClientSecret']);
    expect(JSON.stringify(azure?.jsonData)).not.toMatch(/secret/i);
  });

  it('marks no data source as the default: a second default in one organization fails all data source provisioning', () => {
    expect(datasources.filter((d) => d.isDefault === true).map((d) => d.uid)).toEqual([]);
  });

  it('enables the app (by its plugin.json id) with a data source that is provisioned', () => {
    const apps = filesOf('plugins').flatMap(
      (f) => load('plugins', f).apps as { type: string; jsonData: { datasourceUid: string } }[],
    );
    expect(apps.map((a) => a.type)).toEqual([pluginJson.id]);
    expect(datasources.map((d) => d.uid)).toContain(apps[0]?.jsonData.datasourceUid);
  });
});
