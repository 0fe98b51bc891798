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
  | 'ECANCELLED' // the user answered no to a prompt
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

/** What the kernel's error numbers mean, in words (strerror's, lower case), for the ones users meet. */
const ERRNO_WORDS: Record<string, string> = {
  EPERM: 'operation not permitted',
  ENOENT: 'no such file or directory',
  EIO: 'input/output error',
  ENXIO: 'no such device or address',
  E2BIG: 'argument list too long',
  EBADF: 'bad file descriptor',
  EAGAIN: 'resource temporarily unavailable',
  ENOMEM: 'cannot allocate memory',
  EACCES: 'permission denied',
  EBUSY: 'device or resource busy',
  EEXIST: 'file exists',
  EXDEV: 'invalid cross-device link',
  ENODEV: 'no such device',
  ENOTDIR: 'not a directory',
  EISDIR: 'is a directory',
  EINVAL: 'invalid argument',
  ENFILE: 'too many open files in system',
  EMFILE: 'too many open files',
  ETXTBSY: 'text file busy',
  EFBIG: 'file too large',
  ENOSPC: 'no space left on device',
  ESPIPE: 'illegal seek',
  EROFS: 'read-only file system',
  EMLINK: 'too many links',
  EPIPE: 'broken pipe',
  ENAMETOOLONG: 'file name too long',
  ENOTEMPTY: 'directory not empty',
  ELOOP: 'too many levels of symbolic links',
  EDQUOT: 'disk quota exceeded',
  ENOTSUP: 'operation not supported',
  EOPNOTSUPP: 'operation not supported',
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by peer',
  ETIMEDOUT: 'connection timed out',
};

/** What a failed system call was doing, as "cannot <verb> <path>". */
const SYSCALL_VERBS: Record<string, string> = {
  open: 'open', read: 'read', write: 'write', close: 'write', mkdir: 'create directory', mkdtemp: 'create directory',
  rmdir: 'remove', unlink: 'remove', rm: 'remove', rename: 'rename', link: 'link', symlink: 'create link', readlink: 'read link',
  stat: 'access', lstat: 'access', fstat: 'access', access: 'access', scandir: 'list', opendir: 'list', copyfile: 'copy',
  chmod: 'change the mode of', fchmod: 'change the mode of', chown: 'change the owner of', lchown: 'change the owner of',
  fchown: 'change the owner of', utime: 'set the times of', futime: 'set the times of', lutime: 'set the times of',
  fsync: 'write', ftruncate: 'truncate', truncate: 'truncate', realpath: 'resolve', spawn: 'run', uv_os_get_passwd: 'look up the user of',
};

/**
 * The words for the errno name `code` (ENOENT: "no such file or directory"), or undefined for one
 * we do not know.
 */
export function errnoWords(code: string | undefined): string | undefined {
  return code === undefined ? undefined : ERRNO_WORDS[code];
}

/** A Node system error (fs, child_process) as words: "cannot create directory /x/y: not a directory". */
function systemError(e: NodeJS.ErrnoException): string | undefined {
  const words = errnoWords(e.code);
  if (!words || !e.syscall) return undefined;
  const verb = SYSCALL_VERBS[e.syscall] ?? e.syscall;
  const dest = (e as { dest?: string }).dest;
  const what = e.path ? ` ${e.path}${dest ? ` to ${dest}` : ''}` : '';
  if (e.code === 'ENOSPC' || e.code === 'EDQUOT') return `cannot ${verb}${what}: ${words}: free some disk space and retry`;
  return `cannot ${verb}${what}: ${words}`;
}

/** Turn any thrown value into the one line a user sees (without the `Error: ` prefix). */
export function describeError(err: unknown): string {
  if (err instanceof SkiffError) return err.message;
  if (err instanceof Error) {
    const e = err as NodeJS.ErrnoException;
    const sys = systemError(e);
    if (sys) return sys;
    if (e.code === 'ENOSPC') return `no space left on device${e.path ? ` writing ${e.path}` : ''}: free some disk space and retry`;
    return e.message.split('\n')[0] ?? String(e);
  }
  return String(err);
}

export function exitCodeOf(err: unknown): number {
  return err instanceof SkiffError || err instanceof UsageError ? err.exitCode : EXIT_SKIFF;
}

/**
 * A command line refused before anything ran, printed in Docker CLI's shapes (cli/main.ts):
 * `flag` (pflag's words, exit 125), `args` (a wrong number of arguments, exit 1), `command` (no such
 * command, exit 1), `value` (a value the command refuses before it starts, as `run --pull=bogus`, exit 125).
 */
export class UsageError extends Error {
  readonly kind: 'flag' | 'args' | 'command' | 'value';
  /** The command line it is about ('' for skiff itself, `container ls`) and what follows it in the usage line. */
  readonly line: string;
  readonly usage: string;
  readonly exitCode: number;
  constructor(kind: UsageError['kind'], message: string, line: string, usage: string) {
    super(message);
    this.name = 'UsageError';
    this.kind = kind;
    this.line = line;
    this.usage = usage;
    this.exitCode = kind === 'flag' || kind === 'value' ? EXIT_SKIFF : 1;
  }

  /** The text Docker's CLI prints for it (with `skiff` for `docker`), ending in a newline. */
  text(): string {
    const cmd = this.line ? `skiff ${this.line}` : 'skiff';
    const usage = `Usage:  ${cmd}${this.usage ? ` ${this.usage}` : ''}\n\n`;
    switch (this.kind) {
      case 'flag':
        return `${this.message}\n\n${usage}Run '${cmd} --help' for more information\n`;
      case 'args':
        return `skiff: ${this.message}\n\n${usage}${/accepts no arguments$/.test(this.message) ? 'Run' : 'See'} '${cmd} --help' for more information\n`;
      case 'command':
        return `skiff: ${this.message}\n\n${this.line ? usage : ''}Run '${cmd} --help' for more information\n`;
      case 'value':
        return `skiff: ${this.message}\n\nRun '${cmd} --help' for more information\n`;
    }
  }
}
