import {text} from 'node:stream/consumers'
import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import {bulkEnv, checkSource} from '../bulk/bulk-run.js'
import {importUsers} from '../bulk/plans/import-user.js'
import {bulkFlags} from '../cli/flags.js'
import {usageError} from '../errors.js'
import {checkHost} from '../ops/accounts.js'
import {importUserOp} from '../ops/import-user.js'
import {ready} from '../ops/operation.js'
import {parseAccountJid, parseJid} from '../xmpp/jid.js'

export default class ImportUser extends BaseCommand<typeof ImportUser> {
  static override summary =
    "Import a user's data from a XEP-0227 file (another provider's export) onto this server."
  static override description =
    "The other half of a move: what export-user (or a server's own XEP-0227 exporter: ejabberd's " +
    "export_piefxis, Prosody's migrator) wrote, put onto the connected server through mod_xmppadm: the " +
    'account with its SCRAM credentials, so the user logs in with the same password (never a clear-text ' +
    'password), roster and pending subscription requests, vCard, private XML, offline messages, message ' +
    'archive, blocklist (and privacy lists on ejabberd), PEP nodes and items. Every user in the file is ' +
    "imported as NAME@ this server's domain (--as for another name).\n" +
    'An account that exists is refused (exit 65) unless --merge: the data then goes into it and its ' +
    'password stays. What cannot be imported is listed per section with the reason (uploaded files ' +
    'stay with the old provider; SCRAM data for a hash this server does not use; unknown elements): the ' +
    'import still succeeds. --dry-run asks the server what it would import and skip, and changes nothing.\n' +
    "SCRAM data in ejabberd's double-encoded form (export_piefxis) is recognised and read as such. Big " +
    'users go in parts of about 60 KiB; an item over 240 KiB (a stanza servers refuse) is skipped and ' +
    'listed.\n' +
    'Bulk: several FILEs, or --from-file LIST with one file path a line, imported --concurrency at once; ' +
    'failed and unattempted lines go to the --failed-file. A lost connection: the run reconnects ' +
    '(--retries) and imports the files in flight again with merge, which stores nothing twice.'
  static override strict = false
  static override args = {
    file: Args.string({description: 'XEP-0227 files to import (- for stdin)', ignoreStdin: true}),
  }
  static override flags = {
    merge: Flags.boolean({summary: 'Import into accounts that exist already (their passwords stay).'}),
    'dry-run': Flags.boolean({
      char: 'n',
      summary: 'Ask the server what it would import and skip (printed even with --quiet); change nothing.',
    }),
    as: Flags.string({
      summary: "Import into this account (user@this server's domain) instead of the name in the file.",
      helpValue: 'JID',
    }),
    ...bulkFlags,
  }
  static override examples = [
    {
      description: "Take in a user's export from another provider (same user name here)",
      command: '<%= config.bin %> import-user alice.xml',
    },
    {
      description: 'What would be imported and skipped',
      command: '<%= config.bin %> import-user alice.xml --dry-run',
    },
    {
      description: 'Under another name, into an account made already',
      command: '<%= config.bin %> import-user alice.xml --as alice.smith@example.org --merge',
    },
    {
      description: 'Many files, as JSON',
      command: '<%= config.bin %> import-user --from-file exports.txt --json > imported.json',
    },
  ]

  async run() {
    const {flags, argList: files} = this
    checkSource(files, flags['from-file'], 'file', 'name XEP-0227 files as arguments or use --from-file LIST')
    if (flags.as && (files.length !== 1 || flags['from-file']))
      throw usageError('--as names the account of one file', 'import one file at a time with --as')
    if (files.includes('-') && flags['from-file'] === '-')
      throw usageError('stdin cannot be both a file list (--from-file -) and a file (-)')
    const ctx = await this.opContext()
    const domain = parseJid(ctx.to).domain
    const as = flags.as ? parseAccountJid(flags.as, domain) : undefined
    if (as) checkHost(ctx, as)
    const op = await ready(ctx, importUserOp)
    const stdin = files.includes('-') ? await text(process.stdin) : undefined
    const env = bulkEnv(this, await this.connect(), files, flags)
    return importUsers(env, {
      send: op.run,
      merge: Boolean(flags.merge),
      dryRun: Boolean(flags['dry-run']),
      as,
      domain,
      stdin,
    })
  }
}
