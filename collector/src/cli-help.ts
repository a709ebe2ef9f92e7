/**
 * How `kappie ... --help` says where an option's value comes from when it is not given on the command line: one note
 * at the end of its description, `[env KAPPIE_LISTEN; default :10093]`, `[env GRAFANA_URL]` or `[default 10]`.
 *
 * Every option goes through `originNote`: the collector options (whose environment variables config.ts resolves, so
 * commander never sees them) call it with their OptionSpec, and the help configuration below calls it for options
 * that commander itself reads from the environment or defaults (`Option.env()`, `.default()`), which commander would
 * otherwise write its own way (`(default: "Kappie", env: GRAFANA_URL)`). Two styles in one program confused a new
 * user; with one function there is no second one to drift to.
 */
import type { Command, HelpConfiguration, Option } from 'commander';

/** Where a value comes from when the flag is not given. */
export interface OptionOrigin {
  /** The environment variable read instead of the flag. */
  readonly env?: string;
  /** The value used when neither is set, as the user should read it (a value, or a sentence). */
  readonly defaultText?: string;
  /** The only values accepted, when commander checks them (Option.choices()). */
  readonly choices?: readonly string[];
}

/** `[choices a, b; env X; default Y]` with the parts that apply, or '' when none does. */
export function originNote(origin: OptionOrigin): string {
  const parts = [
    origin.choices === undefined ? undefined : `choices ${origin.choices.join(', ')}`,
    origin.env === undefined ? undefined : `env ${origin.env}`,
    origin.defaultText === undefined ? undefined : `default ${origin.defaultText}`,
  ].filter((part) => part !== undefined);
  return parts.length === 0 ? '' : `[${parts.join('; ')}]`;
}

/** `description` followed by its origin note (see originNote), or alone when there is nothing to note. */
export function describeOption(description: string, origin: OptionOrigin): string {
  const note = originNote(origin);
  return note === '' ? description : `${description} ${note}`;
}

/** The origin commander knows for `option`: the variable of `.env()`, the default of `.default()`, `.choices()`. */
function commanderOrigin(option: Option): OptionOrigin {
  const hasDefault = option.defaultValue !== undefined && !option.negate && !option.isBoolean();
  return {
    env: option.envVar,
    defaultText: hasDefault ? (option.defaultValueDescription ?? String(option.defaultValue)) : undefined,
    choices: option.argChoices,
  };
}

/**
 * The help width COLUMNS asks for (a whole number of at least 20), else undefined. Commander wraps help to the
 * terminal's columns, or 80 when stdout is not a terminal; a user who sets COLUMNS (`COLUMNS=120 kappie --help | less`)
 * asks for that width, as with ls and man.
 */
export function helpWidthFrom(columns: string | undefined): number | undefined {
  const width = columns !== undefined && /^\s*\d+\s*$/.test(columns) ? Number(columns) : NaN;
  return width >= 20 ? width : undefined;
}

/**
 * The help configuration of the whole program (set on it before its subcommands are made, which inherit it): option
 * descriptions with commander's environment variable, default and choices written by originNote, wrapped at COLUMNS
 * when it is set (`env.COLUMNS`, see helpWidthFrom), else at commander's width.
 */
export function kappieHelpConfiguration(env: { readonly COLUMNS?: string } = {}): HelpConfiguration {
  const helpWidth = helpWidthFrom(env.COLUMNS);
  return {
    ...(helpWidth === undefined ? {} : { helpWidth }),
    optionDescription(option: Option): string {
      return describeOption(option.description ?? '', commanderOrigin(option));
    },
  };
}

/**
 * The line printed after a usage error of each command in `program`'s tree, set once the tree is built: a command with
 * subcommands (kappie, kappie dashboards) points at its --help for every command, the others for every option. Set
 * only on the program, commander would copy its one line to every subcommand ("every option" after `kappie bogus`).
 */
export function setHelpAfterErrorHints(program: Command): void {
  const visit = (command: Command, path: string) => {
    const what = command.commands.length > 0 ? 'command' : 'option';
    command.showHelpAfterError(`(run ${path} --help for every ${what})`);
    for (const sub of command.commands) visit(sub, `${path} ${sub.name()}`);
  };
  visit(program, program.name());
}
