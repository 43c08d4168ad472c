import {Args} from '@oclif/core'
import {BaseCommand} from '../../base-command.js'
import {usageError} from '../../errors.js'
import {unblockIps} from '../../ops/block-ip.js'
import {parseIpRange} from '../../ops/values.js'

export default class BlockIpRemove extends BaseCommand<typeof BlockIpRemove> {
  static override summary = 'Lift blocks of addresses or ranges.'
  static override description = 'Each argument must match a block as listed by "block-ip list". On ejabberd (mod_adhoc_api) this lifts mod_fail2ban\'s automatic bans (api-commands/unban_ip). Removing a block that does not exist is reported, not an error.'
  static override strict = false
  static override args = {address: Args.string({description: 'Addresses or CIDR ranges to unblock', ignoreStdin: true})}
  static override examples = ['<%= config.bin %> block-ip remove 198.51.100.0/24']

  async run() {
    const {argv} = await this.parse(BlockIpRemove)
    if (!argv.length) throw usageError('no address given')
    const ranges = (argv as string[]).map(parseIpRange)
    const ctx = await this.opContext()
    const out = await unblockIps(ctx, ranges)
    for (const r of out.removed) this.ui.out(`unblocked ${r}`)
    for (const r of out.notFound) this.ui.info(`not blocked: ${r}`)
    if (out.partial) this.ui.warn(out.partial)
    return {removed: out.removed, notFound: out.notFound, via: out.via}
  }
}
