// Issue 4, bulk deletion (and bulk block-ip, at the end) as an operator does it: 2,000 leavers from a file. A
// bad line refuses the
// whole run before anything is deleted; Ctrl-C (SIGINT) half-way stops after the work in flight
// and writes the rest to the failed file; its re-run deletes the rest. Every account is deleted
// exactly once, and the summaries say exactly what was done. From stdin (read once), a bad line
// fails on its own. Against Prosody 13.
import {readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {execa} from 'execa'
import {describe, expect, it, onTestFinished} from 'vitest'
import {loadServers} from '../servers/servers.js'
import {BIN, expectNoStack, scratch, serverEnv, uniqueUser} from '../helpers/cli.js'
import {oneJson, prosodyAccountFiles, run} from '../helpers/ux.js'

const server = loadServers().prosody
const TOTAL = 2000
const SUMMARY =
  /deleted (\d+), not found (\d+)(?:, failed (\d+))?(?:, not attempted (\d+))?(?: \(stopped: ([^)]*)\))?/

function summaryOf(stderr: string) {
  const m = SUMMARY.exec(stderr)
  if (!m) throw new Error(`no summary line on stderr:\n${stderr.slice(-2000)}`)
  return {
    deleted: Number(m[1]),
    notFound: Number(m[2]),
    failed: Number(m[3] ?? 0),
    notAttempted: Number(m[4] ?? 0),
    stopped: m[5],
  }
}

const linesOf = (path: string) => readFileSync(path, 'utf8').split('\n').filter(Boolean)
const env = () => ({
  ...serverEnv(server),
  XDG_CONFIG_HOME: join(scratch, 'config'),
  CI: undefined,
  NO_COLOR: undefined,
})

async function createAll(prefix: string, count: number): Promise<string[]> {
  const jids = Array.from({length: count}, (_, i) => `${prefix}n${i}@${server.domain}`)
  const file = join(scratch, `${prefix}-create.txt`)
  writeFileSync(file, `${jids.map((j) => `${j},pw-${prefix}`).join('\n')}\n`)
  const r = await run(server, ['account', 'create', '--from-file', file, '--concurrency', '32', '--quiet'], {
    timeout: 120_000,
  })
  expect(r.exitCode, r.stderr).toBe(0)
  expect(prosodyAccountFiles(server, prefix)).toBe(count)
  rmSync(file, {force: true})
  return jids
}

describe('bulk account delete: 2,000 lines, a bad line, Ctrl-C half-way, a re-run', () => {
  it('deletes every account exactly once and reports exactly what was done', {timeout: 240_000}, async () => {
    const prefix = uniqueUser('uxdel')
    const jids = await createAll(prefix, TOTAL)
    const file = join(scratch, `${prefix}.txt`)
    const failedFile = `${file}.failed`
    onTestFinished(() => {
      for (const f of [file, failedFile]) rmSync(f, {force: true})
    })

    // 1. A bad line anywhere in a file: nothing is deleted.
    const withBad = [...jids.slice(0, 1500), `${prefix} has spaces@${server.domain}`, ...jids.slice(1500)]
    writeFileSync(file, `# leavers\n${withBad.join('\n')}\n`)
    const refused = await run(server, ['account', 'delete', '--from-file', file, '--yes'])
    expect(refused.exitCode, refused.stderr).toBe(65)
    expect(refused.stderr).toMatch(/line 1502: .*has spaces/)
    expect(refused.stdout).toBe('')
    expect(prosodyAccountFiles(server, prefix)).toBe(TOTAL)

    // 2. The good file, 3 unknown accounts added; interrupted when about half are gone.
    const unknown = [1, 2, 3].map((i) => `${prefix}none${i}@${server.domain}`)
    const all = [...jids.slice(0, 700), ...unknown, ...jids.slice(700)]
    writeFileSync(file, `${all.join('\n')}\n`)
    const child = execa(
      'node',
      [BIN, 'account', 'delete', '--from-file', file, '--yes', '--concurrency', '16'],
      {reject: false, timeout: 150_000, env: env()},
    )
    let sentAt = -1
    const poll = setInterval(() => {
      if (sentAt < 0 && prosodyAccountFiles(server, prefix) <= TOTAL / 2) {
        sentAt = prosodyAccountFiles(server, prefix)
        child.kill('SIGINT')
      }
    }, 25)
    const first = await child.finally(() => clearInterval(poll))
    expect(sentAt, `SIGINT was never sent; stderr:\n${first.stderr.slice(-2000)}`).toBeGreaterThan(0)
    expectNoStack({exitCode: first.exitCode ?? -1, stdout: first.stdout, stderr: first.stderr})
    expect(first.exitCode, first.stderr.slice(-2000)).toBe(2)
    const s1 = summaryOf(first.stderr)
    expect(s1.stopped).toBe('interrupted')
    expect(s1.failed).toBe(0)
    expect(s1.deleted + s1.notFound + s1.notAttempted, 'every line accounted for').toBe(all.length)
    expect(s1.notAttempted, 'stopped near the half, not at the end').toBeGreaterThan(TOTAL / 4)
    // stdout: one "deleted JID" per deleted account, and what the server still has is the rest
    const deleted1 = first.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => l.replace(/^deleted /, ''))
    expect(deleted1).toHaveLength(s1.deleted)
    expect(prosodyAccountFiles(server, prefix)).toBe(TOTAL - s1.deleted)
    expect(statSync(failedFile).mode & 0o777).toBe(0o600)
    const rest = linesOf(failedFile)
    expect(rest).toHaveLength(s1.notAttempted)
    for (const j of rest) expect(deleted1).not.toContain(j)

    // 3. The re-run of the failed file deletes the rest: nothing twice, nothing left.
    const second = await run(
      server,
      ['account', 'delete', '--from-file', failedFile, '--yes', '--json', '--concurrency', '16'],
      {timeout: 120_000},
    )
    expect(second.exitCode, second.stderr.slice(-2000)).toBe(0)
    const res = oneJson(second).result
    expect(res.summary).toMatchObject({failed: 0, notAttempted: 0})
    expect(res.deleted.length + res.notFound.length).toBe(rest.length)
    for (const j of res.deleted) expect(deleted1).not.toContain(j)
    expect(new Set([...deleted1, ...res.deleted]).size).toBe(TOTAL)
    for (const j of unknown) expect(`${first.stderr}\n${JSON.stringify(res.notFound)}`).toContain(j)
    expect(prosodyAccountFiles(server, prefix)).toBe(0)
    console.log(
      `[ux-bulk-delete] run 1: ${s1.deleted} deleted, ${s1.notFound} not found, ${s1.notAttempted} ` +
        `not attempted (SIGINT at ${TOTAL - sentAt} gone); re-run: ${res.deleted.length} deleted`,
    )
  })

  it('from stdin a bad line fails on its own: the others are deleted, exit 2', async () => {
    const prefix = uniqueUser('uxdelin')
    const jids = await createAll(prefix, 4)
    const r = await run(server, ['account', 'delete', '--from-file', '-', '--yes', '--json'], {
      input: `${jids[0]}\n${jids[1]}\nnot a jid@${server.domain}\n${jids[2]}\n${jids[3]}\n`,
    })
    expect(r.exitCode, r.stderr).toBe(2)
    const doc = oneJson(r)
    expect(doc.ok).toBe(false)
    expect(doc.result.deleted.sort()).toEqual([...jids].sort())
    expect(doc.result.failed).toEqual([
      expect.objectContaining({line: 3, jid: `not a jid@${server.domain}`, code: 65}),
    ])
    expect(prosodyAccountFiles(server, prefix)).toBe(0)
  })
})

// block-ip from a file or a pipe: batches of up to 500 addresses a command, several in flight; a
// bad line fails on its own; a pipe fed as events happen is blocked as lines arrive.
describe('bulk block-ip', () => {
  const addr = (i: number) => `100.64.${i >> 8}.${i & 255}`
  const listed = async () => {
    const r = await run(server, ['block-ip', 'list', '--json'])
    expect(r.exitCode, r.stderr).toBe(0)
    return new Set<string>(oneJson(r).result.blocked.map((b: {address: string}) => b.address))
  }

  it(
    '1,200 lines with two bad ones: 1,198 blocked in 3 commands, the bad lines in the failed file, exit 2',
    {timeout: 60_000},
    async () => {
      const lines = Array.from({length: 1200}, (_, i) => addr(i))
      lines[10] = '100.64.0.999'
      lines[1100] = 'not-an-address'
      const file = join(scratch, `${uniqueUser('uxblock')}.txt`)
      writeFileSync(file, `# from the incident\n${lines.join('\n')}\n`)
      onTestFinished(async () => {
        rmSync(file, {force: true})
        rmSync(`${file}.failed`, {force: true})
        await run(server, ['block-ip', 'remove', ...lines.filter((_, i) => i !== 10 && i !== 1100)])
      })
      const r = await run(server, [
        'block-ip',
        '--from-file',
        file,
        '--reason',
        'bulk test',
        '--json',
        '--debug',
      ])
      expect(r.exitCode, r.stderr.slice(-1500)).toBe(2)
      const doc = oneJson(r)
      expect(doc.ok).toBe(false)
      // issue 16: the documented "interrupted" key is always there (null: the run was not stopped)
      expect(doc.result.summary).toEqual({blocked: 1198, failed: 2, notAttempted: 0, interrupted: null})
      expect(doc.result.blocked).toHaveLength(1198)
      expect(
        doc.result.failed.map((f: {line: number; address: string; code: number}) => [
          f.line,
          f.address,
          f.code,
        ]),
      ).toEqual([
        [12, '100.64.0.999', 65],
        [1102, 'not-an-address', 65],
      ])
      expect(linesOf(`${file}.failed`)).toEqual(['100.64.0.999', 'not-an-address'])
      // three block-ip commands went out (500 + 500 + 198 addresses)
      expect(
        r.stderr
          .split('\n')
          .filter((l) => l.startsWith('SEND ') && /node=["']urn:xmppadm:admin:1#block-ip["']/.test(l)),
      ).toHaveLength(3)
      const now = await listed()
      for (const a of [addr(0), addr(499), addr(500), addr(1199)]) expect(now.has(`${a}/32`), a).toBe(true)

      // block-ip remove --from-file: a bad line refuses it all (65); the good file lifts all 1,198
      const bad = await run(server, ['block-ip', 'remove', '--from-file', file])
      expect(bad.exitCode, bad.stderr).toBe(65)
      expect(bad.stderr).toMatch(/line 12: /)
      const good = join(scratch, `${uniqueUser('uxunblock')}.txt`)
      writeFileSync(good, `${lines.filter((_, i) => i !== 10 && i !== 1100).join('\n')}\n`)
      const lifted = await run(server, ['block-ip', 'remove', '--from-file', good, '--json'])
      rmSync(good, {force: true})
      expect(lifted.exitCode, lifted.stderr).toBe(0)
      expect(oneJson(lifted).result.removed).toHaveLength(1198)
      const after = await listed()
      for (const a of [addr(0), addr(499), addr(500), addr(1199)]) expect(after.has(`${a}/32`), a).toBe(false)
    },
  )

  it(
    'a pipe fed as events happen: each address is blocked while the pipe is still open',
    {timeout: 60_000},
    async () => {
      const [a, b] = [addr(4000), addr(4001)]
      onTestFinished(async () => {
        await run(server, ['block-ip', 'remove', a, b])
      })
      const child = execa('node', [BIN, 'block-ip', '--from-file', '-'], {
        reject: false,
        timeout: 30_000,
        env: env(),
      })
      child.stdin!.write(`${a}\n`)
      await expect.poll(listed, {timeout: 5_000, interval: 200}).toContain(`${a}/32`)
      child.stdin!.write(`${b}\n`)
      await expect.poll(listed, {timeout: 5_000, interval: 200}).toContain(`${b}/32`)
      child.stdin!.end()
      const r = await child
      expect(r.exitCode, r.stderr).toBe(0)
      expect(r.stdout.split('\n').filter(Boolean)).toEqual([`blocked ${a}/32`, `blocked ${b}/32`])
      expect(r.stderr).toMatch(/blocked 2, failed 0/)
    },
  )
})
