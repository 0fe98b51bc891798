import os from 'node:os';

/** skiff's own version (a bundle may define SKIFF_VERSION; else "dev"), for `version` and the API's /version. */
declare const SKIFF_VERSION: string | undefined;

export function skiffVersion(): string {
  return typeof SKIFF_VERSION === 'string' ? SKIFF_VERSION : 'dev';
}

/** Docker's name for this machine's architecture (amd64, arm64, ...). */
export function goArch(): string {
  return process.arch === 'x64' ? 'amd64' : process.arch === 'ia32' ? '386' : process.arch;
}

/** The Engine API versions skiff answers (src/api): the newest, and the oldest a client may ask for. */
export const API_VERSION = '1.41';
export const MIN_API_VERSION = '1.24';

/** The engine's version as Docker's `GET /version` (and `version`'s Server part) has it: skiff is its own engine. */
export function engineVersion(): Record<string, unknown> {
  const v = skiffVersion();
  const common = { Os: 'linux', Arch: goArch(), KernelVersion: os.release() };
  return {
    Platform: { Name: 'skiff' },
    Components: [{ Name: 'Engine', Version: v, Details: { ApiVersion: API_VERSION, MinAPIVersion: MIN_API_VERSION, ...common } }],
    Version: v, ApiVersion: API_VERSION, MinAPIVersion: MIN_API_VERSION, GitCommit: '', GoVersion: `node${process.version}`,
    ...common, BuildTime: '',
  };
}

/** `version`'s Client part (Docker's field names). */
export function clientVersion(): Record<string, unknown> {
  return {
    Platform: { Name: 'skiff' }, Version: skiffVersion(), ApiVersion: API_VERSION, DefaultAPIVersion: API_VERSION, GitCommit: '',
    GoVersion: `node${process.version}`, Os: 'linux', Arch: goArch(), BuildTime: '', Context: 'default',
  };
}
