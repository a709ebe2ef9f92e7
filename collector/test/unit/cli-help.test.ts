/**
 * The help of every command, walked through commander's command tree (so a command added later is checked too):
 * one way of writing where a value comes from (`[env X; default Y]`, cli-help.ts), and descriptions without
 * hard line breaks (commander wraps them to the terminal; a newline of ours broke a line in the middle of kappie's).
 */
import { spawnSync } from 'node:child_process';
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli';
import { describeOption, helpWidthFrom, originNote } from '../../src/cli-help';
import { OPTIONS } from '../../src/config';
import { COLLECTOR_CLI } from '../helpers/netns';

/** `command` and every command below it, each with its full name (`kappie dashboards push`). */
function commandTree(command: Command, prefix = ''): { name: string; command: Command }[] {
  const name = `${prefix}${command.name()}`;
  return [{ name, command }, ...command.commands.flatMap((sub) => commandTree(sub, `${name} `))];
}

/** Each option of `command` as its --help describes it (before wrapping). */
function optionDescriptions(command: Command): { flags: string; text: string; envVar: string | undefined }[] {
  const help = command.createHelp();
  return help
    .visibleOptions(command)
    .map((option) => ({ flags: option.flags, text: help.optionDescription(option), envVar: option.envVar }));
}

/** The note at the end of a description, as originNote writes it. */
const NOTE = /\[(choices [^;\]]+(; )?)?(env [A-Z][A-Z0-9_]*(; )?)?(default [^\]]+)?\]$/;

describe('--help of every command', () => {
  const tree = commandTree(buildProgram());

  it('walks every command, the nested ones too', () => {
    expect(tree.map((entry) => entry.name)).toEqual(
      expect.arrayContaining(['kappie', 'kappie serve', 'kappie snapshot', 'kappie sources', 'kappie dashboards push']),
    );
  });

  it.each(tree.map((entry) => [entry.name, entry.command] as const))(
    '%s writes environment variables and defaults as [env X; default Y]',
    (_name, command) => {
      for (const option of optionDescriptions(command)) {
        // commander's own way, `(default: "Kappie", env: GRAFANA_URL)`, and a colon after default, are the old drift.
        expect({ flags: option.flags, text: option.text }).not.toEqual({
          flags: option.flags,
          text: expect.stringMatching(/\((env|default|choices|preset): |\[default: /),
        });
        if (option.envVar !== undefined) expect(option.text).toContain(`[env ${option.envVar}`);
        if (option.text.endsWith(']') && option.text.includes(' [')) {
          expect({ flags: option.flags, note: option.text.slice(option.text.lastIndexOf(' [') + 1) }).toEqual({
            flags: option.flags,
            note: expect.stringMatching(NOTE),
          });
        }
      }
      const specs = OPTIONS.filter((spec) => (spec.commands as readonly string[]).includes(command.name()));
      const byFlags = new Map(optionDescriptions(command).map((option) => [option.flags.split(' ')[0], option.text]));
      for (const spec of specs) {
        expect(byFlags.get(`--${spec.flag}`)).toMatch(
          new RegExp(`\\[env ${spec.env}; default ${spec.defaultText.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\]$`),
        );
      }
    },
  );

  it('dashboards push says [env GRAFANA_URL] in the built command line too', () => {
    const help = spawnSync(process.execPath, [COLLECTOR_CLI, 'dashboards', 'push', '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    const text = help.stdout.replace(/\s+/g, ' ');
    expect(text).toContain('Grafana root URL [env GRAFANA_URL]');
    expect(text).toContain('[env GRAFANA_TOKEN]');
    expect(text).toContain('[env KAPPIE_DASHBOARDS_DIR; default dashboards/generated of this repository]');
    expect(text).toContain('[default Kappie]');
    expect(text).not.toContain('(env:');
  });
});

/** The paragraph after `Usage: ...` in a --help text: the command's description as printed. */
function descriptionLines(help: string): string[] {
  const paragraphs = help.split('\n\n');
  return paragraphs[1]!.split('\n');
}

/** Lines where the first word of the next line would have fitted at the end (so a break of ours, not the wrap's). */
function earlyBreaks(lines: readonly string[], width: number): string[] {
  return lines.slice(0, -1).filter((line, i) => line.length + 1 + lines[i + 1]!.split(' ')[0]!.length <= width);
}

describe('--help descriptions', () => {
  const tree = commandTree(buildProgram());

  it('hold no line break of their own (commander wraps them to the terminal)', () => {
    for (const { name, command } of tree) {
      expect({ name, description: command.description() }).toEqual({
        name,
        description: expect.not.stringContaining('\n'),
      });
      for (const option of command.options) {
        expect({ name, flags: option.flags, description: option.description }).toEqual({
          name,
          flags: option.flags,
          description: expect.not.stringContaining('\n'),
        });
      }
    }
  });

  it('kappie --help fills each line of its description before breaking it (80 columns off a terminal)', () => {
    const help = spawnSync(process.execPath, [COLLECTOR_CLI, '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    const lines = descriptionLines(help.stdout);
    expect(lines[0]).toMatch(/^Kappie node collector/);
    for (const line of help.stdout.split('\n')) expect(line.length).toBeLessThanOrEqual(80);
    expect(earlyBreaks(lines, 80)).toEqual([]);
  });
});

describe('--help of the options that name what serve installs', () => {
  const tree = new Map(commandTree(buildProgram()).map((entry) => [entry.name, entry.command]));
  /** The --help text of option `flag` under `command` (unwrapped). */
  const describe = (command: string, flag: string) =>
    optionDescriptions(tree.get(command)!).find((option) => option.flags.startsWith(`--${flag} `))?.text ?? '';

  it('says what serve does with them under serve', () => {
    expect(describe('kappie serve', 'tracefs-instance')).toMatch(/replaced at start .* removed at stop/);
    expect(describe('kappie serve', 'nft-table')).toMatch(/owned by the serving collector/);
  });

  it.each(['kappie snapshot', 'kappie sources'])('says what %s does with them, not what serve does', (command) => {
    for (const flag of ['tracefs-instance', 'nft-table']) {
      const text = describe(command, flag);
      expect({ flag, text }).toEqual({ flag, text: expect.stringContaining('kappie serve') });
      expect({ flag, text }).not.toEqual({
        flag,
        text: expect.stringMatching(/replaced at start|removed at stop|owned by/),
      });
    }
    expect(describe('kappie snapshot', 'tracefs-instance')).toContain('NAME-snapshot');
    expect(describe(command, 'nft-table')).toMatch(/collector in this network namespace/);
  });
});

describe('--help width', () => {
  /** The longest line of `kappie ...args --help` with stdout piped (not a terminal), COLUMNS as given. */
  const widest = (columns: string | undefined, ...args: string[]) => {
    const help = spawnSync(process.execPath, [COLLECTOR_CLI, ...args, '--help'], {
      encoding: 'utf8',
      env: { ...process.env, COLUMNS: columns },
    });
    expect(help.status).toBe(0);
    return Math.max(...help.stdout.split('\n').map((line) => line.length));
  };

  it.each([[[]], [['snapshot']], [['dashboards', 'push']]])('honours COLUMNS when it is set (kappie %j)', (args) => {
    expect(widest(undefined, ...args)).toBeLessThanOrEqual(80);
    const wide = widest('120', ...args);
    expect(wide).toBeGreaterThan(80);
    expect(wide).toBeLessThanOrEqual(120);
    expect(widest('nonsense', ...args)).toBeLessThanOrEqual(80);
  });

  it('reads COLUMNS as a whole number of at least 20', () => {
    expect(helpWidthFrom('120')).toBe(120);
    expect(helpWidthFrom(' 100 ')).toBe(100);
    expect(helpWidthFrom(undefined)).toBeUndefined();
    expect(helpWidthFrom('')).toBeUndefined();
    expect(helpWidthFrom('5')).toBeUndefined();
    expect(helpWidthFrom('wide')).toBeUndefined();
  });
});

describe('originNote', () => {
  it('writes the parts that apply, in one order', () => {
    expect(originNote({})).toBe('');
    expect(originNote({ env: 'KAPPIE_LISTEN', defaultText: ':10093' })).toBe('[env KAPPIE_LISTEN; default :10093]');
    expect(originNote({ env: 'GRAFANA_URL' })).toBe('[env GRAFANA_URL]');
    expect(originNote({ defaultText: '10' })).toBe('[default 10]');
    expect(originNote({ choices: ['a', 'b'], defaultText: 'a' })).toBe('[choices a, b; default a]');
    expect(describeOption('seconds', { defaultText: '10' })).toBe('seconds [default 10]');
    expect(describeOption('print JSON', {})).toBe('print JSON');
  });
});
