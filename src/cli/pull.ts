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

/** Run `skiff pull` as a child, its output on stderr. */
function pullInChild(ref: string, platform?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const args = [process.argv[1]!, '--root', paths().root, 'pull', ...(platform ? ['--platform', platform] : []), ref];
    const child = childProcess().spawn(process.execPath, args, { stdio: ['ignore', 2, 2] });
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
