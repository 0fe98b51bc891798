/**
 * What the launcher (bin/skiff.cjs) gives the CLI. Its code-cache training runs at exit, which an
 * execve skips (a foreground `run`, `start -a`, `exec` become the shim): the CLI calls this before
 * handing such a command to the container domain (which takes it as a hook, never reads the global).
 */
export function saveCodeCache(): void {
  (globalThis as { __skiffSaveCodeCache?: () => void }).__skiffSaveCodeCache?.();
}
