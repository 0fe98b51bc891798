/**
 * `skiff-shim net setup|teardown` from the CLI: for `network connect/disconnect`, the crash sweep
 * and tests. (A container's own start runs the same setup inside the shim, at its network step.)
 * A plan with published ports or pasta needs a holder: the shim stays (--hold) until release()
 * closes its stdin; if this process dies first, the closed pipe releases them just the same.
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { SkiffError } from '../errors.js';
import { childProcess } from '../lib/lazy.js';
import { shimMessage, shimPath } from '../native.js';
import { stagingPath } from '../store/atomic.js';
import type { NetworkPlan, NetworkStatus } from './plan.js';

export interface SetupHandle {
  status: NetworkStatus;
  /** the holding shim (published ports, pasta), while it runs */
  holder?: number;
  /** Give up what the setup holds (ports, pasta); the namespace's interfaces stay until teardown or its end. */
  release(): Promise<void>;
}

async function planFile(plan: NetworkPlan): Promise<string> {
  const file = await stagingPath('netplan');
  fs.writeFileSync(file, JSON.stringify(plan), { mode: 0o600 });
  return file;
}

/** The shim's one-line error as a SkiffError (its exit code, 125 by default). */
function shimError(stderr: string, code: number | null): SkiffError {
  return new SkiffError('ERUNTIME', shimMessage(stderr) || `skiff-shim net failed (exit ${code ?? 'signal'})`, code || 125);
}

function collect(child: ChildProcess): { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
  return { out: () => out, err: () => err };
}

const exited = (child: ChildProcess): Promise<number | null> =>
  new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(child.exitCode) : child.once('close', (c) => resolve(c))));

/** Set `plan` up for `target` (a pid, or a netns file such as /proc/PID/ns/net). */
export async function shimSetup(plan: NetworkPlan, target: number | string): Promise<SetupHandle> {
  const hold = plan.ports.length > 0 || plan.pasta !== undefined;
  const file = await planFile(plan);
  const args = ['net', 'setup', ...(hold ? ['--hold'] : []), file, String(target)];
  const child = childProcess().spawn(shimPath(), args, { stdio: [hold ? 'pipe' : 'ignore', 'pipe', 'pipe'], argv0: 'skiff-shim' });
  const io = collect(child);
  try {
    const status = await new Promise<NetworkStatus>((resolve, reject) => {
      const onData = (): void => {
        const nl = io.out().indexOf('\n');
        if (nl < 0) return;
        child.stdout?.off('data', onData);
        try {
          resolve(JSON.parse(io.out().slice(0, nl)) as NetworkStatus);
        } catch (e) {
          reject(e);
        }
      };
      child.stdout?.on('data', onData);
      child.once('error', reject);
      child.once('close', (code) => reject(shimError(io.err(), code)));
    });
    if (!hold) await exited(child);
    return {
      status,
      ...(hold && child.pid ? { holder: child.pid } : {}),
      release: async () => {
        child.stdin?.end();
        await exited(child);
      },
    };
  } catch (e) {
    child.kill('SIGTERM');
    await exited(child);
    throw e;
  } finally {
    fs.rmSync(file, { force: true });
  }
}

/**
 * Remove what the plan's setup left outside the namespace (idempotent). `via`: the command to run
 * the shim's teardown through (rootless: `skiff-shim netns ... --`, rootless-netns.ts teardownVia()).
 */
export async function shimTeardown(plan: NetworkPlan, via: string[] = []): Promise<void> {
  const argv = via.length ? [shimPath(), ...via.slice(1), shimPath(), 'net', 'teardown'] : [shimPath(), 'net', 'teardown'];
  const file = await planFile(plan);
  try {
    const child = childProcess().spawn(argv[0]!, [...argv.slice(1), file], { stdio: ['ignore', 'ignore', 'pipe'], argv0: 'skiff-shim' });
    const io = collect(child);
    const code = await exited(child);
    if (code !== 0) throw shimError(io.err(), code);
  } finally {
    fs.rmSync(file, { force: true });
  }
}
