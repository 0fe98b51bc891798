/**
 * A command descriptor (command.ts) served through the yargs CLI, until dispatch reads the registry
 * (parse.ts): the descriptor is the command's only definition; yargs reads argv with the option table
 * converted here, and the values are then made as the descriptor says (a list for `repeat`, the last
 * value of a single-value flag given twice, Go's ints, choices and formats checked with pflag's
 * words), so handlers get the values they are typed with. Output goes through print.ts.
 */
import type { CommandModule, Options } from 'yargs';
import { UsageError } from '../errors.js';
import { aliasesOf, type Command, type CommandContext, type OptionSpec } from './command.js';
import { checkValue, usageOf } from './parse.js';
import { printOutput } from './print.js';
import { saveCodeCache } from './launcher.js';

/** yargs' view of one option: ints and checked strings are read as text and converted here. */
function yargsOption(o: OptionSpec): Options {
  return {
    type: o.type === 'boolean' ? 'boolean' : 'string',
    ...(o.alias !== undefined ? { alias: [...aliasesOf(o)] } : {}),
    ...(o.type === 'boolean' && o.default !== undefined ? { default: o.default } : {}),
    ...(o.describe !== undefined ? { describe: o.describe } : {}),
    ...(o.hidden ? { hidden: true } : {}),
  };
}

/** The yargs command string of a descriptor under `word`: `rm <container..>`, `stats [container..]`. */
function commandString(c: Command, word: string): string {
  const pos = c.positionals.map((p) => {
    const n = p.variadic ? `${p.name}..` : p.name;
    return p.required ? `<${n}>` : `[${n}]`;
  });
  return [word, ...pos].join(' ');
}

/** The handler's values from yargs' arguments, as parse.ts would make them. */
function valuesOf(c: Command, a: Record<string, unknown>, line: string): { options: Record<string, unknown>; args: Record<string, string | string[] | undefined> } {
  const usage = usageOf(c);
  const options: Record<string, unknown> = {};
  for (const [k, o] of Object.entries(c.options)) {
    const given = a[k];
    const raws = given === undefined ? [] : (Array.isArray(given) ? given : [given]).map((v) => (typeof v === 'boolean' ? v : String(v)));
    if (o.type === 'boolean') {
      options[k] = raws.length ? raws.at(-1) : (o.default ?? false);
      continue;
    }
    const vals = raws.map((raw) => {
      const r = checkValue(k, o, String(raw));
      if ('error' in r) throw new UsageError(r.kind ?? 'flag', r.error, line, usage);
      return r.value;
    });
    options[k] = o.repeat ? vals : vals.length ? vals.at(-1) : o.default;
  }
  const args: Record<string, string | string[] | undefined> = {};
  for (const p of c.positionals) {
    const v = a[p.name];
    args[p.name] = p.variadic ? (v === undefined ? [] : (Array.isArray(v) ? v : [v]).map(String)) : v === undefined ? undefined : String(v);
  }
  return { options, args };
}

const context = (invokedAs: string): CommandContext => ({
  get stdin() {
    return process.stdin;
  },
  stdout: process.stdout,
  stderr: process.stderr,
  invokedAs,
  beforeExecve: saveCodeCache,
});

/** A descriptor's top-level words (`ps` for `container ls`) and its verbs under its group. */
export function wordsOf(c: Command): { top: string[]; group: string[] } {
  const lines = [c.group === 'top' ? c.name : `${c.group} ${c.name}`, ...(c.aliases ?? [])];
  const top = lines.filter((l) => !l.includes(' '));
  const group = lines.filter((l) => l.startsWith(`${c.group} `)).map((l) => l.slice(c.group.length + 1));
  return { top, group };
}

/**
 * The yargs module of `c` at the top level (`rm`, `ps`) or under its group (`container rm`), with its
 * other words at that level as aliases; undefined when it has no word there.
 */
export function toYargs(c: Command, level: 'top' | 'group'): CommandModule | undefined {
  const words = wordsOf(c)[level];
  const word = words[0];
  if (word === undefined) return undefined;
  const line = level === 'top' ? word : `${c.group} ${word}`;
  return {
    command: commandString(c, word),
    aliases: words.slice(1),
    describe: c.describe,
    builder: (y) => {
      for (const p of c.positionals) y.positional(p.name, { type: 'string', ...(p.variadic ? { array: true } : {}) });
      const table: Record<string, Options> = {};
      for (const [k, o] of Object.entries(c.options)) table[k] = yargsOption(o);
      return y.options(table);
    },
    handler: async (a) => {
      const code = await printOutput(await c.run(valuesOf(c, a, line), context(line)));
      if (code) process.exitCode = code;
    },
  };
}
