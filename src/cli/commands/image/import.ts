/** `import`: a root filesystem tarball (a file or `-` for stdin) → a one-layer image. */
import fs from 'node:fs';
import { errnoWords, SkiffError } from '../../../errors.js';
import { defineCommand } from '../../command.js';

export default defineCommand({
  group: 'image',
  name: 'import',
  aliases: ['import'],
  describe: 'Import the contents from a tarball to create a filesystem image',
  usage: '[OPTIONS] file|- [REPOSITORY[:TAG]]',
  positionals: [{ name: 'file', required: true }, { name: 'repository' }],
  options: {
    change: { alias: 'c', type: 'string', repeat: true, describe: 'Apply Dockerfile instruction to the created image' },
    message: { alias: 'm', type: 'string', describe: 'Set commit message for imported image' },
  },
  userns: true,
  handler: async (o, { file, repository }, ctx) => {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(file)) throw new SkiffError('EINVAL', `importing from a URL is not supported: download ${file} and import the file`, 1);
    if (file !== '-') {
      try {
        fs.accessSync(file, fs.constants.R_OK);
      } catch (e) {
        throw new SkiffError('EINVAL', `open ${file}: ${errnoWords((e as NodeJS.ErrnoException).code) ?? (e as Error).message}`, 1);
      }
    }
    const { importImage } = await import('../../../builder/import.js');
    const input = file === '-' ? ctx.stdin : fs.createReadStream(file);
    const id = await importImage(input, { source: file, repository, changes: o.change, message: o.message });
    return id + '\n';
  },
});
