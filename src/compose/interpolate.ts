/**
 * Interpolation of a whole compose model: every string value (never a key) goes through the template
 * substitution, then values at typed paths are cast (compose-go's type-cast table: `"${PORT}"` may fill
 * an integer field, `"true"` a boolean one). Errors name the path (and line); unset variables become
 * warnings with Docker's words.
 */
import { composeError } from './errors.js';
import { InvalidTemplateError, substitute, type Lookup } from './template.js';
import { formatPath, isMap, pattern, ruleFor, type Json, type Pattern, type TreePath } from './tree.js';

type Cast = (v: string) => Json;

function toInt(v: string): Json {
  if (!/^[+-]?\d+$/.test(v)) throw new Error(`strconv.Atoi: parsing ${JSON.stringify(v)}: invalid syntax`);
  return Number(v);
}
function toFloat(v: string): Json {
  const n = Number(v);
  if (v.trim() === '' || Number.isNaN(n)) throw new Error(`strconv.ParseFloat: parsing ${JSON.stringify(v)}: invalid syntax`);
  return n;
}
/** YAML 1.1 words are accepted (Docker warns about them). */
function toBool(v: string): Json {
  const s = v.toLowerCase();
  if (s === 'true' || s === 'y' || s === 'yes' || s === 'on') return true;
  if (s === 'false' || s === 'n' || s === 'no' || s === 'off') return false;
  throw new Error(`invalid boolean: ${v}`);
}

const svc = (p: string): Pattern => pattern(`services.*.${p}`);
const CASTS: ReadonlyArray<readonly [Pattern, Cast]> = [
  ...['cpu_count', 'cpu_period', 'cpu_quota', 'cpu_rt_period', 'cpu_rt_runtime', 'cpu_shares', 'oom_score_adj', 'pids_limit', 'scale'].map((k) => [svc(k), toInt] as const),
  ...['cpu_percent', 'cpus'].map((k) => [svc(k), toFloat] as const),
  ...['init', 'oom_kill_disable', 'privileged', 'read_only', 'stdin_open', 'tty'].map((k) => [svc(k), toBool] as const),
  [svc('depends_on.*.required'), toBool],
  [svc('depends_on.*.restart'), toBool],
  [svc('deploy.replicas'), toInt],
  [svc('deploy.update_config.parallelism'), toInt],
  [svc('deploy.update_config.max_failure_ratio'), toFloat],
  [svc('deploy.rollback_config.parallelism'), toInt],
  [svc('deploy.rollback_config.max_failure_ratio'), toFloat],
  [svc('deploy.restart_policy.max_attempts'), toInt],
  [svc('deploy.placement.max_replicas_per_node'), toInt],
  [svc('healthcheck.retries'), toInt],
  [svc('healthcheck.disable'), toBool],
  [svc('ports.[].target'), toInt],
  [svc('ulimits.*'), toInt],
  [svc('ulimits.*.hard'), toInt],
  [svc('ulimits.*.soft'), toInt],
  [svc('volumes.[].read_only'), toBool],
  [svc('volumes.[].volume.nocopy'), toBool],
  ...['external', 'internal', 'attachable', 'enable_ipv4', 'enable_ipv6'].map((k) => [pattern(`networks.*.${k}`), toBool] as const),
  [pattern('volumes.*.external'), toBool],
  [pattern('secrets.*.external'), toBool],
  [pattern('configs.*.external'), toBool],
];

export interface InterpolateContext {
  lookup: Lookup;
  file: string;
  lines?: ReadonlyMap<string, number>;
  onUnset?: (name: string) => void;
}

function where(path: TreePath, ctx: InterpolateContext): string {
  const p = formatPath(path);
  const line = ctx.lines?.get(p);
  return line === undefined ? p : `${p} (line ${line})`;
}

function interpolateValue(value: Json, path: TreePath, ctx: InterpolateContext): Json {
  if (typeof value === 'string') {
    let out: string;
    try {
      out = substitute(value, ctx.lookup, ctx.onUnset ? { onUnset: ctx.onUnset } : {});
    } catch (e) {
      if (e instanceof InvalidTemplateError) {
        throw composeError(`${ctx.file}: invalid interpolation format for ${where(path, ctx)}: ${e.message}: you may need to escape any $ with another $`);
      }
      throw composeError(`${ctx.file}: error while interpolating ${where(path, ctx)}: ${(e as Error).message}`);
    }
    const cast = ruleFor(CASTS, path);
    if (!cast) return out;
    try {
      return cast(out);
    } catch (e) {
      throw composeError(`${ctx.file}: error while interpolating ${where(path, ctx)}: failed to cast to expected type: ${(e as Error).message}`);
    }
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolateValue(v, [...path, i], ctx));
  if (isMap(value)) {
    for (const [k, v] of Object.entries(value)) value[k] = interpolateValue(v, [...path, k], ctx);
    return value;
  }
  return value;
}

/** Interpolates a model in place (and returns it). */
export function interpolateModel(model: Json, ctx: InterpolateContext): Json {
  return interpolateValue(model, [], ctx);
}

/** One string (e.g. the top-level `name:` before the model is loaded). */
export function interpolateString(value: string, ctx: InterpolateContext, path: TreePath): string {
  return interpolateValue(value, path, ctx) as string;
}
