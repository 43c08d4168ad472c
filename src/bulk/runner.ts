// Runs one async job per input line with a bound on jobs in flight (several commands in flight on
// one connection), reports progress, and stops taking new lines on abort while in-flight jobs
// finish, so the summary says exactly what was done.
import {setFlagsFromString} from 'node:v8'
import {runInNewContext} from 'node:vm'
import {XmppadmError, knownError} from '../errors.js'
import type {InputLine} from './lines.js'

export type Outcome = 'done' | 'skipped' | 'failed'

export interface ItemResult<R, I = InputLine> {
  line: I
  outcome: Outcome
  value?: R
  error?: XmppadmError
}

export interface BulkSummary<R, I = InputLine> {
  done: number
  skipped: number
  failed: number
  /** Lines never started because of an interruption. */
  notAttempted: I[]
  results: Array<ItemResult<R, I>>
  interrupted?: string
}

export interface BulkOptions<R, I = InputLine> {
  concurrency: number
  signal?: AbortSignal
  onResult?: (r: ItemResult<R, I>) => void
  /** Keep per-item results in memory (off for very large runs). */
  keepResults?: boolean
  /** An error of this kind stops the run: the connection is gone, nothing more can work. */
  isFatal?: (e: XmppadmError) => boolean
  /** Called once when the run stops early, before the rest is counted (stdin: stop reading it). */
  onStop?: () => void
}

/**
 * A full collection every so many items keeps peak RSS flat in the size of the input: the live
 * heap stays ~11 MB, but V8 otherwise lets the old generation grow to several times that.
 */
const GC_EVERY = 200
function collector(): (() => void) | undefined {
  try {
    setFlagsFromString('--expose-gc')
    return runInNewContext('gc') as () => void
  } catch {
    return undefined
  }
}

export async function runBulk<R, I = InputLine>(
  lines: AsyncIterable<I>,
  job: (line: I) => Promise<{outcome: Outcome; value?: R}>,
  opts: BulkOptions<R, I>,
): Promise<BulkSummary<R, I>> {
  const summary: BulkSummary<R, I> = {done: 0, skipped: 0, failed: 0, notAttempted: [], results: []}
  const inFlight = new Set<Promise<void>>()
  const iterator = lines[Symbol.asyncIterator]()
  const gc = collector()
  let sinceGc = 0
  const record = (r: ItemResult<R, I>) => {
    summary[r.outcome]++
    if (gc && ++sinceGc >= GC_EVERY) {
      sinceGc = 0
      gc()
    }
    if (opts.keepResults !== false) summary.results.push(r)
    opts.onResult?.(r)
  }
  let stop: string | undefined
  // The loop may be waiting for the next input line (a pipe): stopping must also end that wait.
  const halt = (why: string) => {
    if (stop) return
    stop = why
    opts.onStop?.()
  }
  const onAbort = () => halt('interrupted')
  opts.signal?.addEventListener('abort', onAbort, {once: true})
  for (;;) {
    if (opts.signal?.aborted) halt('interrupted')
    if (stop) break
    const next = await iterator.next()
    if (next.done) break
    // Stopped while waiting for this line: it is not started.
    if (stop) {
      summary.notAttempted.push(next.value)
      break
    }
    const line = next.value
    const p = (async () => {
      try {
        const r = await job(line)
        record({line, outcome: r.outcome, value: r.value})
      } catch (error) {
        const e =
          knownError(error) ??
          new XmppadmError('internal', 'internal', String((error as Error)?.message ?? error))
        record({line, outcome: 'failed', error: e})
        if (opts.isFatal?.(e)) halt(e.message)
      }
    })()
    inFlight.add(p)
    void p.finally(() => inFlight.delete(p))
    if (inFlight.size >= opts.concurrency) await Promise.race(inFlight)
  }
  await Promise.all(inFlight)
  opts.signal?.removeEventListener('abort', onAbort)
  if (stop) {
    summary.interrupted = stop
    for (let next = await iterator.next(); !next.done; next = await iterator.next())
      summary.notAttempted.push(next.value)
  }
  return summary
}
