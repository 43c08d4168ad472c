import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.js'
import {type InputLine, fromArray, itemLabel, readLines, splitLine} from '../../bulk/lines.js'
import {Progress, countItems} from '../../bulk/progress.js'
import {type BulkSummary, runBulk} from '../../bulk/runner.js'
import {Resilient} from '../../bulk/resilient.js'
import {readSecretFile} from '../../config/credentials.js'
import {XmppadmError, usageError} from '../../errors.js'
import {Revealed, forgetSecret} from '../../secrets.js'
import {createAccount, generatePassword} from '../../ops/accounts.js'
import {parseAccountJid, parseJid} from '../../xmpp/jid.js'
import {bulkExit, bulkFlags, bulkRunOptions, writeFailedLines} from '../../bulk/report.js'

export default class AccountCreate extends BaseCommand<typeof AccountCreate> {
  static override summary = 'Create accounts; the new account can log in at once.'
  static override description = `Each new account's password comes from --user-password-file, --user-password-stdin, a prompt (on a terminal, for one account), or is generated: 24 random bytes, printed once on stdout (and in --json). Never from the command line.
Bulk: --from-file FILE (or - for stdin) with one "jid" or "jid,password" a line (# comments and blank lines skipped); lines without a password get a generated one. Several creations run at once on one connection (--concurrency). Failed and unattempted lines go to the --failed-file, ready for a re-run.
A lost connection: the run reconnects (--retries) and retries what was in flight; it first submits again the accounts acknowledged in the 10 s before the loss, which a dying server may have forgotten (an account that is there counts once).
An existing account is an error that names it (exit 65), or "skipped" with --skip-existing.`
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
    const {argv, flags} = await this.parse(AccountCreate)
    const jids = argv as string[]
    if (!jids.length && !flags['from-file'])
      throw usageError('no account given', 'name accounts as arguments or use --from-file FILE')
    if (jids.length && flags['from-file'])
      throw usageError('give accounts as arguments or with --from-file, not both')
    if (flags['user-password-stdin'] && flags['from-file'] === '-')
      throw usageError('--user-password-stdin and --from-file - both want stdin')
    let shared: string | undefined
    if (flags['user-password-file'])
      shared = readSecretFile(flags['user-password-file'], 'user password file')
    else if (flags['user-password-stdin']) shared = readSecretFile('-', 'user password (stdin)')
    else if (this.ui.interactive && jids.length === 1 && !flags['generate-password']) {
      const {promptPassword} = await import('../../output/prompts.js')
      shared = (await promptPassword(`Password for ${jids[0]} (empty: generate one)`)) || undefined
    }
    if (shared && jids.length > 1) this.ui.warn('all accounts get the same password')

    const ctx = await this.opContext()
    const domain = parseJid(ctx.to).domain
    // A pipe stops being read when the run stops early (it may never end).
    const stopInput = new AbortController()
    const lines: AsyncIterable<InputLine> = flags['from-file']
      ? readLines(flags['from-file'], {until: stopInput.signal})
      : fromArray(jids)
    // Progress is not colour: it shows whenever a person watches stderr.
    const progress = new Progress(
      Boolean(process.stderr.isTTY) &&
        !this.ui.settings.quiet &&
        !this.jsonEnabled() &&
        Boolean(flags['from-file']),
      undefined,
      'creating ',
    )
    if (progress.enabled) progress.setTotal(await countItems(flags['from-file']!))
    this.graceful = true
    const created: Array<{jid: string; password?: Revealed}> = []
    const failures: Array<{
      line: number
      jid: string
      code: number
      reason: string
      message: string
      hint?: string
    }> = []
    // One account: its error is the command's error (printed once, by the error handler).
    const single = !flags['from-file'] && jids.length === 1
    const onDone = new Map<number, string>()
    const failedLines: string[] = []
    const skipped: string[] = []
    const resilient = new Resilient<Acked>({
      ctx,
      retries: flags.retries,
      signal: this.abort.signal,
      reconnect: (retries, failed) => this.reconnect(retries, failed),
      redo: async (a) => {
        try {
          await createAccount(ctx, a.jid, a.password)
          return true
        } catch (error) {
          if (error instanceof XmppadmError && error.reason === 'account-exists') return false
          throw error
        }
      },
      name: (a) => a.jid,
      noun: 'accounts',
      again: 'created again',
      ui: this.ui,
    })
    const summary = await runBulk<{jid: string; password?: string; existed?: boolean}>(
      lines,
      async (line) => {
        const [rawJid, linePassword] = splitLine(line.text)
        const jid = parseAccountJid(rawJid, domain)
        const given = linePassword ?? shared
        const password = given ?? generatePassword()
        // In a bulk run each line's password is only needed while that line can print something.
        if (!single) onDone.set(line.no, password)
        return resilient.run(async (attempt) => {
          try {
            await createAccount(ctx, jid, password)
          } catch (error) {
            if (!(error instanceof XmppadmError) || error.reason !== 'account-exists') throw error
            // A retry after a lost connection: the first try may have created it before the
            // connection dropped, so "exists" now means "done", not a second creation.
            if (attempt === 0 && flags['skip-existing'])
              return {outcome: 'skipped' as const, value: {jid, existed: true}}
            if (attempt === 0) throw error
          }
          resilient.acked({jid, password, line: line.text})
          return {outcome: 'done' as const, value: {jid, password: given ? undefined : password}}
        })
      },
      {
        ...bulkRunOptions({concurrency: flags.concurrency, signal: this.abort.signal, stopInput}),
        onResult: (r) => {
          progress.tick(r.outcome === 'failed')
          const done = onDone.get(r.line.no)
          onDone.delete(r.line.no)
          if (r.outcome === 'done' && r.value) {
            // Kept only for the JSON result: memory stays flat in a long bulk run.
            if (this.jsonEnabled())
              created.push({
                jid: r.value.jid,
                password: r.value.password ? new Revealed(r.value.password) : undefined,
              })
            // Generated passwords exist nowhere else: print each as soon as its account exists.
            if (r.value.password) this.ui.revealed(`${r.value.jid}\t${r.value.password}`)
          }
          if (r.outcome === 'failed') {
            failures.push({
              line: r.line.no,
              jid: splitLine(r.line.text)[0],
              code: r.error!.exitCode,
              reason: r.error!.reason,
              message: r.error!.message,
              hint: r.error!.hint,
            })
            failedLines.push(r.line.text)
            if (!this.jsonEnabled() && !single)
              this.ui.error(
                `${itemLabel(Boolean(flags['from-file']))} ${r.line.no}: ${r.error!.message}`,
                r.error!.hint,
              )
          }
          forgetSecret(done)
          if (r.outcome === 'skipped') skipped.push(r.value!.jid)
        },
      },
    )
    progress.done()
    // The run ended (retries used up, interrupted) before the re-check: say so, and keep the lines.
    const unchecked = resilient.unchecked.map((a) => a.line)
    if (unchecked.length)
      this.ui.warn(
        `${unchecked.length} accounts acknowledged just before the connection was lost were not re-checked (the server may have forgotten them): their lines close the failed file, re-run it with --skip-existing`,
      )
    return this.finish(summary, {
      created,
      skipped,
      failures,
      failedLines,
      unchecked,
      recheck: {rechecked: resilient.counts.rechecked, createdAgain: resilient.counts.redone},
    })
  }

  private finish(
    summary: BulkSummary<unknown>,
    r: {
      created: Array<{jid: string; password?: Revealed}>
      skipped: string[]
      failures: Array<{
        line: number
        jid: string
        code: number
        reason: string
        message: string
        hint?: string
      }>
      failedLines: string[]
      unchecked: string[]
      recheck: {rechecked: number; createdAgain: number}
    },
  ) {
    // Failed, then never attempted, then created but not re-checked after a lost connection.
    const failedFile = writeFailedLines(
      this.flags['failed-file'] ??
        (this.flags['from-file'] && this.flags['from-file'] !== '-'
          ? `${this.flags['from-file']}.failed`
          : undefined),
      [...r.failedLines, ...summary.notAttempted.map((l) => l.text), ...r.unchecked],
    )
    if (failedFile) this.ui.info(`failed and unattempted lines written to ${failedFile}`)
    const total = summary.done + summary.skipped + summary.failed + summary.notAttempted.length
    // One account that failed: its error line says it all.
    if (total > 1 || this.flags['from-file'] || summary.failed === 0)
      this.ui.info(
        `created ${summary.done}, skipped ${summary.skipped}, failed ${summary.failed}${summary.notAttempted.length ? `, not attempted ${summary.notAttempted.length}` : ''}${summary.interrupted ? ` (stopped: ${summary.interrupted})` : ''}`,
      )
    const result = {
      created: r.created,
      skipped: r.skipped,
      failed: r.failures,
      summary: {
        done: summary.done,
        skipped: summary.skipped,
        failed: summary.failed,
        notAttempted: summary.notAttempted.length,
        interrupted: summary.interrupted ?? null,
        ...r.recheck,
        unchecked: r.unchecked.length,
      },
      failedFile,
    }
    bulkExit(this, summary, r.failures)
    return result
  }
}

interface Acked {
  jid: string
  password: string
  line: string
}
