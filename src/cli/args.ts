/**
 * A thin layer over `node:util` `parseArgs` (strict): each command declares its options once,
 * and both the parsing (with typed values, numbers checked) and its `--help` text come from
 * that declaration. Bad arguments throw {@link UsageError} (exit code 2).
 *
 * @module
 */
import { parseArgs } from 'node:util';

/** One option of a command. */
export interface OptionSpec {
  /** `string` (also for numbers: `number`), `boolean`, or an integer / a positive integer. */
  readonly type: 'string' | 'boolean' | 'integer';
  /** Repeatable: the values come as an array. */
  readonly multiple?: boolean;
  /** One-letter alias, e.g. `h`. */
  readonly short?: string;
  /** The value's name in the help, e.g. `<url>`. */
  readonly value?: string;
  /** One line for the help. */
  readonly description: string;
  /** Must be given. */
  readonly required?: boolean;
  /** The allowed values of a string option. */
  readonly choices?: readonly string[];
  /** Smallest allowed integer. Default 1. */
  readonly min?: number;
  /** Default, shown in the help. */
  readonly default?: string | number | boolean;
}

/** The options of a command, by long name. */
export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

type Base<S extends OptionSpec> = S['type'] extends 'boolean'
  ? boolean
  : S['type'] extends 'integer'
    ? number
    : string;
type One<S extends OptionSpec> = S extends { multiple: true } ? Base<S>[] : Base<S>;

/** The parsed values of a command's options: required, defaulted, boolean and repeatable ones are always there. */
export type Values<O extends OptionSpecs> = {
  -readonly [K in keyof O as O[K] extends
    | { required: true }
    | { default: unknown }
    | { multiple: true }
    | { type: 'boolean' }
    ? K
    : never]: One<O[K]>;
} & {
  -readonly [K in keyof O as O[K] extends
    | { required: true }
    | { default: unknown }
    | { multiple: true }
    | { type: 'boolean' }
    ? never
    : K]?: One<O[K]>;
};

/** A command of the program. */
export interface Command<O extends OptionSpecs = OptionSpecs> {
  readonly name: string;
  /** One line, shown in the top-level help. */
  readonly summary: string;
  /** A paragraph or two shown in the command's help, after the usage line. */
  readonly details?: string;
  readonly options: O;
  /** Example invocations, shown in the help. */
  readonly examples?: readonly string[];
  /** Runs the command; resolves to the exit code. */
  run(values: Values<O>): Promise<number>;
}

/** Makes a command, keeping its option types (so `run` gets typed values). */
export function command<O extends OptionSpecs>(spec: Command<O>): Command<O> {
  return spec;
}

/** Bad arguments: printed with the usage on stderr, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  /** The command whose usage to print; undefined for the program's. */
  readonly command: Command | undefined;
  constructor(message: string, command?: Command) {
    super(message);
    this.command = command;
  }
}

/** The options every command has. */
export const HELP_OPTION = {
  help: { type: 'boolean', short: 'h', description: 'Show this help and exit.' },
} as const satisfies OptionSpecs;

function flag(name: string, spec: OptionSpec): string {
  const short = spec.short ? `-${spec.short}, ` : '    ';
  const value =
    spec.type === 'boolean' ? '' : ` ${spec.value ?? (spec.type === 'integer' ? '<n>' : '<value>')}`;
  return `  ${short}--${name}${value}`;
}

/** The help text of a command. */
export function commandHelp(cmd: Command): string {
  const options = { ...cmd.options, ...HELP_OPTION } as OptionSpecs;
  const required = Object.entries(cmd.options)
    .filter(([, spec]) => spec.required)
    .map(([name, spec]) => `--${name} ${spec.value ?? '<value>'}`);
  const lines = [`Usage: hookline ${cmd.name} ${[...required, '[options]'].join(' ')}`, '', cmd.summary];
  if (cmd.details) lines.push('', cmd.details);
  lines.push('', 'Options:');
  const flags = Object.entries(options).map(([name, spec]) => [flag(name, spec), spec] as const);
  const width = Math.max(...flags.map(([f]) => f.length)) + 2;
  for (const [f, spec] of flags) {
    const notes: string[] = [];
    if (spec.required) notes.push('required');
    if (spec.multiple) notes.push('repeatable');
    if (spec.choices) notes.push(`one of: ${spec.choices.join(', ')}`);
    if (spec.default !== undefined) notes.push(`default: ${String(spec.default)}`);
    const note = notes.length > 0 ? ` (${notes.join('; ')})` : '';
    lines.push(`${f.padEnd(width)}${spec.description}${note}`);
  }
  if (cmd.examples && cmd.examples.length > 0) {
    lines.push('', 'Examples:');
    for (const example of cmd.examples) lines.push(`  ${example}`);
  }
  return `${lines.join('\n')}\n`;
}

function toInteger(cmd: Command, name: string, spec: OptionSpec, text: string): number {
  const min = spec.min ?? 1;
  const value = /^-?\d+$/.test(text.trim()) ? Number(text.trim()) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min) {
    throw new UsageError(
      `--${name} must be an integer ${min === 0 ? '>= 0' : `>= ${min}`}, got "${text}".`,
      cmd,
    );
  }
  return value;
}

/**
 * Parses a command's arguments (after the command name). Returns `undefined` when `--help`
 * was given (the caller prints the help). Throws {@link UsageError} for an unknown flag, a
 * missing value, a bad number or choice, a missing required option, or a stray positional.
 */
export function parseCommand<O extends OptionSpecs>(
  cmd: Command<O>,
  argv: readonly string[],
): Values<O> | undefined {
  const specs = { ...cmd.options, ...HELP_OPTION } as OptionSpecs;
  const config: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = {};
  for (const [name, spec] of Object.entries(specs)) {
    config[name] = {
      type: spec.type === 'boolean' ? 'boolean' : 'string',
      ...(spec.multiple ? { multiple: true } : {}),
      ...(spec.short ? { short: spec.short } : {}),
    };
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...argv], options: config, strict: true, allowPositionals: false });
  } catch (error) {
    throw new UsageError(parseErrorMessage(error), cmd as unknown as Command);
  }
  const raw = parsed.values as Record<string, string | boolean | (string | boolean)[] | undefined>;
  if (raw.help === true) return undefined;
  const values: Record<string, unknown> = {};
  const self = cmd as unknown as Command;
  for (const [name, spec] of Object.entries(cmd.options)) {
    const given = raw[name];
    if (given === undefined) {
      if (spec.required) throw new UsageError(`--${name} is required.`, self);
      if (spec.default !== undefined) values[name] = spec.default;
      else if (spec.multiple) values[name] = [];
      else if (spec.type === 'boolean') values[name] = false;
      continue;
    }
    const convert = (item: string | boolean): unknown => {
      if (spec.type === 'boolean') return item;
      const text = String(item);
      if (spec.type === 'integer') return toInteger(self, name, spec, text);
      if (spec.choices && !spec.choices.includes(text)) {
        throw new UsageError(`--${name} must be one of ${spec.choices.join(', ')}, got "${text}".`, self);
      }
      if (text === '') throw new UsageError(`--${name} needs a value.`, self);
      return text;
    };
    values[name] = Array.isArray(given) ? given.map(convert) : convert(given);
  }
  return values as Values<O>;
}

/** parseArgs' messages, shortened to what a user needs. */
function parseErrorMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: string }).code;
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const match = /Unknown option '([^']+)'/.exec(message);
    return `unknown option ${match?.[1] ?? ''}`.trim();
  }
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
    const match = /Unexpected argument '([^']+)'/.exec(message);
    return `unexpected argument ${match ? `"${match[1]}"` : ''}`.trim();
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const match = /Option '(?:-\w, )?(--[\w-]+)/.exec(message);
    return match ? `${match[1]} needs a value` : (message.split('\n')[0] ?? message);
  }
  return message.split('\n')[0] ?? message;
}
