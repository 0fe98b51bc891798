/** `build` / `image build` / `buildx build`: a Dockerfile (or Containerfile) and a context → an image. */
import fs from 'node:fs';
import { defineCommand } from '../../command.js';
import { BUILD_OPTIONS } from '../build.js';

export default defineCommand({
  group: 'image',
  name: 'build',
  aliases: ['build', 'builder build', 'buildx build'],
  describe: 'Build an image from a Dockerfile',
  usage: '[OPTIONS] PATH | URL | -',
  positionals: [{ name: 'context', required: true }],
  options: BUILD_OPTIONS,
  userns: true,
  handler: async (o, { context }, ctx) => {
    const quiet = o.quiet || o.progress === 'quiet';
    // tty is a live view on a terminal only: anything else gets plain lines (never a redraw)
    const progress = o.progress === 'tty' && !ctx.stderr.isTTY ? 'plain' : o.progress;
    const [{ build }, { pullToStderr, pullQuietly }, views] = await Promise.all([
      import('../../../builder/builder.js'), import('../../pull.js'),
      !quiet && (progress === 'rawjson' || progress === 'tty') ? import('../../output/build-progress.js') : undefined,
    ]);
    const view = !views ? undefined : progress === 'rawjson' ? views.rawJsonView(ctx.stderr) : views.ttyView(ctx.stderr, !process.env.NO_COLOR);
    const log = quiet ? () => undefined : view ? (line: string) => view.log(line) : (line: string) => ctx.stderr.write(line + '\n');
    const r = await build({
      context,
      file: o.file,
      stdin: () => process.stdin,
      tags: o.tag,
      buildArgs: o['build-arg'],
      target: o.target,
      noCache: o['no-cache'],
      pull: o.pull,
      labels: o.label,
      platform: o.platform,
      network: o.network,
      // a pull's own progress lines would break the live view and the JSON stream: one line there instead
      pullImage: view ? async (ref, opts) => {
        view.log(`pulling ${ref}`);
        await pullQuietly(ref, opts);
      } : quiet ? pullQuietly : pullToStderr, // -q: the image id alone, as Docker (no pull lines either)
      secrets: o.secret,
      ssh: o.ssh,
      outputs: o.output,
      push: o.push,
      metadataFile: o['metadata-file'],
      progress: progress === 'plain' ? 'plain' : 'classic',
      noCacheFilter: o['no-cache-filter'],
      addHosts: o['add-host'],
      ulimits: o.ulimit,
      shmSize: o['shm-size'],
      cacheFrom: o['cache-from'],
      cacheTo: o['cache-to'],
      buildContexts: o['build-context'],
      allow: o.allow,
      log,
      ...(view ? { events: view } : {}),
      output: quiet ? fs.createWriteStream('/dev/null') : process.stderr,
    }).finally(() => view?.close());
    if (o.iidfile) fs.writeFileSync(o.iidfile, r.id);
    if (r.stdoutUsed) return; // stdout carried an output
    if (quiet) return r.id + '\n';
    return `Successfully built ${r.id.slice(7, 19)}\n${o.tag.map((t) => `Successfully tagged ${t}\n`).join('')}`;
  },
});
