/** `load`: images from a docker or OCI archive (a file, or stdin). */
import fs from 'node:fs';
import type { Readable } from 'node:stream';
import { errnoWords, SkiffError } from '../../../errors.js';
import { defineCommand } from '../../command.js';

export default defineCommand({
  group: 'image',
  name: 'load',
  aliases: ['load'],
  describe: 'Load images from a tar archive or STDIN',
  positionals: [],
  options: {
    input: { alias: 'i', type: 'string', describe: 'Read from tar archive file, instead of STDIN' },
    quiet: { alias: 'q', type: 'boolean', default: false, describe: 'Suppress the load output' },
  },
  userns: true,
  handler: async (o, _a, ctx) => {
    const file = o.input;
    let input: Readable;
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
      if (ctx.stdin.isTTY) throw new SkiffError('EINVAL', 'requested load from stdin, but stdin is empty');
      input = ctx.stdin;
    }
    const { loaded } = await (await import('../../../image/archive.js')).loadArchive(input, size === undefined ? {} : { size });
    return loaded.map((l) => `${l}\n`).join('');
  },
});
