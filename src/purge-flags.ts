// Flags shared by the purge commands.
import {Flags} from '@oclif/core'

export const purgeFlags = {
  'older-than': Flags.string({
    summary: 'Delete what is older than this: 90m, 36h, 7d, 2w… (must be more than zero).',
    required: true,
  }),
  'dry-run': Flags.boolean({
    char: 'n',
    summary: 'Count what would be deleted; delete nothing.',
    default: false,
  }),
}
