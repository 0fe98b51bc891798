/**
 * An image for `run`/`create`/`build`: the local one, or pulled through the caller's pull function
 * when `--pull` allows (the CLI's pulls in this process or, rootless, in a child that enters the
 * user namespace; cli/pull.ts).
 */
import { SkiffError } from '../errors.js';
import type { ImageRecord } from '../store/images.js';
import { findImage, imageComplete, requireImage } from './local.js';
import type { PullFn } from './progress.js';

/** Resolve a local image, pulling it with `pull` when allowed (`--pull missing|always|never`). */
export async function ensureImage(
  ref: string,
  opts: { pull: 'missing' | 'always' | 'never'; platform?: string },
  pull: PullFn,
): Promise<{ record: ImageRecord; name: string }> {
  let rec = opts.pull === 'always' ? undefined : await findImage(ref);
  if (rec && !imageComplete(rec)) rec = undefined;
  if (!rec) {
    if (opts.pull === 'never') throw new SkiffError('ENOIMAGE', `No such image: ${ref}`);
    await pull(ref, { platform: opts.platform, missing: opts.pull === 'missing' });
    rec = await requireImage(ref);
  }
  return { record: rec, name: ref };
}
