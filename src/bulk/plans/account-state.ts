// `account disable`, `account enable` and `account kick`, line by line: one JID a line (the first
// field: a create file or `account list`'s output works too). An account that was so already is
// "skipped"; one that does not exist fails its line (67). Each is idempotent, so after a lost
// connection the accounts acknowledged just before it are simply done again (a dying server may
// have forgotten them).
import {Settled} from '../../cli/outcome.js'
import type {Connector} from '../../connect/connector.js'
import {usageError} from '../../errors.js'
import type {StateChange} from '../../ops/account-state.js'
import type {OpContext} from '../../ops/context.js'
import {type BulkEnv, bulkEnv, runBulkCommand} from '../bulk-run.js'
import {checkItems, lineJid} from '../lines.js'
import {type JidOf, jidReader} from './account-delete.js'

export interface StateVerb {
  /** "disabling " (the progress bar), "disabled", "disabled already", "disabled again". */
  progress: string
  done: string
  /** What a skipped account is; kicking skips none. */
  already?: string
  again: string
  /** The JSON result's key for the accounts done ("disabled"). */
  key: string
}

/**
 * The accounts named as arguments or in --from-file: every line read before the login (a bad one
 * is refused before anything changes), then each changed as changeAccounts does.
 */
export async function changeNamedAccounts(
  cmd: Pick<BulkEnv, 'ui' | 'interrupts'>,
  ctx: OpContext,
  connect: () => Promise<Connector>,
  args: readonly string[],
  flags: Parameters<typeof bulkEnv>[3],
  o: {change: (jid: string) => Promise<StateChange>; verb: StateVerb},
) {
  const file = flags['from-file']
  const {parse, jidOf} = jidReader(ctx, file)
  const {count} = await checkItems(args, file, parse)
  if (count === 0) throw usageError(`no accounts in ${file}`)
  const env = bulkEnv(cmd, await connect(), args, flags)
  return changeAccounts(env, {total: count, jidOf, ...o})
}

export async function changeAccounts(
  env: BulkEnv,
  o: {total?: number; jidOf: JidOf; change: (jid: string) => Promise<StateChange>; verb: StateVerb},
) {
  const {ui} = env
  const {verb} = o
  const done: Array<{jid: string; sessionsClosed?: number}> = []
  const already: string[] = []
  let sessions = 0
  let sessionsKnown = false
  const report = await runBulkCommand<{jid: string; change: StateChange}, string>(env, {
    progress: verb.progress,
    total: o.total,
    key: 'jid',
    name: (line) => lineJid(line.text),
    recovery: {
      // true only when the server says it changed something: it had forgotten
      redo: async (jid) => (await o.change(jid)).changed === true,
      name: (jid) => jid,
      noun: 'accounts',
      again: verb.again,
    },
    each(line, retry) {
      const jid = o.jidOf(line)
      return retry.run(async (attempt) => {
        const change = await o.change(jid)
        retry.acked(jid)
        // Tried again after a lost connection, "already" most likely means the first try did it.
        const skipped = change.changed === false && attempt === 0
        return {outcome: skipped ? 'skipped' : 'done', value: {jid, change}}
      })
    },
    done: ({jid, change}) => {
      const n = change.sessionsClosed
      if (n !== undefined) {
        sessions += n
        sessionsKnown = true
      }
      ui.out(`${verb.done} ${jid}${n ? ` (${n} live session${n === 1 ? '' : 's'} ended)` : ''}`)
      if (ui.settings.json) done.push({jid, ...(n === undefined ? {} : {sessionsClosed: n})})
    },
    skipped: ({jid}) => {
      ui.info(`${verb.already}: ${jid}`)
      if (ui.settings.json) already.push(jid)
    },
    summary: (c) =>
      `${verb.done} ${c.done}${verb.already ? `, ${verb.already} ${c.skipped}` : ''}` +
      `${c.failed ? `, failed ${c.failed}` : ''}` +
      (sessionsKnown ? `; ${sessions} live session(s) ended` : ''),
  })
  const {counts, recheck, failed, failedFile} = report
  return new Settled(
    {
      [verb.key]: done,
      already,
      failed,
      notAttempted: report.notAttempted.map(lineJid),
      summary: {
        [verb.key]: counts.done,
        already: counts.skipped,
        failed: counts.failed,
        notAttempted: counts.notAttempted,
        interrupted: counts.interrupted,
        sessionsClosed: sessionsKnown ? sessions : null,
        rechecked: recheck.rechecked,
        doneAgain: recheck.redone,
        unchecked: recheck.unchecked,
      },
      failedFile,
    },
    report.error,
  )
}
