/**
 * `skiff __complete WORD... CURRENT`: the candidates for the word being completed, for the scripts
 * `skiff completion bash|zsh|fish` prints (cobra's protocol, as `docker completion` uses it: the
 * script hands the words typed so far to the program, which knows its commands). Everything comes
 * from the command descriptors (commands, groups, verbs, flags, their choices) and, for positionals
 * and a few flags, from the store: names of containers, images, networks and volumes.
 * Output: one candidate a line, `word<TAB>description`, then a last line `:files` (file names fit
 * here too: a path, the container's command) or `:` (only these).
 */
import { commandLine, GROUPS, type Command, type Group, type OptionSpec, type OptionTable } from './command.js';
import { aliasesOf, optionIndex } from './option-index.js';
import { PERSISTENT_OPTIONS, ROOT_OPTIONS } from './parse.js';

type Kind = 'container' | 'image' | 'network' | 'volume';

/** The live names a positional of this name completes (others: file names). */
const POSITIONAL_KINDS: Readonly<Record<string, Kind>> = { container: 'container', image: 'image', network: 'network', volume: 'volume' };
/** Flags whose value is the name of something in the store. */
const FLAG_KINDS: Readonly<Record<string, Kind>> = { network: 'network', 'volumes-from': 'container' };

const HELP_FLAG: OptionTable = { help: { type: 'boolean', describe: 'Print usage' } };

/** The words of a table's flags that start with `cur` (hidden ones left out), with their descriptions. */
function flagCandidates(table: OptionTable, cur: string): string[] {
  const out: string[] = [];
  for (const [k, o] of Object.entries({ ...table, ...HELP_FLAG })) {
    if (o.hidden) continue;
    const d = o.describe ?? '';
    out.push(`--${k}\t${d}`);
    for (const a of aliasesOf(o)) out.push(`${a.length === 1 ? '-' : '--'}${a}\t${d}`);
  }
  return out.filter((l) => l.startsWith(cur));
}

/** Whether `word` is a flag of `table` that takes the next word as its value (`--name x`, `-e x`). */
function takesValue(table: OptionTable, word: string): OptionSpec | undefined {
  if (!word.startsWith('-') || word.includes('=') || word === '--') return undefined;
  const names = word.startsWith('--') ? [word.slice(2)] : [...word.slice(1)];
  // in a cluster of shorthands (`-it`) only the last may take the next word
  const spec = optionIndex(table).get(names[names.length - 1]!)?.[1];
  return spec && spec.type !== 'boolean' ? spec : undefined;
}

async function liveNames(kind: Kind): Promise<string[]> {
  try {
    switch (kind) {
      case 'container':
        return (await import('../store/containers.js')).listContainers().map((r) => r.Name);
      case 'image': {
        const { readRepositories } = await import('../store/images.js');
        const { familiar, parseReference } = await import('../oci/reference.js');
        return Object.keys(await readRepositories()).map((r) => familiar(parseReference(r)));
      }
      case 'network':
        return [...new Set([...(await import('../network/store.js')).listNetworks().map((n) => n.Name), 'bridge', 'host', 'none'])];
      case 'volume':
        return (await import('../volume/volumes.js')).listVolumes().map((v) => v.Name);
    }
  } catch {
    return []; // no store yet, or one we cannot read: nothing to offer
  }
}

const rows = (names: Iterable<string>, cur: string, describe = ''): string[] =>
  [...new Set(names)].filter((n) => n.startsWith(cur)).sort().map((n) => `${n}\t${describe}`);

/** The command lines as `skiff --help` lists them: one-word commands and aliases, and the groups. */
function topWords(cmds: readonly Command[]): Map<string, { command?: Command; group?: Group }> {
  const m = new Map<string, { command?: Command; group?: Group }>();
  for (const c of cmds) {
    if (c.hidden) continue;
    if (c.group !== 'top') m.set(c.group, { group: c.group });
    for (const l of [commandLine(c), ...(c.aliases ?? [])]) if (!l.includes(' ')) m.set(l, { command: c });
  }
  return m;
}

/** The verbs of a group word: its own, and alias lines under it (`buildx build`). */
function verbWords(group: string, cmds: readonly Command[]): Map<string, Command> {
  const m = new Map<string, Command>();
  for (const c of cmds) {
    if (c.hidden) continue;
    for (const l of [commandLine(c), ...(c.aliases ?? [])]) {
      const [g, v, more] = l.split(' ');
      if (g === group && v && more === undefined) m.set(v, c);
    }
  }
  return m;
}

export interface Completions {
  /** `word\tdescription` */
  words: string[];
  /** file names fit too */
  files: boolean;
}

/** What `skiff __complete` prints. */
export async function completionOutput(words: readonly string[], cmds: readonly Command[], groupOptions: Readonly<Record<string, OptionTable>>): Promise<string> {
  const c = await completions(words, cmds, groupOptions);
  return [...c.words, c.files ? ':files' : ':'].join('\n') + '\n';
}

const only = (words: string[]): Completions => ({ words, files: false });
const FILES: Completions = { words: [], files: true };

/** The candidates for the last of `words` (the words after `skiff`; the last one may be empty). */
export async function completions(words: readonly string[], cmds: readonly Command[], groupOptions: Readonly<Record<string, OptionTable>>): Promise<Completions> {
  const cur = words[words.length - 1] ?? '';
  const done = words.slice(0, -1);
  const top = topWords(cmds);
  const rootTable: OptionTable = { ...ROOT_OPTIONS, ...PERSISTENT_OPTIONS };
  let table = rootTable;
  let group: string | undefined;
  let command: Command | undefined;
  let positionals = 0;
  let pendingValue: [string, OptionSpec] | undefined;
  let afterDashes = false;
  let storeRoot: string | undefined;
  for (const w of done) {
    if (pendingValue) {
      if (pendingValue[0] === '--root') storeRoot = w;
      pendingValue = undefined;
      continue;
    }
    if (!afterDashes && w.startsWith('-') && w !== '-') {
      if (w === '--') {
        afterDashes = true;
        continue;
      }
      if (w.startsWith('--root=')) storeRoot = w.slice(7);
      const spec = takesValue(table, w);
      if (spec) pendingValue = [w, spec];
      continue;
    }
    if (command) {
      positionals++;
      if (command.passthrough) return FILES; // the container's command line follows
      continue;
    }
    if (group) {
      const c = verbWords(group, cmds).get(w);
      if (!c) return FILES;
      command = c;
      table = { ...c.options, ...PERSISTENT_OPTIONS };
      continue;
    }
    const t = top.get(w);
    if (!t) return FILES;
    if (t.command) {
      command = t.command;
      table = { ...t.command.options, ...PERSISTENT_OPTIONS };
    } else {
      group = w;
      table = { ...(groupOptions[w] ?? {}), ...PERSISTENT_OPTIONS };
    }
  }
  if (storeRoot) process.env.SKIFF_ROOT = storeRoot;
  if (pendingValue) {
    const [flag, spec] = pendingValue;
    if (spec.choices) return only(rows(spec.choices, cur));
    const long = optionIndex(table).get(flag.startsWith('--') ? flag.slice(2) : flag.slice(-1))?.[0];
    const kind = long ? FLAG_KINDS[long] : undefined;
    return kind ? only(rows(await liveNames(kind), cur)) : FILES;
  }
  if (cur.startsWith('-') && !afterDashes) {
    const eq = cur.indexOf('=');
    if (eq > 0) {
      // `--flag=VALUE`: the values, each after `--flag=`
      const named = cur.startsWith('--') ? optionIndex(table).get(cur.slice(2, eq)) : undefined;
      const kind = named ? FLAG_KINDS[named[0]] : undefined;
      const values = named?.[1].choices ?? (kind ? await liveNames(kind) : undefined);
      return values ? only(rows(values.map((v) => `${cur.slice(0, eq + 1)}${v}`), cur)) : FILES;
    }
    return only(flagCandidates(table, cur));
  }
  if (!group && !command) return only([...top].filter(([w]) => w.startsWith(cur)).sort(([a], [b]) => (a < b ? -1 : 1)).map(([w, t]) => `${w}\t${t.command?.describe ?? GROUPS[t.group!]}`));
  if (!command) return only([...verbWords(group!, cmds)].filter(([w]) => w.startsWith(cur)).sort(([a], [b]) => (a < b ? -1 : 1)).map(([w, c]) => `${w}\t${c.describe}`));
  const ps = command.positionals;
  const p = ps[Math.min(positionals, ps.length - 1)];
  if (!p || (positionals >= ps.length && !p.variadic)) return FILES;
  const kind = POSITIONAL_KINDS[p.name];
  return kind ? only(rows(await liveNames(kind), cur)) : FILES;
}
