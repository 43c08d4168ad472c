import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.js'
import {fromArray, readLines, splitLine} from '../../bulk/lines.js'
import {XmppadmError, usageError} from '../../errors.js'
import {deleteAccounts} from '../../ops/accounts.js'
import {requireStrategy} from '../../ops/catalogue.js'
import {parseAccountJid, parseJid} from '../../xmpp/jid.js'
import {bulkFlags, writeFailedLines} from '../../bulk/report.js'

const BATCH = 100

export default class AccountDelete extends BaseCommand<typeof AccountDelete> {
  static override summary = 'Delete accounts and the data the server keeps for them.'
  static override description = `Removes each account; the server's own removal hooks delete its roster, vCard, offline messages, archive and (with mod_xmppadm on Prosody) its uploads.
Asks for confirmation on a terminal; without one it needs --yes. --dry-run shows what would be deleted. Accounts that do not exist are reported as "not found", which is not an error: deleting is idempotent.`
  static override strict = false
  static override args = {jid: Args.string({description: 'Account JIDs to delete', ignoreStdin: true})}
  static override flags = {
    yes: Flags.boolean({char: 'y', summary: 'Do not ask for confirmation (needed when not on a terminal).'}),
    'dry-run': Flags.boolean({char: 'n', summary: 'Show what would be deleted; change nothing.'}),
    ...bulkFlags,
  }
  static override examples = [
    {description: 'Delete an account on request (asks first)', command: '<%= config.bin %> account delete alice@example.org'},
    {description: 'From a script', command: '<%= config.bin %> account delete alice@example.org bob@example.org --yes --json'},
    {description: 'Preview a bulk deletion', command: '<%= config.bin %> account delete --from-file leavers.txt --dry-run'},
  ]

  async run() {
    const {argv, flags} = await this.parse(AccountDelete)
    const args = argv as string[]
    if (!args.length && !flags['from-file']) throw usageError('no account given', 'name accounts as arguments or use --from-file FILE')
    const ctx = await this.opContext()
    const domain = parseJid(ctx.to).domain
    await requireStrategy(ctx, 'account-delete')
    // Parse everything first: a bad line refuses the whole run before anything is deleted.
    const jids: string[] = []
    for await (const line of flags['from-file'] ? readLines(flags['from-file']) : fromArray(args)) {
      try {
        jids.push(parseAccountJid(splitLine(line.text)[0], domain))
      } catch (error) {
        throw Object.assign(error as Error, {message: `line ${line.no}: ${(error as Error).message}`})
      }
    }
    if (flags['dry-run']) {
      for (const j of jids) this.ui.out(`would delete ${j}`)
      return {dryRun: true, wouldDelete: jids, deleted: [], notFound: [], notAttempted: []}
    }
    await this.confirmDestructive(jids.length === 1 ? `delete ${jids[0]} and all its data` : `delete ${jids.length} accounts and all their data`, {yes: flags.yes})
    this.graceful = true
    const deleted: string[] = []
    const notFound: string[] = []
    let remaining = jids
    try {
      while (remaining.length && !this.abort.signal.aborted) {
        const batch = remaining.slice(0, BATCH)
        const out = await deleteAccounts(ctx, batch)
        deleted.push(...out.deleted)
        notFound.push(...out.notFound)
        for (const j of out.deleted) this.ui.out(`deleted ${j}`)
        for (const j of out.notFound) this.ui.info(`not found: ${j}`)
        remaining = remaining.slice(BATCH)
      }
    } finally {
      writeFailedLines(flags['failed-file'], remaining)
    }
    this.ui.info(`deleted ${deleted.length}, not found ${notFound.length}${remaining.length ? `, not attempted ${remaining.length}` : ''}`)
    if (remaining.length) {
      this.outcome = new XmppadmError('partial', 'partial', `interrupted: ${remaining.length} accounts not attempted`)
    }
    return {dryRun: false, deleted, notFound, notAttempted: remaining}
  }
}
