// `import-user`, file by file: each line (or argument) is a XEP-0227 file; every user in it is
// imported (a file usually holds one). After a lost connection a file is imported again with
// merge: the server stores each item once, so what the first try stored is not doubled, and the
// files acknowledged just before the loss are imported again the same way (a dying server may
// have forgotten them).
import {Settled} from '../../cli/outcome.js'
import {
  type ImportOptions,
  type ImportPart,
  type PartResult,
  type UserImport,
  importFile,
  importedSummary,
  skippedLines,
} from '../../ops/import-user.js'
import type {Xep0227Source} from '../../protocol/xep0227.js'
import {type BulkEnv, runBulkCommand} from '../bulk-run.js'

export interface ImportRun extends Omit<ImportOptions, 'domain'> {
  domain: string
  send: (part: ImportPart) => Promise<PartResult>
  /** The text of "-" (stdin), read before the run. */
  stdin?: string
}

const sourceOf = (file: string, stdin?: string): Xep0227Source =>
  file === '-' ? {text: stdin ?? '', name: 'stdin'} : {path: file}

/** A re-import after a lost connection found something missing: the server had forgotten it. */
const forgotten = (u: UserImport) =>
  u.created || Boolean(u.sections.offline?.imported || u.sections.mam?.imported)

export async function importUsers(env: BulkEnv, o: ImportRun) {
  const {ui} = env
  const json = ui.settings.json
  const imported: Array<UserImport & {file: string}> = []
  const counts = {users: 0, partial: 0}
  const run = (file: string, merge: boolean, done?: (u: UserImport) => void) =>
    importFile(o.send, sourceOf(file, o.stdin), {...o, merge}, done)

  const tell = (u: UserImport) => {
    const into = u.from === u.account ? u.account : `${u.from} into ${u.account}`
    if (o.dryRun) {
      // The dry run's answer is the data asked for: printed even with --quiet.
      ui.data(`would import ${into}${u.created ? ' (new account)' : ''}: ${importedSummary(u.sections)}`)
      for (const line of skippedLines(u.sections)) ui.data(`  would skip ${line}`)
      return
    }
    ui.out(`imported ${into}${u.created ? ' (new account)' : ''}: ${importedSummary(u.sections)}`)
    for (const line of skippedLines(u.sections)) ui.warn(`${u.account}: ${line}`)
    if (u.scramDecoded) ui.info(`${u.account}: SCRAM data in ejabberd's double-encoded form, read as such`)
  }

  const report = await runBulkCommand<{file: string; users: UserImport[]}, string>(env, {
    progress: 'importing ',
    key: 'file',
    name: (line) => line.text,
    recovery: o.dryRun
      ? undefined
      : {
          redo: async (file) => (await run(file, true)).some(forgotten),
          name: (file) => file,
          noun: 'files',
          again: 'imported again',
        },
    each: (line, retry) =>
      retry.run(async (attempt) => {
        // Tried again after a lost connection: the first try may have created the account.
        const users = await run(line.text, o.merge || attempt > 0, tell)
        retry.acked(line.text)
        return {outcome: 'done', value: {file: line.text, users}}
      }),
    done: ({file, users}) => {
      counts.users += users.length
      counts.partial += users.filter((u) => !u.complete).length
      if (json) imported.push(...users.map((u) => ({file, ...u})))
    },
    summary: (c) =>
      `${o.dryRun ? 'would import' : 'imported'} ${counts.users} user(s) from ${c.done} file(s)` +
      (counts.partial ? `, ${counts.partial} with items skipped` : '') +
      (c.failed ? `, failed ${c.failed}` : ''),
    noFailedFile: o.dryRun,
  })
  const {counts: c, recheck, failed, failedFile} = report
  const summary = {
    files: c.done,
    users: counts.users,
    partial: counts.partial,
    failed: c.failed,
    notAttempted: c.notAttempted,
    interrupted: c.interrupted,
    rechecked: recheck.rechecked,
    importedAgain: recheck.redone,
    unchecked: recheck.unchecked,
  }
  return new Settled({dryRun: o.dryRun, imported, failed, summary, failedFile}, report.error)
}
