import {BaseCommand} from '../base-command.js'
import {capabilities} from '../ops/catalogue.js'
import {moduleReasons} from '../ops/server-module.js'
import {renderTable} from '../output/table.js'

export default class Capabilities extends BaseCommand<typeof Capabilities> {
  static override summary =
    'Show which operations this server offers, through which command, and what would enable the rest.'
  static override description =
    "Discovers the server's ad-hoc commands and maps each xmppadm operation to the best way the " +
    "server offers it: XEP-0133, ejabberd's mod_adhoc_api (api-commands/*), or xmppadm's own server " +
    'module (urn:xmppadm:admin:1#*, for Prosody and ejabberd), which comes first where loaded. Where ' +
    "that module is loaded but an operation cannot work on this host, the hint is the module's own " +
    'reason (its #about node); where it is missing, the hint says how to install it.'
  static override examples = [
    '<%= config.bin %> capabilities',
    "<%= config.bin %> capabilities --json | jq '.result.operations[] | select(.available | not)'",
  ]

  async run() {
    const ctx = await this.opContext()
    const rows = capabilities(ctx, await moduleReasons(ctx))
    if (!this.jsonEnabled()) {
      const server = [ctx.software.name, ctx.software.version].filter(Boolean).join(' ') || 'unknown software'
      this.ui.info(`${ctx.to}: ${server}, ${ctx.nodes.size} commands`)
      const table = rows.map((r) => [
        r.operation,
        r.available ? (r.partial ? 'partial' : 'yes') : 'no',
        r.available ? `${r.via}: ${r.node}` : '',
        r.available ? (r.partial ?? '') : (r.hint ?? ''),
      ])
      this.ui.data(await renderTable(['operation', 'available', 'via', 'notes'], table, this.ui.color))
    }
    return {to: ctx.to, server: ctx.software, commandCount: ctx.nodes.size, operations: rows}
  }
}
