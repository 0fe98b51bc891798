/** `pull`'s options (the descriptor, image/pull.ts, reads them). */
import type { OptionTable } from '../command.js';

export const PULL_OPTIONS = {
  'all-tags': { alias: 'a', type: 'boolean', default: false, describe: 'Download all tagged images in the repository' },
  platform: { type: 'string', describe: 'Set platform if the image is multi-platform (e.g. linux/arm64)' },
  quiet: { alias: 'q', type: 'boolean', default: false, describe: 'Suppress verbose output' },
  'tls-verify': { type: 'boolean', default: true, describe: 'Require HTTPS and verify certificates' },
} as const satisfies OptionTable;
