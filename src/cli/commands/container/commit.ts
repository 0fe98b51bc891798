/** `commit`: a container's changes → a new image. */
import { defineCommand } from '../../command.js';

export default defineCommand({
  group: 'container',
  name: 'commit',
  aliases: ['commit'],
  describe: "Create a new image from a container's changes",
  usage: '[OPTIONS] CONTAINER [REPOSITORY[:TAG]]',
  positionals: [{ name: 'container', required: true }, { name: 'repository' }],
  options: {
    author: { alias: 'a', type: 'string', describe: 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")' },
    message: { alias: 'm', type: 'string', describe: 'Commit message' },
    change: { alias: 'c', type: 'string', repeat: true, describe: 'Apply Dockerfile instruction to the created image (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR, STOPSIGNAL)' },
    pause: { alias: 'p', type: 'boolean', default: true, describe: 'Pause container during commit' },
    quiet: { alias: 'q', type: 'boolean', default: false, describe: 'Suppress the warnings (Podman)' },
  },
  userns: true,
  handler: async (o, { container, repository }, ctx) => {
    const { commitContainer } = await import('../../../builder/commit.js');
    const warn = (line: string): void => void (o.quiet || ctx.stderr.write(line + '\n'));
    const id = await commitContainer(container, { repository, author: o.author, message: o.message, changes: o.change, pause: o.pause, warn });
    return id + '\n';
  },
});
