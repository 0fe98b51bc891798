/**
 * `skiff compose`'s own options, given before the verb as `docker compose`'s (`skiff compose -f a.yaml
 * -p demo up -d`): the project they select, read by every compose verb from `ctx.group`
 * (registry.ts GROUP_OPTIONS). Only the option table lives here: the registry imports it statically.
 */
import type { OptionTable } from '../../command.js';

export const COMPOSE_OPTIONS = {
  file: { type: 'string', alias: 'f', repeat: true, describe: 'Compose configuration files' },
  'project-name': { type: 'string', alias: 'p', describe: 'Project name' },
  'project-directory': { type: 'string', describe: 'Specify an alternate working directory (default: the path of the, first specified, Compose file)' },
  'env-file': { type: 'string', repeat: true, describe: 'Specify an alternate environment file' },
  profile: { type: 'string', repeat: true, describe: 'Specify a profile to enable' },
  ansi: { type: 'string', choices: ['never', 'always', 'auto'], default: 'auto', describe: 'Control when to print ANSI control characters ("never"|"always"|"auto")' },
  progress: { type: 'string', choices: ['auto', 'tty', 'plain', 'json', 'quiet'], default: 'auto', describe: 'Set type of progress output (auto, tty, plain, json, quiet)' },
  parallel: { type: 'int', default: -1, describe: 'Control max parallelism, -1 for unlimited' },
} as const satisfies OptionTable;

/** The options `up` and `create` share: how the project's containers are converged to its file. */
export const CONVERGE_OPTIONS = {
  build: { type: 'boolean', default: false, describe: 'Build images before starting containers' },
  'no-build': { type: 'boolean', default: false, describe: "Don't build an image, even if it's policy" },
  'force-recreate': { type: 'boolean', default: false, describe: "Recreate containers even if their configuration and image haven't changed" },
  'no-recreate': { type: 'boolean', default: false, describe: "If containers already exist, don't recreate them. Incompatible with --force-recreate." },
  'remove-orphans': { type: 'boolean', default: false, describe: 'Remove containers for services not defined in the Compose file' },
  scale: { type: 'string', repeat: true, describe: 'Scale SERVICE to NUM instances. Overrides the `scale` setting in the Compose file if present.' },
  'quiet-pull': { type: 'boolean', default: false, describe: 'Pull without printing progress information' },
} as const satisfies OptionTable;
