/**
 * An image for `run`/`create`/`build`: the local one, or pulled when `--pull` allows (the pull
 * module is loaded only then).
 */
import { paths } from '../config.js';
import { SkiffError } from '../errors.js';
import { childProcess } from '../lib/lazy.js';
import type { ImageRecord } from '../store/images.js';
import { inUserns } from '../userns/enter.js';
import { findImage, imageComplete, requireImage } from './local.js';

/** Run `skiff pull` as a child (it enters the user namespace itself when rootless), output to stderr. */
function pullInChild(ref: string, platform?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const args = [process.argv[1]!, '--root', paths().root, 'pull', ...(platform ? ['--platform', platform] : []), ref];
    const child = childProcess().spawn(process.execPath, args, { stdio: ['ignore', 2, 2] });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new SkiffError('ENOIMAGE', `could not pull ${ref}`, code ?? 125))));
  });
}

/** Resolve a local image, pulling it when allowed (`--pull missing|always|never`). */
export async function ensureImage(
  ref: string,
  opts: { pull: 'missing' | 'always' | 'never'; platform?: string },
): Promise<{ record: ImageRecord; name: string }> {
  let rec = opts.pull === 'always' ? undefined : await findImage(ref);
  if (rec && !imageComplete(rec)) rec = undefined;
  if (!rec) {
    if (opts.pull === 'never') throw new SkiffError('ENOIMAGE', `No such image: ${ref}`);
    if (opts.pull === 'missing') process.stderr.write(`Unable to find image '${ref}' locally\n`);
    if (paths().rootless && !inUserns()) await pullInChild(ref, opts.platform);
    else {
      const { pullImage } = await import('./pull.js');
      await pullImage(ref, { platform: opts.platform, progress: process.stderr });
    }
    rec = await requireImage(ref);
  }
  return { record: rec, name: ref };
}
