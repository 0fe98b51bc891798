/** `run`: create a container and start it (attached, or -d). On the start-up critical path: domain modules load on use. */
import { SkiffError } from '../../../errors.js';
import { defineCommand } from '../../command.js';
import { RUN_OPTIONS, toCreateOptions, warnLine } from '../run-options.js';

/** Set for the CLI that runs again inside the rootless network namespace: the image was pulled before it. */
const PULLED_OUTSIDE = '_SKIFF_NETNS_PULLED';

export default defineCommand({
  group: 'container',
  name: 'run',
  aliases: ['run'],
  describe: 'Create and run a new container from an image',
  usage: '[OPTIONS] IMAGE [COMMAND] [ARG...]',
  positionals: [{ name: 'image', required: true }, { name: 'command', variadic: true }],
  options: RUN_OPTIONS,
  passthrough: true,
  codeCache: true,
  netns: async (o, { image }) => {
    if (!(await import('../../../network/rootless-netns.js')).namesUserNetwork(o.network ?? [])) return false;
    // the image is pulled from here (--pull missing, always), before the namespace: a registry on the
    // host's loopback cannot be reached from inside it; the CLI there then takes the local image
    if (o.pull === 'missing' || o.pull === 'always') {
      const [{ ensureImage }, { pullToStderr }] = await Promise.all([import('../../../image/ensure.js'), import('../../pull.js')]);
      await ensureImage(image, { pull: o.pull, ...(o.platform ? { platform: o.platform } : {}) }, pullToStderr);
      process.env[PULLED_OUTSIDE] = '1';
    }
    return true;
  },
  handler: async (o, { image, command }, ctx) => {
    // Docker's run.go: -a with -d is refused; -t with an attached stdin needs a terminal
    if (o.detach && o.attach.length) throw new SkiffError('EINVAL', 'Conflicting options: -a and -d', 1);
    const terminalIn = o.tty && (o.interactive || o.attach.includes('stdin')) && !o.detach;
    if (terminalIn) (await import('../../tty.js')).refuseTtyWithoutTerminal();
    const [{ createContainer }, { runCreated, runInteractive }, { pullToStderr }, { withCidFile }] = await Promise.all([
      import('../../../container/create.js'), import('../../../container/lifecycle.js'), import('../../pull.js'), import('../../cidfile.js'),
    ]);
    // a terminal with stdin attached (-it, all streams): the detach keys work, checked before anything is made
    const keys = terminalIn && o.interactive && !o.attach.length ? await (await import('../../tty.js')).checkedDetachKeys(o['detach-keys']) : undefined;
    // inside the rootless network namespace: the CLI outside pulled already (see netns above)
    const pulledOutside = process.env[PULLED_OUTSIDE] === '1' && process.env._SKIFF_IN_NETNS === '1';
    delete process.env[PULLED_OUTSIDE];
    const pull = pulledOutside && o.pull === 'always' ? 'missing' : o.pull;
    const rec = await withCidFile(o.cidfile, () => createContainer(toCreateOptions({ ...o, pull, image }, command, ctx.argv), pullToStderr, { warn: warnLine }));
    // attached to neither output: the id is what the user sees (Docker's run)
    if (!o.detach && !rec.Config.AttachStdout && !rec.Config.AttachStderr) ctx.stdout.write(rec.Id + '\n');
    if (keys) return { exitCode: await runInteractive(rec, keys) };
    await runCreated(rec, o.detach, ctx.beforeExecve, { alone: true });
    if (o.detach) return rec.Id + '\n';
  },
});
