import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.js'
import {type InputLine, batches, readLines} from '../../bulk/lines.js'
import {Progress} from '../../bulk/progress.js'
import {bulkExit, bulkFlags, bulkRunOptions, writeFailedLines} from '../../bulk/report.js'
import {Resilient} from '../../bulk/resilient.js'
import {runBulk} from '../../bulk/runner.js'
import {XmppadmError, usageError} from '../../errors.js'
import {blockIps} from '../../ops/block-ip.js'
import {requireStrategy} from '../../ops/catalogue.js'
import {parseDuration, parseIpRange} from '../../ops/values.js'

export default class BlockIp extends BaseCommand<typeof BlockIp> {
  static override summary = 'Block client connections from IP addresses or ranges (IPv4 and IPv6).'
  static override description = `A new client connection from a blocked address is refused and live sessions from it are ended at once. Blocks last until removed, or for --expires. Every address given as an argument is checked before anything is sent.
Bulk: --from-file FILE (or - for stdin, blocked as lines arrive), one address or range a line (# comments and blank lines skipped), streamed, in batches of up to 500 a command with several in flight (--concurrency); a bad line fails on its own, and failed and unattempted lines go to the --failed-file.
Needs mod_xmppadm (Prosody or ejabberd): see "xmppadm capabilities". Addresses the server exempts from blocks (by default its own loopback) stay reachable, with a warning. See also: block-ip list, block-ip remove.`
  static override strict = false
  static override args = {
    address: Args.string({
      description: 'Addresses or CIDR ranges, e.g. 203.0.113.7 198.51.100.0/24 2001:db8::/32',
      ignoreStdin: true,
    }),
  }
  static override flags = {
    expires: Flags.string({summary: 'Lift the block after this long: 30m, 12h, 7d, 2w…'}),
    reason: Flags.string({summary: 'Why (kept with the block, shown by block-ip list).'}),
    ...bulkFlags,
  }
  static override examples = [
    {
      description: 'Block a range for a day during an incident',
      command: '<%= config.bin %> block-ip 198.51.100.0/24 --expires 1d --reason "credential stuffing"',
    },
    {
      description: 'Block a list of addresses for good',
      command: '<%= config.bin %> block-ip --from-file bad-ips.txt --json',
    },
  ]

  async run() {
    const {argv, flags} = await this.parse(BlockIp)
    const args = argv as string[]
    if (args.length && flags['from-file'])
      throw usageError('give addresses as arguments or with --from-file, not both')
    const expiresSec = flags.expires ? parseDuration(flags.expires, '--expires') : undefined
    if (flags['from-file']) return this.bulk(flags['from-file'], expiresSec)
    if (!args.length) throw usageError('no address given', 'name addresses or ranges, or use --from-file')
    const ranges = args.map(parseIpRange)
    const ctx = await this.opContext()
    await requireStrategy(ctx, 'block-ip')
    const out = await blockIps(ctx, ranges, {expiresSec, reason: flags.reason})
    for (const b of out.blocked) this.ui.out(`blocked ${b}${expiresSec ? ` for ${flags.expires}` : ''}`)
    if (out.sessionsClosed) this.ui.info(`${out.sessionsClosed} live session(s) from blocked addresses ended`)
    for (const e of out.exempt)
      this.ui.warn(`${e} stays reachable: the server exempts it from blocks (its block exemptions)`)
    return {
      blocked: out.blocked,
      expiresInSeconds: expiresSec ?? null,
      reason: flags.reason ?? null,
      sessionsClosed: out.sessionsClosed,
    }
  }

  /**
   * A list from a file or stdin, streamed, in batches of up to BATCH addresses a command (the module
   * stores the whole list once per command), several batches in flight. A bad line fails on its
   * own; failed and unattempted lines go to the failed file.
   */
  private async bulk(file: string, expiresSec: number | undefined) {
    const {flags} = this
    const ctx = await this.opContext()
    await requireStrategy(ctx, 'block-ip')
    const json = this.jsonEnabled()
    const progress = new Progress(
      Boolean(process.stderr.isTTY) && !this.ui.settings.quiet && !json,
      undefined,
      'blocking ',
    )
    // Prosody's storage writes what it acknowledges: after a reconnect only in-flight batches are redone.
    const resilient = new Resilient<never>({
      ctx,
      retries: flags.retries,
      signal: this.abort.signal,
      reconnect: (retries, failed) => this.reconnect(retries, failed),
      name: String,
      noun: 'batches',
      again: 'blocked again',
      ui: this.ui,
    })
    this.graceful = true
    const blocked: string[] = []
    const failures: FailureRow[] = []
    const failedLines: string[] = []
    let blockedLines = 0
    let sessionsClosed = 0
    const fail = (line: InputLine, e: XmppadmError) => {
      failures.push({
        line: line.no,
        address: line.text,
        code: e.exitCode,
        reason: e.reason,
        message: e.message,
        hint: e.hint,
      })
      failedLines.push(line.text)
      progress.tick(true)
      if (!json) this.ui.error(`line ${line.no}: ${e.message}`, e.hint)
    }
    // A pipe stops being read when the run stops early (it may never end).
    const stopInput = new AbortController()
    const summary = await runBulk<
      {good: InputLine[]; bad: Array<[InputLine, XmppadmError]>; blocked: string[]; sessionsClosed: number},
      InputLine[]
    >(
      batches(readLines(file, {until: stopInput.signal}), BATCH),
      async (batch) => {
        const good: InputLine[] = []
        const ranges: string[] = []
        const bad: Array<[InputLine, XmppadmError]> = []
        for (const line of batch) {
          try {
            ranges.push(parseIpRange(line.text))
            good.push(line)
          } catch (error) {
            if (!(error instanceof XmppadmError)) throw error
            bad.push([line, error])
          }
        }
        const out = ranges.length
          ? await resilient.run(() => blockIps(ctx, ranges, {expiresSec, reason: flags.reason}))
          : {blocked: [], sessionsClosed: 0, exempt: []}
        return {outcome: 'done', value: {good, bad, ...out}}
      },
      {
        ...bulkRunOptions({concurrency: flags.concurrency, signal: this.abort.signal, stopInput}),
        onResult: (r) => {
          if (r.outcome !== 'done') {
            for (const line of r.line) fail(line, r.error!)
            return
          }
          const v = r.value!
          for (const b of v.blocked) this.ui.out(`blocked ${b}${expiresSec ? ` for ${flags.expires}` : ''}`)
          if (json) blocked.push(...v.blocked)
          blockedLines += v.good.length
          sessionsClosed += v.sessionsClosed
          for (let i = 0; i < v.good.length; i++) progress.tick(false)
          for (const [line, e] of v.bad) fail(line, e)
        },
      },
    )
    progress.done()
    const notAttempted = summary.notAttempted.flat().map((l) => l.text)
    const failedFile = writeFailedLines(
      flags['failed-file'] ?? (file !== '-' ? `${file}.failed` : undefined),
      [...failedLines, ...notAttempted],
    )
    if (failedFile) this.ui.info(`failed and unattempted lines written to ${failedFile}`)
    if (sessionsClosed) this.ui.info(`${sessionsClosed} live session(s) from blocked addresses ended`)
    this.ui.info(
      `blocked ${blockedLines}, failed ${failures.length}${notAttempted.length ? `, not attempted ${notAttempted.length}` : ''}${summary.interrupted ? ` (stopped: ${summary.interrupted})` : ''}`,
    )
    bulkExit(
      this,
      {
        done: blockedLines,
        skipped: 0,
        failed: failures.length,
        notAttempted,
        interrupted: summary.interrupted,
      },
      failures,
    )
    return {
      blocked,
      expiresInSeconds: expiresSec ?? null,
      reason: flags.reason ?? null,
      sessionsClosed,
      failed: failures,
      summary: {
        blocked: blockedLines,
        failed: failures.length,
        notAttempted: notAttempted.length,
        interrupted: summary.interrupted,
      },
      failedFile,
    }
  }
}

/** Addresses a command: one stored list write on the server per batch. */
const BATCH = 500

type FailureRow = {
  line: number
  address: string
  code: number
  reason: string
  message: string
  hint?: string
}
