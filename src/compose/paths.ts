/**
 * Relative paths of a model made absolute against a base directory (the project directory, or the
 * directory of an included or extended file), `~` expanded (compose-go's paths.ResolveRelativePaths):
 * build contexts (not URLs), additional contexts, env_file and label_file paths, extends.file, bind
 * mount sources, develop.watch paths, file-backed secrets and configs, local-driver bind volume devices.
 */
import os from 'node:os';
import path from 'node:path';
import { isMap, type Json, type JsonMap } from './tree.js';

export function expandUser(p: string): string {
  if (p === '~' || p.startsWith('~/')) return path.join(process.env.HOME || os.homedir(), p.slice(1));
  return p;
}

export function absPath(base: string, p: string): string {
  const e = expandUser(p);
  if (e === '' || path.isAbsolute(e)) return e;
  return path.resolve(base, e);
}

/** A build context that is not a local directory: a URL, a git remote, or another service/target. */
export function isRemoteContext(ctx: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(ctx) || ctx.startsWith('git@') || ctx.startsWith('github.com/') || ctx.startsWith('service:') || ctx.startsWith('target:') || ctx.startsWith('docker-image://');
}

const contextPath = (base: string, v: string): string => (isRemoteContext(v) ? v : absPath(base, v));

export function resolveRelativePaths(model: JsonMap, base: string): JsonMap {
  if (isMap(model.services)) {
    for (const s of Object.values(model.services)) {
      if (!isMap(s)) continue;
      if (isMap(s.build)) {
        if (typeof s.build.context === 'string') s.build.context = contextPath(base, s.build.context);
        const add = s.build.additional_contexts;
        if (isMap(add)) for (const [k, v] of Object.entries(add)) if (typeof v === 'string') add[k] = contextPath(base, v);
        if (Array.isArray(add)) {
          s.build.additional_contexts = add.map((e) => {
            if (typeof e !== 'string') return e;
            const i = e.indexOf('=');
            return i < 0 ? e : `${e.slice(0, i)}=${contextPath(base, e.slice(i + 1))}`;
          });
        }
      }
      if (Array.isArray(s.env_file)) for (const e of s.env_file) if (isMap(e) && typeof e.path === 'string') e.path = absPath(base, e.path);
      if (Array.isArray(s.label_file)) s.label_file = s.label_file.map((f: Json) => (typeof f === 'string' ? absPath(base, f) : f));
      if (isMap(s.extends) && typeof s.extends.file === 'string') s.extends.file = absPath(base, s.extends.file);
      if (isMap(s.develop) && Array.isArray(s.develop.watch)) {
        for (const w of s.develop.watch) if (isMap(w) && typeof w.path === 'string') w.path = absPath(base, w.path);
      }
      if (Array.isArray(s.volumes)) {
        for (const v of s.volumes) if (isMap(v) && v.type === 'bind' && typeof v.source === 'string') v.source = absPath(base, v.source);
      }
    }
  }
  for (const kind of ['secrets', 'configs'] as const) {
    const m = model[kind];
    if (isMap(m)) for (const r of Object.values(m)) if (isMap(r) && typeof r.file === 'string') r.file = absPath(base, r.file);
  }
  if (isMap(model.volumes)) {
    for (const v of Object.values(model.volumes)) {
      if (!isMap(v) || v.driver !== 'local' || !isMap(v.driver_opts)) continue;
      const o = v.driver_opts;
      if (o.o === 'bind' && typeof o.device === 'string') o.device = absPath(base, o.device);
    }
  }
  return model;
}
