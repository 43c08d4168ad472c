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
  const bar = new Progress(cmd.ui.live, undefined, label)
  try {
    return await cmd.interrupts.finishing(() =>
      work((p) => bar.set(p.scanned ?? p.pages, p.total ?? undefined, note(p))),
    )
  } finally {
    bar.done()
  }
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
  if (!result.interrupted) return result
  const message = `stopped (${result.interrupted}) after ${walked}: run it again to do the rest`
  cmd.ui.error(message)
  return new Settled(result, new XmppadmError(result.pages ? 'partial' : 'tempFail', 'interrupted', message))
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
