// Flags, failed-lines file and exit status shared by the bulk commands.
import {renameSync, writeFileSync} from 'node:fs'
import {ExitCode, XmppadmError, exitCodeName} from '../errors.js'
import type {BulkSummary} from './runner.js'

/** Writes lines (mode 0600: they may hold passwords); returns the path, or undefined if none. */
export function writeFailedLines(path: string | undefined, lines: string[]): string | undefined {
  if (!path || lines.length === 0) return undefined
  // A new file, renamed over the old one: an existing file's looser mode never applies.
  const tmp = `${path}.${process.pid}.tmp`
  writeFileSync(tmp, `${lines.join('\n')}\n`, {mode: 0o600, flag: 'wx'})
  renameSync(tmp, path)
  return path
}

export interface FailureRow {
  code: number
  reason: string
  message: string
  hint?: string
}

/**
 * Exit status of a bulk run: 0 all done (undefined); one item that failed: its own error (thrown);
 * otherwise 2 ("partly done") with the summary as the result; an interruption with nothing done: 75.
 */
export function bulkExit(
  summary: Pick<
    BulkSummary<unknown, unknown>,
    'done' | 'skipped' | 'failed' | 'notAttempted' | 'interrupted'
  >,
  failures: FailureRow[],
): XmppadmError | undefined {
  const total = summary.done + summary.skipped + summary.failed + summary.notAttempted.length
  if (summary.failed === 0 && !summary.interrupted) return undefined
  if (total === 1 && failures.length === 1) {
    const f = failures[0]
    throw new XmppadmError(exitCodeName(f.code), f.reason, f.message, {hint: f.hint})
  }
  const msg = `${summary.failed} of ${total} failed${summary.notAttempted.length ? `, ${summary.notAttempted.length} not attempted` : ''}${summary.interrupted ? ` (stopped: ${summary.interrupted})` : ''}`
  return new XmppadmError(
    summary.done + summary.skipped === 0 && summary.interrupted ? 'tempFail' : 'partial',
    'partial',
    msg,
  )
}

const RUN_ENDERS = new Set<number>([ExitCode.tempFail, ExitCode.forbidden, ExitCode.unavailable])

/** Errors after which no further item can work (server gone, not allowed, not offered): the run stops. */
export function endsTheRun(e: XmppadmError): boolean {
  return RUN_ENDERS.has(e.exitCode)
}

/**
 * What every bulk command gives runBulk: the bound on work in flight, Ctrl-C, no per-item results
 * kept (memory stays flat), the errors that end the run, and a pipe that stops being read then.
 */
export function bulkRunOptions(o: {concurrency: number; signal: AbortSignal; stopInput: AbortController}) {
  return {
    concurrency: o.concurrency,
    signal: o.signal,
    keepResults: false,
    isFatal: endsTheRun,
    onStop: () => o.stopInput.abort(),
  }
}
