import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.js'
import {bulkEnv, checkSource} from '../../bulk/bulk-run.js'
import {checkItems} from '../../bulk/lines.js'
import {deleteAccounts, deletionOf, jidReader, previewDeletion} from '../../bulk/plans/account-delete.js'
import {confirmDestructive} from '../../cli/confirm.js'
import {bulkFlags} from '../../cli/flags.js'
import {usageError} from '../../errors.js'
import {accountDelete} from '../../ops/accounts.js'
import {ready} from '../../ops/operation.js'

export default class AccountDelete extends BaseCommand<typeof AccountDelete> {
  static override summary = 'Delete accounts and the data the server keeps for them.'
  static override description =
    "Removes each account; the server's own removal hooks delete its roster, vCard, offline messages, " +
    'archive and (with mod_xmppadm on Prosody) its uploads.\n' +
    'Asks for confirmation on a terminal (answering no: exit 64, nothing done); without one it needs ' +
    '--yes. --dry-run asks the server about each account and prints "would delete JID", "not found: JID", ' +
    'or "cannot tell: JID" where the server offers no way to look accounts up (ejabberd 24.12 without ' +
    'mod_adhoc_api). Accounts that do not exist are reported as "not found", which is not an error: ' +
    'deleting is idempotent.\n' +
    'Bulk: --from-file FILE (or - for stdin), one JID a line (# comments and blank lines skipped; ' +
    'anything after a comma is ignored, so a create file works too). A file is read twice, streamed: ' +
    'first every line is checked, and a bad one refuses the whole run before anything is deleted; stdin ' +
    'can be read only once, so there a bad line fails on its own. Several deletions run at once on one ' +
    'connection (--concurrency); failed and unattempted lines go to the --failed-file. A lost connection: ' +
    'the run reconnects (--retries) and retries what was in flight; it first deletes again the accounts ' +
    'deleted in the 10 s before the loss, which a dying server may have forgotten.'
  static override strict = false
  static override args = {jid: Args.string({description: 'Account JIDs to delete', ignoreStdin: true})}
  static override flags = {
    yes: Flags.boolean({char: 'y', summary: 'Do not ask for confirmation (needed when not on a terminal).'}),
    'dry-run': Flags.boolean({
      char: 'n',
      summary:
        'Ask the server which accounts exist: "would delete", "not found", or "cannot tell" where it ' +
        'cannot say; change nothing.',
    }),
    ...bulkFlags,
  }
  static override examples = [
    {
      description: 'Delete an account on request (asks first)',
      command: '<%= config.bin %> account delete alice@example.org',
    },
    {
      description: 'From a script',
      command: '<%= config.bin %> account delete alice@example.org bob@example.org --yes --json',
    },
    {
      description: 'Preview a bulk deletion',
      command: '<%= config.bin %> account delete --from-file leavers.txt --dry-run',
    },
    {
      description: 'A bulk deletion from cron (failed lines in leavers.txt.failed)',
      command: '<%= config.bin %> account delete --from-file leavers.txt --yes --quiet',
    },
  ]

  async run() {
    const {flags, argList: args} = this
    const file = flags['from-file']
    checkSource(args, file, 'account', 'name accounts as arguments or use --from-file FILE')
    const ctx = await this.opContext()
    const remove = await ready(ctx, accountDelete)
    const {parse, jidOf} = jidReader(ctx, file)
    // Every line is checked before anything is deleted (stdin: as it is read).
    const {count, first} = await checkItems(args, file, parse)
    if (count === 0) throw usageError(`no accounts in ${file}`)
    const env = bulkEnv(this, await this.connect(), args, flags)
    if (flags['dry-run']) return previewDeletion(env, ctx, jidOf)
    await confirmDestructive(this.ui, deletionOf(count, first), {yes: flags.yes})
    return deleteAccounts(env, {total: count, jidOf, remove: remove.run})
  }
}
