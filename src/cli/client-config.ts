/**
 * The keys of Docker's client configuration (config.json in $DOCKER_CONFIG or ~/.docker, or the
 * directory of `--config`) that change what commands do when their flag is not given: `psFormat`
 * (ps), `imagesFormat` (images), `detachKeys` (attach, exec -it, run -it, start -ai). `auths` is src/registry/credentials.ts.
 * A file that is missing, unreadable or not JSON counts as empty, as for Docker's CLI (which warns).
 */
import fs from 'node:fs';
import { dockerConfigFile } from '../registry/credentials.js';

export interface ClientConfig {
  psFormat?: string;
  imagesFormat?: string;
  detachKeys?: string;
}

export function clientConfig(): ClientConfig {
  let doc: unknown;
  try {
    doc = JSON.parse(fs.readFileSync(dockerConfigFile(), 'utf8'));
  } catch {
    return {};
  }
  if (typeof doc !== 'object' || doc === null) return {};
  const d = doc as Record<string, unknown>;
  const str = (k: keyof ClientConfig): Partial<ClientConfig> => (typeof d[k] === 'string' && d[k] !== '' ? { [k]: d[k] } : {});
  return { ...str('psFormat'), ...str('imagesFormat'), ...str('detachKeys') };
}

/** The detach keys of attach, exec -it, run -it and start -ai: the flag, else config.json's, else Docker's default. */
export function detachKeys(flag: string | undefined): string {
  return flag || clientConfig().detachKeys || 'ctrl-p,ctrl-q';
}
