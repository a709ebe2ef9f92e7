/**
 * One Jest run over every workspace. TypeScript is compiled by SWC (fast, no type checking: `tsc -b` does that in
 * the test script before Jest runs). Workspaces import each other's TypeScript sources directly.
 */
import type { Config } from 'jest';

const swcTransform: [string, Record<string, unknown>] = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', tsx: true },
      target: 'es2022',
      transform: { react: { runtime: 'automatic' } },
    },
    module: { type: 'commonjs' },
  },
];

const sharedModules = {
  '^@kappie/collector$': '<rootDir>/../collector/src/index.ts',
  '^@kappie/collector/catalog$': '<rootDir>/../collector/src/catalog.ts',
  '^@kappie/collector/drop-reason-classes$': '<rootDir>/../collector/src/drop-reason-classes.ts',
  '^@kappie/dashboards$': '<rootDir>/../dashboards/src/index.ts',
  '^@kappie/dashboards/queries$': '<rootDir>/../dashboards/src/queries.ts',
  '^@kappie/dashboards/platforms$': '<rootDir>/../dashboards/src/platforms.ts',
  '^@kappie/dashboards/layouts$': '<rootDir>/../dashboards/src/layouts.ts',
  '^@kappie/dashboards/variables$': '<rootDir>/../dashboards/src/variables.ts',
};

function project(name: string, overrides: Partial<Config> = {}): Config {
  return {
    displayName: name,
    rootDir: `<rootDir>/${name}`,
    testMatch: ['<rootDir>/test/**/*.test.ts', '<rootDir>/test/**/*.test.tsx'],
    testEnvironment: 'node',
    transform: { '^.+\\.(t|j)sx?$': swcTransform },
    moduleNameMapper: sharedModules,
    ...overrides,
  } as Config;
}

/** Workspaces with tests; a workspace adds itself here when it gets its first test. */
const projects: Config[] = [
  project('collector'),
  project('deploy'),
  project('dashboards'),
  project('provisioning'),
  // The Grafana app plugin renders its pages and config page with React in jsdom.
  project('grafana-plugin', {
    testEnvironment: 'jsdom',
    transform: { '^.+\\.(t|j)sx?$': swcTransform, '^.+\\.mjs$': swcTransform },
    // Grafana's packages pull in dependencies published as ES modules only (d3, marked, react-calendar, ...):
    // SWC compiles node_modules too (cached after the first run) rather than keeping a list that goes stale.
    transformIgnorePatterns: [],
    setupFilesAfterEnv: ['<rootDir>/test/setup.ts'],
    moduleNameMapper: {
      ...sharedModules,
      '\\.(css|scss|sass)$': '<rootDir>/test/style-mock.ts',
    },
  }),
];

const config: Config = {
  projects: projects as unknown as Config['projects'],
  testTimeout: 60_000,
};

export default config;
