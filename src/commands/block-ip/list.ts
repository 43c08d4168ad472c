import {BaseCommand} from '../../base-command.js'
import {hostsFlags} from '../../cli/flags.js'
import type {HostOutcome} from '../../cli/hosts.js'
import {type Block, listBlockedIps} from '../../ops/block-ip.js'
import {renderTable} from '../../output/table.js'

interface Listed {
  count: number
  blocked: Block[]
}

const cells = (b: Block) => [b.address, b.expires ?? 'never', b.reason ?? '', b.created ?? '']

/** Every host's blocks in one table; a host without blocks, or that failed, on a line of its own. */
const hostsBlockTable = (outcomes: Array<HostOutcome<Listed>>, color: boolean) =>
  renderTable(
    ['host', 'address', 'expires', 'reason', 'created'],
    outcomes.flatMap((o) =>
      o.result?.blocked.length
        ? o.result.blocked.map((b) => [o.host, ...cells(b)])
        : [[o.host, o.ok ? '(none)' : `${o.text} (exit ${o.code})`, '', '', '']],
    ),
    color,
  )

export default class BlockIpList extends BaseCommand<typeof BlockIpList> {
  static override summary = 'List the blocked addresses and ranges, with expiry and reason.'
  static override flags = hostsFlags
  static override examples = [
    '<%= config.bin %> block-ip list',
    "<%= config.bin %> block-ip list --json | jq -r '.result.blocked[].address'",
    {
      description: 'Every host you administer, in one table',
      command: '<%= config.bin %> block-ip list --all-hosts',
    },
  ]

  async run() {
    const hosts = await this.targetHosts()
    if (hosts)
      return this.reportHosts<Listed>(
        hosts,
        async (ctx) => {
          const blocked = await listBlockedIps(ctx)
          return {result: {count: blocked.length, blocked}, text: `${blocked.length} blocked`}
        },
        {data: true, render: hostsBlockTable},
      )
    const blocked = await listBlockedIps(await this.opContext())
    if (!this.jsonEnabled())
      this.ui.data(
        await renderTable(['address', 'expires', 'reason', 'created'], blocked.map(cells), this.ui.color),
      )
    return {count: blocked.length, blocked}
  }
}
