import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.js'
import {
  type InputLine,
  atLine,
  fromArray,
  itemLabel,
  parseArguments,
  readLines,
  splitLine,
} from '../../bulk/lines.js'
import {Progress} from '../../bulk/progress.js'
import {bulkExit, bulkFlags, bulkRunOptions, writeFailedLines} from '../../bulk/report.js'
import {Resilient} from '../../bulk/resilient.js'
import {runBulk} from '../../bulk/runner.js'
import {usageError} from '../../errors.js'
import {accountExists, deleteAccount} from '../../ops/accounts.js'
import {requireStrategy} from '../../ops/catalogue.js'
import type {OpContext} from '../../ops/context.js'
import {parseAccountJid, parseJid} from '../../xmpp/jid.js'

export default class AccountDelete extends BaseCommand<typeof AccountDelete> {
  static override summary = 'Delete accounts and the data the server keeps for them.'
  static override description = `Removes each account; the server's own removal hooks delete its roster, vCard, offline messages, archive and (with mod_xmppadm on Prosody) its uploads.
Asks for confirmation on a terminal (answering no: exit 64, nothing done); without one it needs --yes. --dry-run asks the server about each account and prints "would delete JID", "not found: JID", or "cannot tell: JID" where the server offers no way to look accounts up (ejabberd 24.12 without mod_adhoc_api). Accounts that do not exist are reported as "not found", which is not an error: deleting is idempotent.
Bulk: --from-file FILE (or - for stdin), one JID a line (# comments and blank lines skipped; anything after a comma is ignored, so a create file works too). A file is read twice, streamed: first every line is checked, and a bad one refuses the whole run before anything is deleted; stdin can be read only once, so there a bad line fails on its own. Several deletions run at once on one connection (--concurrency); failed and unattempted lines go to the --failed-file. A lost connection: the run reconnects (--retries) and retries what was in flight; it first deletes again the accounts deleted in the 10 s before the loss, which a dying server may have forgotten.`
  static override strict = false
  static override args = {jid: Args.string({description: 'Account JIDs to delete', ignoreStdin: true})}
  static override flags = {
    yes: Flags.boolean({char: 'y', summary: 'Do not ask for confirmation (needed when not on a terminal).'}),
    'dry-run': Flags.boolean({
      char: 'n',
      summary:
        'Ask the server which accounts exist: "would delete", "not found", or "cannot tell" where it cannot say; change nothing.',
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
    const {argv, flags} = await this.parse(AccountDelete)
    const args = argv as string[]
    const file = flags['from-file']
    if (!args.length && !file)
      throw usageError('no account given', 'name accounts as arguments or use --from-file FILE')
    if (args.length && file) throw usageError('give accounts as arguments or with --from-file, not both')
    const ctx = await this.opContext()
    const domain = parseJid(ctx.to).domain
    await requireStrategy(ctx, 'account-delete')
    // A pipe stops being read when the run stops early (it may never end).
    const stopInput = new AbortController()
    const lines = (): AsyncIterable<InputLine> =>
      file ? readLines(file, {until: stopInput.signal}) : fromArray(args)
    const parse = (text: string) => parseAccountJid(splitLine(text)[0], domain)
    const jidOf = (line: InputLine): string => (file ? atLine(line, parse) : parse(line.text))

    // Check every line first (a file is read again for the work, streamed: memory stays flat);
    // every bad argument is named at once.
    let count: number | undefined
    let first: string | undefined
    if (!file) {
      first = parseArguments(args, parse)[0]
      count = args.length
    } else if (file !== '-') {
      count = 0
      for await (const line of lines()) {
        const jid = jidOf(line)
        first ??= jid
        count++
      }
      if (count === 0) throw usageError(`no accounts in ${file}`)
    }
    const json = this.jsonEnabled()
    if (flags['dry-run'])
      return this.dryRun(ctx, lines(), jidOf, {
        concurrency: flags.concurrency,
        stopInput,
        label: itemLabel(Boolean(file)),
      })
    await this.confirmDestructive(
      count === 1
        ? `delete ${first} and all its data`
        : `delete ${count ?? 'the listed'} accounts and all their data`,
      {yes: flags.yes},
    )

    this.graceful = true
    const progress = new Progress(
      Boolean(process.stderr.isTTY) && !this.ui.settings.quiet && !json && Boolean(file),
      count,
      'deleting ',
    )
    const resilient = new Resilient<string>({
      ctx,
      retries: flags.retries,
      signal: this.abort.signal,
      reconnect: (retries, failed) => this.reconnect(retries, failed),
      redo: (jid) => deleteAccount(ctx, jid),
      name: (jid) => jid,
      noun: 'accounts',
      again: 'deleted again',
      ui: this.ui,
    })
    const deleted: string[] = []
    const notFound: string[] = []
    const failures: Array<{
      line: number
      jid: string
      code: number
      reason: string
      message: string
      hint?: string
    }> = []
    const failedLines: string[] = []
    const single = count === 1
    const summary = await runBulk<string>(
      lines(),
      async (line) => {
        const jid = jidOf(line)
        return resilient.run(async (attempt) => {
          // Retried after a lost connection, "not found" most likely means the first try did it.
          const gone = (await deleteAccount(ctx, jid)) || attempt > 0
          if (gone) resilient.acked(jid)
          return {outcome: gone ? 'done' : 'skipped', value: jid}
        })
      },
      {
        ...bulkRunOptions({concurrency: flags.concurrency, signal: this.abort.signal, stopInput}),
        onResult: (r) => {
          progress.tick(r.outcome === 'failed')
          if (r.outcome === 'done') {
            this.ui.out(`deleted ${r.value}`)
            if (json) deleted.push(r.value!)
          } else if (r.outcome === 'skipped') {
            this.ui.info(`not found: ${r.value}`)
            if (json) notFound.push(r.value!)
          } else {
            failures.push({
              line: r.line.no,
              jid: splitLine(r.line.text)[0],
              code: r.error!.exitCode,
              reason: r.error!.reason,
              message: r.error!.message,
              hint: r.error!.hint,
            })
            failedLines.push(r.line.text)
            if (!json && !single)
              this.ui.error(`${itemLabel(Boolean(file))} ${r.line.no}: ${r.error!.message}`, r.error!.hint)
          }
        },
      },
    )
    progress.done()
    const unchecked = [...resilient.unchecked]
    if (unchecked.length)
      this.ui.warn(
        `${unchecked.length} accounts deleted just before the connection was lost were not re-checked (the server may have forgotten the deletion): they close the failed file, run it again`,
      )
    const notAttempted = summary.notAttempted.map((l) => l.text)
    const failedFile = writeFailedLines(
      flags['failed-file'] ?? (file && file !== '-' ? `${file}.failed` : undefined),
      [...failedLines, ...notAttempted, ...unchecked],
    )
    if (failedFile) this.ui.info(`failed and unattempted lines written to ${failedFile}`)
    this.ui.info(
      `deleted ${summary.done}, not found ${summary.skipped}${summary.failed ? `, failed ${summary.failed}` : ''}${notAttempted.length ? `, not attempted ${notAttempted.length}` : ''}${summary.interrupted ? ` (stopped: ${summary.interrupted})` : ''}`,
    )
    bulkExit(this, summary, failures)
    return {
      dryRun: false,
      deleted,
      notFound,
      failed: failures,
      notAttempted: notAttempted.map((t) => splitLine(t)[0]),
      summary: {
        deleted: summary.done,
        notFound: summary.skipped,
        failed: summary.failed,
        notAttempted: notAttempted.length,
        interrupted: summary.interrupted ?? null,
        rechecked: resilient.counts.rechecked,
        deletedAgain: resilient.counts.redone,
        unchecked: unchecked.length,
      },
      failedFile,
    }
  }

  /**
   * What a deletion would do, account by account, asked of the server: "would delete" (it exists),
   * "not found", or "cannot tell" where the server offers no way to look an account up.
   */
  private async dryRun(
    ctx: OpContext,
    lines: AsyncIterable<InputLine>,
    jidOf: (line: InputLine) => string,
    o: {concurrency: number; stopInput: AbortController; label: string},
  ) {
    const json = this.jsonEnabled()
    const found: Record<'wouldDelete' | 'notFound' | 'cannotTell', string[]> = {
      wouldDelete: [],
      notFound: [],
      cannotTell: [],
    }
    const counts = {wouldDelete: 0, notFound: 0, cannotTell: 0}
    const failures: FailureRow[] = []
    const summary = await runBulk<{jid: string; exists: boolean | undefined}>(
      lines,
      async (line) => {
        const jid = jidOf(line)
        return {outcome: 'done', value: {jid, exists: await accountExists(ctx, jid)}}
      },
      {
        ...bulkRunOptions({concurrency: o.concurrency, signal: this.abort.signal, stopInput: o.stopInput}),
        onResult: (r) => {
          if (r.outcome === 'failed') {
            failures.push({code: r.error!.exitCode, reason: r.error!.reason, message: r.error!.message})
            if (!json) this.ui.error(`${o.label} ${r.line.no}: ${r.error!.message}`, r.error!.hint)
            return
          }
          const {jid, exists} = r.value!
          const key = exists === undefined ? 'cannotTell' : exists ? 'wouldDelete' : 'notFound'
          counts[key]++
          if (json) found[key].push(jid)
          // The dry run's answer is the data asked for: printed even with --quiet.
          this.ui.data(
            exists === undefined
              ? `cannot tell: ${jid}`
              : exists
                ? `would delete ${jid}`
                : `not found: ${jid}`,
          )
        },
      },
    )
    if (counts.cannotTell)
      this.ui.warn(
        `this server offers no way to look an account up (${ctx.software.name ?? ctx.to}): for ${counts.cannotTell} account(s) the dry run cannot tell whether they exist`,
      )
    this.ui.info(
      `would delete ${counts.wouldDelete}, not found ${counts.notFound}${counts.cannotTell ? `, cannot tell ${counts.cannotTell}` : ''}`,
    )
    bulkExit(this, summary, failures)
    return {dryRun: true, ...found, deleted: [], notAttempted: summary.notAttempted.map((l) => l.text)}
  }
}

type FailureRow = {code: number; reason: string; message: string; hint?: string}
