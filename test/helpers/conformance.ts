/** Third-party conformance data (../shared/conformance beside the repository; SKIFF_CONFORMANCE_DIR overrides). */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SkiffError } from '../../src/errors.js';

/** dist/test/helpers → repository root */
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const CONFORMANCE = process.env.SKIFF_CONFORMANCE_DIR ?? path.join(REPO, '../shared/conformance');

/** The directory of one data set, and a skip reason when it is missing. */
export function conformanceDir(name: string, mustHave = ''): { dir: string; skip: string | false } {
  const dir = path.join(CONFORMANCE, name);
  const ok = fs.existsSync(path.join(dir, mustHave));
  return { dir, skip: ok ? false : `conformance data not found at ${path.join(dir, mustHave)} (set SKIFF_CONFORMANCE_DIR)` };
}

/** assert.throws matching a SkiffError's message (not `SkiffError: ...`). */
export function throwsMsg(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof SkiffError, String(e));
    assert.match(e.message, re);
    return true;
  });
}
