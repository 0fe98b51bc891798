/** Moving images out of and into the store: push, save, load. */
import fs from 'node:fs';
import path from 'node:path';
import { randomHex } from '../../random.js';
import type { CommandModule } from 'yargs';
import { SkiffError } from '../../errors.js';
import type { ArchiveFormat } from '../../image/archive.js';

const archive = () => import('../../image/archive.js');
import { canonical, parseReference } from '../../image/reference.js';
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
    // written beside the target and renamed: a failed save leaves no truncated archive
    const tmp = path.join(path.dirname(path.resolve(output)), `.${path.basename(output)}.skiff-${randomHex(4)}`);
    // opened here, not by the stream (asynchronously): a save that fails at once must not see its
    // rm run before the open that creates the file
    const out = fs.createWriteStream(tmp, { fd: fs.openSync(tmp, 'w', 0o644) });
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
    if (file) {
      try {
        fs.accessSync(file, fs.constants.R_OK);
      } catch (e) {
        throw new SkiffError('EINVAL', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
      }
      input = fs.createReadStream(file);
    } else {
      if (process.stdin.isTTY) throw new SkiffError('EINVAL', 'requested load from stdin, but stdin is empty');
      input = process.stdin;
    }
    const { loaded } = await (await archive()).loadArchive(input as import('node:stream').Readable);
    for (const l of loaded) process.stdout.write(`${l}\n`);
  },
};

export const transferCommands: CommandModule[] = [push, save, load];
