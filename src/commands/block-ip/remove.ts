import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.js'
import {atLine, parseArguments, readLines} from '../../bulk/lines.js'
import {usageError} from '../../errors.js'
import {blockIpRemove} from '../../ops/block-ip.js'
import {ready} from '../../ops/operation.js'
import {parseIpRange} from '../../ops/values.js'

export default class BlockIpRemove extends BaseCommand<typeof BlockIpRemove> {
  static override summary = 'Lift blocks of addresses or ranges.'
  static override description =
    'Each argument must match a block as listed by "block-ip list". On ejabberd without mod_xmppadm ' +
    "(mod_adhoc_api) this lifts mod_fail2ban's automatic bans only (api-commands/unban_ip). Removing " +
    'a block that does not exist is reported, not an error.'
  static override strict = false
  static override args = {
    address: Args.string({description: 'Addresses or CIDR ranges to unblock', ignoreStdin: true}),
  }
  static override flags = {
    'from-file': Flags.string({
      summary:
        'Read addresses from this file, one a line (- for stdin); all are checked before anything is sent.',
    }),
  }
  static override examples = [
    '<%= config.bin %> block-ip remove 198.51.100.0/24',
    '<%= config.bin %> block-ip remove --from-file bad-ips.txt',
  ]

  async run() {
    const {argv, flags} = await this.parse(BlockIpRemove)
    const inputs = argv as string[]
    if (inputs.length && flags['from-file'])
      throw usageError('give addresses as arguments or with --from-file, not both')
    const ranges: string[] = []
    if (flags['from-file']) {
      for await (const line of readLines(flags['from-file'])) ranges.push(atLine(line, parseIpRange))
    } else ranges.push(...parseArguments(inputs, parseIpRange))
    if (!ranges.length) throw usageError('no address given', 'name addresses or ranges, or use --from-file')
    const unblock = await ready(await this.opContext(), blockIpRemove)
    const removed: string[] = []
    const notFound: string[] = []
    // Up to BATCH a command: the module stores its whole list once per command.
    for (let i = 0; i < ranges.length; i += BATCH) {
      const out = await unblock.run(ranges.slice(i, i + BATCH))
      for (const r of out.removed) this.ui.out(`unblocked ${r}`)
      for (const r of out.notFound) this.ui.info(`not blocked: ${r}`)
      removed.push(...out.removed)
      notFound.push(...out.notFound)
    }
    if (unblock.strategy.partial) this.ui.warn(unblock.strategy.partial)
    return {removed, notFound, via: unblock.strategy.via}
  }
}

const BATCH = 500
