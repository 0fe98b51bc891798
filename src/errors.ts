/**
 * One error type for everything skiff reports to a user.
 * The CLI prints `Error: <message>` on one line and exits with `exitCode`
 * (Docker's convention: 125 skiff failed, 126 cannot invoke, 127 not found).
 */
export const EXIT_SKIFF = 125;
export const EXIT_CANNOT_INVOKE = 126;
export const EXIT_NOT_FOUND = 127;

export type ErrorCode =
  | 'ENOIMAGE' // image not known locally / not found in registry
  | 'ENOCONTAINER'
  | 'ENOVOLUME'
  | 'ENONETWORK'
  | 'EINVAL' // bad user input (flags, references, files)
  | 'EAUTH' // registry refused credentials
  | 'ENET' // registry unreachable / TLS / transport
  | 'EREGISTRY' // registry answered with an error
  | 'EDIGEST' // content did not match its digest
  | 'ECONFLICT' // name in use, image in use, container running
  | 'ESTATE' // operation not valid in the object's current state
  | 'ENOSPC'
  | 'ERUNTIME' // shim/kernel failure
  | 'EINTERNAL';

export class SkiffError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: number;
  constructor(code: ErrorCode, message: string, exitCode: number = EXIT_SKIFF) {
    super(message);
    this.name = 'SkiffError';
    this.code = code;
    this.exitCode = exitCode;
  }
}

/** Turn any thrown value into the one line a user sees (without the `Error: ` prefix). */
export function describeError(err: unknown): string {
  if (err instanceof SkiffError) return err.message;
  if (err instanceof Error) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOSPC') return `no space left on device${e.path ? ` writing ${e.path}` : ''}: free some disk space and retry`;
    if (e.code === 'EACCES' || e.code === 'EPERM') return `permission denied${e.path ? `: ${e.path}` : ''}: ${e.message}`;
    return e.message.split('\n')[0] ?? String(e);
  }
  return String(err);
}

export function exitCodeOf(err: unknown): number {
  return err instanceof SkiffError ? err.exitCode : EXIT_SKIFF;
}

/** A command line yargs (or the fast parser) rejected: printed with a hint to `--help`. */
export class UsageError extends Error {}
