import {Args} from '@oclif/core'
import {BaseCommand} from '../../base-command.js'
import {checkSource} from '../../bulk/bulk-run.js'
import {changeNamedAccounts} from '../../bulk/plans/account-state.js'
import {bulkFlags} from '../../cli/flags.js'
import {accountEnable} from '../../ops/account-state.js'
import {ready} from '../../ops/operation.js'

export default class AccountEnable extends BaseCommand<typeof AccountEnable> {
  static override summary = 'Enable disabled accounts: they can log in again with their passwords.'
  static override description =
    'Undoes `account disable`, the same way the server disabled it (ejabberd: unban_account; XEP-0133 ' +
    'reenable-user; mod_xmppadm\'s #enable-user). An account that is not disabled is "skipped"; one that ' +
    'does not exist fails (exit 67). Bulk: --from-file as for account disable.'
  static override strict = false
  static override args = {jid: Args.string({description: 'Account JIDs to enable', ignoreStdin: true})}
  static override flags = {...bulkFlags}
  static override examples = [
    {description: 'Lift a suspension', command: '<%= config.bin %> account enable mallory@example.org'},
    {description: 'A list of accounts', command: '<%= config.bin %> account enable --from-file appeals.txt'},
  ]

  async run() {
    const {flags, argList: args} = this
    const file = flags['from-file']
    checkSource(args, file, 'account', 'name accounts as arguments or use --from-file FILE')
    const ctx = await this.opContext()
    const enable = await ready(ctx, accountEnable)
    return changeNamedAccounts(this, ctx, () => this.connect(), args, flags, {
      change: enable.run,
      verb: {
        progress: 'enabling ',
        done: 'enabled',
        already: 'not disabled',
        again: 'enabled again',
        key: 'enabled',
      },
    })
  }
}
