// `account create`, line by line: "jid" or "jid,password"; a line without a password gets the shared
// one or a generated one (printed once, as soon as its account exists). After a lost connection,
// the accounts acknowledged just before it are submitted again (a dying server may forget them).
import {Settled} from '../../cli/outcome.js'
import {type OpContext} from '../../ops/context.js'
import {generatePassword, tryCreateAccount} from '../../ops/accounts.js'
import {Revealed, forgetSecret} from '../../secrets.js'
import {parseAccountJid, parseJid} from '../../xmpp/jid.js'
import {type BulkEnv, runBulkCommand} from '../bulk-run.js'
import {splitLine} from '../lines.js'

interface Acked {
  jid: string
  password: string
  line: string
}

export async function createAccounts(
  env: BulkEnv,
  ctx: OpContext,
  o: {shared?: string; skipExisting: boolean},
) {
  const {ui} = env
  const domain = parseJid(ctx.to).domain
  const created: Array<{jid: string; password?: Revealed}> = []
  const skipped: string[] = []
  // Each line's password is needed only while that line can print something (redaction).
  const passwords = new Map<number, string>()
  const report = await runBulkCommand<{jid: string; password?: string}, Acked>(env, {
    progress: 'creating ',
    key: 'jid',
    name: (line) => splitLine(line.text)[0],
    recovery: {
      redo: async (a) => !(await tryCreateAccount(ctx, a.jid, a.password)),
      name: (a) => a.jid,
      text: (a) => a.line,
      noun: 'accounts',
      again: 'created again',
      rerun: 'with --skip-existing',
    },
    async each(line, retry) {
      const [rawJid, linePassword] = splitLine(line.text)
      const jid = parseAccountJid(rawJid, domain)
      const given = linePassword ?? o.shared
      const password = given ?? generatePassword()
      if (env.file || env.args.length > 1) passwords.set(line.no, password)
      return retry.run(async (attempt) => {
        const existing = await tryCreateAccount(ctx, jid, password)
        // After a lost connection the first try may have created it: "exists" then means "done".
        if (existing && attempt === 0) {
          if (o.skipExisting) return {outcome: 'skipped', value: {jid}}
          throw existing
        }
        retry.acked({jid, password, line: line.text})
        return {outcome: 'done', value: {jid, password: given ? undefined : password}}
      })
    },
    done: (v) => {
      // Generated passwords exist nowhere else: each is printed as soon as its account exists.
      if (v.password) ui.revealed(`${v.jid}\t${v.password}`)
      // Kept only for the JSON result: memory stays flat in a long run.
      if (ui.settings.json)
        created.push({jid: v.jid, password: v.password ? new Revealed(v.password) : undefined})
    },
    skipped: (v) => void skipped.push(v.jid),
    finished: (line) => {
      forgetSecret(passwords.get(line.no))
      passwords.delete(line.no)
    },
    summary: (c) => `created ${c.done}, skipped ${c.skipped}, failed ${c.failed}`,
  })
  const {counts, recheck, failed, failedFile} = report
  const summary = {
    ...counts,
    rechecked: recheck.rechecked,
    createdAgain: recheck.redone,
    unchecked: recheck.unchecked,
  }
  return new Settled({created, skipped, failed, summary, failedFile}, report.error)
}
