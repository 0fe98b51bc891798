/** `build`'s options: one entry each (the descriptor, image/build.ts, reads them; `repeat: true` for a list). */
import type { OptionTable } from '../command.js';

export const BUILD_OPTIONS = {
  tag: { alias: 't', type: 'string', repeat: true, describe: 'Name and optionally a tag (name:tag); repeatable' },
  file: { alias: 'f', type: 'string', describe: "Name of the Dockerfile (default: PATH/Dockerfile; '-' reads stdin)" },
  'build-arg': { type: 'string', repeat: true, describe: 'Set build-time variables (KEY=VALUE, or KEY to take it from the environment)' },
  target: { type: 'string', describe: 'Set the target build stage to build' },
  'no-cache': { type: 'boolean', default: false, describe: 'Do not use cache when building the image' },
  pull: { type: 'boolean', default: false, describe: 'Always attempt to pull a newer version of the base images' },
  quiet: { alias: 'q', type: 'boolean', default: false, describe: 'Suppress the build output and print image ID on success' },
  iidfile: { type: 'string', describe: 'Write the image ID to the file' },
  label: { type: 'string', repeat: true, describe: 'Set metadata for an image (KEY=VALUE); repeatable' },
  platform: { type: 'string', describe: 'Target platform (only the host platform is supported)' },
  network: { type: 'string', describe: 'Network for RUN instructions: default (the default network with outbound; rootless: none for now), none or host' },
  secret: { type: 'string', repeat: true, describe: 'Secret to expose to RUN --mount=type=secret (id=ID[,src=FILE|env=VAR]); repeatable' },
  ssh: { type: 'string', repeat: true, describe: 'SSH agent socket to expose to RUN --mount=type=ssh (default|ID[=SOCKET]); repeatable' },
  output: { alias: 'o', type: 'string', repeat: true, describe: 'Output destination: type=local|tar|oci|docker|image|registry[,dest=PATH][,name=REF][,push=true], or DIR; repeatable' },
  push: { type: 'boolean', default: false, describe: 'Push the image (every -t name) after the build' },
  load: { type: 'boolean', default: false, describe: 'Load the image into the image store (always done by skiff)' },
  'metadata-file': { type: 'string', describe: 'Write build result metadata (image id, digest, names) to the file as JSON' },
  progress: { type: 'string', choices: ['auto', 'plain', 'tty', 'quiet', 'rawjson'], default: 'auto', describe: "Progress output: plain is BuildKit's '#N [stage k/n] STEP' lines; tty a live view redrawn on a terminal (plain when not one; NO_COLOR honoured); rawjson BuildKit's JSON status lines; auto skiff's STEP lines; quiet is -q" },
  'no-cache-filter': { type: 'string', repeat: true, describe: 'Do not use the cache for this stage (repeatable)' },
  'add-host': { type: 'string', repeat: true, describe: 'Add a custom host-to-IP mapping for RUN steps (HOST:IP); repeatable' },
  'cache-from': { type: 'string', repeat: true, describe: 'External cache sources: type=registry,ref=REF | type=local,src=DIR | REF (a registry cache there, or an image whose layers and history are the cache, as classic Docker); repeatable' },
  'build-context': { type: 'string', repeat: true, describe: 'Additional build context (NAME=DIR or NAME=docker-image://REF), reached as FROM NAME, COPY --from=NAME; repeatable' },
  'cache-to': { type: 'string', repeat: true, describe: 'Cache export destinations: type=registry,ref=REF[,mode=min|max] | type=local,dest=DIR[,mode=min|max]; repeatable' },
} as const satisfies OptionTable;
