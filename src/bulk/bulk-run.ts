// A bulk command, run one way: a command says how to do one line (or a batch of lines) and how to
// name it; this runs the lines with bounded concurrency, survives a lost connection, draws the
// progress bar, prints each failure, writes the failed file (0600), prints the summary, and works
// out the exit status. The command prints what a done line means and builds its JSON from the report.
import type {Interrupts} from '../cli/interrupts.js'
import type {Connector} from '../connect/connector.js'
import {Recovery, type RecoveryOptions} from '../connect/recovery.js'
import {ExitCode, XmppadmError, exitCodeName, usageError} from '../errors.js'
import {writePrivateFile} from '../files.js'
import type {Ui} from '../output/ui.js'
import {type InputLine, batches, fromArray, itemLabel, readLines} from './lines.js'
import {Progress, countItems} from './progress.js'
import {runBulk} from './runner.js'

export type Done<V> = {outcome: 'done' | 'skipped'; value: V}
export type LineOutcome<V> =
  (Done<V> & {line: InputLine}) | {outcome: 'failed'; line: InputLine; error: XmppadmError}

/** What re-checking after a lost connection needs (connect/recovery.ts), and how to report it. */
export interface RecoveryPlan<A> extends Omit<RecoveryOptions<A>, 'retries' | 'ui'> {
  /** The failed file's line for an item acknowledged before a loss and not re-checked (default: its name). */
  text?(item: A): string
  /** How to re-run the failed file so that those count once: "with --skip-existing". */
  rerun?: string
}

/** The part of a Recovery a line's work uses: retry after a loss, and say what was acknowledged. */
export type Retry<A> = Pick<Recovery<A>, 'run' | 'acked'>

export interface BulkPlan<V, A = never> {
  /** The progress bar's label ("creating "); no bar without it. */
  progress?: string
  /** The number of lines, when the command counted them already (1: the line's error is the command's). */
  total?: number
  /** What a failure row calls a line's item ("jid", "address"), and its value for a line. */
  key: string
  name(line: InputLine): string
  /** Does one line: done or skipped, with a value; throws why it failed. */
  each?(line: InputLine, retry: Retry<A>): Promise<Done<V>>
  /** Or batches of lines (one command for many): an outcome for each line; a throw fails them all. */
  batch?: {size: number; run(lines: InputLine[], retry: Retry<A>): Promise<Array<LineOutcome<V>>>}
  recovery?: RecoveryPlan<A>
  /** A line is done, or skipped: print it, keep it for the JSON result. */
  done?(value: V, line: InputLine): void
  skipped?(value: V, line: InputLine): void
  /** A line is reported, whatever its outcome (a secret it held may be forgotten). */
  finished?(line: InputLine): void
  /** Messages after the run, before the summary. */
  closing?(): void
  /** The summary's words for the counts; the runner adds what was not attempted and why it stopped. */
  summary(c: Counts): string
  /** A dry run writes no failed file. */
  noFailedFile?: boolean
}

export interface Counts {
  done: number
  skipped: number
  failed: number
  notAttempted: number
  interrupted: string | null
}

export interface FailureRow {
  line: number
  code: number
  reason: string
  message: string
  hint?: string
  [key: string]: unknown
}

export interface BulkReport {
  counts: Counts
  failed: FailureRow[]
  /** Texts of the lines never started (an interruption, a run-ending error). */
  notAttempted: string[]
  recheck: {rechecked: number; redone: number; unchecked: number}
  failedFile?: string
  /** Partly done (2), or stopped with nothing done (75): the exit status; undefined when all is done. */
  error?: XmppadmError
}

export interface BulkEnv {
  ui: Ui
  interrupts: Interrupts
  connector: Connector
  /** The lines: --from-file FILE ("-": stdin), else the arguments. */
  file?: string
  args: readonly string[]
  concurrency: number
  retries: number
  /** --failed-file; default FILE.failed for a file. */
  failedFile?: string
}

/** Items come as arguments or from --from-file, one way: refuses neither and both. */
export function checkSource(args: readonly string[], file: string | undefined, noun: string, hint: string) {
  if (args.length && file) throw usageError(`give ${noun}s as arguments or with --from-file, not both`)
  if (!args.length && !file) throw usageError(`no ${noun} given`, hint)
}

/** The environment of a bulk run from a command's parts and its bulk flags (src/cli/flags.ts). */
export function bulkEnv(
  cmd: Pick<BulkEnv, 'ui' | 'interrupts'>,
  connector: Connector,
  args: readonly string[],
  flags: {'from-file'?: string; 'failed-file'?: string; concurrency: number; retries: number},
): BulkEnv {
  const {ui, interrupts} = cmd
  const {concurrency, retries} = flags
  return {
    ui,
    interrupts,
    connector,
    args,
    file: flags['from-file'],
    failedFile: flags['failed-file'],
    concurrency,
    retries,
  }
}

/** Errors after which no further line can work (server gone, not allowed, not offered): the run stops. */
const RUN_ENDERS = new Set<number>([ExitCode.tempFail, ExitCode.forbidden, ExitCode.unavailable])

export async function runBulkCommand<V, A = never>(env: BulkEnv, plan: BulkPlan<V, A>): Promise<BulkReport> {
  const {ui, file} = env
  const json = ui.settings.json
  // One item named on the command line: its error is the command's own, printed once at the end.
  const single = plan.total === 1 || (!file && env.args.length === 1)
  const recovery =
    plan.recovery && new Recovery<A>(env.connector, {...plan.recovery, retries: env.retries, ui})
  const retry: Retry<A> = recovery ?? {run: (job) => job(0), acked: () => undefined}
  const progress = new Progress(Boolean(plan.progress && file && ui.live), plan.total, plan.progress)
  if (progress.enabled && plan.total === undefined) progress.setTotal(await countItems(file!))

  const counts = {done: 0, skipped: 0}
  const failed: FailureRow[] = []
  const failedLines: string[] = []
  const fail = (line: InputLine, e: XmppadmError) => {
    failed.push({
      line: line.no,
      [plan.key]: plan.name(line),
      code: e.exitCode,
      reason: e.reason,
      message: e.message,
      hint: e.hint,
    })
    failedLines.push(line.text)
    if (!json && !single) ui.error(`${itemLabel(Boolean(file))} ${line.no}: ${e.message}`, e.hint)
  }
  const report = (r: LineOutcome<V>) => {
    progress.tick(r.outcome === 'failed')
    if (r.outcome === 'failed') fail(r.line, r.error)
    else if (r.outcome === 'done') plan.done?.(r.value, r.line)
    else plan.skipped?.(r.value, r.line)
    if (r.outcome !== 'failed') counts[r.outcome]++
    plan.finished?.(r.line)
  }
  // A pipe stops being read when the run stops early (it may never end).
  const stopInput = new AbortController()
  const lines = file ? readLines(file, {until: stopInput.signal}) : fromArray([...env.args])
  const job = plan.batch
    ? (group: InputLine[]) => plan.batch!.run(group, retry)
    : async ([line]: InputLine[]) => [{...(await plan.each!(line, retry)), line}]
  const summary = await env.interrupts.finishing(() =>
    runBulk<Array<LineOutcome<V>>, InputLine[]>(
      plan.batch ? batches(lines, plan.batch.size) : singles(lines),
      async (group) => ({outcome: 'done', value: await job(group)}),
      {
        concurrency: env.concurrency,
        signal: env.interrupts.signal,
        keepResults: false,
        isFatal: (e) => RUN_ENDERS.has(e.exitCode),
        onStop: () => stopInput.abort(),
        onResult: (r) => {
          if (r.outcome === 'failed')
            for (const line of r.line) report({outcome: 'failed', line, error: r.error!})
          else for (const outcome of r.value!) report(outcome)
        },
      },
    ),
  )
  progress.done()

  const r = plan.recovery
  const unchecked = recovery ? recovery.unchecked.map((a) => (r!.text ?? r!.name)(a)) : []
  if (unchecked.length)
    ui.warn(
      `${unchecked.length} ${r!.noun} acknowledged just before the connection was lost were not re-checked ` +
        `(the server may have forgotten them): they close the failed file, ` +
        (r!.rerun ? `re-run it ${r!.rerun}` : 'run it again'),
    )
  const notAttempted = summary.notAttempted.flat().map((l) => l.text)
  const all: Counts = {
    ...counts,
    failed: failed.length,
    notAttempted: notAttempted.length,
    interrupted: summary.interrupted ?? null,
  }
  // Failed, then never attempted, then acknowledged but not re-checked after a lost connection.
  const failedFile = plan.noFailedFile
    ? undefined
    : writeFailedLines(env.failedFile ?? (file && file !== '-' ? `${file}.failed` : undefined), [
        ...failedLines,
        ...notAttempted,
        ...unchecked,
      ])
  if (failedFile) ui.info(`failed and unattempted lines written to ${failedFile}`)
  plan.closing?.()
  // One item that failed: its error says it all.
  if (!(single && all.failed)) ui.info(summaryLine(plan.summary(all), all))
  return {
    counts: all,
    failed,
    notAttempted,
    recheck: {...(recovery?.counts ?? {rechecked: 0, redone: 0}), unchecked: unchecked.length},
    failedFile,
    error: bulkExit(all, failed),
  }
}

async function* singles<T>(items: AsyncIterable<T>): AsyncGenerator<T[]> {
  for await (const item of items) yield [item]
}

const summaryLine = (head: string, c: Counts) =>
  `${head}${c.notAttempted ? `, not attempted ${c.notAttempted}` : ''}` +
  (c.interrupted ? ` (stopped: ${c.interrupted})` : '')

/** Writes lines (mode 0600: they may hold passwords); returns the path, or undefined if none. */
function writeFailedLines(path: string | undefined, lines: string[]): string | undefined {
  if (!path || lines.length === 0) return undefined
  writePrivateFile(path, `${lines.join('\n')}\n`)
  return path
}

/**
 * Exit status of a bulk run: 0 when all is done (undefined); one item that failed: its own error
 * (thrown); otherwise 2 ("partly done") with the summary as the result; stopped with nothing done: 75.
 */
function bulkExit(c: Counts, failures: FailureRow[]): XmppadmError | undefined {
  const total = c.done + c.skipped + c.failed + c.notAttempted
  if (c.failed === 0 && !c.interrupted) return undefined
  if (total === 1 && failures.length === 1) {
    const f = failures[0]
    throw new XmppadmError(exitCodeName(f.code), f.reason, f.message, {hint: f.hint})
  }
  const message =
    `${c.failed} of ${total} failed${c.notAttempted ? `, ${c.notAttempted} not attempted` : ''}` +
    (c.interrupted ? ` (stopped: ${c.interrupted})` : '')
  return new XmppadmError(
    c.done + c.skipped === 0 && c.interrupted ? 'tempFail' : 'partial',
    'partial',
    message,
  )
}
