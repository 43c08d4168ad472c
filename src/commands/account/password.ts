import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.js'
import {newAccountPassword} from '../../config/credentials.js'
import {accountPassword} from '../../ops/account-state.js'
import {generatePassword} from '../../ops/accounts.js'
import {ready} from '../../ops/operation.js'
import {Revealed} from '../../secrets.js'
import {parseAccountJid, parseJid} from '../../xmpp/jid.js'

export default class AccountPassword extends BaseCommand<typeof AccountPassword> {
  static override summary = "Set an account's password; the old one stops working."
  static override description =
    'The new password comes from --user-password-file, --user-password-stdin, a prompt (on a terminal), ' +
    'or is generated: 24 random bytes, printed once on stdout (and in --json). Never from the command ' +
    'line. An empty password is refused before anything is sent (ejabberd would report success and ' +
    "change nothing). Through XEP-0133 change-user-password, or ejabberd's api-commands/change_password. " +
    'Live sessions stay: end them with `account kick`. An account that does not exist: exit 67.\n' +
    'ejabberd 24.12 keeps the password of a disabled (banned) account aside and puts it back on `account ' +
    'enable`: change the password after enabling.'
  static override args = {
    jid: Args.string({
      description: "The account (a bare user takes the admin's domain)",
      required: true,
      ignoreStdin: true,
    }),
  }
  static override flags = {
    'user-password-file': Flags.string({summary: 'Read the new password from this file (first line).'}),
    'user-password-stdin': Flags.boolean({summary: 'Read the new password from the first line of stdin.'}),
    'generate-password': Flags.boolean({summary: 'Generate the password even on a terminal (printed once).'}),
  }
  static override examples = [
    {
      description: 'A generated password, printed once',
      command: '<%= config.bin %> account password alice@example.org',
    },
    {
      description: 'From a password manager, then end the sessions that used the old one',
      command:
        'pass show xmpp/alice | ' +
        '<%= config.bin %> account password alice@example.org --user-password-stdin && ' +
        '<%= config.bin %> account kick alice@example.org',
    },
  ]

  async run() {
    const {flags} = this
    const given = await newAccountPassword(flags, [this.args.jid], this.ui)
    const ctx = await this.opContext()
    const jid = parseAccountJid(this.args.jid, parseJid(ctx.to).domain)
    const change = await ready(ctx, accountPassword)
    const password = given ?? generatePassword()
    await change.run({jid, password})
    // A generated password exists nowhere else: printed once, now that it works (as account create does).
    if (given) this.ui.out(`password of ${jid} changed`)
    else this.ui.revealed(`${jid}\t${password}`)
    return {jid, password: given ? undefined : new Revealed(password), via: change.strategy.via}
  }
}
