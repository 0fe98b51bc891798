/** `build` (Dockerfile → image) and `commit` (container → image). */
import fs from 'node:fs';
import type { CommandModule } from 'yargs';
import { SkiffError } from '../../errors.js';
import type { OptionTable } from '../options.js';
import { list } from './run-options.js';
import { pullToStderr } from '../pull.js';

/** `build`'s options: one entry each (yargs' builder is derived from this table). */
export const BUILD_OPTIONS = {
  tag: { alias: 't', type: 'string', describe: 'Name and optionally a tag (name:tag); repeatable' },
  file: { alias: 'f', type: 'string', describe: "Name of the Dockerfile (default: PATH/Dockerfile; '-' reads stdin)" },
  'build-arg': { type: 'string', describe: 'Set build-time variables (KEY=VALUE, or KEY to take it from the environment)' },
  target: { type: 'string', describe: 'Set the target build stage to build' },
  'no-cache': { type: 'boolean', default: false, describe: 'Do not use cache when building the image' },
  pull: { type: 'boolean', default: false, describe: 'Always attempt to pull a newer version of the base images' },
  quiet: { alias: 'q', type: 'boolean', default: false, describe: 'Suppress the build output and print image ID on success' },
  iidfile: { type: 'string', describe: 'Write the image ID to the file' },
  label: { type: 'string', describe: 'Set metadata for an image (KEY=VALUE); repeatable' },
  platform: { type: 'string', describe: 'Target platform (only the host platform is supported)' },
  network: { type: 'string', describe: 'Network for RUN instructions: default (the default network with outbound; rootless: none for now), none or host' },
  secret: { type: 'string', describe: 'Secret to expose to RUN --mount=type=secret (id=ID[,src=FILE|env=VAR]); repeatable' },
  ssh: { type: 'string', describe: 'SSH agent socket to expose to RUN --mount=type=ssh (default|ID[=SOCKET]); repeatable' },
  output: { alias: 'o', type: 'string', describe: 'Output destination: type=local|tar|oci|docker|image|registry[,dest=PATH][,name=REF][,push=true], or DIR; repeatable' },
  push: { type: 'boolean', default: false, describe: 'Push the image (every -t name) after the build' },
  load: { type: 'boolean', default: false, describe: 'Load the image into the image store (always done by skiff)' },
  'metadata-file': { type: 'string', describe: 'Write build result metadata (image id, digest, names) to the file as JSON' },
  progress: { type: 'string', choices: ['auto', 'plain', 'tty', 'quiet', 'rawjson'], default: 'auto', describe: "Progress output: plain is BuildKit's '#N [stage k/n] STEP' lines; auto and tty skiff's STEP lines; quiet is -q" },
  'no-cache-filter': { type: 'string', describe: 'Do not use the cache for this stage (repeatable)' },
  'add-host': { type: 'string', describe: 'Add a custom host-to-IP mapping for RUN steps (HOST:IP); repeatable' },
} as const satisfies OptionTable;

export const buildCmd: CommandModule = {
  command: 'build <context>',
  describe: 'Build an image from a Dockerfile',
  builder: (y) =>
    y.usage('Usage: skiff build [OPTIONS] PATH | -')
      .positional('context', { type: 'string', demandOption: true, describe: "Build context: a directory, or '-' for a tar on stdin" })
      .options(BUILD_OPTIONS),
  handler: async (a) => {
    const progress = String(a.progress);
    if (progress === 'rawjson') throw new SkiffError('EINVAL', '--progress=rawjson is not supported by skiff build: use plain');
    const quiet = Boolean(a.quiet) || progress === 'quiet';
    // yargs turns a lone '-' positional into ''
    const context = String(a.context ?? '') || (process.argv.slice(2).includes('-') ? '-' : '.');
    const { build } = await import('../../builder/builder.js');
    const r = await build({
      context,
      file: a.file as string | undefined,
      stdin: () => process.stdin,
      tags: list(a.tag),
      buildArgs: list(a['build-arg']),
      target: a.target as string | undefined,
      noCache: Boolean(a['no-cache']),
      pull: Boolean(a.pull),
      labels: list(a.label),
      platform: a.platform as string | undefined,
      network: a.network as string | undefined,
      pullImage: pullToStderr,
      secrets: list(a.secret),
      ssh: list(a.ssh),
      outputs: list(a.output),
      push: Boolean(a.push),
      metadataFile: a['metadata-file'] as string | undefined,
      progress: progress === 'plain' ? 'plain' : 'classic',
      noCacheFilter: list(a['no-cache-filter']),
      addHosts: list(a['add-host']),
      log: quiet ? () => undefined : (line) => process.stderr.write(line + '\n'),
      output: quiet ? devNull() : process.stderr,
    });
    if (a.iidfile) fs.writeFileSync(String(a.iidfile), r.id);
    if (r.stdoutUsed) return; // stdout carried an output
    if (quiet) {
      process.stdout.write(r.id + '\n');
      return;
    }
    process.stdout.write(`Successfully built ${r.id.slice(7, 19)}\n`);
    for (const t of list(a.tag)) process.stdout.write(`Successfully tagged ${t}\n`);
  },
};

function devNull(): NodeJS.WritableStream & import('node:stream').Writable {
  return fs.createWriteStream('/dev/null');
}

export const commitCmd: CommandModule = {
  command: 'commit <container> [repository]',
  describe: "Create a new image from a container's changes",
  builder: (y) =>
    y.usage('Usage: skiff commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]')
      .positional('container', { type: 'string', demandOption: true })
      .positional('repository', { type: 'string' })
      .option('author', { alias: 'a', type: 'string', describe: 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")' })
      .option('message', { alias: 'm', type: 'string', describe: 'Commit message' })
      .option('change', { alias: 'c', type: 'string', describe: 'Apply Dockerfile instruction to the created image (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR, STOPSIGNAL)' })
      .option('pause', { alias: 'p', type: 'boolean', default: true, describe: 'Accepted (the container is not paused)' }),
  handler: async (a) => {
    const { commitContainer } = await import('../../builder/commit.js');
    const id = await commitContainer(String(a.container), {
      repository: a.repository as string | undefined,
      author: a.author as string | undefined,
      message: a.message as string | undefined,
      changes: list(a.change),
    });
    process.stdout.write(id + '\n');
  },
};

/** `buildx build ...`: the same command and flags (CI scripts written for buildx run unchanged). */
export const buildxCmd: CommandModule = {
  command: 'buildx',
  describe: 'Docker Buildx: `buildx build` is `build`',
  builder: (y) => y.usage('Usage: skiff buildx build [OPTIONS] PATH | -').command(buildCmd).demandCommand(1, 'skiff buildx supports the build command only'),
  handler: () => undefined,
};

export const buildCommands: CommandModule[] = [buildCmd, commitCmd, buildxCmd];
