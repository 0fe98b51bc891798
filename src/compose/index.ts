/**
 * The compose domain's public entry: project options → a normalised Project (load → validate →
 * interpolate → merge → normalise). No printing and no container actions here; warnings come back in
 * `project.warnings`.
 */
import { Warnings } from './errors.js';
import { loadFiles } from './load.js';
import type { Project } from './model.js';
import { normalize } from './normalize.js';
import { resolveProjectOptions, type ProjectOptions } from './options.js';

export function loadProject(opts: ProjectOptions = {}): Project {
  const warnings = new Warnings();
  const r = resolveProjectOptions(opts, warnings);
  const dict = loadFiles(r.files, { workingDir: r.workingDir, environment: r.environment, warnings, included: [] });
  return normalize(dict, {
    name: r.name,
    workingDir: r.workingDir,
    composeFiles: r.files.map((f) => f.filename),
    environment: r.environment,
    profiles: r.profiles,
    warnings,
  });
}

export type { ProjectOptions } from './options.js';
export { DEFAULT_FILE_NAMES, DEFAULT_OVERRIDE_FILE_NAMES, discoverComposeFiles, resolveProjectOptions } from './options.js';
export type * from './model.js';
export type { ComposeWarning } from './errors.js';
export { EXIT_COMPOSE } from './errors.js';
export { containerName, oneOffContainerName, normalizeProjectName, checkProjectName } from './names.js';
export { serviceConfigHash } from './hash.js';
export { configYaml, configJson, projectConfig, serviceNames, volumeNames, profileNames, imageNames } from './serialize.js';
export { SUPPORTED_SERVICE_KEYS } from './keys.js';
export { parseDotenv, readEnvFile, envFromFiles, readDotenvFiles } from './dotenv.js';
export { substitute } from './template.js';
export { schemaProblems, validateSchema } from './schema.js';
