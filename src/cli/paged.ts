// A long paged operation as a command runs it (CONTRACT.md 1, "Long operations"): a progress bar
// on a terminal (walked/total, rate, time left, what was done so far), Ctrl-C stopping it after
// the page in flight, and the exit of a run stopped early: 2 ("partly done") with what it did,
// 75 if it did nothing, as the bulk commands do. A second run does what is left.
import {Progress} from '../bulk/progress.js'
import {XmppadmError} from '../errors.js'
import type {PageProgress} from '../ops/pages.js'
import type {Ui} from '../output/ui.js'
import type {Interrupts} from './interrupts.js'
import {Settled} from './outcome.js'

interface Runner {
  ui: Ui
  interrupts: Interrupts
}

/**
 * Runs `work` (which calls `onPage` after each page) with a progress bar labelled `label`;
 * `note` says what the pages did so far ("1,204 deleted"). The run is not forced to end while
 * its page in flight finishes after a Ctrl-C.
 */
export async function runPaged<R>(
  cmd: Runner,
  label: string,
  note: (p: PageProgress) => string,
  work: (onPage: (p: PageProgress) => void) => Promise<R>,
): Promise<R> {
  return runPagedMany(cmd, label, note, (track) => work(track('')))
}

/**
 * runPaged for several paged runs at once (one per virtual host, --all-hosts): `track(key)` is
 * the `onPage` of the run named `key`, and the one bar shows their progress and counts summed.
 */
export async function runPagedMany<R>(
  cmd: Runner,
  label: string,
  note: (p: PageProgress) => string,
  work: (track: (key: string) => (p: PageProgress) => void) => Promise<R>,
): Promise<R> {
  const bar = new Progress(cmd.ui.live, undefined, label)
  const runs = new Map<string, PageProgress>()
  const track = (key: string) => (p: PageProgress) => {
    runs.set(key, p)
    const sum = sumPages([...runs.values()])
    bar.set(sum.scanned ?? sum.pages, sum.total ?? undefined, note(sum))
  }
  try {
    return await cmd.interrupts.finishing(() => work(track))
  } finally {
    bar.done()
  }
}

/** Several runs' progress as one: pages, walked and counts added up; a total only if every run has one. */
export function sumPages(runs: PageProgress[]): PageProgress {
  const add = (f: (p: PageProgress) => number) => runs.reduce((n, p) => n + f(p), 0)
  const counts: Record<string, number> = {}
  for (const p of runs) for (const [k, v] of Object.entries(p.counts)) counts[k] = (counts[k] ?? 0) + v
  return {
    pages: add((p) => p.pages),
    scanned: runs.some((p) => p.scanned !== null) ? add((p) => p.scanned ?? 0) : null,
    total: runs.length && runs.every((p) => p.total !== null) ? add((p) => p.total!) : null,
    counts,
  }
}

/** Why a run stopped early, as the error of a partly done run (2), or 75 if it did nothing. */
export function pagedStop(
  result: {interrupted: string | null; pages: number},
  walked: string,
): XmppadmError | undefined {
  if (!result.interrupted) return undefined
  const message = `stopped (${result.interrupted}) after ${walked}: run it again to do the rest`
  return new XmppadmError(result.pages ? 'partial' : 'tempFail', 'interrupted', message)
}

/**
 * The end of a run: the result as it is, or, stopped early, Settled with the exit of a partly
 * done run (stderr says what is left to do, even with --quiet).
 */
export function settlePaged<R extends {interrupted: string | null; pages: number}>(
  cmd: Runner,
  result: R,
  walked: string,
): R | Settled<R> {
  const stop = pagedStop(result, walked)
  if (!stop) return result
  cmd.ui.error(stop.message)
  return new Settled(result, stop)
}

/** "7 pages, 1,200 of 20,000 users walked", for the message of a run stopped early. */
export function walked(
  r: {pages: number; scanned: number | null; total: number | null},
  unit: string,
): string {
  const pages = `${r.pages} page(s)`
  if (r.scanned === null) return pages
  return `${pages}, ${r.scanned}${r.total === null ? '' : ` of ${r.total}`} ${unit} walked`
}
