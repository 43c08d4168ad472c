// `account delete`, line by line: one JID a line (anything after a comma is ignored, so a create
// file works too); "not found" is not an error. After a lost connection, the accounts deleted just
// before it are deleted again (a dying server may forget). The dry run asks the server about each.
import {Settled} from '../../cli/outcome.js'
import {accountExists} from '../../ops/accounts.js'
import type {OpContext} from '../../ops/context.js'
import {type ErasureReceipt, type Verdict, describeReceipt, incompleteErasure} from '../../ops/erasure.js'
import {type BulkEnv, runBulkCommand} from '../bulk-run.js'
import {type InputLine, atLine, lineJid} from '../lines.js'
import {parseAccountJid, parseJid} from '../../xmpp/jid.js'

/** A line's JID (its errors name the line when it comes from a file). */
export type JidOf = (line: InputLine) => string

/** How an argument or a line becomes a JID: its first field, a bare name on the admin's domain. */
export function jidReader(ctx: OpContext, file: string | undefined) {
  const parse = (text: string) => parseAccountJid(lineJid(text), parseJid(ctx.to).domain)
  const jidOf: JidOf = (line) => (file ? atLine(line, parse) : parse(line.text))
  return {parse, jidOf}
}

/** What is about to be deleted, for the confirmation: "delete a@b and all its data". */
export const deletionOf = (count: number | undefined, first: string | undefined) =>
  count === 1
    ? `delete ${first} and all its data`
    : `delete ${count ?? 'the listed'} accounts and all their data`

export async function deleteAccounts(
  env: BulkEnv,
  o: {
    total?: number
    jidOf: JidOf
    remove: (jid: string) => Promise<boolean>
    /** The erasure receipt of each account (also of one that was not found); none without it. */
    receipt?: (jid: string) => Promise<ErasureReceipt>
  },
) {
  const {ui} = env
  const single = o.total === 1
  const deleted: string[] = []
  const notFound: string[] = []
  const receipts: ErasureReceipt[] = []
  const verdicts = {erased: 0, kept: 0, unverified: 0, left: 0}
  const unchecked = new Set<string>()
  type Deleted = {jid: string; receipt?: ErasureReceipt}
  const judge = async (jid: string): Promise<ErasureReceipt | undefined> => {
    if (!o.receipt) return undefined
    const r = await o.receipt(jid)
    verdicts[r.verdict]++
    if (r.verdict === 'left') throw incompleteErasure(r)
    return r
  }
  const tell = (r: ErasureReceipt | undefined) => {
    if (!r) return
    if (ui.settings.json) receipts.push(r)
    for (const s of r.unchecked) unchecked.add(s)
    if (r.verdict === 'kept') ui.warn(describeReceipt(r))
    else if (single) ui.info(describeReceipt(r))
  }
  const report = await runBulkCommand<Deleted, string>(env, {
    progress: 'deleting ',
    total: o.total,
    key: 'jid',
    name: (line) => lineJid(line.text),
    recovery: {redo: o.remove, name: (jid) => jid, noun: 'accounts', again: 'deleted again'},
    each: (line, retry) => {
      const jid = o.jidOf(line)
      return retry.run(async (attempt) => {
        // Tried again after a lost connection, "not found" most likely means the first try did it.
        const gone = (await o.remove(jid)) || attempt > 0
        if (gone) retry.acked(jid)
        return {outcome: gone ? 'done' : 'skipped', value: {jid, receipt: await judge(jid)}}
      })
    },
    done: ({jid, receipt}) => {
      ui.out(`deleted ${jid}`)
      if (ui.settings.json) deleted.push(jid)
      tell(receipt)
    },
    skipped: ({jid, receipt}) => {
      ui.info(`not found: ${jid}`)
      if (ui.settings.json) notFound.push(jid)
      tell(receipt)
    },
    closing: () => {
      if (verdicts.unverified && !single)
        ui.warn(
          `for ${verdicts.unverified} account(s) the server could not be asked about everything; not ` +
            `checked: ${[...unchecked].join(', ')}`,
        )
      // a line of its own: the summary line after it keeps its shape (scripts read it)
      if (o.receipt) ui.info(`erasure receipts: ${receiptCounts(verdicts)}`)
    },
    summary: (c) => `deleted ${c.done}, not found ${c.skipped}${c.failed ? `, failed ${c.failed}` : ''}`,
  })
  const {counts, recheck, failed, failedFile} = report
  const summary = {
    deleted: counts.done,
    notFound: counts.skipped,
    failed: counts.failed,
    notAttempted: counts.notAttempted,
    interrupted: counts.interrupted,
    rechecked: recheck.rechecked,
    deletedAgain: recheck.redone,
    unchecked: recheck.unchecked,
    ...(o.receipt ? {erasure: verdicts} : {}),
  }
  const notAttempted = report.notAttempted.map(lineJid)
  return new Settled(
    {
      dryRun: false,
      deleted,
      notFound,
      failed,
      notAttempted,
      ...(o.receipt ? {receipts} : {}),
      summary,
      failedFile,
    },
    report.error,
  )
}

const VERDICT_WORDS: Record<Verdict, string> = {
  erased: 'erased',
  kept: 'kept something',
  unverified: 'not fully checked',
  left: 'data left',
}

const receiptCounts = (v: Record<Verdict, number>) =>
  (['erased', 'kept', 'unverified', 'left'] as const)
    .filter((k) => v[k])
    .map((k) => `${v[k]} ${VERDICT_WORDS[k]}`)
    .join(', ') || 'none'

/**
 * What a deletion would do, account by account, asked of the server: "would delete" (it exists),
 * "not found", or "cannot tell" where the server offers no way to look an account up.
 */
export async function previewDeletion(env: BulkEnv, ctx: OpContext, jidOf: JidOf) {
  const {ui} = env
  const found = {wouldDelete: [] as string[], notFound: [] as string[], cannotTell: [] as string[]}
  const counts = {wouldDelete: 0, notFound: 0, cannotTell: 0}
  const report = await runBulkCommand<{jid: string; exists?: boolean}>(env, {
    key: 'jid',
    name: (line) => lineJid(line.text),
    each: async (line) => {
      const jid = jidOf(line)
      return {outcome: 'done', value: {jid, exists: await accountExists(ctx, jid)}}
    },
    done: ({jid, exists}) => {
      const key = exists === undefined ? 'cannotTell' : exists ? 'wouldDelete' : 'notFound'
      counts[key]++
      if (ui.settings.json) found[key].push(jid)
      // The dry run's answer is the data asked for: printed even with --quiet.
      ui.data(
        {
          cannotTell: `cannot tell: ${jid}`,
          wouldDelete: `would delete ${jid}`,
          notFound: `not found: ${jid}`,
        }[key],
      )
    },
    closing: () => {
      if (counts.cannotTell)
        ui.warn(
          `this server offers no way to look an account up (${ctx.software.name ?? ctx.to}): for ` +
            `${counts.cannotTell} account(s) the dry run cannot tell whether they exist`,
        )
    },
    summary: () =>
      `would delete ${counts.wouldDelete}, not found ${counts.notFound}` +
      (counts.cannotTell ? `, cannot tell ${counts.cannotTell}` : ''),
    noFailedFile: true,
  })
  return new Settled({dryRun: true, ...found, deleted: [], notAttempted: report.notAttempted}, report.error)
}
