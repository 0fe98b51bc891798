/** `compose watch`: build and start the services (unless --no-up), then apply their `develop.watch` rules as files change, until Ctrl-C. */
import { defineCommand, type CommandContext } from '../../command.js';
import type { Project } from '../../../compose/model.js';
import { whileHandlingInterrupts } from '../../../lib/interrupt.js';
import { composeExit, inProjectNetns, loadFromContext, quietPull, reporter } from './project.js';

/** Watch the project's services until SIGINT/SIGTERM (or `until` settles); Docker Compose's watch lines on stdout. */
export async function watchUntilStopped(ctx: CommandContext, project: Project, services: string[], o: { quiet: boolean; prune: boolean; until?: Promise<unknown> }): Promise<void> {
  const { watchProject } = await import('../../../compose/engine/watch.js');
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  o.until?.then(onSignal, onSignal); // a failed attach ends the watch too (its error is the command's)
  await whileHandlingInterrupts(onSignal, () =>
    watchProject(project, {
      services, prune: o.prune, signal: stop.signal, log: (l) => ctx.stdout.write(`${l}\n`), stdout: ctx.stdout, stderr: ctx.stderr, pullFn: quietPull,
      ...(o.quiet ? {} : { buildLog: (l: string) => ctx.stderr.write(`${l}\n`) }),
    }, reporter(ctx)));
}

export default defineCommand({
  group: 'compose',
  name: 'watch',
  describe: 'Watch build context for service and rebuild/refresh containers when files are updated',
  usage: '[SERVICE...]',
  positionals: [{ name: 'service', variadic: true }],
  options: {
    'no-up': { type: 'boolean', default: false, describe: 'Do not build & start services before watching' },
    prune: { type: 'boolean', default: true, describe: 'Prune dangling images on rebuild' },
    quiet: { type: 'boolean', default: false, describe: 'hide build output' },
  },
  userns: true,
  netns: inProjectNetns,
  handler: (o, { service }, ctx) =>
    composeExit(async () => {
      const project = await loadFromContext(ctx);
      const { activeRules } = await import('../../../compose/engine/watch-rules.js');
      activeRules(project, service); // nothing to watch: Docker Compose's error before anything starts
      if (!o['no-up']) {
        // as Docker Compose: the services with a build and watch rules are built at every start
        for (const s of Object.values(project.services)) if (s.build && s.watch.length) s.pullPolicy = 'build';
        const { up } = await import('../../../compose/engine/engine.js');
        await up(project, { services: service, pullFn: quietPull, ...(o.quiet ? {} : { buildLog: (l: string) => ctx.stderr.write(`${l}\n`) }) }, reporter(ctx));
      }
      await watchUntilStopped(ctx, project, service, { quiet: o.quiet, prune: o.prune });
      return { exitCode: 130 };
    }),
});
