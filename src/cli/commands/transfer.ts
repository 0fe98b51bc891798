/** Moving images out of and into the store: push, save, load. */
import fs from 'node:fs';
import path from 'node:path';
import { randomHex } from '../../lib/random.js';
import type { CommandModule } from 'yargs';
import { errnoWords, SkiffError } from '../../errors.js';
import type { ArchiveFormat } from '../../image/archive.js';

const archive = () => import('../../image/archive.js');
import { canonical, parseReference } from '../../oci/reference.js';
import { list } from './run-options.js';

export const push: CommandModule = {
  command: 'push <image>',
  describe: 'Upload an image to a registry',
  builder: (y) =>
    y.positional('image', { type: 'string', demandOption: true })
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'Suppress verbose output' })
      .option('tls-verify', { type: 'boolean', default: true, describe: 'Require HTTPS and verify certificates' }),
  handler: async (a) => {
    const image = String(a.image);
    const { pushImage } = await import('../../image/push.js');
    await pushImage(image, { quiet: Boolean(a.quiet), tlsVerify: a['tls-verify'] as boolean, progress: process.stdout });
    if (a.quiet) process.stdout.write(`${canonical(parseReference(image))}\n`);
  },
};

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

export const save: CommandModule = {
  command: 'save <image..>',
  describe: 'Save one or more images to a tar archive (streamed to STDOUT by default)',
  builder: (y) =>
    y.positional('image', { type: 'string', array: true, demandOption: true, describe: 'Images to save (names or ids)' })
      .option('output', { alias: 'o', type: 'string', describe: 'Write to a file, instead of STDOUT' })
      .option('format', { type: 'string', choices: ['docker-archive', 'oci-archive'], default: 'docker-archive', describe: 'Archive format' }),
  handler: async (a) => {
    const refs = list(a.image);
    const format = a.format as ArchiveFormat;
    const output = a.output as string | undefined;
    if (!output) {
      if (process.stdout.isTTY) throw new SkiffError('EINVAL', 'cowardly refusing to save to a terminal. Use the -o flag or redirect');
      try {
        await (await archive()).saveImages(refs, process.stdout, { format });
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
      await (await archive()).saveImages(refs, out, { format });
      fs.renameSync(tmp, output);
    } catch (e) {
      out.destroy();
      fs.rmSync(tmp, { force: true });
      throw e;
    }
  },
};

export const load: CommandModule = {
  command: 'load',
  describe: 'Load images from a tar archive or STDIN',
  builder: (y) =>
    y.option('input', { alias: 'i', type: 'string', describe: 'Read from tar archive file, instead of STDIN' })
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'Suppress the load output' }),
  handler: async (a) => {
    const file = a.input as string | undefined;
    let input: NodeJS.ReadableStream;
    let size: number | undefined;
    if (file) {
      let st: fs.Stats;
      try {
        fs.accessSync(file, fs.constants.R_OK);
        st = fs.statSync(file);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw new SkiffError('EINVAL', `cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : (errnoWords(code) ?? (e as Error).message)}`);
      }
      if (st.isDirectory()) throw new SkiffError('EINVAL', `cannot read ${file}: it is a directory`);
      size = st.isFile() ? st.size : undefined;
      input = fs.createReadStream(file);
    } else {
      if (process.stdin.isTTY) throw new SkiffError('EINVAL', 'requested load from stdin, but stdin is empty');
      input = process.stdin;
    }
    const { loaded } = await (await archive()).loadArchive(input as import('node:stream').Readable, size === undefined ? {} : { size });
    for (const l of loaded) process.stdout.write(`${l}\n`);
  },
};

export const transferCommands: CommandModule[] = [push, save, load];
