// "No message archive", looked at in the stores: every account of the host, its archive's count
// (the module's #list-accounts and #stored-data, server/CONTRACT.md 12-13), a bounded number in
// flight. The walk ends early once the verdict cannot change (enough holders found) or when its time
// is up, and says which: a monitoring check must end in time on a server with 100,000 accounts.
import type {OpContext} from '../ops/context.js'
import {moduleList} from '../ops/account-list.js'
import {moduleStoredData} from '../ops/erasure.js'
import {mod} from '../ops/nodes.js'
import {EJABBERD_MODULE_HINT, moduleLoaded, prosodyModuleHint} from '../ops/server-module.js'
import {type CheckResult, check} from './check.js'

export interface ArchiveScanOptions {
  /** How long the walk may take. */
  budgetMs: number
  /** Holders found after which the walk stops: the promise is broken whatever the rest hold. */
  enough: number
  /** #stored-data requests in flight. */
  concurrency: number
  /** Accounts per #list-accounts page. */
  pageSize: number
}

export const ARCHIVE_SCAN: Omit<ArchiveScanOptions, 'budgetMs'> = {enough: 10, concurrency: 16, pageSize: 200}

export interface ArchiveHolder {
  jid: string
  count: number
}

export interface ArchiveScan {
  /** Accounts whose archive holds messages, in the order they were found. */
  holders: ArchiveHolder[]
  /** Accounts whose archive was counted. */
  scanned: number
  /** Accounts on the host, as the server said (undefined: it did not). */
  total?: number
  /** Why the walk ended before the last account: enough holders found, or its time was up. */
  stopped?: 'enough' | 'time'
}

export interface AccountPageOfJids {
  jids: string[]
  total?: number
}

/**
 * Walks the pages, counting each account's archive, `concurrency` at a time; the next page is asked
 * for while this one is counted. A failed count ends the walk with its error.
 */
export async function scanArchives(
  pages: AsyncIterator<AccountPageOfJids>,
  count: (jid: string) => Promise<number>,
  opts: ArchiveScanOptions,
  now: () => number = () => performance.now(),
): Promise<ArchiveScan> {
  const started = now()
  const holders: ArchiveHolder[] = []
  let scanned = 0
  let total: number | undefined
  let stopped: ArchiveScan['stopped']
  let failed = false
  const mustStop = () => {
    if (failed || stopped) return true
    if (holders.length >= opts.enough) stopped = 'enough'
    else if (now() - started >= opts.budgetMs) stopped = 'time'
    return Boolean(stopped)
  }
  let next = pages.next()
  for (;;) {
    const page = await next
    if (page.done) break
    total = page.value.total ?? total
    next = pages.next()
    // A walk that stops here leaves this request unread: its failure must not go unhandled.
    next.catch(() => undefined)
    const jids = page.value.jids
    let i = 0
    const worker = async () => {
      while (i < jids.length && !mustStop()) {
        const jid = jids[i++]
        try {
          const n = await count(jid)
          scanned++
          if (n > 0) holders.push({jid, count: n})
        } catch (error) {
          failed = true
          throw error
        }
      }
    }
    await Promise.all(Array.from({length: Math.min(opts.concurrency, jids.length)}, worker))
    if (stopped) break
  }
  return {holders, scanned, ...(total === undefined ? {} : {total}), ...(stopped ? {stopped} : {})}
}

const number = (n: number) => n.toLocaleString('en-US')
const accounts = (n: number) => `${number(n)} account${n === 1 ? '' : 's'}`
/** Holders named in the evidence; the count says how many more. */
const NAMED = 10

/** The walk's verdict and evidence under "no message archive". */
export function judgeArchiveScan(
  target: string,
  scan: ArchiveScan,
  opts: {budgetSeconds: number; enough: number},
): CheckResult {
  const {holders, scanned, total, stopped} = scan
  const limit = `its ${opts.budgetSeconds} s limit (archive_scan_seconds)`
  if (holders.length) {
    const sorted = [...holders].sort((a, b) => b.count - a.count || a.jid.localeCompare(b.jid))
    const named = sorted.slice(0, NAMED).map((h) => `${h.jid}: ${number(h.count)}`)
    if (sorted.length > NAMED) named.push(`${sorted.length - NAMED} more`)
    const n = holders.length
    const verb = n === 1 ? 'holds' : 'hold'
    const of = total ?? (stopped ? undefined : scanned)
    const who = of === undefined ? accounts(n) : `${number(n)} of ${accounts(of)}`
    const how = !stopped
      ? ''
      : stopped === 'enough'
        ? `; the walk stopped once ${opts.enough} were found, after ${accounts(scanned)}`
        : `; the walk stopped at ${limit}, after ${accounts(scanned)}`
    return check(
      'archive',
      'archive-contents',
      target,
      'fail',
      `${stopped ? 'at least ' : ''}${who} ${verb} archived messages (${named.join(', ')})${how}`,
      'delete what the archive module stored and unload it (Prosody: mod_mam; ejabberd: mod_mam), ' +
        'or set archive = allowed',
    )
  }
  if (!stopped)
    return check(
      'archive',
      'archive-contents',
      target,
      'pass',
      `no account's archive holds messages (${accounts(scanned)})`,
    )
  return check(
    'archive',
    'archive-contents',
    target,
    'cannot-tell',
    `no archive holds messages among the first ${accounts(scanned)}` +
      `${total === undefined ? '' : ` of ${number(total)}`}; the walk stopped at ${limit}`,
    `raise archive_scan_seconds in the policy file (now ${opts.budgetSeconds})`,
  )
}

/** Whether the server can be asked for every account's archive count. */
export const canScanArchives = (ctx: OpContext): boolean =>
  ctx.nodes.has(mod('list-accounts')) && ctx.nodes.has(mod('stored-data'))

/** What would let the audit look into every archive, where it cannot. */
export function archiveScanHint(ctx: OpContext): string {
  if (moduleLoaded(ctx))
    return (
      `mod_xmppadm is loaded but offers no ${mod('list-accounts')} and ${mod('stored-data')}: ` +
      'update it to the one in this xmppadm package'
    )
  if (ctx.software.family === 'prosody') return prosodyModuleHint(ctx)
  if (ctx.software.family === 'ejabberd') return EJABBERD_MODULE_HINT
  return `a server offering ${mod('list-accounts')} and ${mod('stored-data')}`
}

/** Every account's archive on the host, through the module. */
export async function auditArchiveContents(ctx: OpContext, budgetSeconds: number): Promise<CheckResult> {
  const opts = {...ARCHIVE_SCAN, budgetMs: budgetSeconds * 1000}
  const pages = (async function* () {
    for await (const page of moduleList(ctx, {pageSize: opts.pageSize, concurrency: opts.concurrency}))
      yield {jids: page.rows.map((r) => r.jid), total: page.total}
  })()
  const scan = await scanArchives(
    pages,
    async (jid) => {
      const mam = (await moduleStoredData(ctx, jid)).counts.mam
      if (mam === undefined) throw new Error(`${mod('stored-data')} reported no archive count for ${jid}`)
      return mam
    },
    opts,
  )
  return judgeArchiveScan(ctx.to, scan, {budgetSeconds, enough: opts.enough})
}
