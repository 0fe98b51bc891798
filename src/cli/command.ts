/**
 * What a command is: one descriptor per file (`src/cli/commands/<group>/<verb>.ts`, default export of
 * `defineCommand`). Everything that needs to know commands reads the descriptors: the parser
 * (parse.ts), the command word finder and the manifest (registry.ts, commands/manifest.generated.ts,
 * written by scripts/command-manifest.mjs at build time), the rootless re-exec, the launcher's code
 * cache training and the help. ARCHITECTURE.md, "Adding a command".
 */
import type { Readable, Writable } from 'node:stream';

/** Management groups: `skiff <group> <verb>`. `top` holds commands that exist only at the top level (`skiff version`). */
export const GROUPS = {
  container: 'Manage containers',
  image: 'Manage images',
  network: 'Manage networks',
  volume: 'Manage volumes',
  builder: 'Manage builds',
  compose: 'Define and run multi-container applications',
  kube: 'Play containers, pods or volumes from a structured file',
  generate: 'Generate structured data based on containers (Podman)',
  system: 'Manage skiff',
  top: '',
} as const;
export type Group = keyof typeof GROUPS;

/**
 * One option (a flag; its long name is the key of its table). The value a handler gets follows from
 * the spec (see `Values`): a string, a boolean, an int, one of `choices`, or with `repeat` a list of them.
 */
export interface OptionSpec {
  /** pflag's kinds: `int` is Go's int (strconv.ParseInt words on a bad value), `boolean` takes no separate value (`--rm=false` does). */
  type: 'string' | 'boolean' | 'int';
  /** One letter (`-e`), or more names (`--net` for `--network`); the first single letter is the shorthand. */
  alias?: string | readonly string[];
  default?: string | boolean | number;
  describe?: string;
  /** The values allowed (checked by the parser). */
  choices?: readonly string[];
  /** A flag that may be given many times (pflag's list): every value kept, in order. Others keep the last one given. */
  repeat?: boolean;
  /**
   * A string that must parse as a Go duration or a go-units size (checked by the parser; the text is kept),
   * or name a stream (`stream`: stdin, stdout or stderr in any case, kept in lower case; Docker's -a).
   */
  format?: 'duration' | 'size' | 'stream';
  hidden?: boolean;
}

export type OptionTable = Readonly<Record<string, OptionSpec>>;

/** A positional argument. `variadic`: the rest of them (a list). */
export interface PositionalSpec {
  name: string;
  required?: boolean;
  variadic?: boolean;
}

type Scalar<S extends OptionSpec> = S['type'] extends 'boolean'
  ? boolean
  : S['type'] extends 'int'
    ? number
    : S extends { choices: readonly (infer C)[] }
      ? C
      : S extends { format: 'stream' }
        ? 'stdin' | 'stdout' | 'stderr'
        : string;

/** The value of one option as its handler gets it. */
export type ValueOf<S extends OptionSpec> = S extends { repeat: true }
  ? Scalar<S>[]
  : S['type'] extends 'boolean'
    ? boolean
    : S extends { default: string | number }
      ? Scalar<S>
      : Scalar<S> | undefined;

/** Option values by long name (`o['env-file']`). */
export type Values<T extends OptionTable> = { -readonly [K in keyof T]: ValueOf<T[K]> };

/** Positional values by name: a list for a variadic one, a string for a required one. */
export type Args<P extends readonly PositionalSpec[]> = {
  -readonly [E in P[number] as E['name']]: E extends { variadic: true } ? string[] : E extends { required: true } ? string : string | undefined;
};

/** One item of a batch verb (`rm a b c`): its success line, or its error. */
export type ItemReport = { item: string; out: string } | { item: string; error: unknown };

/**
 * What a handler returns; the CLI prints it (cli/print.ts). A string is stdout. `items` are printed as
 * they come (success lines on stdout, failures as `Error:` lines) and the last failure sets the exit code.
 * `stderr` (lines a command reports before its result, as inspect's `Error:` lines) is printed first.
 */
export type CommandOutput = void | string | { stderr?: string; stdout?: string; items?: AsyncIterable<ItemReport> | Iterable<ItemReport>; exitCode?: number };

/** What a handler may use besides its values: the streams, and how it was invoked. */
export interface CommandContext {
  stdin: Readable & { isTTY?: boolean };
  stdout: Writable & { isTTY?: boolean; columns?: number };
  stderr: Writable & { isTTY?: boolean; columns?: number };
  /** The command line as typed (`container ls`, `ps`), for messages. */
  invokedAs: string;
  /** The whole command line after `skiff`, as given (run/create record it: Config.CreateCommand). */
  argv: readonly string[];
  /** The group's own options (GROUP_OPTIONS in registry.ts: compose's -f, -p, ...) given before the verb, defaults filled in. */
  group: Record<string, unknown>;
  /** Call before replacing the process (execve of the shim): the launcher saves its code cache. */
  beforeExecve(): void;
}

export interface CommandSpec<O extends OptionTable, P extends readonly PositionalSpec[]> {
  group: Group;
  /** The verb under the group (the file's name). */
  name: string;
  /** Other command lines for it, in full, as Docker lists them: `['container list', 'container ps', 'ps']`. */
  aliases?: readonly string[];
  describe: string;
  /** What follows the command in the usage line (Docker's words); default: `[OPTIONS]` and the positionals. */
  usage?: string;
  positionals: P;
  options: O;
  /**
   * Rootless: run again inside the user namespace (skiff-shim unshare) before the handler, because the
   * command creates, changes or removes files of subordinate ids.
   */
  userns?: boolean;
  /**
   * Rootless, with `userns`, before the namespace is entered: descriptors to open as the invoking user
   * and hand to the command run inside it (as fds 3, 4, ... in that order; none: a plain re-exec).
   * `group`: the group's own options (as ctx.group).
   */
  usernsFds?(o: Values<O>, args: Args<P>, group: Readonly<Record<string, unknown>>): Promise<number[]>;
  /**
   * Rootless: whether to run again inside the rootless network namespace (src/network/rootless-netns.ts)
   * before the handler: the command starts or changes containers on user-defined networks.
   */
  netns?: (o: Values<O>, args: Args<P>, group: Readonly<Record<string, unknown>>) => boolean | Promise<boolean>;
  /**
   * Options end at the first positional (pflag's SetInterspersed(false)): the container's command
   * after the image (`run`, `create`) or the container (`exec`, `top`) is passed through verbatim.
   */
  passthrough?: boolean;
  /** The first invocations with a new bundle train the launcher's code cache (the start-up critical commands). */
  codeCache?: boolean;
  hidden?: boolean;
  handler(o: Values<O>, args: Args<P>, ctx: CommandContext): CommandOutput | Promise<CommandOutput>;
}

/** The descriptor type every command file exports (values erased: the parser checks them against `options`). */
export interface Command {
  group: Group;
  name: string;
  aliases?: readonly string[];
  describe: string;
  usage?: string;
  positionals: readonly PositionalSpec[];
  options: OptionTable;
  userns?: boolean;
  usernsFds?(values: ParsedValues, group: Readonly<Record<string, unknown>>): Promise<number[]>;
  netns?: (o: Values<OptionTable>, args: Args<readonly PositionalSpec[]>, group: Readonly<Record<string, unknown>>) => boolean | Promise<boolean>;
  passthrough?: boolean;
  codeCache?: boolean;
  hidden?: boolean;
  /** The handler over values the parser produced from `options` and `positionals`. */
  run(values: ParsedValues, ctx: CommandContext): Promise<CommandOutput>;
}

/** What the parser produces for a command: option values by long name, positionals by name. */
export interface ParsedValues {
  options: Record<string, unknown>;
  args: Record<string, string | string[] | undefined>;
}

/**
 * A command descriptor. The handler's values are typed from the option table and positionals; the
 * parser (parse.ts) is what makes them so at run time: it builds every value from the same specs and
 * refuses what does not fit.
 */
export function defineCommand<const O extends OptionTable, const P extends readonly PositionalSpec[]>(spec: CommandSpec<O, P>): Command {
  const { handler, usernsFds, netns, ...meta } = spec;
  return {
    ...meta,
    ...(usernsFds ? { usernsFds: async (v: ParsedValues, g: Readonly<Record<string, unknown>>) => usernsFds(v.options as Values<O>, v.args as Args<P>, g) } : {}),
    ...(netns ? { netns: (o, a, g) => netns(o as Values<O>, a as Args<P>, g) } : {}),
    run: async (v, ctx) => handler(v.options as Values<O>, v.args as Args<P>, ctx),
  };
}

/** The command line of a descriptor: `container ls`, `version`. */
export const commandLine = (c: { group: Group; name: string }): string => (c.group === 'top' ? c.name : `${c.group} ${c.name}`);

