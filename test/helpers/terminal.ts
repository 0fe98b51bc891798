/**
 * A real terminal for `-it` tests: util-linux `script` allocates a pty and runs a command on it
 * as the session's controlling terminal; the test types into script's stdin (→ the pty master) and
 * reads what the terminal shows from its stdout. A wrapper shell around the command prints the
 * outer terminal's name and its `stty -g` settings before and after, so a test can resize the
 * terminal (TIOCSWINSZ on it sends SIGWINCH to its foreground process group, as a terminal emulator
 * does) and check that the host terminal's mode was restored.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';

export interface TerminalExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface TerminalOptions {
  rows?: number;
  cols?: number;
  env?: Record<string, string>;
}

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

export class Terminal {
  /** everything the terminal has shown, with carriage returns removed */
  output = '';
  readonly exited: Promise<TerminalExit>;
  private readonly child: ChildProcess;
  private readonly waiters = new Set<() => void>();
  private done = false;

  /** Runs argv on a new pty of rows × cols (default 24 × 80). */
  constructor(argv: string[], o: TerminalOptions = {}) {
    const cmd = argv.map(quote).join(' ');
    const wrapper = [
      `printf 'OUTER-TTY=%s\\n' "$(tty)"`,
      `stty rows ${o.rows ?? 24} cols ${o.cols ?? 80}`,
      `printf 'STTY-BEFORE=%s\\n' "$(stty -g)"`,
      `${cmd}`,
      'rc=$?',
      `printf '\\nSTTY-AFTER=%s\\n' "$(stty -g)"`,  // on a line of its own: the container may leave a prompt
      'exit $rc',
    ].join('; ');
    this.child = spawn('script', ['-qfec', wrapper, '/dev/null'], {
      env: { ...process.env, NO_COLOR: '1', TERM: 'xterm', ...(o.env ?? {}) },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const take = (d: Buffer): void => {
      this.output += d.toString('utf8').replace(/\r/g, '');
      for (const w of this.waiters) w();
    };
    this.child.stdout!.on('data', take);
    this.child.stderr!.on('data', take);
    this.child.stdin!.on('error', () => undefined);
    this.exited = new Promise((resolve, reject) => {
      this.child.on('error', reject);
      this.child.on('close', (code, signal) => {
        this.done = true;
        for (const w of this.waiters) w();
        resolve({ code, signal });
      });
    });
  }

  /** Types into the terminal (the bytes a keyboard would send: "\r" is Enter, "\x03" is Ctrl-C). */
  type(keys: string): void {
    this.child.stdin!.write(keys);
  }

  /**
   * Waits until the output after `from` (default: everything) matches re; returns the match.
   * Fails with the whole output when the terminal exits first or nothing matches in timeoutMs.
   */
  waitFor(re: RegExp, from = 0, timeoutMs = 20_000): Promise<RegExpExecArray> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const m = re.exec(this.output.slice(from));
        if (m) return finish(() => resolve(m));
        if (this.done) return finish(() => reject(new Error(`terminal exited before ${re} appeared; it showed:\n${this.output}`)));
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`${re} did not appear within ${timeoutMs} ms; the terminal showed:\n${this.output}`))), timeoutMs);
      const finish = (f: () => void): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
        f();
      };
      this.waiters.add(check);
      check();
    });
  }

  /** The outer terminal's device (/dev/pts/N), once the wrapper has printed it. */
  async device(): Promise<string> {
    return (await this.waitFor(/^OUTER-TTY=(\S+)$/m))[1]!;
  }

  /** Resizes the outer terminal: its foreground process group (the CLI) gets SIGWINCH. */
  async resize(rows: number, cols: number): Promise<void> {
    execFileSync('stty', ['-F', await this.device(), 'rows', String(rows), 'cols', String(cols)]);
  }

  /** The outer terminal's `stty -g` before the command ran and after it returned. */
  settings(): { before?: string; after?: string } {
    return {
      before: /^STTY-BEFORE=(\S+)$/m.exec(this.output)?.[1],
      after: /^STTY-AFTER=(\S+)$/m.exec(this.output)?.[1],
    };
  }

  /** The terminal goes away (its emulator is killed): the pty is hung up under everything on it. */
  async hangup(): Promise<TerminalExit> {
    this.child.kill('SIGKILL');
    return this.exited;
  }

  /** Ends the session (closes its input, then SIGKILLs script if it is still there). */
  async close(): Promise<TerminalExit> {
    if (!this.done) {
      this.child.stdin!.end();
      const t = setTimeout(() => this.child.kill('SIGKILL'), 5000);
      const r = await this.exited;
      clearTimeout(t);
      return r;
    }
    return this.exited;
  }
}
