import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.js'
import {type InputLine, batches, parseArguments, readLines} from '../../bulk/lines.js'
import {Progress, countItems} from '../../bulk/progress.js'
import {bulkExit, bulkFlags, bulkRunOptions, writeFailedLines} from '../../bulk/report.js'
import {Resilient} from '../../bulk/resilient.js'
import {runBulk} from '../../bulk/runner.js'
import {XmppadmError, usageError} from '../../errors.js'
import {blockIps} from '../../ops/block-ip.js'
import {
  BROADEST_IPV4,
  BROADEST_IPV6,
  type Risk,
  type SafetyOptions,
  checkBlock,
  riskQuestion,
} from '../../ops/block-safety.js'
import {requireStrategy} from '../../ops/catalogue.js'
import type {OpContext} from '../../ops/context.js'
import {parseDuration, parseIpRange} from '../../ops/values.js'

export default class BlockIp extends BaseCommand<typeof BlockIp> {
  static override summary = 'Block client connections from IP addresses or ranges (IPv4 and IPv6).'
  static override description = `A new client connection from a blocked address is refused and live sessions from it are ended at once. Blocks last until removed, or for --expires. Every address given as an argument is checked before anything is sent.
Safe by default: a range broader than /${BROADEST_IPV4} (IPv4) or /${BROADEST_IPV6} (IPv6), including IPv4-mapped forms such as ::ffff:0:0/96, is refused unless --allow-broad; a range that covers the address this connection comes from (which would lock you out) is refused unless --include-own-address. With either flag, a terminal still asks first. Addresses the server exempts (xmppadm_block_exempt on Prosody, block_exempt on ejabberd; loopback by default) stay reachable whatever is blocked: the way back in after a mistake (README "Recovering from a block"); the command warns when a new block covers one.
Bulk: --from-file FILE (or - for stdin, blocked as lines arrive), one address or range a line (# comments and blank lines skipped), streamed, in batches of up to 500 a command with several in flight (--concurrency); a bad or refused line fails on its own, and failed and unattempted lines go to the --failed-file. From a file on a terminal, the ranges the flags allow are confirmed once before the run.
Needs mod_xmppadm (Prosody or ejabberd; on an ejabberd cluster a block holds on every node): see "xmppadm capabilities". See also: block-ip list, block-ip remove.`
  static override strict = false
  static override args = {
    address: Args.string({
      description: 'Addresses or CIDR ranges, e.g. 203.0.113.7 198.51.100.0/24 2001:db8::/32',
      ignoreStdin: true,
    }),
  }
  static override flags = {
    expires: Flags.string({summary: 'Lift the block after this long: 30min, 12h, 7d, 2w, 1M…'}),
    reason: Flags.string({summary: 'Why (kept with the block, shown by block-ip list).'}),
    'allow-broad': Flags.boolean({
      summary: `Allow ranges broader than /${BROADEST_IPV4} (IPv4) or /${BROADEST_IPV6} (IPv6); asks first on a terminal.`,
    }),
    'include-own-address': Flags.boolean({
      summary:
        "Allow a range that covers this connection's own address (locks you out); asks first on a terminal.",
    }),
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
    // Checked before connecting: every address, and every range too broad for the flags.
    const ranges = parseArguments(args, (a) => {
      const range = parseIpRange(a)
      checkBlock(range, this.safety())
      return range
    })
    const ctx = await this.opContext()
    await requireStrategy(ctx, 'block-ip')
    const risks = parseArguments(ranges, (r) => checkBlock(r, this.safety(ctx))).filter(
      (r) => r !== undefined,
    )
    if (risks.length) await this.confirmOnTerminal(riskQuestion(risks))
    const out = await blockIps(ctx, ranges, {expiresSec, reason: flags.reason})
    for (const b of out.blocked) this.ui.out(`blocked ${b}${expiresSec ? ` for ${flags.expires}` : ''}`)
    if (out.sessionsClosed) this.ui.info(`${out.sessionsClosed} live session(s) from blocked addresses ended`)
    this.warnExempt(out.exempt)
    return {
      blocked: out.blocked,
      expiresInSeconds: expiresSec ?? null,
      reason: flags.reason ?? null,
      sessionsClosed: out.sessionsClosed,
      exempt: out.exempt ?? null,
    }
  }

  /** What the flags allow, and (once connected) this connection's own address. */
  private safety(ctx?: OpContext): SafetyOptions {
    return {
      allowBroad: this.flags['allow-broad'],
      includeOwnAddress: this.flags['include-own-address'],
      ownAddress: ctx?.session.localAddress,
    }
  }

  private warnExempt(exempt: string[] | undefined): void {
    if (exempt?.length)
      this.ui.warn(
        `exempt from blocks by the server's configuration, so still reachable: ${exempt.join(', ')}`,
      )
  }

  /** From a file on a terminal: the risky ranges the flags allow are confirmed once, before the run. */
  private async confirmRiskyLines(file: string, ctx: OpContext): Promise<void> {
    const {flags} = this
    if (file === '-' || !this.ui.interactive || !(flags['allow-broad'] || flags['include-own-address']))
      return
    const risks: Risk[] = []
    for await (const line of readLines(file)) {
      try {
        const risk = checkBlock(parseIpRange(line.text), this.safety(ctx))
        if (risk) risks.push(risk)
      } catch {
        // a bad or refused line fails on its own during the run
      }
    }
    if (risks.length) await this.confirmOnTerminal(riskQuestion(risks))
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
    await this.confirmRiskyLines(file, ctx)
    const json = this.jsonEnabled()
    const progress = new Progress(
      Boolean(process.stderr.isTTY) && !this.ui.settings.quiet && !json,
      undefined,
      'blocking ',
    )
    if (progress.enabled) progress.setTotal(await countItems(file))
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
    const exempt = new Set<string>()
    let exemptReported = false
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
      {
        good: InputLine[]
        bad: Array<[InputLine, XmppadmError]>
        blocked: string[]
        sessionsClosed: number
        exempt?: string[]
      },
      InputLine[]
    >(
      batches(readLines(file, {until: stopInput.signal}), BATCH),
      async (batch) => {
        const good: InputLine[] = []
        const ranges: string[] = []
        const bad: Array<[InputLine, XmppadmError]> = []
        for (const line of batch) {
          try {
            const range = parseIpRange(line.text)
            checkBlock(range, this.safety(ctx))
            ranges.push(range)
            good.push(line)
          } catch (error) {
            if (!(error instanceof XmppadmError)) throw error
            bad.push([line, error])
          }
        }
        const out = ranges.length
          ? await resilient.run(() => blockIps(ctx, ranges, {expiresSec, reason: flags.reason}))
          : {blocked: [], sessionsClosed: 0, exempt: undefined}
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
          if (v.exempt) for (const e of v.exempt) exempt.add(e)
          exemptReported ||= v.exempt !== undefined
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
    this.warnExempt([...exempt])
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
      exempt: exemptReported ? [...exempt] : null,
      failed: failures,
      summary: {
        blocked: blockedLines,
        failed: failures.length,
        notAttempted: notAttempted.length,
        interrupted: summary.interrupted ?? null,
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
