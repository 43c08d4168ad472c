// Long operations of the module are paged (CONTRACT.md 1, "Long operations"): each request does
// about a second of work and answers with that page's counts, `more`, a cursor (`next`) and the
// run's progress (`scanned` of `total`). Following the pages here keeps every answer short, so
// no run of any size meets the per-answer timeout, and stopping between pages is always clean:
// the server keeps nothing, and a new run finds what is left.
import {formValues} from '../protocol/dataform.js'
import {type OpContext, invoke} from './context.js'

/** Where a paged run is, after each page. */
export interface PageProgress {
  pages: number
  /** Users or records walked so far in this run; null where the server does not say. */
  scanned: number | null
  total: number | null
  /** The counted fields, summed over the pages so far. */
  counts: Record<string, number>
}

export interface PagedRun extends PageProgress {
  /** The last page's values (fields that are the same on every page, such as `hosts`). */
  last: ReturnType<typeof formValues>
  /** False when the run stopped before its last page (Ctrl-C). */
  complete: boolean
}

const num = (v: unknown): number | null => {
  const n = typeof v === 'string' && v !== '' ? Number(v) : NaN
  return Number.isFinite(n) ? n : null
}

/**
 * Runs `node` page after page until the server says there is no more (a module without paging
 * answers once, without `more`: one page), or until `ctx.signal` aborts: the page in flight
 * ends, no other starts. `counted` fields are summed over the pages.
 */
export async function followPages(
  ctx: OpContext,
  node: string,
  fields: Record<string, string>,
  counted: string[],
  onPage?: (p: PageProgress) => void,
): Promise<PagedRun> {
  const counts = Object.fromEntries(counted.map((c) => [c, 0]))
  let progress: PageProgress = {pages: 0, scanned: null, total: null, counts: {...counts}}
  let last: ReturnType<typeof formValues> = {}
  let after: string | undefined
  for (;;) {
    if (ctx.signal?.aborted) return {...progress, last, complete: false}
    // A one-shot submit completes in one answer: an abort meanwhile does not cut the page short.
    const v = formValues((await invoke(ctx, node, {...fields, after}, {signal: undefined})).form!)
    for (const c of counted) counts[c] += num(v[c]) ?? 0
    progress = {pages: progress.pages + 1, scanned: num(v.scanned), total: num(v.total), counts: {...counts}}
    last = v
    onPage?.(progress)
    if (v.more !== true || typeof v.next !== 'string' || v.next === '')
      return {...progress, last, complete: true}
    after = v.next
  }
}
