import {Args} from '@oclif/core'
import {BaseCommand} from '../../base-command.js'
import {bulkEnv, checkSource} from '../../bulk/bulk-run.js'
import {checkItems} from '../../bulk/lines.js'
import {jidReader} from '../../bulk/plans/account-delete.js'
import {changeAccounts} from '../../bulk/plans/account-state.js'
import {bulkFlags} from '../../cli/flags.js'
import {usageError} from '../../errors.js'
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
    const {parse, jidOf} = jidReader(ctx, file)
    const {count} = await checkItems(args, file, parse)
    if (count === 0) throw usageError(`no accounts in ${file}`)
    const env = bulkEnv(this, await this.connect(), args, flags)
    return changeAccounts(env, {
      total: count,
      jidOf,
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
