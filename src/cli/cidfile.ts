/**
 * Docker's --cidfile for run and create: the file is made (exclusively: an existing one is refused)
 * before the container, the id written into it once the container exists, and the file removed
 * again when the create fails.
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
