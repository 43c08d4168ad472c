import {BaseCommand} from '../../base-command.js'
import {listBlockedIps} from '../../ops/block-ip.js'
import {renderTable} from '../../output/table.js'

export default class BlockIpList extends BaseCommand<typeof BlockIpList> {
  static override summary = 'List the blocked addresses and ranges, with expiry and reason.'
  static override examples = [
    '<%= config.bin %> block-ip list',
    "<%= config.bin %> block-ip list --json | jq -r '.result.blocked[].address'",
  ]

  async run() {
    const ctx = await this.opContext()
    const blocked = await listBlockedIps(ctx)
    if (!this.jsonEnabled()) {
      this.ui.data(
        await renderTable(
          ['address', 'expires', 'reason', 'created'],
          blocked.map((b) => [b.address, b.expires ?? 'never', b.reason ?? '', b.created ?? '']),
          this.ui.color,
        ),
      )
    }
    return {count: blocked.length, blocked}
  }
}
