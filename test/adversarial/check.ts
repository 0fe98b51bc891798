/**
 * What every adversarial case asserts, whatever it attacks: the one-line error (or the safe result),
 * that nothing was written outside the store (a marker tree planted beside it, and names carrying
 * the case's token anywhere a payload could aim: /, /tmp, the temp dir), that the store kept no
 * staging, and, once a group is through, that the store still pulls, builds and runs.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fixtures, skiff, until, type RunResult, type TempStore } from '../helpers/fixtures.js';
import { treeSnapshot } from '../helpers/tree.js';

/** The store's own top-level directories in a tempStore()'s base (everything else there is "outside"). */
const STORE_PARTS = ['root', 'run', 'home'];

export interface Outside {
  /** base/marker: a file, a directory and a link a payload would love to reach */
  marker: string;
  /** a random word for payload names: anything named with it outside the store is an escape */
  token: string;
  /** assert that nothing outside the store changed since guard() */
  unchanged(what: string): void;
}

/** Plants the marker tree beside `store` and remembers how everything outside the store looks. */
export function guard(store: TempStore): Outside {
  const base = path.dirname(store.root);
  const marker = path.join(base, 'marker');
  fs.mkdirSync(path.join(marker, 'dir'), { recursive: true });
  fs.writeFileSync(path.join(marker, 'file'), 'precious\n');
  fs.writeFileSync(path.join(marker, 'dir', 'file'), 'precious too\n');
  fs.symlinkSync('file', path.join(marker, 'link'));
  const token = `skiff-adv-${crypto.randomBytes(6).toString('hex')}`;
  const before = treeSnapshot(base, STORE_PARTS);
  const strays = (): string[] => {
    const found: string[] = [];
    for (const dir of new Set(['/', '/tmp', os.tmpdir(), '/etc', '/root'])) {
      let names: string[] = [];
      try {
        names = fs.readdirSync(dir);
      } catch {
        continue; // rootless: /root is not ours to read
      }
      for (const n of names) if (n.includes(token)) found.push(path.join(dir, n));
    }
    return found;
  };
  return {
    marker,
    token,
    unchanged(what) {
      assert.deepEqual(treeSnapshot(base, STORE_PARTS), before, `${what}: something outside the store changed`);
      assert.deepEqual(strays(), [], `${what}: a payload landed outside the store`);
    },
  };
}

/** Exit 125 and exactly one line on stderr, `Error: ...` matching `re`. */
export function oneError(r: RunResult, re: RegExp, what: string): void {
  assert.equal(r.code, 125, `${what}: exit ${r.code}\n${r.stderr}`);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `${what}: more than one line on stderr:\n${r.stderr.slice(0, 2000)}`);
  assert.match(lines[0]!, /^Error: /, what);
  assert.ok(lines[0]!.length < 600, `${what}: an error line of ${lines[0]!.length} characters`);
  assert.match(lines[0]!, re, what);
}

const ls = (dir: string): string[] => (fs.existsSync(dir) ? fs.readdirSync(dir).sort() : []);

/** What a refused image must not leave in the store: layers, image records, staging. */
export function storeState(store: TempStore): { layers: string[]; images: string[]; tmp: string[] } {
  return {
    layers: ls(path.join(store.root, 'layers')).filter((n) => /^[0-9a-f]{64}$/.test(n)),
    images: ls(path.join(store.root, 'images')).filter((n) => n !== 'repositories.json'),
    tmp: ls(path.join(store.root, 'tmp')),
  };
}

/** The store still works: a pull of a fixture it lacks (after its rmi), a run, and a build with a RUN step. */
export async function stillWorks(store: TempStore): Promise<void> {
  const busybox = fixtures().images.busybox.ref;
  const ok = async (args: string[], o: { cwd?: string } = {}): Promise<RunResult> => {
    const r = await skiff(args, { store, ...o });
    assert.equal(r.code, 0, `skiff ${args.join(' ')}: ${r.stderr}`);
    return r;
  };
  await skiff(['rmi', '-f', busybox], { store });
  await ok(['pull', '-q', busybox]);
  assert.equal((await ok(['run', '--rm', busybox, 'echo', 'alive'])).stdout, 'alive\n');
  const ctx = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-adv-ctx-'));
  try {
    fs.writeFileSync(path.join(ctx, 'Dockerfile'), `FROM ${busybox}\nRUN echo built > /built\nCMD ["cat", "/built"]\n`);
    await ok(['build', '-q', '-t', 'adv-still-builds', ctx]);
    assert.equal((await ok(['run', '--rm', 'adv-still-builds'])).stdout, 'built\n');
  } finally {
    fs.rmSync(ctx, { recursive: true, force: true });
  }
  // run --rm hands its files to a deleter that ends by itself (tmp/<its pid>-rm-...)
  await until('the --rm deleter to finish', () => storeState(store).tmp.length === 0, 15_000).catch(() => undefined);
  assert.deepEqual(storeState(store).tmp, [], 'staging left after the health check');
}
