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
