import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { ConfigError, loadConfigFile, locateConfig, type PlatformConfig } from './config';

/**
 * One command-line parser for every npm script: a mistyped flag must never be ignored (it would, for
 * example, silently synthesize the default config instead of the one meant), and every command
 * answers `--help`.
 */

export interface OptionSpec {
  /** The flag takes a value (`--out DIR` or `--out=DIR`); otherwise it is a switch. */
  readonly takesValue?: boolean;
  /** May be given more than once; values are collected in order. */
  readonly repeatable?: boolean;
  readonly help: string;
}

export interface CommandSpec {
  readonly usage: string;
  readonly description: string;
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** Help text for positional arguments; without it, positionals are errors. */
  readonly positionals?: string;
  /** Extra lines printed after the options (examples, environment variables). */
  readonly epilog?: string;
}

export interface ParsedCommandLine {
  /** Last value of each value flag, `'true'` for switches. */
  readonly options: Readonly<Record<string, string | undefined>>;
  /** Every value of repeatable flags. */
  readonly lists: Readonly<Record<string, readonly string[]>>;
  readonly positionals: readonly string[];
}

export class CommandLineError extends Error {}

export function helpText(spec: CommandSpec): string {
  const width = Math.max(...Object.entries(spec.options).map(([name, option]) => name.length + (option.takesValue ? 8 : 0)), 4) + 4;
  const lines = [`usage: ${spec.usage}`, '', spec.description, '', 'options:'];
  for (const [name, option] of Object.entries(spec.options)) {
    const flag = `--${name}${option.takesValue ? ' VALUE' : ''}`;
    lines.push(`  ${flag.padEnd(width)}${option.help}${option.repeatable ? ' (repeatable)' : ''}`);
  }
  lines.push(`  ${'--help'.padEnd(width)}print this help and exit`);
  if (spec.positionals) lines.push('', `arguments: ${spec.positionals}`);
  if (spec.epilog) lines.push('', spec.epilog);
  return `${lines.join('\n')}\n`;
}

/** Parses argv; throws CommandLineError for unknown flags, missing values and unexpected arguments. */
export function parseArguments(argv: readonly string[], spec: CommandSpec): ParsedCommandLine & { help: boolean } {
  const options: Record<string, string | undefined> = {};
  const lists: Record<string, string[]> = {};
  const positionals: string[] = [];
  let help = false;
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index];
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    if (arg === '--') {
      positionals.push(...argv.slice(index + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    const equals = arg.indexOf('=');
    const name = arg.slice(arg.startsWith('--') ? 2 : 1, equals >= 0 ? equals : undefined);
    const option = spec.options[name];
    if (!option || !arg.startsWith('--')) {
      throw new CommandLineError(`unknown option "${arg}"; expected one of ${Object.keys(spec.options).map((known) => `--${known}`).concat('--help').join(', ')}`);
    }
    let value: string;
    if (option.takesValue) {
      if (equals >= 0) value = arg.slice(equals + 1);
      else if (index + 1 < argv.length && !argv[index + 1].startsWith('--')) value = argv[++index];
      else throw new CommandLineError(`option --${name} needs a value`);
      if (value === '') throw new CommandLineError(`option --${name} needs a value`);
    } else {
      if (equals >= 0) throw new CommandLineError(`option --${name} takes no value`);
      value = 'true';
    }
    options[name] = value;
    (lists[name] ??= []).push(value);
  }
  if (positionals.length > 0 && !spec.positionals) {
    throw new CommandLineError(`unexpected argument "${positionals[0]}"; this command takes only options`);
  }
  return { options, lists, positionals, help };
}

/**
 * parseArguments for a script's main: prints help and exits 0 on --help, prints the error and
 * exits 2 on a mistake.
 */
export function parseCommandLine(argv: readonly string[], spec: CommandSpec): ParsedCommandLine {
  try {
    const parsed = parseArguments(argv, spec);
    if (parsed.help) {
      process.stdout.write(helpText(spec));
      process.exit(0);
    }
    return parsed;
  } catch (error) {
    if (error instanceof CommandLineError) {
      console.error(`error: ${error.message}\n(run with --help for the options)`);
      process.exit(2);
    }
    throw error;
  }
}

/** A generated report to a file (`--write FILE`, confirmed on stderr) or to standard output. */
export function emitReport(text: string, target: string | undefined): void {
  if (target) {
    writeFileSync(path.resolve(target), text);
    console.error(`wrote ${target}`);
  } else {
    process.stdout.write(text);
  }
}

/** The `--write FILE` option of the report commands (emitReport). */
export const WRITE_OPTION = { write: { takesValue: true, help: 'write the report to FILE instead of standard output' } } as const;

/**
 * Runs a report command on the config the command line names (`--config`, MATRIX_CONFIG, the user's
 * file, else the example with a notice): a config mistake prints its problems and exits 2.
 */
export function withConfig(configOption: string | undefined, root: string, run: (config: PlatformConfig, file: string) => number): number {
  try {
    const location = locateConfig(configOption, process.env, root);
    if (location.notice) console.error(location.notice);
    return run(loadConfigFile(location.file), location.file);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`error: ${error.message}`);
      return 2;
    }
    throw error;
  }
}
