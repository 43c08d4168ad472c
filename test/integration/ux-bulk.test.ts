// Issue 4, the bulk run an operator really does: 5,000 new accounts from a file, one bad line,
// Ctrl-C (SIGINT) half-way, then a re-run of the failed-lines file with --skip-existing. In the end
// every good account exists exactly once, the bad line is reported both times, and the first run's
// summary and exit code (2, partial) say exactly what was done. Against Prosody 13.
import {readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {execa} from 'execa'
import {describe, expect, it, onTestFinished} from 'vitest'
import {loadServers} from '../servers/servers.js'
import {BIN, cliOn, expectNoStack, scratch, secretFile, serverEnv, uniqueUser} from '../helpers/cli.js'
import {canLogIn, prosodyAccountFiles, prosodyUsers} from '../helpers/ux.js'

const server = loadServers().prosody
const TOTAL = 5000
const BAD_LINE = 101 // 1-based line number of the invalid JID

const SUMMARY =
  /created (\d+), skipped (\d+), failed (\d+)(?:, not attempted (\d+))?(?: \(stopped: ([^)]*)\))?/

function summaryOf(stderr: string) {
  const m = SUMMARY.exec(stderr)
  if (!m) throw new Error(`no summary line on stderr:\n${stderr.slice(-2000)}`)
  return {
    created: Number(m[1]),
    skipped: Number(m[2]),
    failed: Number(m[3]),
    notAttempted: Number(m[4] ?? 0),
    stopped: m[5],
  }
}

const linesOf = (path: string) => readFileSync(path, 'utf8').split('\n').filter(Boolean)

describe('bulk account create: 5,000 lines, a bad line, Ctrl-C half-way, a re-run', () => {
  it(
    'creates every good account exactly once and reports exactly what was done',
    {timeout: 180_000},
    async () => {
      const prefix = uniqueUser('uxbig')
      const good = new Map<string, string>() // jid -> password
      const lines: string[] = []
      for (let i = 0; i < TOTAL; i++) {
        if (i + 1 === BAD_LINE) {
          lines.push(`${prefix} has spaces@${server.domain},pw-bad-line`)
          continue
        }
        const jid = `${prefix}n${i}@${server.domain}`
        const pw = `pw-${prefix}-${i}`
        good.set(jid, pw)
        lines.push(`${jid},${pw}`)
      }
      const badLine = lines[BAD_LINE - 1]
      const file = join(scratch, `${prefix}.csv`)
      writeFileSync(file, `${lines.join('\n')}\n`)
      const failedFile = `${file}.failed`
      onTestFinished(() => {
        for (const f of [file, failedFile, `${failedFile}.failed`, join(scratch, `${prefix}-slice.csv`)])
          rmSync(f, {force: true})
      })

      // --- first run, interrupted when about half are on the server ---
      const t0 = Date.now()
      const child = execa('node', [BIN, 'account', 'create', '--from-file', file, '--concurrency', '16'], {
        reject: false,
        timeout: 150_000,
        env: {
          ...serverEnv(server),
          XDG_CONFIG_HOME: join(scratch, 'config'),
          CI: undefined,
          NO_COLOR: undefined,
        },
      })
      let sentAt = -1
      const poll = setInterval(() => {
        if (sentAt < 0 && prosodyAccountFiles(server, prefix) >= TOTAL / 2) {
          sentAt = prosodyAccountFiles(server, prefix)
          child.kill('SIGINT')
        }
      }, 25)
      const first = await child.finally(() => clearInterval(poll))
      const firstSecs = (Date.now() - t0) / 1000
      expect(sentAt, `SIGINT was never sent; stderr:\n${first.stderr}`).toBeGreaterThan(0)
      expectNoStack({exitCode: first.exitCode ?? -1, stdout: first.stdout, stderr: first.stderr})
      expect(first.exitCode, first.stderr.slice(-2000)).toBe(2) // partial

      const s1 = summaryOf(first.stderr)
      const onServer1 = new Set(await prosodyUsers(server, prefix))
      // The summary says exactly what was done.
      expect(s1.created, 'summary "created" = accounts on the server').toBe(onServer1.size)
      expect(s1).toMatchObject({skipped: 0, failed: 1, stopped: 'interrupted'})
      expect(s1.created + s1.skipped + s1.failed + s1.notAttempted, 'every line accounted for').toBe(TOTAL)
      expect(s1.notAttempted, 'stopped near the half, not at the end').toBeGreaterThan(TOTAL / 4)
      expect(s1.created).toBeGreaterThanOrEqual(sentAt) // in-flight creations finished, nothing lost
      expect(s1.created).toBeLessThan(sentAt + 200)
      expect(first.stderr).toMatch(new RegExp(`line ${BAD_LINE}: .*(localpart|JID)`))
      expect(first.stderr).toContain(`written to ${failedFile}`)
      expect(first.stdout, 'passwords came from the file: nothing to print').toBe('')

      // The failed-lines file: the bad line and every line not attempted; nothing that was created.
      expect(statSync(failedFile).mode & 0o777).toBe(0o600)
      const failed1 = linesOf(failedFile)
      expect(failed1).toHaveLength(1 + s1.notAttempted)
      expect(failed1).toContain(badLine)
      for (const l of failed1)
        if (l !== badLine)
          expect(onServer1.has(l.split(',')[0]), `${l} is in the failed file but was created`).toBe(false)
      const retry = new Set(failed1.map((l) => l.split(',')[0]))
      for (const jid of good.keys())
        expect(onServer1.has(jid) || retry.has(jid), `${jid} neither created nor in the failed file`).toBe(
          true,
        )

      // --- re-run of the failed file ---
      const t1 = Date.now()
      const second = await execa(
        'node',
        [BIN, 'account', 'create', '--from-file', failedFile, '--skip-existing', '--concurrency', '16'],
        {
          reject: false,
          timeout: 150_000,
          env: {
            ...serverEnv(server),
            XDG_CONFIG_HOME: join(scratch, 'config'),
            CI: undefined,
            NO_COLOR: undefined,
          },
        },
      )
      const secondSecs = (Date.now() - t1) / 1000
      expect(second.exitCode, second.stderr.slice(-2000)).toBe(2) // the bad line fails again
      const s2 = summaryOf(second.stderr)
      expect(s2).toMatchObject({created: s1.notAttempted, skipped: 0, failed: 1, notAttempted: 0})
      expect(s2.stopped).toBeUndefined()
      expect(linesOf(`${failedFile}.failed`)).toEqual([badLine])

      // In the end: every good account, exactly once, and nothing else with this prefix.
      const finalUsers = await prosodyUsers(server, prefix)
      expect(finalUsers).toHaveLength(good.size)
      expect(new Set(finalUsers)).toEqual(new Set(good.keys()))

      // A sample from each run logs in with its password; creating one again says it exists.
      const fromFirst = [...onServer1].slice(0, 2)
      const fromSecond = [...retry].filter((j) => good.has(j)).slice(-2)
      for (const jid of [...fromFirst, ...fromSecond])
        expect(await canLogIn(server, jid, good.get(jid)!), jid).toBe(true)
      const dup = await cliOn(server, [
        'account',
        'create',
        fromSecond[0],
        '--user-password-file',
        secretFile('another-pw-123\n'),
      ])
      expect(dup.exitCode).toBe(65)
      expect(dup.stderr).toMatch(/already exists/)
      // --skip-existing on the whole original file would now do nothing but skip: checked on a slice.
      const slice = join(scratch, `${prefix}-slice.csv`)
      writeFileSync(
        slice,
        `${[...lines.slice(0, 20), ...lines.slice(-20)].filter((l) => l !== badLine).join('\n')}\n`,
      )
      const third = await cliOn(server, ['account', 'create', '--from-file', slice, '--skip-existing'], {
        env: {CI: undefined},
      })
      expect(third.exitCode, third.stderr).toBe(0)
      expect(summaryOf(third.stderr)).toMatchObject({created: 0, skipped: 40, failed: 0})

      console.log(
        `[ux-bulk] run 1: ${s1.created} created, 1 failed, ${s1.notAttempted} not attempted in ` +
          `${firstSecs.toFixed(1)} s (SIGINT at ${sentAt}); re-run: ${s2.created} created in ` +
          `${secondSecs.toFixed(1)} s`,
      )
    },
  )
})
