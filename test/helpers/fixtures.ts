/**
 * Test helpers: the fixture registry and images (made by scripts/make-fixtures.sh with umoci and
 * skopeo), a per-test store, and `skiff()` which runs the real CLI binary.
 */
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** dist/test/helpers → repository root */
export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const SKIFF_BIN = process.env.SKIFF_BIN ?? path.join(REPO, 'bin/skiff');

export interface Fixtures {
  registry: string;
  busybox: string;
  busyboxV2s2: string;
  otherBusybox: string;
  multilayer: string;
  multiarch: string;
  /** `stat -c '%n %F %a %u:%g %h'` of every path under /data in umoci's unpacked view of multilayer */
  multilayerDataList: string;
}

export function fixtures(): Fixtures {
  const f = process.env.SKIFF_TEST_FIXTURES;
  if (!f) throw new Error('SKIFF_TEST_FIXTURES is not set: run the tests through scripts/test.sh (make test)');
  return JSON.parse(fs.readFileSync(f, 'utf8')) as Fixtures;
}

export const registry = (): string => fixtures().registry;
export const authRegistry = (): string => {
  const r = process.env.SKIFF_TEST_AUTH_REGISTRY;
  if (!r) throw new Error('SKIFF_TEST_AUTH_REGISTRY is not set');
  return r;
};

export interface TempStore {
  root: string;
  runroot: string;
  home: string;
  env: Record<string, string>;
  cleanup(): Promise<void>;
}

export async function tempStore(): Promise<TempStore> {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-test-'));
  const s: TempStore = {
    root: path.join(base, 'root'),
    runroot: path.join(base, 'run'),
    home: path.join(base, 'home'),
    env: {},
    async cleanup() {
      // Layers and containers hold files owned by subordinate ids in rootless mode: remove them from
      // inside the user namespace, through skiff's own helper.
      await skiff(['system', 'reset', '--force'], { store: s }).catch(() => undefined);
      fs.rmSync(base, { recursive: true, force: true });
    },
  };
  fs.mkdirSync(s.home);
  s.env = { SKIFF_ROOT: s.root, SKIFF_RUNROOT: s.runroot, DOCKER_CONFIG: path.join(s.home, '.docker') };
  return s;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function skiff(
  args: string[],
  o: { store?: TempStore; input?: string; env?: Record<string, string>; killAfterMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(SKIFF_BIN, args, {
      env: { ...process.env, NO_COLOR: '1', ...(o.store?.env ?? {}), ...(o.env ?? {}) },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    const timer = o.killAfterMs ? setTimeout(() => child.kill('SIGKILL'), o.killAfterMs) : undefined;
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    if (o.input !== undefined) child.stdin.end(o.input);
    else child.stdin.end();
  });
}

export function skopeoInspect(ref: string, config = false): Record<string, unknown> {
  const out = execFileSync('skopeo', ['inspect', '--tls-verify=false', ...(config ? ['--config'] : []), `docker://${ref}`]);
  return JSON.parse(out.toString()) as Record<string, unknown>;
}

export const isRootless = (): boolean => process.env.SKIFF_TEST_ROOTLESS === '1';
