import {once} from 'node:events'
import {openSync} from 'node:fs'
import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import {XmppadmError, usageError} from '../errors.js'
import {Progress} from '../bulk/progress.js'
import {PrivateFile} from '../files.js'
import {type ExportTarget, PortableExport, exportUser} from '../ops/export-user.js'
import {ExportDocument} from '../output/xep0227-stream.js'
import {parseAccountJid, parseJid} from '../xmpp/jid.js'

export default class ExportUser extends BaseCommand<typeof ExportUser> {
  static override summary = 'Export everything the server stores about a user (XEP-0227 XML or JSON).'
  static override description =
    'Account facts, roster, vCard, private XML, offline messages, message archive, blocklist, PEP data, ' +
    'uploads and last activity, fetched page by page so that no reply hits a stanza size limit, and ' +
    'written as the pages arrive: memory stays the same whatever the size of the archive. No ' +
    'password hashes unless --include-credentials.\n' +
    'The file is written atomically with mode 0600 and never overwrites an existing file without --force; ' +
    '-o - writes to stdout. Default file: JID.xml (or .json). Ctrl-C stops it and removes the ' +
    'unfinished file (exit 130).\n' +
    'With mod_xmppadm (Prosody or ejabberd) every section is exported. ejabberd 25.03+ without it ' +
    '(mod_adhoc_api): roster, vCard and last activity, with counts of offline and archived messages; the ' +
    'export lists what is missing (<missing xmlns="urn:xmppadm:admin:1"/> elements, "missing" in JSON) ' +
    'and the command warns.\n' +
    'Moving a user to another server (README "Moving a user to another server"): --include-credentials ' +
    'keeps the password working there (SCRAM data). The file is XEP-0227 as the XEP writes it, which ' +
    "xmppadm import-user and Prosody's prosody-migrator (mod_storage_xep0227) read; --for ejabberd writes " +
    "the SCRAM salt and keys base64-encoded twice, as ejabberd's import_piefxis expects (ejabberd's own " +
    'export does the same). A vCard the server keeps only as vCard4 (Prosody) is also written as ' +
    'vcard-temp, which ejabberd reads. --as names the account on the new server (<host jid> and <user ' +
    "name>, where the servers' own importers take it from)."
  static override args = {
    jid: Args.string({description: 'The account to export', ignoreStdin: true, required: true}),
  }
  static override flags = {
    output: Flags.string({char: 'o', summary: 'Write to this file (- for stdout).'}),
    format: Flags.string({
      summary: 'xep0227 (XML) or json.',
      options: ['xep0227', 'json'],
      default: 'xep0227',
    }),
    'include-credentials': Flags.boolean({summary: 'Include the stored SCRAM credentials (salted hashes).'}),
    for: Flags.string({
      summary:
        'The importer the file is for: xep0227 (the XEP: import-user, prosody-migrator) or ejabberd ' +
        '(import_piefxis: SCRAM data base64-encoded twice).',
      options: ['xep0227', 'ejabberd'],
      default: 'xep0227',
    }),
    as: Flags.string({
      summary: 'Write the file for this account on another server (its <host jid> and <user name>).',
      helpValue: 'JID',
    }),
    force: Flags.boolean({summary: 'Overwrite the output file if it exists.'}),
    'page-size': Flags.integer({summary: 'Items per request.', default: 100, min: 1, max: 500, hidden: true}),
  }
  static override examples = [
    {
      description: 'A user asks for their data',
      command: '<%= config.bin %> export-user alice@example.org -o alice.xml',
    },
    {
      description: 'As JSON on stdout',
      command: '<%= config.bin %> export-user alice@example.org --format json -o -',
    },
    {
      description: "For ejabberd's import_piefxis on the new server, password included",
      command:
        '<%= config.bin %> export-user alice@example.org --include-credentials --for ejabberd ' +
        '--as alice@new.example -o alice.xml',
    },
  ]

  async run() {
    const {args, flags} = this
    const toStdout = flags.output === '-'
    if (toStdout && this.jsonEnabled())
      throw usageError(
        '--json and -o - would both write to stdout',
        'write the export to a file with -o FILE',
      )
    const ctx = await this.opContext()
    const jid = parseAccountJid(args.jid, parseJid(ctx.to).domain)
    const as = flags.as ? parseAccountJid(flags.as) : undefined
    const format = flags.format === 'json' ? 'json' : 'xml'
    const path = toStdout ? undefined : (flags.output ?? `${jid}.${format}`)
    if (path && !flags.force) assertAbsent(path)
    // Each page is written as it arrives: to a private temp file renamed at the end, or to stdout.
    const file = path ? new PrivateFile(path) : undefined
    const doc = new ExportDocument(format, jid, file ? (text) => file.write(text) : toStdoutAsync, as)
    const sink = new PortableExport(doc, flags.for as ExportTarget)
    const bar = new Progress(this.ui.live, undefined, 'export-user ')
    const seen = {before: 0, section: '', items: 0} // items of the sections done, and of this one
    const onProgress = (section: string, items: number) => {
      if (section !== seen.section) Object.assign(seen, {before: seen.before + seen.items, section})
      seen.items = items
      bar.set(seen.before + items, undefined, `items (${section})`)
    }
    let exp
    try {
      exp = await this.interrupts.finishing(() =>
        exportUser(ctx, {
          jid,
          includeCredentials: flags['include-credentials'],
          pageSize: flags['page-size'],
          sink,
          onProgress,
        }).then(async (e) => {
          const exported = {...e, counts: sink.counts(e.counts)}
          await doc.finish(exported)
          return exported
        }),
      )
      // Still absent at the end (an export takes a while), unless --force.
      file?.commit(flags.force ? undefined : () => assertAbsent(path!))
    } catch (error) {
      file?.abandon()
      throw error
    } finally {
      bar.done()
    }
    for (const m of exp.missing) this.ui.warn(`not exported: ${m.section}: ${m.reason}`)
    if (path)
      this.ui.info(`exported ${jid} to ${path} (${doc.bytes} bytes${exp.complete ? '' : ', partial'})`)
    return {
      jid,
      file: path ?? null,
      format: flags.format,
      bytes: doc.bytes,
      complete: exp.complete,
      missing: exp.missing,
      counts: exp.counts,
      via: exp.via,
    }
  }
}

/** Writes to stdout, waiting while it is full (a slow reader must not make memory grow). */
async function toStdoutAsync(text: string): Promise<void> {
  if (!process.stdout.write(text)) await once(process.stdout, 'drain')
}

function assertAbsent(path: string): void {
  try {
    openSync(path, 'r')
  } catch {
    return
  }
  throw new XmppadmError('cantCreate', 'exists', `${path} exists; not overwriting it`, {
    hint: 'use --force, or another -o file',
  })
}
