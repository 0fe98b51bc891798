/**
 * Merging compose models (override files, `extends`, `include` conflicts) with compose-go's override
 * rules: mappings merge key by key, sequences append, scalars are replaced; `command`, `entrypoint` and
 * `healthcheck.test` are replaced whole; environment, labels, dns, tmpfs, env_file, ... are merged as
 * `KEY=VALUE` sequences; depends_on and networks as mappings; a changed logging driver replaces the
 * logging block. Then `enforceUnicity` drops earlier duplicates of keyed sequences (ports by
 * host:published:target/protocol, volumes by target, environment by key, ...): the later entry wins,
 * at the earlier entry's place.
 */
import { composeError } from './errors.js';
import { formatPath, isMap, pattern, ruleFor, type Json, type JsonMap, type Pattern, type TreePath } from './tree.js';
import { parseVolumeSpec } from './volumes.js';

type Merger = (base: Json, over: Json, path: TreePath) => Json;

const replace: Merger = (_b, o) => o;

function toSequence(v: Json): Json[] {
  if (Array.isArray(v)) return v;
  if (typeof v === 'string') return [v];
  if (isMap(v)) {
    const seq: string[] = [];
    for (const [k, x] of Object.entries(v)) {
      if (x === null) seq.push(k);
      else if (Array.isArray(x)) for (const e of x) seq.push(`${k}=${scalarText(e)}`);
      else seq.push(`${k}=${scalarText(x)}`);
    }
    return seq.sort();
  }
  return [];
}

function scalarText(v: Json): string {
  return typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v);
}

function toMapping(v: Json, dflt: JsonMap | null): JsonMap {
  if (isMap(v)) return v;
  const out: JsonMap = {};
  if (Array.isArray(v)) for (const s of v) out[String(s)] = dflt === null ? null : { ...dflt };
  return out;
}

const toSeq: Merger = (b, o) => [...toSequence(b), ...toSequence(o)];

const DEPENDS_DEFAULT: JsonMap = { condition: 'service_started', required: true };

const RULES: ReadonlyArray<readonly [Pattern, Merger]> = [
  [pattern('networks.*.labels'), toSeq],
  [pattern('volumes.*.labels'), toSeq],
  [pattern('services.*.annotations'), toSeq],
  [
    pattern('services.*.build'),
    (b, o, p) => {
      const m = (x: Json): JsonMap => (typeof x === 'string' ? { context: x } : isMap(x) ? x : {});
      return mergeMappings(m(b), m(o), p);
    },
  ],
  [pattern('services.*.build.args'), toSeq],
  [pattern('services.*.build.additional_contexts'), toSeq],
  [pattern('services.*.build.extra_hosts'), (b, o) => extraHosts(b, o)],
  [pattern('services.*.build.labels'), toSeq],
  [pattern('services.*.command'), replace],
  [pattern('services.*.depends_on'), (b, o, p) => mergeMappings(toMapping(b, DEPENDS_DEFAULT), toMapping(o, DEPENDS_DEFAULT), p)],
  [pattern('services.*.deploy.labels'), toSeq],
  [pattern('services.*.dns'), toSeq],
  [pattern('services.*.dns_opt'), toSeq],
  [pattern('services.*.dns_search'), toSeq],
  [pattern('services.*.entrypoint'), replace],
  [pattern('services.*.env_file'), toSeq],
  [pattern('services.*.label_file'), toSeq],
  [pattern('services.*.environment'), toSeq],
  [pattern('services.*.extra_hosts'), (b, o) => extraHosts(b, o)],
  [pattern('services.*.healthcheck.test'), replace],
  [pattern('services.*.labels'), toSeq],
  [pattern('services.*.volumes.*.volume.labels'), toSeq],
  [
    pattern('services.*.logging'),
    (b, o, p) => {
      const base = isMap(b) ? b : {};
      const over = isMap(o) ? o : {};
      const same = !('driver' in over) || !('driver' in base) || over.driver === base.driver;
      return same ? mergeMappings(base, over, p) : over;
    },
  ],
  [pattern('services.*.models'), (b, o, p) => mergeMappings(toMapping(b, null), toMapping(o, null), p)],
  [pattern('services.*.networks'), (b, o, p) => mergeMappings(toMapping(b, null), toMapping(o, null), p)],
  [pattern('services.*.sysctls'), toSeq],
  [pattern('services.*.tmpfs'), toSeq],
  [pattern('services.*.ulimits.*'), (b, o, p) => (isMap(b) && isMap(o) ? mergeMappings(b, o, p) : o)],
];

function extraHosts(b: Json, o: Json): Json {
  const base = toSequence(b);
  const extra = toSequence(o).filter((x) => !base.includes(x));
  return [...base, ...extra];
}

export function mergeValues(base: Json, over: Json | undefined, path: TreePath): Json {
  const rule = ruleFor(RULES, path);
  if (rule) return rule(base, over ?? null, path);
  if (over === undefined || over === null) return base;
  if (isMap(base)) {
    if (!isMap(over)) throw composeError(`cannot override ${formatPath(path)}`);
    return mergeMappings(base, over, path);
  }
  if (Array.isArray(base)) {
    if (!Array.isArray(over)) throw composeError(`cannot override ${formatPath(path)}`);
    return [...base, ...over];
  }
  return over;
}

function mergeMappings(base: JsonMap, over: JsonMap, path: TreePath): JsonMap {
  for (const [k, v] of Object.entries(over)) {
    if (!Object.prototype.hasOwnProperty.call(base, k)) base[k] = v;
    else base[k] = mergeValues(base[k]!, v, [...path, k]);
  }
  return base;
}

/** Merges `over` onto `base` (both whole models; `base` is changed and returned). */
export function mergeModels(base: JsonMap, over: JsonMap): JsonMap {
  return mergeMappings(base, over, []);
}

/** A service extending another: the base service (a copy) with the extending one merged onto it. */
export function extendService(base: JsonMap, over: JsonMap): JsonMap {
  return mergeValues(base, over, ['services', 'x']) as JsonMap;
}

// ---- unicity ----------------------------------------------------------------------------------

type Indexer = (v: Json, path: TreePath) => string;

const keyValue: Indexer = (v, p) => {
  if (typeof v !== 'string') {
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    throw composeError(`${formatPath(p)}: unexpected type ${typeof v}`);
  }
  const i = v.indexOf('=');
  return i < 0 ? v : v.slice(0, i);
};

const volumeIndex: Indexer = (v, p) => {
  if (isMap(v)) {
    if (typeof v.target !== 'string') throw composeError(`service volume ${formatPath(p)} is missing a mount target`);
    return v.target;
  }
  if (typeof v === 'string') return parseVolumeSpec(v).target;
  return '';
};

const mountIndex =
  (dflt: string): Indexer =>
  (v) => {
    if (typeof v === 'string') return `${dflt}/${v}`;
    if (isMap(v)) return typeof v.target === 'string' ? v.target : `${dflt}/${String(v.source)}`;
    return '';
  };

const portIndex: Indexer = (v, p) => {
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return v;
  if (isMap(v)) {
    if (v.target === undefined) throw composeError(`service ports ${formatPath(p)} is missing a target port`);
    return `${String(v.host_ip ?? '0.0.0.0')}:${String(v.published ?? '')}:${String(v.target)}/${String(v.protocol ?? 'tcp')}`;
  }
  return '';
};

const UNIQUE: ReadonlyArray<readonly [Pattern, Indexer]> = [
  [pattern('networks.*.labels'), keyValue],
  [pattern('networks.*.ipam.options'), keyValue],
  [pattern('services.*.annotations'), keyValue],
  [pattern('services.*.build.args'), keyValue],
  [pattern('services.*.build.additional_contexts'), keyValue],
  [pattern('services.*.build.platforms'), keyValue],
  [pattern('services.*.build.tags'), keyValue],
  [pattern('services.*.build.labels'), keyValue],
  [pattern('services.*.cap_add'), keyValue],
  [pattern('services.*.cap_drop'), keyValue],
  [pattern('services.*.configs'), mountIndex('')],
  [pattern('services.*.deploy.labels'), keyValue],
  [pattern('services.*.dns'), keyValue],
  [pattern('services.*.dns_opt'), keyValue],
  [pattern('services.*.dns_search'), keyValue],
  [pattern('services.*.environment'), keyValue],
  [pattern('services.*.env_file'), (v, p) => (typeof v === 'string' ? v : isMap(v) && typeof v.path === 'string' ? v.path : keyValue(v, p))],
  [pattern('services.*.expose'), (v) => String(v)],
  [pattern('services.*.labels'), keyValue],
  [pattern('services.*.links'), keyValue],
  [pattern('services.*.networks.*.aliases'), keyValue],
  [pattern('services.*.networks.*.link_local_ips'), keyValue],
  [pattern('services.*.ports'), portIndex],
  [pattern('services.*.profiles'), keyValue],
  [pattern('services.*.secrets'), mountIndex('/run/secrets')],
  [pattern('services.*.sysctls'), keyValue],
  [pattern('services.*.tmpfs'), keyValue],
  [pattern('services.*.volumes'), volumeIndex],
  [pattern('services.*.devices'), (v) => (isMap(v) ? String(v.target) : String(v).split(':')[1] ?? String(v))],
];

/** Drops earlier duplicates in keyed sequences, in place (the later entry takes the earlier one's place). */
export function enforceUnicity(value: Json, path: TreePath = []): Json {
  if (isMap(value)) {
    for (const [k, v] of Object.entries(value)) value[k] = enforceUnicity(v, [...path, k]);
    return value;
  }
  if (Array.isArray(value)) {
    const index = ruleFor(UNIQUE, path);
    if (!index) return value;
    const seq: Json[] = [];
    const keys = new Map<string, number>();
    value.forEach((entry, i) => {
      const key = index(entry, [...path, i]);
      const j = keys.get(key);
      if (j !== undefined) seq[j] = entry;
      else {
        keys.set(key, seq.length);
        seq.push(entry);
      }
    });
    return seq;
  }
  return value;
}
