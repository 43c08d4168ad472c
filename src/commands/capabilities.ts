import {BaseCommand} from '../base-command.js'
import {hostsFlags} from '../cli/flags.js'
import type {HostOutcome} from '../cli/hosts.js'
import {XmppadmError} from '../errors.js'
import {type CapabilityRow, capabilities} from '../ops/catalogue.js'
import type {OpContext} from '../ops/context.js'
import {seesAdminCommands} from '../ops/operation.js'
import {moduleReasons} from '../ops/server-module.js'
import {renderTable} from '../output/table.js'

interface HostCapabilities {
  to: string
  server: OpContext['software']
  commandCount: number
  operations: CapabilityRow[]
}

const availability = (r: CapabilityRow) => (r.available ? (r.partial ? 'partial' : 'yes') : 'no')

/** Several hosts: an operation a line, a host a column. */
function hostsMatrix(outcomes: Array<HostOutcome<HostCapabilities>>, color: boolean): Promise<string> {
  const ops = outcomes.find((o) => o.result)?.result?.operations.map((r) => r.operation) ?? []
  return renderTable(
    ['operation', ...outcomes.map((o) => o.host)],
    ops.map((op) => [
      op,
      ...outcomes.map((o) => {
        const row = o.result?.operations.find((r) => r.operation === op)
        return row ? availability(row) : `(exit ${o.code})`
      }),
    ]),
    color,
  )
}

export default class Capabilities extends BaseCommand<typeof Capabilities> {
  static override summary =
    'Show which operations this server offers, through which command, and what would enable the rest.'
  static override description =
    "Discovers the server's ad-hoc commands and maps each xmppadm operation to the best way the " +
    "server offers it: XEP-0133, ejabberd's mod_adhoc_api (api-commands/*), or xmppadm's own server " +
    'module (urn:xmppadm:admin:1#*, for Prosody and ejabberd), which comes first where loaded. Where ' +
    "that module is loaded but an operation cannot work on this host, the hint is the module's own " +
    'reason (its #about node); where it is missing, the hint says how to install it.\n' +
    'With --all-hosts (or --hosts): an operation a line, a host a column; --json has each host in full.'
  static override flags = hostsFlags
  static override examples = [
    '<%= config.bin %> capabilities',
    "<%= config.bin %> capabilities --json | jq '.result.operations[] | select(.available | not)'",
    {
      description: 'What works on each host you administer',
      command: '<%= config.bin %> capabilities --all-hosts',
    },
  ]

  async run() {
    const hosts = await this.targetHosts()
    if (hosts)
      return this.reportHosts<HostCapabilities>(
        hosts,
        async (ctx) => {
          // servers hide admin commands from others: nothing to offer means not an admin here
          if (!seesAdminCommands(ctx))
            throw new XmppadmError('forbidden', 'forbidden', `${ctx.admin} is not an admin of ${ctx.to}`)
          const result = await this.capabilitiesOf(ctx)
          const ok = result.operations.filter((r) => r.available).length
          return {result, text: `${ok} of ${result.operations.length} operations available`}
        },
        {data: true, render: hostsMatrix},
      )
    const ctx = await this.opContext()
    const result = await this.capabilitiesOf(ctx)
    if (!this.jsonEnabled()) {
      const server = [ctx.software.name, ctx.software.version].filter(Boolean).join(' ') || 'unknown software'
      this.ui.info(`${ctx.to}: ${server}, ${ctx.nodes.size} commands`)
      if (!seesAdminCommands(ctx))
        this.ui.warn(`${ctx.admin} sees no admin commands on ${ctx.to}: it is not an admin there`)
      const table = result.operations.map((r) => [
        r.operation,
        availability(r),
        r.available ? `${r.via}: ${r.node}` : '',
        r.available ? (r.partial ?? '') : (r.hint ?? ''),
      ])
      this.ui.data(await renderTable(['operation', 'available', 'via', 'notes'], table, this.ui.color))
    }
    return result
  }

  private async capabilitiesOf(ctx: OpContext): Promise<HostCapabilities> {
    const operations = capabilities(ctx, await moduleReasons(ctx))
    return {to: ctx.to, server: ctx.software, commandCount: ctx.nodes.size, operations}
  }
}
