/** skiff's Debian package for the tests: the man page and `scripts/make-deb.sh` into a directory of the test's own. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO } from './fixtures.js';

/** Whether `make dist` made the single executable the package holds. */
export const haveDist = (): boolean => fs.existsSync(path.join(REPO, 'dist/skiff'));

/** Builds the man page and the package into DIR; returns the man page's and the package's paths. */
export function buildDeb(dir: string): { man: string; deb: string } {
  const man = path.join(dir, 'skiff.1');
  execFileSync('node', [path.join(REPO, 'scripts/make-man.mjs'), man]);
  const out = path.join(dir, 'deb');
  execFileSync('bash', [path.join(REPO, 'scripts/make-deb.sh'), out], { stdio: 'ignore', env: { ...process.env, SKIFF_DEB_MAN: man } });
  const debs = fs.readdirSync(out).filter((f) => f.endsWith('.deb'));
  if (debs.length !== 1) throw new Error(`scripts/make-deb.sh made ${debs.length} packages in ${out}: ${debs.join(' ')}`);
  return { man, deb: path.join(out, debs[0]!) };
}
