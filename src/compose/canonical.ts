/**
 * Short syntaxes → their long forms (compose-go's transform.Canonical and defaults), applied to each
 * file's model before it is merged: build string → {context}, depends_on list → mapping, env_file
 * string/list → [{path, required}], networks list → mapping, volumes/ports/secrets/configs short syntax
 * → long, extends string → {service}, dns/tmpfs string → list, external-name legacy form.
 */
import { composeError } from './errors.js';
import { parsePortSpec } from './ports.js';
import { isMap, setOwn, type Json, type JsonMap } from './tree.js';
import { parseVolumeSpec, volumeSpecToJson } from './volumes.js';

const asList = (v: Json): Json => (typeof v === 'string' ? [v] : v);

function listToMap(v: Json, dflt: () => Json): Json {
  if (!Array.isArray(v)) return v;
  const out: JsonMap = {};
  for (const s of v) setOwn(out, String(s), dflt());
  return out;
}

function canonicalService(name: string, s: Json): Json {
  if (s === null) return {};
  if (!isMap(s)) throw composeError(`services.${name} must be a mapping`);
  if (typeof s.build === 'string') s.build = { context: s.build };
  if (isMap(s.build)) {
    s.build.context ??= '.';
    for (const k of ['secrets'] as const) {
      const list = s.build[k];
      if (Array.isArray(list)) s.build[k] = list.map((e) => (typeof e === 'string' ? { source: e } : e));
    }
  }
  if (s.depends_on !== undefined) {
    s.depends_on = listToMap(s.depends_on, () => ({ condition: 'service_started', required: true }));
    if (isMap(s.depends_on)) {
      for (const d of Object.values(s.depends_on)) {
        if (isMap(d)) {
          d.condition ??= 'service_started';
          d.required ??= true;
        }
      }
    }
  }
  if (s.env_file !== undefined) {
    const list = asList(s.env_file);
    if (Array.isArray(list)) {
      s.env_file = list.map((e) => {
        if (typeof e === 'string') return { path: e, required: true };
        if (isMap(e)) {
          e.required ??= true;
          return e;
        }
        return e;
      });
    }
  }
  if (s.label_file !== undefined) s.label_file = asList(s.label_file);
  if (typeof s.extends === 'string') s.extends = { service: s.extends };
  if (s.networks !== undefined) s.networks = listToMap(s.networks, () => null);
  if (Array.isArray(s.volumes)) {
    s.volumes = s.volumes.map((v) => {
      if (typeof v === 'string') return volumeSpecToJson(parseVolumeSpec(v));
      if (isMap(v) && v.type === 'bind') {
        const bind = isMap(v.bind) ? v.bind : {};
        bind.create_host_path ??= true;
        v.bind = bind;
      }
      return v;
    });
  }
  if (isMap(s.develop) && Array.isArray(s.develop.watch)) {
    for (const w of s.develop.watch) {
      if (!isMap(w)) continue;
      if (w.ignore !== undefined) w.ignore = asList(w.ignore);
      if (w.include !== undefined) w.include = asList(w.include);
    }
  }
  if (s.dns !== undefined) s.dns = asList(s.dns);
  if (s.tmpfs !== undefined) s.tmpfs = asList(s.tmpfs);
  for (const k of ['secrets', 'configs'] as const) {
    const list = s[k];
    if (Array.isArray(list)) s[k] = list.map((e) => (typeof e === 'string' ? { source: e } : e));
  }
  if (Array.isArray(s.ports)) {
    const ports: Json[] = [];
    for (const p of s.ports) {
      if (typeof p === 'number' || typeof p === 'string') {
        for (const spec of parsePortSpec(String(p))) ports.push(spec as unknown as JsonMap);
      } else if (isMap(p)) {
        if (typeof p.published === 'number') p.published = String(p.published);
        ports.push(p);
      } else ports.push(p);
    }
    s.ports = ports;
  }
  if (Array.isArray(s.expose)) s.expose = s.expose.map((e) => String(e));
  return s;
}

/** `external: {name: x}` (legacy) → `name: x, external: true`; a null resource → {}. */
function canonicalResource(kind: string, key: string, r: Json): Json {
  if (r === null) return {};
  if (!isMap(r)) return r;
  if (isMap(r.external)) {
    const extName = r.external.name;
    if (extName !== undefined) {
      if (r.name !== undefined && r.name !== extName) throw composeError(`${kind}.${key}: name and external.name conflict; only use name`);
      r.name = extName;
    }
    r.external = true;
  }
  return r;
}

/** Canonical forms of one model, in place. */
export function canonical(model: JsonMap): JsonMap {
  if (isMap(model.services)) {
    for (const [name, s] of Object.entries(model.services)) model.services[name] = canonicalService(name, s);
  }
  for (const kind of ['networks', 'volumes', 'secrets', 'configs'] as const) {
    const m = model[kind];
    if (isMap(m)) for (const [k, r] of Object.entries(m)) m[k] = canonicalResource(kind, k, r);
  }
  if (Array.isArray(model.include)) {
    model.include = model.include.map((e) => {
      if (typeof e === 'string') return { path: [e] };
      if (isMap(e)) {
        if (typeof e.path === 'string') e.path = [e.path];
        if (typeof e.env_file === 'string') e.env_file = [e.env_file];
      }
      return e;
    });
  }
  return model;
}
