/**
 * The pull function the CLI gives the domains that need an image (container create, build): Docker's
 * progress lines on stderr. Rootless outside the user namespace, a child `skiff pull` does it (it
 * enters the namespace itself; this process must stay outside to become the shim).
 */
import { paths } from '../config.js';
import { SkiffError } from '../errors.js';
import type { PullFn } from '../image/progress.js';
import { childProcess } from '../lib/lazy.js';
import { inUserns } from '../userns/enter.js';

/** Run `skiff pull` as a child, its output on stderr (quiet: none, but its error). */
function pullInChild(ref: string, platform?: string, quiet = false): Promise<void> {
  return new Promise((resolve, reject) => {
    const args = [process.argv[1]!, '--root', paths().root, 'pull', ...(quiet ? ['-q'] : []), ...(platform ? ['--platform', platform] : []), ref];
    const child = childProcess().spawn(process.execPath, args, { stdio: ['ignore', quiet ? 'ignore' : 2, 2] });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new SkiffError('ENOIMAGE', `could not pull ${ref}`, code ?? 125))));
  });
}

export const pullToStderr: PullFn = async (ref, { platform, missing }) => {
  if (missing) process.stderr.write(`Unable to find image '${ref}' locally\n`);
  if (paths().rootless && !inUserns()) return pullInChild(ref, platform);
  const [{ pullImage }, { createProgress }] = await Promise.all([import('../image/pull.js'), import('./output/progress.js')]);
  await pullImage(ref, { platform, progress: createProgress(process.stderr) });
};

/** The same pull without progress lines (build's rawjson and tty views report it themselves). */
export const pullQuietly: PullFn = async (ref, { platform }) => {
  if (paths().rootless && !inUserns()) return pullInChild(ref, platform, true);
  const [{ pullImage }, { SILENT }] = await Promise.all([import('../image/pull.js'), import('../image/progress.js')]);
  await pullImage(ref, { platform, progress: SILENT });
};
