/**
 * Docker's --cidfile for run and create: the file is made (exclusively: an existing one is refused)
 * before the container, the id written into it once the container exists, and the file removed
 * again when the create fails. Podman's --cidfile of stop and rm reads the id back.
 */
import fs from 'node:fs';
import { describeError, SkiffError } from '../errors.js';

export async function withCidFile<T extends { Id: string }>(file: string | undefined, create: () => Promise<T>): Promise<T> {
  if (file === undefined) return create();
  let fd: number;
  try {
    fd = fs.openSync(file, 'wx', 0o644);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new SkiffError('EINVAL', `Container ID file found, make sure the other container isn't running or delete ${file}`);
    throw new SkiffError('EINVAL', `failed to create the container ID file: ${describeError(e)}`);
  }
  try {
    const rec = await create();
    fs.writeSync(fd, rec.Id);
    return rec;
  } catch (e) {
    fs.rmSync(file, { force: true });
    throw e;
  } finally {
    fs.closeSync(fd);
  }
}

/** Podman's `--cidfile` of stop and rm: the container ids in the files; with `ignore` a missing file is skipped. */
export function idsFromCidFiles(files: readonly string[], ignore: boolean): string[] {
  const ids: string[] = [];
  for (const file of files) {
    let id: string;
    try {
      id = fs.readFileSync(file, 'utf8').trim();
    } catch (e) {
      if (ignore && (e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw new SkiffError('EINVAL', `reading CIDFile: ${describeError(e)}`);
    }
    if (!id) throw new SkiffError('EINVAL', `reading CIDFile: ${file} is empty`);
    ids.push(id);
  }
  return ids;
}

/** The containers named and those in the --cidfile files; undefined when only missing files (--ignore) were named: nothing to do. */
export function withIdsFromCidFiles(refs: readonly string[], files: readonly string[], ignore: boolean): string[] | undefined {
  if (!files.length) return [...refs];
  const all = [...refs, ...idsFromCidFiles(files, ignore)];
  return all.length ? all : undefined;
}
