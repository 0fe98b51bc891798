/**
 * The checks and merges of `create`'s options that need nothing but their input (pure, unit-tested):
 * restart policy, log config, healthcheck merge, environment, labels, ENTRYPOINT/CMD. Docker's rules
 * and words; each throws a SkiffError (EINVAL, exit 125).
 */
import fs from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { errnoWords, SkiffError } from '../errors.js';
import type { ImageConfig } from '../oci/media.js';
import type { HealthConfig, LogConfig, RestartPolicy } from '../store/containers.js';
import { parseGoDuration } from '../lib/duration.js';
import { goQuote } from '../lib/strconv.js';
import { parseSize } from '../lib/units.js';

/** --health-* and --no-healthcheck as given (durations as Go duration strings). */
export interface HealthOptions {
  cmd?: string;
  /** The whole test as the Engine API and compose give it (["CMD", ...], ["CMD-SHELL", cmd], ["NONE"]); over `cmd`. */
  test?: string[];
  interval?: string;
  timeout?: string;
  startPeriod?: string;
  retries?: number;
  none: boolean;
}

const RESTART_NAMES = ['no', 'always', 'on-failure', 'unless-stopped'] as const;

/** Docker's ParseRestartPolicy plus the daemon's checks (same messages). */
export function parseRestartPolicy(v: string | undefined): RestartPolicy {
  if (v === undefined || v === '') return { Name: 'no', MaximumRetryCount: 0 };
  const [name, count, extra] = v.split(':');
  if (extra !== undefined) throw new SkiffError('EINVAL', `invalid restart policy format: maximum retry count must be an integer`);
  if (!(RESTART_NAMES as readonly string[]).includes(name!)) {
    throw new SkiffError('EINVAL', `invalid restart policy: unknown policy '${name}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`);
  }
  let max = 0;
  if (count !== undefined) {
    if (!/^-?\d+$/.test(count)) throw new SkiffError('EINVAL', 'invalid restart policy format: maximum retry count must be an integer');
    max = Number(count);
    if (name !== 'on-failure') throw new SkiffError('EINVAL', `invalid restart policy: maximum retry count can only be used with 'on-failure'`);
    if (max < 0) throw new SkiffError('EINVAL', 'invalid restart policy: maximum retry count can not be negative');
  }
  return { Name: name as RestartPolicy['Name'], MaximumRetryCount: max };
}

/** --log-driver/--log-opt: json-file (max-size, max-file) or none. */
export function parseLogConfig(driver: string | undefined, opts: string[]): LogConfig {
  const type = driver || 'json-file';
  if (type !== 'json-file' && type !== 'none') {
    throw new SkiffError('EINVAL', `log driver "${type}" is not supported: skiff writes json-file logs (or none)`);
  }
  const config: Record<string, string> = {};
  for (const o of opts) {
    const eq = o.indexOf('=');
    if (eq <= 0) throw new SkiffError('EINVAL', `invalid key value pair format in logging opts: ${o}`);
    const k = o.slice(0, eq);
    const val = o.slice(eq + 1);
    if (type === 'none' || (k !== 'max-size' && k !== 'max-file')) throw new SkiffError('EINVAL', `unknown log opt '${k}' for ${type} log driver`);
    config[k] = val;
  }
  if (config['max-size'] !== undefined && parseSize(config['max-size']) <= 0) throw new SkiffError('EINVAL', `invalid size: '${config['max-size']}'`);
  if (config['max-file'] !== undefined) {
    if (!/^-?\d+$/.test(config['max-file'])) throw new SkiffError('EINVAL', `strconv.Atoi: parsing "${config['max-file']}": invalid syntax`);
    if (Number(config['max-file']) < 1) throw new SkiffError('EINVAL', 'max-file cannot be less than 1');
  }
  return { Type: type, Config: config };
}

function healthDuration(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const ms = parseGoDuration(v);
  if (ms === undefined) throw new SkiffError('EINVAL', `invalid argument "${v}" for "--${flag}" flag: time: invalid duration "${v}"`);
  if (ms < 0) throw new SkiffError('EINVAL', `--${flag} cannot be negative`);
  if (ms > 0 && ms < 1) throw new SkiffError('EINVAL', `${flag.replace('health-', '')} in Healthcheck cannot be less than 1ms`);
  return Math.round(ms * 1e6);
}

/** Docker's merge: --no-healthcheck → NONE; each --health-* field over the image's HEALTHCHECK. */
export function mergeHealthcheck(image: HealthConfig | undefined, o: HealthOptions): HealthConfig | undefined {
  const given = o.cmd !== undefined || o.test !== undefined || o.interval !== undefined || o.timeout !== undefined || o.startPeriod !== undefined || o.retries !== undefined;
  if (o.none) {
    if (given) throw new SkiffError('EINVAL', '--no-healthcheck conflicts with --health-* options');
    return { Test: ['NONE'] };
  }
  if (o.retries !== undefined && o.retries < 0) throw new SkiffError('EINVAL', '--health-retries cannot be negative');
  const interval = healthDuration('health-interval', o.interval);
  const timeout = healthDuration('health-timeout', o.timeout);
  const startPeriod = healthDuration('health-start-period', o.startPeriod);
  const base = image?.Test?.length ? image : undefined;
  if (!given) return base ? { ...base, Test: base.Test ?? [] } : undefined;
  const hc: HealthConfig = {
    Test: o.test ?? (o.cmd !== undefined ? ['CMD-SHELL', o.cmd] : (base?.Test ?? [])),
    ...((interval ?? base?.Interval) !== undefined ? { Interval: interval ?? base?.Interval } : {}),
    ...((timeout ?? base?.Timeout) !== undefined ? { Timeout: timeout ?? base?.Timeout } : {}),
    ...((startPeriod ?? base?.StartPeriod) !== undefined ? { StartPeriod: startPeriod ?? base?.StartPeriod } : {}),
    ...((o.retries ?? base?.Retries) !== undefined ? { Retries: o.retries ?? base?.Retries } : {}),
  };
  return hc.Test.length ? hc : undefined;
}

export const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * The user's environment (Docker's opts.ParseEnvFile and ValidateEnv): the --env-file lines, then the
 * -e values, in order; `NAME` alone takes the host's value (left out when the host has none).
 */
export function userEnv(envFiles: string[], flags: string[]): string[] {
  const out: string[] = [];
  const put = (kv: string): void => {
    if (kv.includes('=')) out.push(kv);
    else if (process.env[kv] !== undefined) out.push(`${kv}=${process.env[kv]}`);
  };
  for (const file of envFiles) for (const l of keyValueLines(file, 'env')) put(l);
  for (const e of flags) {
    if (e.indexOf('=') === 0 || e === '') throw new SkiffError('EINVAL', `invalid environment variable: ${e}`);
    put(e);
  }
  return out;
}

/**
 * The entries of an --env-file or --label-file (Docker's opts.parseKeyValueFile): a BOM dropped,
 * leading whitespace trimmed, # comments and blank lines skipped, the value passed through verbatim,
 * a name must have no whitespace.
 */
function keyValueLines(file: string, what: 'env' | 'label'): string[] {
  let data: Buffer;
  try {
    data = fs.readFileSync(file);
  } catch (e) {
    // Docker's words: "open FILE: no such file or directory"
    throw new SkiffError('EINVAL', `cannot read ${what} file: open ${file}: ${errnoWords((e as NodeJS.ErrnoException).code) ?? (e as Error).message}`);
  }
  const out: string[] = [];
  splitLines(data).forEach((bytes, i) => {
    if (!isUtf8(bytes)) throw new SkiffError('EINVAL', `${what} file ${file} contains invalid utf8 bytes at line ${i + 1}: [${[...bytes].join(' ')}]`);
    const l = bytes.toString('utf8').replace(i === 0 ? /^\ufeff/ : /^$/, '').replace(/\r$/, '').replace(/^\s+/, '');
    if (!l || l.startsWith('#')) return;
    const eq = l.indexOf('=');
    const name = eq < 0 ? l : l.slice(0, eq);
    if (!name) throw new SkiffError('EINVAL', `poorly formatted environment: no variable name on line '${l}'`);
    if (/\s/.test(name)) throw new SkiffError('EINVAL', `poorly formatted environment: variable '${name}' contains whitespaces`);
    if (l.includes('\0')) throw new SkiffError('EINVAL', `invalid ${what === 'env' ? 'environment variable' : 'label'} ${goQuote(l)} in ${file} (line ${i + 1}): it contains a NUL byte`);
    out.push(l);
  });
  return out;
}

/** --label-file entries then --label values, in order (later ones win, as Docker's). */
export function userLabels(labelFiles: string[], flags: string[]): string[] {
  return [...labelFiles.flatMap((f) => keyValueLines(f, 'label')), ...flags];
}

function splitLines(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let start = 0; start < data.length; ) {
    const nl = data.indexOf(10, start);
    const end = nl < 0 ? data.length : nl;
    out.push(data.subarray(start, end));
    start = end + 1;
  }
  return out;
}

/**
 * Docker's env merge: the image's env, then the user's (userEnv) replacing values in place. An image's
 * entry is taken as it is: only the user's own `NAME` reads the host's environment.
 */
export function mergeEnvEntries(imageEnv: string[], user: string[]): string[] {
  const m = new Map<string, string>();
  for (const kv of [...imageEnv, ...user]) {
    const eq = kv.indexOf('=');
    m.set(eq < 0 ? kv : kv.slice(0, eq), kv);
  }
  return [...m.values()];
}

/** Docker's env merge of the image env, --env-file and -e. */
export function mergeEnv(imageEnv: string[], envFiles: string[], flags: string[]): string[] {
  return mergeEnvEntries(imageEnv, userEnv(envFiles, flags));
}

/** `--label k=v` (Docker's opts.ValidateLabel: a name, without spaces or tabs). */
export function parseLabels(labels: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of labels) {
    const eq = l.indexOf('=');
    const key = (eq < 0 ? l : l.slice(0, eq)).replace(/^[ \t]+/, '');
    if (key === '') throw new SkiffError('EINVAL', `invalid label '${l}': empty name`);
    if (/[ \t]/.test(key)) throw new SkiffError('EINVAL', `label '${key}' contains whitespaces`);
    out[key] = eq < 0 ? '' : l.slice(eq + 1);
  }
  return out;
}

/** A given entrypoint as a list: "" and [""] reset the image's (empty). */
export function givenEntrypoint(e: string | string[]): string[] {
  const list = typeof e === 'string' ? [e] : e;
  return list.length === 1 && list[0] === '' ? [] : list;
}

/** Docker's ENTRYPOINT/CMD rule: --entrypoint resets the image CMD; a given command replaces CMD. */
export function resolveCommand(cfg: ImageConfig['config'], entrypoint: string | string[] | undefined, command: string[]): string[] {
  const ep = entrypoint !== undefined ? givenEntrypoint(entrypoint) : (cfg?.Entrypoint ?? []);
  const cmd = command.length ? command : entrypoint !== undefined ? [] : (cfg?.Cmd ?? []);
  return [...ep, ...cmd];
}
