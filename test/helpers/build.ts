/**
 * A build suite's setting: its own store with the busybox fixture pulled, context directories made
 * from a file map, and the CLI run against that store. Registers the suite's before/after hooks.
 */
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fixtures, skiff, tempStore, type TempStore } from './fixtures.js';

export interface BuildSuite {
  readonly store: TempStore;
  /** The busybox fixture's reference (pulled into the store). */
  readonly busybox: string;
  /** A context directory with these files (removed after the suite). */
  ctx(files: Record<string, string>): string;
  sk(args: string[], env?: Record<string, string>): ReturnType<typeof skiff>;
}

export function buildSuite(prefix: string): BuildSuite {
  let store: TempStore | undefined;
  const dirs: string[] = [];
  const s: BuildSuite = {
    get store(): TempStore {
      assert.ok(store, 'the suite has not started');
      return store;
    },
    get busybox(): string {
      return fixtures().busybox;
    },
    ctx(files) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
      dirs.push(dir);
      for (const [name, content] of Object.entries(files)) {
        fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
        fs.writeFileSync(path.join(dir, name), content);
      }
      fs.chmodSync(dir, 0o755);
      return dir;
    },
    sk: (args, env) => skiff(args, { store: s.store, ...(env ? { env } : {}) }),
  };
  before(async () => {
    store = await tempStore();
    const r = await s.sk(['pull', '-q', s.busybox]);
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
    await store?.cleanup();
  });
  return s;
}
