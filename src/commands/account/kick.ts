import {Args} from '@oclif/core'
import {BaseCommand} from '../../base-command.js'
import {checkSource} from '../../bulk/bulk-run.js'
import {changeNamedAccounts} from '../../bulk/plans/account-state.js'
import {bulkFlags} from '../../cli/flags.js'
import {accountKick} from '../../ops/account-state.js'
import {ready} from '../../ops/operation.js'

export default class AccountKick extends BaseCommand<typeof AccountKick> {
  static override summary = "End accounts' live sessions (they may log in again)."
  static override description =
    "Every session of each account ends at once. Through ejabberd's api-commands/kick_user (it says how " +
    'many sessions ended) or XEP-0133 end-user-session, which reports success whether or not there were ' +
    'sessions. An account that does not exist fails (exit 67) where the server can tell (ejabberd without ' +
    'mod_adhoc_api or mod_xmppadm cannot: it says "kicked"). To keep an account out, use `account ' +
    'disable`.\n' +
    'Bulk: --from-file as for account disable.'
  static override strict = false
  static override args = {
    jid: Args.string({description: 'Account JIDs whose sessions end', ignoreStdin: true}),
  }
  static override flags = {...bulkFlags}
  static override examples = [
    {description: 'Log a user out everywhere', command: '<%= config.bin %> account kick alice@example.org'},
    {
      description: 'After a password reset, end the sessions of many accounts',
      command: '<%= config.bin %> account kick --from-file reset.txt --quiet',
    },
  ]

  async run() {
    const {flags, argList: args} = this
    const file = flags['from-file']
    checkSource(args, file, 'account', 'name accounts as arguments or use --from-file FILE')
    const ctx = await this.opContext()
    const kick = await ready(ctx, accountKick)
    return changeNamedAccounts(this, ctx, () => this.connect(), args, flags, {
      change: kick.run,
      verb: {progress: 'kicking ', done: 'kicked', again: 'kicked again', key: 'kicked'},
    })
  }
}
