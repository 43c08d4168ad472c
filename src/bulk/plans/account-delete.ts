// `account delete`, line by line: one JID a line (anything after a comma is ignored, so a create
// file works too); "not found" is not an error. After a lost connection, the accounts deleted just
// before it are deleted again (a dying server may forget). The dry run asks the server about each.
import {Settled} from '../../cli/outcome.js'
import {accountExists} from '../../ops/accounts.js'
import type {OpContext} from '../../ops/context.js'
import {type BulkEnv, runBulkCommand} from '../bulk-run.js'
import {type InputLine, atLine, splitLine} from '../lines.js'
import {parseAccountJid, parseJid} from '../../xmpp/jid.js'

/** A line's JID (its errors name the line when it comes from a file). */
export type JidOf = (line: InputLine) => string

/** How an argument or a line becomes a JID: its first field, a bare name on the admin's domain. */
export function jidReader(ctx: OpContext, file: string | undefined) {
  const parse = (text: string) => parseAccountJid(splitLine(text)[0], parseJid(ctx.to).domain)
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
  o: {total?: number; jidOf: JidOf; remove: (jid: string) => Promise<boolean>},
) {
  const {ui} = env
  const deleted: string[] = []
  const notFound: string[] = []
  const report = await runBulkCommand<string, string>(env, {
    progress: 'deleting ',
    total: o.total,
    key: 'jid',
    name: (line) => splitLine(line.text)[0],
    recovery: {redo: o.remove, name: (jid) => jid, noun: 'accounts', again: 'deleted again'},
    each: (line, retry) => {
      const jid = o.jidOf(line)
      return retry.run(async (attempt) => {
        // Tried again after a lost connection, "not found" most likely means the first try did it.
        const gone = (await o.remove(jid)) || attempt > 0
        if (gone) retry.acked(jid)
        return {outcome: gone ? 'done' : 'skipped', value: jid}
      })
    },
    done: (jid) => {
      ui.out(`deleted ${jid}`)
      if (ui.settings.json) deleted.push(jid)
    },
    skipped: (jid) => {
      ui.info(`not found: ${jid}`)
      if (ui.settings.json) notFound.push(jid)
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
  }
  const notAttempted = report.notAttempted.map((t) => splitLine(t)[0])
  return new Settled(
    {dryRun: false, deleted, notFound, failed, notAttempted, summary, failedFile},
    report.error,
  )
}

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
    name: (line) => splitLine(line.text)[0],
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
