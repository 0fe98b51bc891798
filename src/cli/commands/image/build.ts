/** `build` / `image build` / `buildx build`: a Dockerfile (or Containerfile) and a context → an image. */
import fs from 'node:fs';
import { SkiffError } from '../../../errors.js';
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
    const progress = o.progress;
    if (progress === 'rawjson') throw new SkiffError('EINVAL', '--progress=rawjson is not supported by skiff build: use plain');
    const quiet = o.quiet || progress === 'quiet';
    const [{ build }, { pullToStderr }] = await Promise.all([import('../../../builder/builder.js'), import('../../pull.js')]);
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
      pullImage: pullToStderr,
      secrets: o.secret,
      ssh: o.ssh,
      outputs: o.output,
      push: o.push,
      metadataFile: o['metadata-file'],
      progress: progress === 'plain' ? 'plain' : 'classic',
      noCacheFilter: o['no-cache-filter'],
      addHosts: o['add-host'],
      cacheFrom: o['cache-from'],
      cacheTo: o['cache-to'],
      buildContexts: o['build-context'],
      log: quiet ? () => undefined : (line) => ctx.stderr.write(line + '\n'),
      output: quiet ? fs.createWriteStream('/dev/null') : process.stderr,
    });
    if (o.iidfile) fs.writeFileSync(o.iidfile, r.id);
    if (r.stdoutUsed) return; // stdout carried an output
    if (quiet) return r.id + '\n';
    return `Successfully built ${r.id.slice(7, 19)}\n${o.tag.map((t) => `Successfully tagged ${t}\n`).join('')}`;
  },
});
