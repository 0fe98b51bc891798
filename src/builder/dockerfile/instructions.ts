/**
 * AST → typed instructions, grouped into build stages, with BuildKit's validation
 * (`frontend/dockerfile/instructions`): argument counts, builder flags per instruction, RUN --mount
 * specs, HEALTHCHECK options, ONBUILD triggers, heredoc sources.
 *
 * Arguments stay unexpanded here, exactly like BuildKit: variable expansion and quote removal need
 * the environment current at each instruction, which only the builder knows. Call
 * `expandCommand(cmd, env, escapeToken)` when dispatching an instruction; it applies the same
 * expansions BuildKit applies (and re-parses RUN mounts with the expanded values).
 *
 * Every error is SkiffError('EINVAL', '<file>:<line>: <INSTRUCTION>: <problem>').
 */
import { SkiffError } from '../../errors.js';
import { chompHeredocContent, nodeArgs, parseDockerfile, parseHeredoc, type Node, type ParseResult } from './parser.js';
import { ShellLex, type Env, type EscapeToken } from './shell.js';
import { csvFields, parseUint32, ramInBytes, trimSpace, withSuggestion } from './util.js';
import { parseDurationNs } from '../../lib/duration.js';
import { goQuote, parseGoBool } from '../../lib/strconv.js';

export interface SourceLocation {
  file: string;
  /** 1-based, inclusive. */
  startLine: number;
  endLine: number;
}

interface CommandBase {
  /** The keyword as written (`RUN`, `run`). */
  name: string;
  /** The instruction's source text (continuations joined, trimmed). */
  code: string;
  location: SourceLocation;
  /** Comment lines directly above the instruction. */
  comments: string[];
}

export interface KeyValuePair {
  key: string;
  value: string;
  /** Old form `ENV key value` (no `=`). */
  noDelim: boolean;
}

export interface ArgDef {
  name: string;
  /** Absent for `ARG name` (no default). */
  default?: string;
  /** From a `# name description` comment above. */
  docComment: string;
}

export type MountType = 'bind' | 'cache' | 'tmpfs' | 'secret' | 'ssh';
export type CacheSharing = 'shared' | 'private' | 'locked';

export interface MountSpec {
  type: MountType;
  /** Stage or image to mount from (bind, cache). */
  from: string;
  source: string;
  target: string;
  readonly: boolean;
  /** tmpfs size in bytes, 0 = unlimited. */
  sizeLimit: number;
  /** Cache id / secret id / ssh id ('' = default: the target for caches). */
  id: string;
  sharing: CacheSharing | '';
  /** secret/ssh: fail when not provided. */
  required: boolean;
  /** secret: expose as this environment variable. */
  env?: string;
  /** secret/ssh/cache file mode, uid, gid. */
  mode?: number;
  uid?: number;
  gid?: number;
}

export interface DeviceSpec {
  name: string;
  required: boolean;
}

/** A heredoc attached to RUN/CMD-like instructions: becomes a file or the script's stdin. */
export interface InlineFile {
  name: string;
  data: string;
  /** `<<-`: strip leading tabs (not yet applied to data). */
  chomp: boolean;
  /** Unquoted delimiter: the shell will expand the body. */
  expand: boolean;
  fileDescriptor: number;
}

/** A heredoc used as a COPY/ADD source (`COPY <<EOF /dest`): tabs already chomped for `<<-`. */
export interface SourceContent {
  path: string;
  data: string;
  /** Unquoted delimiter: expand variables in data (expandCommand does it). */
  expand: boolean;
}

export type NetworkMode = 'default' | 'none' | 'host';

export interface RunCommand extends CommandBase {
  kind: 'RUN';
  /** Shell form: one element, the command text. Exec form: the argv. */
  cmd: string[];
  /** True for shell form (prepend the SHELL, default `/bin/sh -c`). */
  shell: boolean;
  /** Parsed `--mount` values (see mountSpecs / expandCommand). */
  mounts: MountSpec[];
  /** The raw `--mount` values; expandCommand re-parses them with variables expanded. */
  mountSpecs: string[];
  network: NetworkMode;
  security: 'sandbox' | 'insecure';
  devices: DeviceSpec[];
  heredocs: InlineFile[];
  /** Flag names given (`mount`, `network`, ...). */
  flagsUsed: string[];
}

interface CopyBase extends CommandBase {
  /** Source paths (heredoc sources are in `heredocs`). */
  sources: string[];
  heredocs: SourceContent[];
  dest: string;
  chown: string;
  chmod: string;
  link: boolean;
  excludes: string[];
}

export interface CopyCommand extends CopyBase {
  kind: 'COPY';
  /** `--from=stage|image|index`, '' for the build context. */
  from: string;
  parents: boolean;
}

export interface AddCommand extends CopyBase {
  kind: 'ADD';
  /** Only set when `--keep-git-dir` was given. */
  keepGitDir?: boolean;
  checksum: string;
  /** Only set when `--unpack` was given. */
  unpack?: boolean;
}

export interface EnvCommand extends CommandBase { kind: 'ENV'; pairs: KeyValuePair[] }
export interface LabelCommand extends CommandBase { kind: 'LABEL'; pairs: KeyValuePair[] }
export interface ArgCommand extends CommandBase { kind: 'ARG'; args: ArgDef[] }
export interface ExposeCommand extends CommandBase { kind: 'EXPOSE'; ports: string[] }
export interface VolumeCommand extends CommandBase { kind: 'VOLUME'; volumes: string[] }
export interface UserCommand extends CommandBase { kind: 'USER'; user: string }
export interface WorkdirCommand extends CommandBase { kind: 'WORKDIR'; path: string }
export interface CmdCommand extends CommandBase { kind: 'CMD'; cmd: string[]; shell: boolean; heredocs: InlineFile[] }
/** `cmd` empty (`ENTRYPOINT []`, or no arguments) resets the entrypoint to null. */
export interface EntrypointCommand extends CommandBase { kind: 'ENTRYPOINT'; cmd: string[]; shell: boolean; heredocs: InlineFile[] }
export interface ShellCommand extends CommandBase { kind: 'SHELL'; shell: string[] }
export interface StopSignalCommand extends CommandBase { kind: 'STOPSIGNAL'; signal: string }
export interface OnbuildCommand extends CommandBase { kind: 'ONBUILD'; expression: string }
export interface MaintainerCommand extends CommandBase { kind: 'MAINTAINER'; maintainer: string }

/**
 * HEALTHCHECK as stored in the image config: durations in nanoseconds, 0 = not set (the runtime
 * then uses HEALTHCHECK_DEFAULTS). `test` is `['NONE']`, `['CMD', ...argv]` or `['CMD-SHELL', cmd]`.
 */
export interface HealthcheckCommand extends CommandBase {
  kind: 'HEALTHCHECK';
  test: string[];
  interval: number;
  timeout: number;
  startPeriod: number;
  startInterval: number;
  retries: number;
}

/** Docker's run-time defaults for fields left at 0. */
export const HEALTHCHECK_DEFAULTS = {
  interval: 30e9,
  timeout: 30e9,
  startPeriod: 0,
  startInterval: 5e9,
  retries: 3,
} as const;

export type Command =
  | RunCommand | CopyCommand | AddCommand | EnvCommand | LabelCommand | ArgCommand | ExposeCommand
  | VolumeCommand | UserCommand | WorkdirCommand | CmdCommand | EntrypointCommand | ShellCommand
  | StopSignalCommand | HealthcheckCommand | OnbuildCommand | MaintainerCommand;

export interface Stage {
  /** `AS name`, lower-cased; '' when unnamed. */
  name: string;
  /** The image or stage to build on, unexpanded (may reference meta ARGs). */
  baseName: string;
  /** `--platform`, unexpanded; '' when not given. */
  platform: string;
  commands: Command[];
  /** The FROM keyword as written. */
  origCmd: string;
  code: string;
  location: SourceLocation;
  comments: string[];
  /** From a `# name description` comment above. */
  docComment: string;
}

/** Stages in file order; `metaArgs` are the ARGs before the first FROM. */
export type StageList = Stage[] & { metaArgs: ArgCommand[] };

// ---------------------------------------------------------------------------------------------

/** A problem with one instruction; the caller adds file, line and instruction. */
class InstrError extends Error {}

const err = (msg: string): never => {
  throw new InstrError(msg);
};

type FlagType = 'bool' | 'string' | 'strings';
interface Flag {
  type: FlagType;
  value: string;
  values: string[];
}

/** BuildKit's BFlags: declared flags per instruction, then validated against what was given. */
class BFlags {
  private readonly defs = new Map<string, Flag>();
  readonly used = new Set<string>();
  constructor(private readonly args: readonly string[]) {}

  bool(name: string, def = false): Flag {
    return this.add(name, 'bool', def ? 'true' : 'false');
  }
  string(name: string, def = ''): Flag {
    return this.add(name, 'string', def);
  }
  strings(name: string): Flag {
    return this.add(name, 'strings', '');
  }
  private add(name: string, type: FlagType, value: string): Flag {
    const f: Flag = { type, value, values: [] };
    this.defs.set(name, f);
    return f;
  }

  parse(): void {
    for (const a of this.args) {
      if (a === '--') return;
      if (!a.startsWith('--')) err(`arg should start with -- : ${a}`);
      const eq = a.indexOf('=');
      const flagName = eq < 0 ? a : a.slice(0, eq);
      const hasValue = eq >= 0;
      const value = hasValue ? a.slice(eq + 1) : '';
      const name = flagName.slice(2);
      const f = this.defs.get(name);
      if (!f) err(withSuggestion(`unknown flag: ${flagName}`, name, [...this.defs.keys()], true));
      if (this.used.has(name) && f!.type !== 'strings') err(`duplicate flag specified: ${flagName}`);
      this.used.add(name);
      switch (f!.type) {
        case 'bool':
          if (hasValue && value === '') err(`missing a value on flag: ${flagName}`);
          switch (value.toLowerCase()) {
            case 'true': case '':
              f!.value = 'true';
              break;
            case 'false':
              f!.value = 'false';
              break;
            default:
              err(`expecting boolean value for flag ${flagName}, not: ${value}`);
          }
          break;
        case 'string':
          if (!hasValue) err(`missing a value on flag: ${flagName}`);
          f!.value = value;
          break;
        case 'strings':
          if (!hasValue) err(`missing a value on flag: ${flagName}`);
          f!.values.push(value);
          break;
      }
    }
  }
}

const INSTRUCTIONS = [
  'ADD', 'ARG', 'CMD', 'COPY', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'FROM', 'HEALTHCHECK', 'LABEL',
  'MAINTAINER', 'ONBUILD', 'RUN', 'SHELL', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR',
];

interface Req {
  node: Node;
  escape: EscapeToken;
  command: string;
  args: string[];
  flags: BFlags;
  json: boolean;
  base: CommandBase;
}

const errAtLeastOne = (c: string): string => `${c} requires at least one argument`;
const errExactlyOne = (c: string): string => `${c} requires exactly one argument`;
const errNoDest = (c: string): string =>
  `${c} requires at least two arguments, but only one was provided. Destination could not be determined`;
const errBlankNames = (c: string): string => `${c} names can not be blank`;

function docComment(comments: readonly string[], name: string): string {
  if (!name) return '';
  for (const line of comments) if (line.startsWith(name + ' ')) return line.slice(name.length + 1);
  return '';
}

function handleJSONArgs(args: string[], json: boolean): string[] {
  if (args.length === 0) return [];
  return json ? args : [args.join(' ')];
}

function kvps(args: string[], cmd: string): KeyValuePair[] {
  if (args.length === 0) err(errAtLeastOne(cmd));
  if (args.length % 3 !== 0) err(`Bad input to ${cmd}, too many arguments`);
  const out: KeyValuePair[] = [];
  for (let j = 0; j < args.length; j += 3) {
    if (args[j]!.length === 0) err(errBlankNames(cmd));
    out.push({ key: args[j]!, value: args[j + 1]!, noDelim: args[j + 2] === '' });
  }
  return out;
}

function tryHeredoc(word: string): ReturnType<typeof parseHeredoc> {
  try {
    return parseHeredoc(word);
  } catch {
    return null;
  }
}

function inlineFiles(node: Node): InlineFile[] {
  return node.heredocs.map((h) => ({
    name: h.name, data: h.content, chomp: h.chomp, expand: h.expand, fileDescriptor: h.fileDescriptor,
  }));
}

function sourcesAndDest(req: Req, cmd: string): Pick<CopyBase, 'sources' | 'heredocs' | 'dest'> {
  const srcs = req.args.slice(0, -1);
  const dest = req.args[req.args.length - 1]!;
  if (tryHeredoc(dest)) err(`${cmd} cannot accept a heredoc as a destination`);
  const byName = new Map(req.node.heredocs.map((h) => [h.name, h]));
  const sources: string[] = [];
  const heredocs: SourceContent[] = [];
  for (const src of srcs) {
    const h = tryHeredoc(src);
    if (h) {
      let data = byName.get(h.name)?.content ?? '';
      if (h.chomp) data = chompHeredocContent(data);
      heredocs.push({ path: h.name, data, expand: h.expand });
    } else {
      sources.push(src);
    }
  }
  return { sources, heredocs, dest };
}

/** `--interval` etc.: 0 when empty or zero; at least 1ms otherwise. */
function optInterval(name: string, value: string): number {
  if (value === '') return 0;
  let d: number;
  try {
    d = parseDurationNs(value);
  } catch (e) {
    return err((e as Error).message);
  }
  if (d === 0) return 0;
  if (d < 1e6) err(`Interval ${goQuote(name)} cannot be less than 1ms`);
  return d;
}

const MOUNT_TYPES: readonly MountType[] = ['bind', 'cache', 'tmpfs', 'secret', 'ssh'];
const SHARING: readonly CacheSharing[] = ['shared', 'private', 'locked'];
const MOUNT_KEYS = [
  'type', 'from', 'source', 'target', 'readonly', 'id', 'sharing', 'required', 'size', 'mode', 'uid', 'gid',
  'src', 'dst', 'destination', 'ro', 'rw', 'readwrite', 'env',
];

/**
 * Parse one `--mount` value (CSV of key=value). With `expand`, every value is expanded first and
 * fully validated (BuildKit at dispatch). Without it, only what BuildKit checks before expansion is
 * checked and the other keys are left at their defaults. Throws Error with BuildKit's message.
 */
export function parseMount(spec: string, expand?: (word: string) => string): MountSpec {
  let fields: string[];
  try {
    fields = csvFields(spec);
  } catch (e) {
    return err(`failed to parse csv mounts: ${(e as Error).message}`);
  }
  const m: MountSpec = {
    type: 'bind', from: '', source: '', target: '', readonly: false, sizeLimit: 0, id: '', sharing: '',
    required: false,
  };
  let roAuto = true;
  const bool = (key: string, value: string): boolean => {
    const b = parseGoBool(value);
    return b === undefined ? err(`invalid value for ${key}: ${value}`) : b;
  };
  for (const field of fields) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    let value = eq < 0 ? '' : field.slice(eq + 1);
    if (eq < 0) {
      if (!expand) continue;
      switch (key) {
        case 'readonly': case 'ro':
          m.readonly = true;
          roAuto = false;
          continue;
        case 'readwrite': case 'rw':
          m.readonly = false;
          roAuto = false;
          continue;
        case 'required':
          if (m.type === 'secret' || m.type === 'ssh') {
            m.required = true;
            continue;
          }
          return err(`unexpected key '${key}' for mount type '${m.type}'`);
        default:
          return err(`invalid field '${field}' must be a key=value pair`);
      }
    }
    if (expand) {
      value = expand(value);
    } else if (key === 'from') {
      const i = value.indexOf('$');
      if (i !== -1 && i !== value.length - 1) err(`'${key}' doesn't support variable expansion, define alias stage instead`);
    } else {
      continue;
    }
    switch (key) {
      case 'type': {
        const v = value.toLowerCase() as MountType;
        if (!MOUNT_TYPES.includes(v)) err(withSuggestion(`unsupported mount type ${goQuote(value)}`, value, MOUNT_TYPES, true));
        m.type = v;
        break;
      }
      case 'from':
        m.from = value;
        break;
      case 'source': case 'src':
        m.source = value;
        break;
      case 'target': case 'dst': case 'destination':
        m.target = value;
        break;
      case 'readonly': case 'ro':
        m.readonly = bool(key, value);
        roAuto = false;
        break;
      case 'readwrite': case 'rw':
        m.readonly = !bool(key, value);
        roAuto = false;
        break;
      case 'required':
        if (m.type !== 'secret' && m.type !== 'ssh') err(`unexpected key '${key}' for mount type '${m.type}'`);
        m.required = bool(key, value);
        break;
      case 'size': {
        if (m.type !== 'tmpfs') err(`unexpected key '${key}' for mount type '${m.type}'`);
        const n = ramInBytes(value);
        if (n === undefined) err(`invalid value for ${key}: ${value}`);
        m.sizeLimit = n!;
        break;
      }
      case 'id':
        m.id = value;
        break;
      case 'sharing': {
        const v = value.toLowerCase() as CacheSharing;
        if (!SHARING.includes(v)) err(withSuggestion(`unsupported sharing value ${goQuote(value)}`, value, SHARING, true));
        m.sharing = v;
        break;
      }
      case 'mode': {
        const n = parseUint32(value, 8);
        if (n === undefined) err(`invalid value ${value} for mode`);
        m.mode = n;
        break;
      }
      case 'uid': {
        const n = parseUint32(value, 10);
        if (n === undefined) err(`invalid value ${value} for uid`);
        m.uid = n;
        break;
      }
      case 'gid': {
        const n = parseUint32(value, 10);
        if (n === undefined) err(`invalid value ${value} for gid`);
        m.gid = n;
        break;
      }
      case 'env':
        m.env = value;
        break;
      default:
        err(withSuggestion(`unexpected key '${key}' in '${field}'`, key, MOUNT_KEYS, true));
    }
  }
  const fileInfoAllowed = m.type === 'secret' || m.type === 'ssh' || m.type === 'cache';
  if (!fileInfoAllowed) {
    if (m.mode !== undefined) err(`mode not allowed for ${goQuote(m.type)} type mounts`);
    if (m.uid !== undefined) err(`uid not allowed for ${goQuote(m.type)} type mounts`);
    if (m.gid !== undefined) err(`gid not allowed for ${goQuote(m.type)} type mounts`);
  }
  if (roAuto) m.readonly = !(m.type === 'cache' || m.type === 'tmpfs');
  if (m.type === 'secret') {
    if (m.from !== '') err('secret mount should not have a from');
    if (m.sharing !== '') err('secret mount should not define sharing');
    if (m.source === '' && m.target === '' && m.id === '') err('invalid secret mount. one of source, target required');
    if (m.source !== '' && m.id !== '') err("both source and id can't be set");
  }
  if (m.sharing !== '' && m.type !== 'cache') err(`invalid cache sharing set for ${m.type} mount`);
  return m;
}

/** One `--device` value: `name[,required[=bool]]`. */
export function parseDevice(spec: string): DeviceSpec {
  let fields: string[];
  try {
    fields = csvFields(spec);
  } catch (e) {
    return err(`failed to parse csv devices: ${(e as Error).message}`);
  }
  const d: DeviceSpec = { name: '', required: false };
  for (const field of fields) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    const value = eq < 0 ? '' : field.slice(eq + 1);
    if (eq < 0) {
      if (key === 'required') {
        d.required = true;
        continue;
      }
      if (d.name === '') {
        d.name = field;
        continue;
      }
      err(`invalid field '${field}' must be a key=value pair`);
    }
    switch (key) {
      case 'name':
        if (d.name !== '') err(`device name already set to ${d.name}`);
        d.name = value;
        break;
      case 'required': {
        const b = parseGoBool(value);
        if (b === undefined) err(`invalid value for ${key}: ${value}`);
        d.required = b!;
        break;
      }
      default:
        if (d.name === '') {
          d.name = field;
          break;
        }
        err(withSuggestion(`unexpected key '${key}' in '${field}'`, key, ['name', 'required'], true));
    }
  }
  return d;
}

/** Mounts as far as they can be known before expansion (see RunCommand.mountSpecs). */
function parseMountsEarly(specs: string[]): MountSpec[] {
  const lex = new ShellLex();
  // without any `$`, expansion cannot change anything but escapes: parse fully now
  return specs.map((s) => (s.includes('$') ? parseMount(s) : parseMount(s, (w) => lex.processWord(w, []))));
}

// ---------------------------------------------------------------------------------------------

function parseFrom(req: Req): Stage {
  const a = req.args;
  let name = '';
  if (a.length === 3 && a[1]!.toLowerCase() === 'as') {
    name = a[2]!.toLowerCase();
    if (!/^[a-z][a-z0-9-_.]*$/.test(name)) {
      err(`invalid name for build stage: ${goQuote(a[2]!)}, name can't start with a number or contain symbols`);
    }
  } else if (a.length !== 1) {
    err('FROM requires either one or three arguments');
  }
  const platform = req.flags.string('platform');
  req.flags.parse();
  return {
    name,
    baseName: a[0]!,
    platform: platform.value,
    commands: [],
    origCmd: req.command,
    code: req.base.code,
    location: req.base.location,
    comments: req.base.comments,
    docComment: docComment(req.base.comments, name),
  };
}

function parseRun(req: Req): RunCommand {
  const device = req.flags.strings('device');
  const mount = req.flags.strings('mount');
  const network = req.flags.string('network', 'default');
  const security = req.flags.string('security', 'sandbox');
  req.flags.parse();
  const devices = device.values.map(parseDevice);
  const mounts = parseMountsEarly(mount.values);
  if (!['default', 'none', 'host'].includes(network.value)) err(`invalid network mode ${goQuote(network.value)}`);
  if (!['sandbox', 'insecure'].includes(security.value)) err(`security ${goQuote(security.value)} is not valid`);
  return {
    ...req.base,
    kind: 'RUN',
    cmd: handleJSONArgs(req.args, req.json),
    shell: !req.json,
    mounts,
    mountSpecs: [...mount.values],
    network: network.value as NetworkMode,
    security: security.value as 'sandbox' | 'insecure',
    devices,
    heredocs: inlineFiles(req.node),
    flagsUsed: [...req.flags.used],
  };
}

function parseCopy(req: Req): CopyCommand {
  if (req.args.length < 2) err(errNoDest('COPY'));
  const chown = req.flags.string('chown');
  const from = req.flags.string('from');
  const chmod = req.flags.string('chmod');
  const link = req.flags.bool('link');
  const exclude = req.flags.strings('exclude');
  const parents = req.flags.bool('parents');
  req.flags.parse();
  if (from.value !== '' && new ShellLex({ escape: req.escape }).processWord(from.value, []) !== from.value) {
    err('variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround');
  }
  return {
    ...req.base,
    kind: 'COPY',
    ...sourcesAndDest(req, 'COPY'),
    from: from.value,
    chown: chown.value,
    chmod: chmod.value,
    link: link.value === 'true',
    parents: parents.value === 'true',
    excludes: [...exclude.values],
  };
}

function parseAdd(req: Req): AddCommand {
  if (req.args.length < 2) err(errNoDest('ADD'));
  const chown = req.flags.string('chown');
  const chmod = req.flags.string('chmod');
  const link = req.flags.bool('link');
  const keepGitDir = req.flags.bool('keep-git-dir');
  const checksum = req.flags.string('checksum');
  const unpack = req.flags.bool('unpack');
  const exclude = req.flags.strings('exclude');
  req.flags.parse();
  const cmd: AddCommand = {
    ...req.base,
    kind: 'ADD',
    ...sourcesAndDest(req, 'ADD'),
    chown: chown.value,
    chmod: chmod.value,
    link: link.value === 'true',
    checksum: checksum.value,
    excludes: [...exclude.values],
  };
  if (req.flags.used.has('keep-git-dir')) cmd.keepGitDir = keepGitDir.value === 'true';
  if (req.flags.used.has('unpack')) cmd.unpack = unpack.value === 'true';
  return cmd;
}

function parseHealthcheck(req: Req): HealthcheckCommand {
  if (req.args.length === 0) err(errAtLeastOne('HEALTHCHECK'));
  let typ = req.args[0]!.toUpperCase();
  const args = req.args.slice(1);
  const f = {
    interval: req.flags.string('interval'),
    timeout: req.flags.string('timeout'),
    startPeriod: req.flags.string('start-period'),
    startInterval: req.flags.string('start-interval'),
    retries: req.flags.string('retries'),
  };
  req.flags.parse();
  const hc: HealthcheckCommand = {
    ...req.base, kind: 'HEALTHCHECK', test: [], interval: 0, timeout: 0, startPeriod: 0, startInterval: 0, retries: 0,
  };
  if (typ === 'NONE') {
    if (args.length !== 0) err('HEALTHCHECK NONE takes no arguments');
    hc.test = [typ];
    return hc;
  }
  if (typ !== 'CMD') err(`Unknown type ${goQuote(typ)} in HEALTHCHECK (try CMD)`);
  const cmd = handleJSONArgs(args, req.json);
  if (cmd.length === 0) err('Missing command after HEALTHCHECK CMD');
  if (!req.json) typ = 'CMD-SHELL';
  hc.test = [typ, ...cmd];
  hc.interval = optInterval('interval', f.interval.value);
  hc.timeout = optInterval('timeout', f.timeout.value);
  hc.startPeriod = optInterval('start-period', f.startPeriod.value);
  hc.startInterval = optInterval('start-interval', f.startInterval.value);
  const r = f.retries.value;
  if (r !== '') {
    if (!/^[+-]?[0-9]+$/.test(r)) err(`strconv.ParseInt: parsing ${goQuote(r)}: invalid syntax`);
    const n = Number(r);
    if (n > 2147483647 || n < -2147483648) err(`strconv.ParseInt: parsing ${goQuote(r)}: value out of range`);
    if (n < 0) err(`--retries cannot be negative (${n})`);
    hc.retries = n;
  }
  return hc;
}

function parseOnbuild(req: Req): OnbuildCommand {
  if (req.args.length === 0) err(errAtLeastOne('ONBUILD'));
  req.flags.parse();
  const trigger = trimSpace(req.args[0]!).toUpperCase();
  if (trigger === 'ONBUILD') err('Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
  if (trigger === 'MAINTAINER' || trigger === 'FROM') err(`${trigger} isn't allowed as an ONBUILD trigger`);
  let expression = req.node.original.replace(/^[\t\n\f\r ]*ONBUILD[\t\n\f\r ]*/i, '');
  for (const h of req.node.heredocs) expression += '\n' + h.content + h.name;
  return { ...req.base, kind: 'ONBUILD', expression };
}

function parseCommand(req: Req): Command | Stage {
  const { args, flags, base } = req;
  switch (req.command.toLowerCase()) {
    case 'from':
      return parseFrom(req);
    case 'run':
      return parseRun(req);
    case 'copy':
      return parseCopy(req);
    case 'add':
      return parseAdd(req);
    case 'env':
      flags.parse();
      return { ...base, kind: 'ENV', pairs: kvps(args, 'ENV') };
    case 'label':
      flags.parse();
      return { ...base, kind: 'LABEL', pairs: kvps(args, 'LABEL') };
    case 'maintainer':
      if (args.length !== 1) err(errExactlyOne('MAINTAINER'));
      flags.parse();
      return { ...base, kind: 'MAINTAINER', maintainer: args[0]! };
    case 'onbuild':
      return parseOnbuild(req);
    case 'workdir':
      if (args.length !== 1) err(errExactlyOne('WORKDIR'));
      flags.parse();
      return { ...base, kind: 'WORKDIR', path: args[0]! };
    case 'cmd':
      flags.parse();
      return { ...base, kind: 'CMD', cmd: handleJSONArgs(args, req.json), shell: !req.json, heredocs: inlineFiles(req.node) };
    case 'entrypoint':
      flags.parse();
      return {
        ...base, kind: 'ENTRYPOINT', cmd: handleJSONArgs(args, req.json), shell: !req.json, heredocs: inlineFiles(req.node),
      };
    case 'healthcheck':
      return parseHealthcheck(req);
    case 'expose':
      if (args.length === 0) err(errAtLeastOne('EXPOSE'));
      flags.parse();
      // BuildKit sorts the (unexpanded) words
      return { ...base, kind: 'EXPOSE', ports: [...args].sort() };
    case 'user':
      if (args.length !== 1) err(errExactlyOne('USER'));
      flags.parse();
      return { ...base, kind: 'USER', user: args[0]! };
    case 'volume': {
      if (args.length === 0) err(errAtLeastOne('VOLUME'));
      flags.parse();
      const volumes = args.map((v) => trimSpace(v));
      if (volumes.some((v) => v === '')) err('VOLUME specified can not be an empty string');
      return { ...base, kind: 'VOLUME', volumes };
    }
    case 'stopsignal':
      if (args.length !== 1) err(errExactlyOne('STOPSIGNAL'));
      flags.parse(); // (BuildKit ignores flags here; we reject them like everywhere else)
      return { ...base, kind: 'STOPSIGNAL', signal: args[0]! };
    case 'arg': {
      if (args.length < 1) err(errAtLeastOne('ARG'));
      flags.parse(); // (BuildKit ignores flags here; we reject them)
      const defs = args.map((a): ArgDef => {
        const eq = a.indexOf('=');
        if (eq < 0) return { name: a, docComment: docComment(base.comments, a) };
        if (eq === 0) err(errBlankNames('ARG'));
        const name = a.slice(0, eq);
        return { name, default: a.slice(eq + 1), docComment: docComment(base.comments, name) };
      });
      return { ...base, kind: 'ARG', args: defs };
    }
    case 'shell': {
      flags.parse();
      const shell = handleJSONArgs(args, req.json);
      if (shell.length === 0) err(errAtLeastOne('SHELL'));
      if (!req.json) err('SHELL requires the arguments to be in JSON form');
      return { ...base, kind: 'SHELL', shell };
    }
  }
  return err(withSuggestion(`unknown instruction: ${req.command}`, req.command, INSTRUCTIONS, false));
}

function where(file: string, node: Node): string {
  return `${file}:${node.startLine}: ${node.value.toUpperCase()}`;
}

/**
 * One instruction node → a typed command (or a Stage for FROM). `node` is a child of the AST root
 * (or a parsed ONBUILD trigger); `escape` is the file's escape token (ParseResult.escapeToken).
 */
export function parseInstruction(node: Node, file: string, escape: EscapeToken = '\\'): Command | Stage {
  const base: CommandBase = {
    name: node.value,
    code: trimSpace(node.original),
    location: { file, startLine: node.startLine, endLine: node.endLine },
    comments: [...node.prevComment],
  };
  const req: Req = {
    node, escape, command: node.value, args: nodeArgs(node), flags: new BFlags(node.flags), json: !!node.attributes['json'], base,
  };
  try {
    return parseCommand(req);
  } catch (e) {
    if (e instanceof InstrError) throw new SkiffError('EINVAL', `${where(file, node)}: ${e.message}`);
    if (e instanceof SkiffError) throw new SkiffError(e.code, `${where(file, node)}: ${e.message}`, e.exitCode);
    throw e;
  }
}

function isStage(v: Command | Stage): v is Stage {
  return !('kind' in v);
}

/** The AST → build stages (file order) and the meta ARGs declared before the first FROM. */
export function parseStages(
  ast: Node, file: string, escape: EscapeToken = '\\',
): { stages: Stage[]; metaArgs: ArgCommand[] } {
  const stages: Stage[] = [];
  const metaArgs: ArgCommand[] = [];
  for (const node of ast.children) {
    const v = parseInstruction(node, file, escape);
    if (isStage(v)) {
      stages.push(v);
      continue;
    }
    if (stages.length === 0) {
      if (v.kind === 'ARG') {
        metaArgs.push(v);
        continue;
      }
      throw new SkiffError('EINVAL', `${where(file, node)}: no build stage in current context`);
    }
    stages[stages.length - 1]!.commands.push(v);
  }
  return { stages, metaArgs };
}

/** As parseStages, as a Stage[] carrying the meta ARGs in `.metaArgs`. */
export function parseInstructions(ast: Node, file: string, escape: EscapeToken = '\\'): StageList {
  const { stages, metaArgs } = parseStages(ast, file, escape);
  return Object.assign(stages, { metaArgs });
}

export interface Dockerfile extends ParseResult {
  stages: Stage[];
  metaArgs: ArgCommand[];
}

/** Text → AST → stages in one call. */
export function loadDockerfile(text: string, file: string): Dockerfile {
  const res = parseDockerfile(text, file);
  return { ...res, ...parseStages(res.ast, file, res.escapeToken) };
}

/**
 * Parse an ONBUILD trigger expression (from a base image's config) into a command, as BuildKit does
 * when it builds FROM such an image.
 */
export function parseTrigger(expression: string, file: string): Command {
  const res = parseDockerfile(expression, file);
  const node = res.ast.children[0]!;
  const v = parseInstruction(node, file, res.escapeToken);
  if (isStage(v)) throw new SkiffError('EINVAL', `${where(file, node)}: FROM isn't allowed as an ONBUILD trigger`);
  return v;
}

// ---------------------------------------------------------------------------------------------
// Expansion at dispatch time

/**
 * The command with variables expanded the way BuildKit does before dispatching it, against `env`
 * (the stage's ENV + ARG values at that point) and the Dockerfile's escape token:
 * ENV/LABEL keys and values, ARG defaults, COPY/ADD sources, destination, --chown, --chmod,
 * ADD --checksum, heredoc sources with an unquoted delimiter, WORKDIR, USER, VOLUME, STOPSIGNAL,
 * EXPOSE (with word splitting) and RUN --mount values. RUN/CMD/ENTRYPOINT/SHELL/HEALTHCHECK/ONBUILD
 * are returned unchanged (their text is for the shell or the image config).
 * Errors: SkiffError('EINVAL', '<file>:<line>: <INSTRUCTION>: failed to process ...').
 */
export function expandCommand<T extends Command>(cmd: T, env: Env, escape: EscapeToken = '\\'): T {
  try {
    const out = expandFields(cmd, env, escape);
    const nul = nulField(out);
    if (nul) throw new SkiffError('EINVAL', `${nul} holds a NUL byte, which no path, variable, label or command can hold`);
    return out;
  } catch (e) {
    if (e instanceof SkiffError) {
      throw new SkiffError(e.code, `${cmd.location.file}:${cmd.location.startLine}: ${cmd.name.toUpperCase()}: ${e.message}`, e.exitCode);
    }
    throw e;
  }
}

/**
 * Where an expanded instruction holds a NUL byte (undefined: nowhere). Every argument ends up in
 * the image config, a path or an argv, none of which can hold one; only the content of a COPY/ADD
 * heredoc (a file's bytes) may.
 */
function nulField(c: Command): string | undefined {
  const has = (v: unknown): boolean =>
    typeof v === 'string' ? v.includes('\0') : Array.isArray(v) ? v.some(has) : v !== null && typeof v === 'object' ? Object.values(v).some(has) : false;
  switch (c.kind) {
    case 'ENV':
    case 'LABEL': {
      const p = c.pairs.find((x) => has(x.key) || has(x.value));
      return p && (has(p.key) ? 'a name' : `the value of ${goQuote(p.key)}`);
    }
    case 'ARG': {
      const a = c.args.find((x) => has(x.name) || has(x.default));
      return a && (has(a.name) ? 'a name' : `the default of ${goQuote(a.name)}`);
    }
    case 'COPY':
    case 'ADD': {
      const { heredocs, code: _code, comments: _comments, ...rest } = c;
      return has(rest) || heredocs.some((h) => has(h.path)) ? 'an argument' : undefined;
    }
    default: {
      const { code: _code, comments: _comments, ...rest } = c;
      return has(rest) ? 'an argument' : undefined;
    }
  }
}

function expandFields<T extends Command>(cmd: T, env: Env, escape: EscapeToken): T {
  const lex = new ShellLex({ escape });
  const raw = new ShellLex({ escape: '\\', skipProcessQuotes: true });
  const x = (w: string): string => lex.processWord(w, env);
  const c = cmd as Command;
  switch (c.kind) {
    case 'ENV':
    case 'LABEL':
      return { ...c, pairs: c.pairs.map((p) => ({ ...p, key: x(p.key), value: x(p.value) })) } as T;
    case 'ARG':
      return {
        ...c,
        args: c.args.map((a) => (a.default === undefined ? { ...a } : { ...a, default: x(a.default) })),
      } as T;
    case 'COPY':
    case 'ADD': {
      const out = {
        ...c,
        chown: x(c.chown),
        chmod: x(c.chmod),
        sources: c.sources.map(x),
        excludes: c.excludes.map(x),
        dest: x(c.dest),
        heredocs: c.heredocs.map((h) => (h.expand ? { ...h, data: raw.processWord(h.data, env) } : { ...h })),
      };
      if (out.kind === 'ADD') out.checksum = x(out.checksum);
      return out as T;
    }
    case 'WORKDIR':
      return { ...c, path: x(c.path) } as T;
    case 'USER':
      return { ...c, user: x(c.user) } as T;
    case 'VOLUME':
      return { ...c, volumes: c.volumes.map(x) } as T;
    case 'STOPSIGNAL':
      return { ...c, signal: x(c.signal) } as T;
    case 'EXPOSE':
      return { ...c, ports: c.ports.flatMap((p) => lex.processWords(p, env)) } as T;
    case 'RUN': {
      let mounts: MountSpec[];
      try {
        mounts = c.mountSpecs.map((s) => parseMount(s, x));
      } catch (e) {
        if (e instanceof InstrError) throw new SkiffError('EINVAL', e.message);
        throw e;
      }
      return { ...c, mounts } as T;
    }
    default:
      return cmd;
  }
}
