/**
 * Compose files → one merged model (plain JSON in canonical form), as compose-go's loader: each
 * document of each file is validated against the schema (before interpolation), interpolated, its
 * `include:`s imported, the `!reset`/`!override` paths removed from what came before, its `extends:`
 * applied, then merged onto the model so far; duplicates in keyed sequences are dropped.
 */
import fs from 'node:fs';
import path from 'node:path';
import { envFromFiles, type EnvMap } from './dotenv.js';
import { composeError, type Warnings } from './errors.js';
import { canonical } from './canonical.js';
import { interpolateModel } from './interpolate.js';
import { enforceUnicity, extendService, mergeModels, mergeValues } from './merge.js';
import { resolveRelativePaths } from './paths.js';
import { validateSchema } from './schema.js';
import { deepClone, formatPath, hasOwn, isMap, type Json, type JsonMap, type TreePath } from './tree.js';
import { readYamlDocuments, type YamlDoc } from './yaml.js';

export interface ComposeFileInput {
  /** Absolute path, or `-` for standard input. */
  filename: string;
  /** The file's text when already read (stdin). */
  content?: string;
  /** Its documents when already parsed (the project-name pass parses them once for both). */
  docs?: YamlDoc[];
}

/** A file's documents, parsed once. */
export function fileDocuments(file: ComposeFileInput): YamlDoc[] {
  file.docs ??= readYamlDocuments(readText(file), file.filename);
  return file.docs;
}

export interface LoadContext {
  /** Base of relative paths in the model. */
  workingDir: string;
  environment: ReadonlyMap<string, string>;
  warnings: Warnings;
  /** Files on the current include chain (cycle detection). */
  included: string[];
}

const STDIN_NAME = '-';

function readText(file: ComposeFileInput): string {
  if (file.content !== undefined) return file.content;
  try {
    return fs.readFileSync(file.filename, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') throw composeError(`open ${file.filename}: no such file or directory`);
    if (err.code === 'EISDIR') throw composeError(`read ${file.filename}: is a directory`);
    throw composeError(`failed to read ${file.filename}: ${err.message}`);
  }
}

const lookupIn =
  (env: ReadonlyMap<string, string>) =>
  (k: string): string | undefined =>
    env.get(k);

function unsetWarning(warnings: Warnings) {
  return (name: string): void => warnings.add(`The ${JSON.stringify(name)} variable is not set. Defaulting to a blank string.`);
}

/** Removes from `target` every path a document marked `!reset` or `!override`. */
function applyResets(target: Json, resets: readonly TreePath[], prefix: TreePath = []): void {
  if (resets.length === 0) return;
  const want = new Set(resets.map((p) => formatPath(p)));
  const walk = (v: Json, p: TreePath): void => {
    if (isMap(v)) {
      for (const k of Object.keys(v)) {
        const next = [...p, k];
        if (want.has(formatPath(next))) delete v[k];
        else walk(v[k]!, next);
      }
    }
  };
  walk(target, prefix);
}

interface Prepared {
  model: JsonMap;
  doc: YamlDoc;
}

/** One document: checked as a mapping, validated, interpolated, canonical. */
function prepareDocument(doc: YamlDoc, filename: string, ctx: LoadContext, validate: boolean): Prepared {
  if (!isMap(doc.value)) throw composeError(`${filename}: top-level object must be a mapping`);
  const model = doc.value;
  if (validate) validateSchema(model, filename, doc.lines);
  if (hasOwn(model, 'version')) {
    ctx.warnings.add(`${filename}: the attribute \`version\` is obsolete, it will be ignored, please remove it to avoid potential confusion`, filename);
    delete model.version;
  }
  interpolateModel(model, { lookup: lookupIn(ctx.environment), file: filename, lines: doc.lines, onUnset: unsetWarning(ctx.warnings) });
  canonical(model);
  return { model, doc };
}

/** Loads compose files (merged in order) into one canonical model with absolute paths. */
export function loadFiles(files: readonly ComposeFileInput[], ctx: LoadContext): JsonMap {
  let dict: JsonMap = {};
  for (const file of files) dict = loadFile(file, ctx, dict);
  resolveRelativePaths(dict, ctx.workingDir);
  return dict;
}

function loadFile(file: ComposeFileInput, ctx: LoadContext, dict: JsonMap): JsonMap {
  for (const doc of fileDocuments(file)) {
    const { model } = prepareDocument(doc, file.filename, ctx, true);
    if (model.include !== undefined) {
      applyInclude(model, file.filename, ctx, doc.resets);
      delete model.include;
    }
    applyResets(dict, doc.resets);
    applyExtends(model, file.filename, ctx, doc.resets, []);
    dict = mergeModels(dict, model);
    enforceUnicity(dict);
  }
  return dict;
}

// ---- include ------------------------------------------------------------------------------------

function applyInclude(model: JsonMap, filename: string, ctx: LoadContext, resets: readonly TreePath[]): void {
  const list = model.include;
  if (!Array.isArray(list)) throw composeError(`${filename}: \`include\` must be a list`);
  const included = [...ctx.included, filename];
  for (const entry of list) {
    if (!isMap(entry) || !Array.isArray(entry.path)) throw composeError(`${filename}: invalid include entry`);
    const paths = entry.path.map((p) => String(p));
    if (paths.some((p) => /^[a-z][a-z0-9+.-]*:\/\//i.test(p) || p.startsWith('git@') || p.startsWith('oci://'))) {
      throw composeError(`${filename}: include of a remote resource (${paths.join(', ')}) is not supported`);
    }
    const files = paths.map((p) => path.resolve(ctx.workingDir, p));
    const main = files[0];
    if (main === undefined) continue;
    if (included.includes(main)) throw composeError(`include cycle detected: ${[...included, main].join(' include ')}`);
    let projectDir: string;
    if (typeof entry.project_directory === 'string') projectDir = path.resolve(ctx.workingDir, entry.project_directory);
    else projectDir = path.dirname(main);
    let envFiles: string[] = [];
    if (Array.isArray(entry.env_file)) {
      for (const f of entry.env_file) {
        const s = String(f);
        if (s === '/dev/null') continue;
        const abs = path.resolve(ctx.workingDir, s);
        let st: fs.Stats;
        try {
          st = fs.statSync(abs);
        } catch {
          throw composeError(`${filename}: include env_file ${abs} not found`);
        }
        if (st.isDirectory()) throw composeError(`${abs} is not a file`);
        envFiles.push(abs);
      }
    } else {
      const dflt = path.join(projectDir, '.env');
      try {
        if (fs.statSync(dflt).isFile()) envFiles = [dflt];
      } catch {
        /* no .env */
      }
    }
    const fromFiles = envFromFiles(ctx.environment, envFiles);
    const env: EnvMap = new Map(ctx.environment);
    for (const [k, v] of fromFiles) if (!env.has(k)) env.set(k, v); // the including project's variables win
    const imported = loadFiles(
      files.map((f) => ({ filename: f })),
      { workingDir: projectDir, environment: env, warnings: ctx.warnings, included },
    );
    importResources(imported, model, resets);
  }
}

/** Resources of an included project added to the model; one also defined locally is merged under it. */
function importResources(source: JsonMap, target: JsonMap, resets: readonly TreePath[]): void {
  for (const key of ['services', 'volumes', 'networks', 'secrets', 'configs', 'models']) {
    const from = source[key];
    if (!isMap(from)) continue;
    const to: JsonMap = isMap(target[key]) ? (target[key] as JsonMap) : {};
    for (const [name, value] of Object.entries(from)) {
      if (!hasOwn(to, name)) {
        to[name] = value;
        continue;
      }
      const wrapped: JsonMap = { [key]: { [name]: value } };
      applyResets(wrapped, resets);
      const base = (wrapped[key] as JsonMap)[name];
      to[name] = base === undefined ? to[name]! : mergeValues(base, to[name]!, [key, name]);
    }
    target[key] = to;
  }
}

// ---- extends ------------------------------------------------------------------------------------

interface Ref {
  file: string;
  service: string;
}

function applyExtends(model: JsonMap, filename: string, ctx: LoadContext, resets: readonly TreePath[], chain: Ref[]): void {
  const services = model.services;
  if (services === undefined) return;
  if (!isMap(services)) throw composeError(`${filename}: services must be a mapping`);
  for (const name of Object.keys(services)) {
    services[name] = extendOne(name, services, filename, ctx, resets, chain);
  }
}

function extendOne(name: string, services: JsonMap, filename: string, ctx: LoadContext, resets: readonly TreePath[], chain: Ref[]): Json {
  const s = services[name];
  if (s === null || s === undefined) return null;
  if (!isMap(s)) throw composeError(`services.${name} must be a mapping`);
  const ext = s.extends;
  if (ext === undefined) return s;
  if (!isMap(ext) || typeof ext.service !== 'string') throw composeError(`extends.${name}.service is required`);
  const ref = ext.service;
  let baseServices = services;
  let baseFile = filename;
  let baseResets = resets;
  if (typeof ext.file === 'string') {
    const refPath = path.resolve(ctx.workingDir, ext.file);
    const loaded = loadExtendedFile(refPath, name, ref, filename, ext.file, ctx);
    baseServices = loaded.services;
    baseResets = loaded.resets;
    baseFile = refPath;
  } else if (!hasOwn(services, ref)) {
    throw composeError(`cannot extend service ${JSON.stringify(name)} in ${filename}: service ${JSON.stringify(ref)} not found`);
  }
  const here: Ref = { file: baseFile, service: name };
  const next = [...chain, here];
  if (chain.some((r) => r.file === here.file && r.service === here.service)) {
    throw composeError(`Circular reference: ${chain[0]!.service} in ${chain[0]!.file}, ${next.slice(1).map((r) => `extends ${r.service} in ${r.file}`).join(', ')}`);
  }
  const base = extendOne(ref, baseServices, baseFile, { ...ctx, workingDir: baseFile === filename ? ctx.workingDir : path.dirname(baseFile) }, baseResets, next);
  if (base === null) return s;
  const source = deepClone(base) as JsonMap;
  const wrapped: JsonMap = { services: { [name]: source } };
  applyResets(wrapped, resets);
  const merged = extendService(source, s);
  delete merged.extends;
  services[name] = merged;
  return merged;
}

function loadExtendedFile(refPath: string, name: string, ref: string, fromFile: string, refText: string, ctx: LoadContext): { services: JsonMap; resets: TreePath[] } {
  const docs = readYamlDocuments(readText({ filename: refPath }), refPath);
  const dir = path.dirname(refPath);
  let dict: JsonMap = {};
  let resets: TreePath[] = [];
  for (const doc of docs) {
    // as compose-go: an extended file is not validated on its own (a base may be partial); the typed model checks it
    const { model } = prepareDocument(doc, refPath, { ...ctx, workingDir: dir }, false);
    delete model.include;
    applyResets(dict, doc.resets);
    dict = mergeModels(dict, model);
    resets = [...resets, ...doc.resets];
  }
  const services = dict.services;
  if (services === undefined) throw composeError(`cannot extend service ${JSON.stringify(name)} in ${refPath}: no services section`);
  if (!isMap(services)) throw composeError(`cannot extend service ${JSON.stringify(name)} in ${refPath}: services must be a mapping`);
  if (!hasOwn(services, ref)) throw composeError(`cannot extend service ${JSON.stringify(name)} in ${fromFile}: service ${JSON.stringify(ref)} not found in ${refText}`);
  // paths in the extended file are relative to its own directory
  resolveRelativePaths(dict, dir);
  return { services, resets };
}

export { STDIN_NAME };
