/** skiff's own version (a bundle may define SKIFF_VERSION; else "dev"), for `version` and the API's /version. */
declare const SKIFF_VERSION: string | undefined;

export function skiffVersion(): string {
  return typeof SKIFF_VERSION === 'string' ? SKIFF_VERSION : 'dev';
}

/** Docker's name for this machine's architecture (amd64, arm64, ...). */
export function goArch(): string {
  return process.arch === 'x64' ? 'amd64' : process.arch === 'ia32' ? '386' : process.arch;
}
