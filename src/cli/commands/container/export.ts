/** `export`: a container's filesystem as a tar archive (stdout, or `-o FILE`). */
import fs from 'node:fs';
import { SkiffError } from '../../../errors.js';
import { defineCommand } from '../../command.js';

export default defineCommand({
  group: 'container',
  name: 'export',
  aliases: ['export'],
  describe: "Export a container's filesystem as a tar archive",
  usage: '[OPTIONS] CONTAINER',
  positionals: [{ name: 'container', required: true }],
  options: {
    output: { alias: 'o', type: 'string', describe: 'Write to a file, instead of STDOUT' },
  },
  userns: true,
  handler: async (o, { container }, ctx) => {
    const { exportContainer } = await import('../../../builder/changes.js');
    if (o.output === undefined || o.output === '-') {
      if (ctx.stdout.isTTY) throw new SkiffError('EINVAL', 'cowardly refusing to save to a terminal. Use the -o flag or redirect', 1);
      await exportContainer(container, () => ctx.stdout);
      return;
    }
    const output = o.output;
    let file: fs.WriteStream | undefined;
    try {
      // the file is made once the container is found (a missing one leaves no file)
      await exportContainer(container, () => (file = fs.createWriteStream('', { fd: fs.openSync(output, 'w', 0o644) })));
      await new Promise<void>((resolve, reject) => file!.end((e?: Error | null) => (e ? reject(e) : resolve())));
    } catch (e) {
      if (file) {
        file.destroy();
        fs.rmSync(output, { force: true });
      }
      throw e;
    }
  },
});
