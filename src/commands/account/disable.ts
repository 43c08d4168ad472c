import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.js'
import {checkSource} from '../../bulk/bulk-run.js'
import {changeNamedAccounts} from '../../bulk/plans/account-state.js'
import {bulkFlags} from '../../cli/flags.js'
import {accountDisable} from '../../ops/account-state.js'
import {ready} from '../../ops/operation.js'

export default class AccountDisable extends BaseCommand<typeof AccountDisable> {
  static override summary = 'Disable accounts: they can no longer log in, and their live sessions end.'
  static override description =
    'The account and its data stay; a login is refused ("the account is disabled") until `account ' +
    "enable`. The server's own way where it has one: ejabberd's account ban (api-commands/ban_account, " +
    'ejabberd 25.03+ with mod_adhoc_api; it keeps the --reason and shows it to the refused client), ' +
    'XEP-0133 disable-user (Prosody 13, ejabberd 25.10+ without mod_adhoc_api; no reason is kept), else ' +
    "mod_xmppadm's #disable-user (Prosody 0.12, ejabberd 24.12; keeps the reason). An account that is " +
    'disabled already is "skipped" (where the server says so); one that ' +
    'does not exist fails (exit 67).\n' +
    'Bulk: --from-file FILE (or - for stdin), one JID a line, the first field of the line (so `account ' +
    'list` output and create files work); progress, --concurrency, --failed-file and a reconnect after a ' +
    'lost connection as for account delete (accounts disabled just before the loss are disabled again).'
  static override strict = false
  static override args = {jid: Args.string({description: 'Account JIDs to disable', ignoreStdin: true})}
  static override flags = {
    reason: Flags.string({summary: 'Why (kept with the account where the server keeps one).'}),
    ...bulkFlags,
  }
  static override examples = [
    {
      description: 'Suspend an account that broke the terms',
      command: '<%= config.bin %> account disable mallory@example.org --reason "spam, ticket 4711"',
    },
    {
      description: 'Every account of a list, from a script',
      command: '<%= config.bin %> account disable --from-file spammers.txt --json',
    },
  ]

  async run() {
    const {flags, argList: args} = this
    const file = flags['from-file']
    checkSource(args, file, 'account', 'name accounts as arguments or use --from-file FILE')
    const ctx = await this.opContext()
    const disable = await ready(ctx, accountDisable)
    if (flags.reason && disable.strategy.partial)
      this.ui.warn(
        `${disable.strategy.via} ${disable.strategy.nodes[0]} keeps no reason: --reason is not stored`,
      )
    return changeNamedAccounts(this, ctx, () => this.connect(), args, flags, {
      change: (jid) => disable.run({jid, reason: flags.reason}),
      verb: {
        progress: 'disabling ',
        done: 'disabled',
        already: 'disabled already',
        again: 'disabled again',
        key: 'disabled',
      },
    })
  }
}
