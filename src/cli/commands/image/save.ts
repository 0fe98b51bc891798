/** `save`: images to a docker or OCI archive (a file, written beside and renamed, or stdout). */
import fs from 'node:fs';
import path from 'node:path';
import { errnoWords, SkiffError } from '../../../errors.js';
import { randomHex } from '../../../lib/random.js';
import { defineCommand } from '../../command.js';

/**
 * Docker CLI's check of `save -o` (ValidateOutputPath): the directory must exist, and the path be
 * a regular file if anything. A directory Docker lets through (the rename then fails) is refused
 * here too; a device is never replaced by the archive (the rename would, as root: `-o /dev/null`).
 */
function validateOutputPath(output: string): void {
  const dir = path.dirname(path.normalize(output));
  const fail = (why: string): never => {
    throw new SkiffError('EINVAL', `failed to save image: invalid output path: ${why}`);
  };
  const d = fs.statSync(dir, { throwIfNoEntry: false });
  if (!d) fail(`directory ${JSON.stringify(dir)} does not exist`);
  if (!d!.isDirectory()) fail(`${JSON.stringify(dir)} is not a directory`);
  const st = fs.statSync(output, { throwIfNoEntry: false });
  if (st && !st.isFile()) {
    fail(`${JSON.stringify(output)} must be a regular file: it is a ${st.isDirectory() ? 'directory' : st.isCharacterDevice() || st.isBlockDevice() ? 'device' : 'special file'}`);
  }
}

export default defineCommand({
  group: 'image',
  name: 'save',
  aliases: ['save'],
  describe: 'Save one or more images to a tar archive (streamed to STDOUT by default)',
  positionals: [{ name: 'image', required: true, variadic: true }],
  options: {
    output: { alias: 'o', type: 'string', describe: 'Write to a file, instead of STDOUT' },
    format: { type: 'string', choices: ['docker-archive', 'oci-archive'], default: 'docker-archive', describe: 'Archive format' },
  },
  userns: true,
  handler: async (o, { image: refs }, ctx) => {
    const format = o.format;
    const output = o.output;
    const { saveImages } = await import('../../../image/archive.js');
    if (!output) {
      if (ctx.stdout.isTTY) throw new SkiffError('EINVAL', 'cowardly refusing to save to a terminal. Use the -o flag or redirect');
      try {
        await saveImages(refs, ctx.stdout, { format });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EPIPE') throw new SkiffError('EINVAL', 'the archive was not read to its end: its reader closed the pipe');
        throw e;
      }
      return;
    }
    validateOutputPath(output);
    // written beside the target and renamed: a failed save leaves no truncated archive
    const tmp = path.join(path.dirname(path.resolve(output)), `.${path.basename(output)}.skiff-${randomHex(4)}`);
    // opened here, not by the stream (asynchronously): a save that fails at once must not see its
    // rm run before the open that creates the file
    let fd: number;
    try {
      fd = fs.openSync(tmp, 'wx', 0o644);
    } catch (e) {
      throw new SkiffError('EINVAL', `failed to save image: cannot write in ${path.dirname(tmp)}: ${errnoWords((e as NodeJS.ErrnoException).code) ?? (e as Error).message}`);
    }
    const out = fs.createWriteStream(tmp, { fd });
    try {
      await saveImages(refs, out, { format });
      fs.renameSync(tmp, output);
    } catch (e) {
      out.destroy();
      fs.rmSync(tmp, { force: true });
      throw e;
    }
  },
});
