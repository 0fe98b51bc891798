/**
 * Build outputs (`-o/--output`, `--push`, `--metadata-file`). The image always goes into the
 * store (skiff's `--load` is the default); an output adds a copy elsewhere:
 *   type=local,dest=DIR (or `-o DIR`)   the final stage's filesystem as files
 *   type=tar,dest=FILE|-                 the same as one tar
 *   type=oci|docker,dest=FILE[,name=]   the image as an OCI / docker archive (`save`)
 *   type=image[,name=REF][,push=true]   tag (and push) the image
 * Destinations are checked before the build starts and written through a temporary sibling that
 * is renamed into place, so a failed build or export leaves no partial output.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import { SkiffError } from '../errors.js';
import { diffDir } from '../store/layers.js';
import { packDirectory } from '../store/tarball.js';
import { DiffWriter } from './copy.js';
import { LayeredTree } from './tree.js';

export type Output =
  | { type: 'local'; dest: string }
  | { type: 'tar'; dest: string }
  | { type: 'oci' | 'docker'; dest: string; name: string }
  | { type: 'image'; name: string; push: boolean };

/** Parse `-o` values (`--push` makes every image output, and the tags, pushed). */
export function parseOutputs(flags: string[]): Output[] {
  return flags.map((flag) => {
    if (!flag.includes('=')) {
      if (flag === '-') return { type: 'tar', dest: '-' }; // as buildx: `-o -` is a tar on stdout
      return { type: 'local', dest: flag };
    }
    const kv = new Map<string, string>();
    for (const field of flag.split(',')) {
      const i = field.indexOf('=');
      if (i <= 0) throw new SkiffError('EINVAL', `invalid --output ${flag}: expected type=TYPE,KEY=VALUE,...`);
      kv.set(field.slice(0, i).trim().toLowerCase(), field.slice(i + 1));
    }
    const type = kv.get('type') ?? '';
    const dest = kv.get('dest') ?? '';
    const needDest = (): string => {
      if (!dest) throw new SkiffError('EINVAL', `invalid --output ${flag}: type=${type} needs dest=`);
      return dest;
    };
    switch (type) {
      case 'local':
        return { type, dest: needDest() };
      case 'tar':
        return { type, dest: needDest() };
      case 'oci':
      case 'docker':
        return { type, dest: needDest(), name: kv.get('name') ?? '' };
      case 'image':
      case 'registry':
        return { type: 'image', name: kv.get('name') ?? '', push: type === 'registry' || kv.get('push') === 'true' };
      default:
        throw new SkiffError('EINVAL', `invalid --output ${flag}: unsupported type "${type}" (local, tar, oci, docker, image, registry)`);
    }
  });
}

/** Refuse, before any work, a destination whose directory is missing or not writable. */
export function checkOutputs(outputs: Output[]): void {
  for (const o of outputs) {
    if (o.type === 'image' || o.dest === '-') continue;
    const dir = path.dirname(path.resolve(o.dest));
    try {
      fs.accessSync(dir, fs.constants.W_OK | fs.constants.X_OK);
    } catch (e) {
      const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such directory' : 'permission denied';
      throw new SkiffError('EINVAL', `cannot write output ${o.dest}: ${dir}: ${why}`);
    }
    if (o.type === 'local' && fs.existsSync(o.dest) && !fs.statSync(o.dest).isDirectory()) {
      throw new SkiffError('EINVAL', `cannot write output ${o.dest}: it exists and is not a directory`);
    }
  }
}

const sibling = (dest: string): string => path.join(path.dirname(path.resolve(dest)), `.${path.basename(dest)}.skiff-${process.pid}`);

/** The merged filesystem of these layers (chain ids, bottom first), copied into a new directory `dir`. */
function copyRootfs(layers: string[], dir: string): void {
  fs.mkdirSync(dir, { mode: 0o755 });
  new DiffWriter(dir, new LayeredTree([])).copyTree(new LayeredTree(layers.map(diffDir).reverse()), '', '', {});
}

/** Write one filesystem output of an image whose layers are `layers`; `stdout` takes `dest=-`. */
export async function writeFilesystemOutput(o: Output & { type: 'local' | 'tar' }, layers: string[], stdout: Writable): Promise<void> {
  const tmp = sibling(o.dest === '-' ? 'stdout' : o.dest);
  const staged = o.type === 'tar' ? path.join(fs.mkdtempSync(path.join(path.dirname(tmp), '.skiff-out-')), 'rootfs') : tmp;
  try {
    copyRootfs(layers, staged);
    if (o.type === 'local') {
      // into DEST: entries of the same name are replaced, others there are kept (as BuildKit)
      await fsp.mkdir(o.dest, { recursive: true });
      for (const n of fs.readdirSync(staged)) {
        await fsp.rm(path.join(o.dest, n), { recursive: true, force: true });
        await fsp.rename(path.join(staged, n), path.join(o.dest, n));
      }
      return;
    }
    if (o.dest === '-') {
      await pipeline(packDirectory(staged), stdout, { end: false });
      return;
    }
    await pipeline(packDirectory(staged), fs.createWriteStream(tmp, { mode: 0o644 }));
    await fsp.rename(tmp, o.dest);
  } finally {
    await fsp.rm(o.type === 'tar' ? path.dirname(staged) : staged, { recursive: true, force: true });
    await fsp.rm(tmp, { recursive: true, force: true });
  }
}

/** An image archive (`save`) of `ref` at `dest` (or on `stdout` for `-`). */
export async function writeArchiveOutput(o: Output & { type: 'oci' | 'docker' }, ref: string, stdout: Writable): Promise<void> {
  const { saveImages } = await import('../image/archive.js');
  const format = o.type === 'oci' ? 'oci-archive' : 'docker-archive';
  if (o.dest === '-') return saveImages([ref], stdout, { format });
  const tmp = sibling(o.dest);
  try {
    // opened now (not later by the stream) so that the rm below never runs before the open
    const out = fs.createWriteStream(tmp, { fd: fs.openSync(tmp, 'wx', 0o644) });
    try {
      await saveImages([ref], out, { format });
    } finally {
      out.destroy();
    }
    await fsp.rename(tmp, o.dest);
  } finally {
    await fsp.rm(tmp, { force: true });
  }
}
