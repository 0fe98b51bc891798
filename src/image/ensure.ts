/**
 * An image for `run`/`create`/`build`: the local one, or pulled through the caller's pull function
 * when `--pull` allows (the CLI's pulls in this process or, rootless, in a child that enters the
 * user namespace; cli/pull.ts).
 */
import { SkiffError } from '../errors.js';
import type { ImageRecord } from '../store/images.js';
import { formatPlatform, parsePlatform, platformMatches } from '../oci/platform.js';
import { findImage, imageComplete, readImageConfig, requireImage } from './local.js';
import type { PullFn } from './progress.js';

/** Resolve a local image, pulling it with `pull` when allowed (`--pull missing|always|never`). */
export async function ensureImage(
  ref: string,
  opts: { pull: 'missing' | 'always' | 'never'; platform?: string },
  pull: PullFn,
): Promise<{ record: ImageRecord; name: string }> {
  let rec = opts.pull === 'always' ? undefined : await findImage(ref);
  if (rec && !imageComplete(rec)) rec = undefined;
  // --platform: a local image of another platform is not the one asked for (Docker pulls the right one)
  const mismatch = async (r: ImageRecord): Promise<string | undefined> => {
    if (!opts.platform) return undefined;
    const cfg = await readImageConfig(r);
    return platformMatches(parsePlatform(opts.platform), cfg) ? undefined : formatPlatform({ os: cfg.os ?? 'linux', architecture: cfg.architecture, variant: cfg.variant });
  };
  const wrongPlatform = (actual: string): SkiffError =>
    new SkiffError('ENOIMAGE', `image with reference ${ref} was found but does not match the specified platform: wanted ${formatPlatform(parsePlatform(opts.platform))}, actual: ${actual}`);
  if (rec) {
    const actual = await mismatch(rec);
    if (actual && opts.pull === 'never') throw wrongPlatform(actual);
    if (actual) rec = undefined;
  }
  if (!rec) {
    if (opts.pull === 'never') throw new SkiffError('ENOIMAGE', `No such image: ${ref}`);
    await pull(ref, { platform: opts.platform, missing: opts.pull === 'missing' && !opts.platform });
    rec = await requireImage(ref);
    const actual = await mismatch(rec);
    if (actual) throw wrongPlatform(actual);
  }
  return { record: rec, name: ref };
}
