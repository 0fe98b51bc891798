/** `generate systemd`: a systemd unit that starts and stops an existing container (Podman's command). */
import fs from 'node:fs';
import path from 'node:path';
import { defineCommand } from '../../command.js';

export default defineCommand({
  group: 'generate',
  name: 'systemd',
  describe: 'Generate a systemd unit file that starts and stops a container (Podman)',
  usage: '[OPTIONS] CONTAINER',
  positionals: [{ name: 'container', required: true }],
  options: {
    name: { alias: 'n', type: 'boolean', default: false, describe: 'Use the container name instead of its ID' },
    'restart-policy': {
      type: 'string',
      choices: ['no', 'on-success', 'on-failure', 'on-abnormal', 'on-watchdog', 'on-abort', 'always'],
      default: 'on-failure',
      describe: 'Systemd restart-policy (no, on-success, on-failure, on-abnormal, on-watchdog, on-abort, always)',
    },
    time: { alias: 't', type: 'int', describe: "Stop timeout in seconds (default: the container's --stop-timeout, else 10)" },
    files: { alias: 'f', type: 'boolean', default: false, describe: 'Write the unit to a file in the current directory and print its path' },
    'no-header': { type: 'boolean', default: false, describe: 'Skip the header with the file name and the version' },
    'container-prefix': { type: 'string', default: 'container', describe: 'Unit name prefix' },
    separator: { type: 'string', default: '-', describe: 'Separator between the prefix and the name' },
    new: { type: 'boolean', default: false, describe: 'Create a new container on start and remove it on stop (from its run/create command line)' },
  },
  handler: async (o, { container }) => {
    const [{ findContainer }, { systemdUnit }, { skiffVersion }, { SkiffError }] = await Promise.all([
      import('../../../store/containers.js'),
      import('../../../container/systemd-unit.js'),
      import('../../../lib/version.js'),
      import('../../../errors.js'),
    ]);
    if (o.time !== undefined && o.time < 0) throw new SkiffError('EINVAL', `--time must be 0 or more, not ${o.time}`);
    const rec = findContainer(container);
    let runArgs: string[] | undefined;
    if (o.new) {
      const cmd = rec.Config.CreateCommand;
      if (!cmd?.length) throw new SkiffError('EINVAL', `cannot use --new on container "${rec.Id}": no create command found: only works on containers created directly with skiff run or create, not via the API or compose`);
      const [{ findCommand, withoutOptions }, { default: run }] = await Promise.all([import('../../parse.js'), import('../container/run.js')]);
      // the command line as skiff reads it: its own options, then run or create (any spelling) and their arguments
      const lines = [{ group: 'container', name: 'run', aliases: ['run'] }, { group: 'container', name: 'create', aliases: ['create'] }];
      const found = findCommand(cmd.slice(1), lines);
      runArgs = withoutOptions(found.rest, run, found.invokedAs, ['detach', 'rm', 'cidfile', 'replace']);
    }
    // the executable that runs now: the single executable itself, or the checkout's bin/skiff beside bin/skiff.cjs
    const self = process.argv[1] ?? process.execPath;
    const exe = self.endsWith('.cjs') ? self.slice(0, -4) : self;
    const unit = systemdUnit(rec, {
      useName: o.name,
      restartPolicy: o['restart-policy'],
      stopTimeout: o.time ?? rec.Config.StopTimeout ?? 10,
      prefix: o['container-prefix'],
      separator: o.separator,
      header: !o['no-header'],
      exe,
      version: skiffVersion(),
      ...(runArgs ? { runArgs } : {}),
    });
    if (!o.files) return unit.text;
    const file = path.resolve(unit.file);
    fs.writeFileSync(file, unit.text, { mode: 0o644 });
    return `${file}\n`;
  },
});
