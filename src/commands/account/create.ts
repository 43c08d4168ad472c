import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.js'
import {bulkEnv, checkSource} from '../../bulk/bulk-run.js'
import {createAccounts} from '../../bulk/plans/account-create.js'
import {bulkFlags} from '../../cli/flags.js'
import {newAccountPassword} from '../../config/credentials.js'

export default class AccountCreate extends BaseCommand<typeof AccountCreate> {
  static override summary = 'Create accounts; the new account can log in at once.'
  static override description =
    "Each new account's password comes from --user-password-file, --user-password-stdin, a prompt (on a " +
    'terminal, for one account), or is generated: 24 random bytes, printed once on stdout (and in ' +
    '--json). Never from the command line.\n' +
    'Bulk: --from-file FILE (or - for stdin) with one "jid" or "jid,password" a line (# comments and ' +
    'blank lines skipped); lines without a password get a generated one. Several creations run at once on ' +
    'one connection (--concurrency). Failed and unattempted lines go to the --failed-file, ready for a ' +
    're-run.\n' +
    'A lost connection: the run reconnects (--retries) and retries what was in flight; it first submits ' +
    'again the accounts acknowledged in the 10 s before the loss, which a dying server may have forgotten ' +
    '(an account that is there counts once).\n' +
    'An existing account is an error that names it (exit 65), or "skipped" with --skip-existing.'
  static override strict = false
  static override args = {
    jid: Args.string({
      description: "Account JIDs to create (user@domain; a bare user takes the admin's domain)",
      ignoreStdin: true,
    }),
  }
  static override flags = {
    'user-password-file': Flags.string({
      summary: "Read the new account's password from this file (first line).",
    }),
    'user-password-stdin': Flags.boolean({
      summary: "Read the new account's password from the first line of stdin.",
    }),
    'generate-password': Flags.boolean({summary: 'Generate the password even on a terminal (printed once).'}),
    'skip-existing': Flags.boolean({summary: 'Count accounts that already exist as skipped, not failed.'}),
    ...bulkFlags,
  }
  static override examples = [
    {
      description: 'One account with a generated password (printed once)',
      command: '<%= config.bin %> account create alice@example.org',
    },
    {
      description: 'Password from a file',
      command: '<%= config.bin %> account create bob@example.org --user-password-file bob.pw',
    },
    {
      description: 'Thousands from a file, 16 in flight, as JSON',
      command:
        '<%= config.bin %> account create --from-file new-users.txt --concurrency 16 --json > created.json',
    },
  ]

  async run() {
    const {flags, argList: jids} = this
    checkSource(jids, flags['from-file'], 'account', 'name accounts as arguments or use --from-file FILE')
    const shared = await newAccountPassword(flags, jids, this.ui)
    const ctx = await this.opContext()
    const env = bulkEnv(this, await this.connect(), jids, flags)
    return createAccounts(env, ctx, {shared, skipExisting: flags['skip-existing']})
  }
}
