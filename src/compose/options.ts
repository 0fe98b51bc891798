/**
 * Project options (what `docker compose`'s global flags and variables select) → the files, the project
 * directory, the environment, the profiles and the name, in Docker Compose's order: the process
 * environment first (it always wins), `.env` of the project directory (or `--env-file`s), then the
 * compose files (`-f`, else COMPOSE_FILE, else compose.yaml & co. found in the working directory or a
 * parent, with its compose.override.yaml), then the `.env` next to them, then COMPOSE_PROFILES, then
 * the name: `-p` > COMPOSE_PROJECT_NAME > top-level `name:` > the project directory's name.
 */
import fs from 'node:fs';
import path from 'node:path';
import { envFromFiles, type EnvMap } from './dotenv.js';
import { composeError, type Warnings } from './errors.js';
import { interpolateString } from './interpolate.js';
import { fileDocuments, type ComposeFileInput } from './load.js';
import { checkProjectName, normalizeProjectName } from './names.js';
import { isMap } from './tree.js';

export interface ProjectOptions {
  /** `-f` files in order (`-` = standard input); relative to `cwd`. */
  files?: string[];
  /** `-p` / `--project-name`. */
  projectName?: string;
  /** `--project-directory`. */
  projectDirectory?: string;
  /** `--env-file` (repeatable, later wins). */
  envFiles?: string[];
  /** `--profile` (repeatable). */
  profiles?: string[];
  /** Defaults to process.cwd(). */
  cwd?: string;
  /** Defaults to process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Reads standard input for `-f -` (default: fd 0). */
  readStdin?: () => string;
}

export const DEFAULT_FILE_NAMES = ['compose.yaml', 'compose.yml', 'docker-compose.yml', 'docker-compose.yaml'];
export const DEFAULT_OVERRIDE_FILE_NAMES = ['compose.override.yml', 'compose.override.yaml', 'docker-compose.override.yml', 'docker-compose.override.yaml'];

export interface ResolvedOptions {
  files: ComposeFileInput[];
  workingDir: string;
  environment: EnvMap;
  profiles: string[];
  name: string;
}

const existsFile = (f: string): boolean => {
  try {
    return fs.statSync(f).isFile();
  } catch {
    return false;
  }
};

function envTrue(v: string | undefined): boolean {
  return v !== undefined && ['1', 't', 'true'].includes(v.toLowerCase());
}

/** Merges env files into `env` (variables already set keep their values). */
function mergeDotEnv(env: EnvMap, files: string[], cwd: string): void {
  for (const [k, v] of envFromFiles(env, files, cwd)) if (!env.has(k)) env.set(k, v);
}

function defaultEnvFiles(opts: ProjectOptions, env: EnvMap, dir: string): string[] {
  if (opts.envFiles && opts.envFiles.length > 0) return opts.envFiles;
  if (envTrue(env.get('COMPOSE_DISABLE_ENV_FILE'))) return [];
  const f = path.join(dir, '.env');
  return existsFile(f) ? [f] : [];
}

function findFiles(names: string[], dir: string): string[] {
  return names.map((n) => path.join(dir, n)).filter(existsFile);
}

/** compose.yaml & co. in `dir` or the nearest parent that has one, with its override file. */
export function discoverComposeFiles(dir: string, warnings?: Warnings): string[] {
  for (let d = dir; ; d = path.dirname(d)) {
    const found = findFiles(DEFAULT_FILE_NAMES, d);
    if (found.length > 0) {
      if (found.length > 1) {
        warnings?.add(`Found multiple config files with supported names: ${found.join(', ')}`);
        warnings?.add(`Using ${found[0]}`);
      }
      const files = [found[0]!];
      const overrides = findFiles(DEFAULT_OVERRIDE_FILE_NAMES, d);
      if (overrides.length > 1) {
        warnings?.add(`Found multiple override files with supported names: ${overrides.join(', ')}`);
        warnings?.add(`Using ${overrides[0]}`);
      }
      if (overrides.length > 0) files.push(overrides[0]!);
      return files;
    }
    if (path.dirname(d) === d) return [];
  }
}

function absExisting(list: string[], cwd: string): string[] {
  return list.map((f) => {
    if (f === '-') return f;
    const abs = path.resolve(cwd, f);
    if (!fs.existsSync(abs)) throw composeError(`stat ${abs}: no such file or directory`);
    return abs;
  });
}

/** The top-level `name:` of the files (the last one set wins), interpolated and normalised. */
function nameFromFiles(files: ComposeFileInput[], env: EnvMap): string {
  let name = '';
  for (const f of files) {
    let docs;
    try {
      docs = fileDocuments(f);
    } catch {
      continue; // reported by the loader
    }
    for (const d of docs) if (isMap(d.value) && typeof d.value.name === 'string' && d.value.name !== '') name = d.value.name;
  }
  if (name === '') return '';
  return normalizeProjectName(interpolateString(name, { lookup: (k) => env.get(k), file: files[0]?.filename ?? '' }, ['name']));
}

export function resolveProjectOptions(opts: ProjectOptions, warnings: Warnings): ResolvedOptions {
  const cwd = path.resolve(opts.cwd ?? process.cwd());
  const env: EnvMap = new Map();
  for (const [k, v] of Object.entries(opts.env ?? process.env)) if (v !== undefined) env.set(k, v);
  if (opts.projectName !== undefined && opts.projectName !== '') checkProjectName(opts.projectName);

  const explicitDir = opts.projectDirectory ? path.resolve(cwd, opts.projectDirectory) : undefined;
  const firstFile = (list: string[]): string | undefined => list.find((f) => f !== '-');
  let files = opts.files && opts.files.length > 0 ? absExisting(opts.files, cwd) : [];
  const dirOf = (list: string[]): string => explicitDir ?? (firstFile(list) ? path.dirname(firstFile(list)!) : cwd);

  const firstEnvDir = dirOf(files);
  const envFiles = defaultEnvFiles(opts, env, firstEnvDir);
  mergeDotEnv(env, envFiles, cwd);

  if (files.length === 0) {
    const fromEnv = env.get('COMPOSE_FILE');
    if (fromEnv !== undefined && fromEnv !== '') {
      const sep = env.get('COMPOSE_PATH_SEPARATOR') || ':';
      files = absExisting(fromEnv.split(sep), cwd);
    }
  }
  if (files.length === 0) files = discoverComposeFiles(explicitDir ?? cwd, warnings);
  if (files.length === 0) throw composeError('no configuration file provided: not found');

  const workingDir = dirOf(files);
  if (workingDir !== firstEnvDir && !(opts.envFiles && opts.envFiles.length > 0)) mergeDotEnv(env, defaultEnvFiles(opts, env, workingDir), cwd);

  const inputs: ComposeFileInput[] = files.map((f) => (f === '-' ? { filename: '-', content: (opts.readStdin ?? (() => fs.readFileSync(0, 'utf8')))() } : { filename: f }));

  let profiles = opts.profiles && opts.profiles.length > 0 ? [...opts.profiles] : [];
  if (profiles.length === 0) {
    const p = env.get('COMPOSE_PROFILES');
    if (p) profiles = p.split(',').map((s) => s.trim()).filter((s) => s !== '');
  }

  let name: string;
  if (opts.projectName) name = opts.projectName;
  else if (env.get('COMPOSE_PROJECT_NAME')) name = checkProjectName(env.get('COMPOSE_PROJECT_NAME')!);
  else {
    name = nameFromFiles(inputs, env);
    if (name === '') name = normalizeProjectName(path.basename(workingDir));
  }
  if (name === '') throw composeError('project name must not be empty');
  env.set('COMPOSE_PROJECT_NAME', name);
  return { files: inputs, workingDir, environment: env, profiles, name };
}
