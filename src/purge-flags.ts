// Flags shared by the purge commands.
import {Flags} from '@oclif/core'

export const purgeFlags = {
  'older-than': Flags.string({
    summary:
      'Delete what is older than this: 90min, 36h, 7d, 2w, 1M (a month; m is a minute), 1y (must be more than zero).',
    required: true,
  }),
  'dry-run': Flags.boolean({
    char: 'n',
    summary: 'Count what would be deleted (printed even with --quiet); delete nothing.',
    default: false,
  }),
}
