// Issue 6: the server dies in the middle of a bulk run. A private Prosody (never the shared one) is
// SIGKILLed while `account create --from-file` works through its file, and started again on the
// same config and data (as an init system would).
//  1. Restarted at once: the run reconnects (--retries) and finishes by itself: all 2000 accounts
//     created exactly once, none missing, no failed lines.
//  2. Still down when the retries are used up: the run stops cleanly (summary, exit 2, no stack),
//     writes every failed and unattempted line to the failed file (0600), and a re-run of that
//     file with --skip-existing after the restart leaves every account created exactly once.
import {type ChildProcess, spawn} from 'node:child_process'
import {existsSync, readFileSync, readdirSync, statSync, writeFileSync} from 'node:fs'
import net from 'node:net'
import {join} from 'node:path'
import {execa} from 'execa'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {BIN, cli, expectNoStack, scratch, secretFile} from '../helpers/cli.js'
import {type RunningServer, startProsody} from '../servers/harness.js'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return !/^\S+ \(.*\) [ZX]/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return false
  }
}

/** The c2s port answers a stream header with stream features. */
function xmppAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({host: '127.0.0.1', port})
    let buf = ''
    const done = (ok: boolean) => {
      clearTimeout(timer)
      sock.destroy()
      resolve(ok)
    }
    const timer = setTimeout(() => done(false), 1000)
    sock.once('connect', () =>
      sock.write(
        "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>",
      ),
    )
    sock.on('data', (d) => {
      buf += d.toString()
      if (/<(stream:)?features[\s>/]/.test(buf)) done(true)
    })
    sock.once('error', () => done(false))
    sock.once('close', () => done(false))
  })
}

const user = (prefix: string, i: number) => `${prefix}${String(i).padStart(4, '0')}`
const password = (u: string) => `Pw-${u}-${u.length * 7919}-x`

let server: RunningServer
/** The Prosody process now serving: the harness's first, then ours after each restart. */
let current: {pid: number; child?: ChildProcess}

function accountsOnDisk(): Set<string> {
  const dir = join(server.dir, 'data', 'localhost', 'accounts')
  if (!existsSync(dir)) return new Set()
  return new Set(
    readdirSync(dir)
      .filter((f) => f.endsWith('.dat'))
      .map((f) => f.slice(0, -4)),
  )
}

function env(): Record<string, string> {
  return {
    XMPPADM_JID: server.admin.jid,
    XMPPADM_SERVER: `${server.host}:${server.port}`,
    XMPPADM_PASSWORD_FILE: secretFile(`${server.admin.password}\n`),
    XMPPADM_CA_FILE: server.caFile,
  }
}

/** Prosody again, same config file (same port, same data dir), as an init system would restart it. */
async function restartProsody(): Promise<void> {
  const child = spawn('prosody', ['--config', server.configFile, '-F'], {cwd: server.dir, stdio: 'ignore'})
  current = {pid: child.pid!, child}
  const deadline = Date.now() + 30_000
  while (!(await xmppAnswers(server.port))) {
    if (Date.now() > deadline || child.exitCode !== null)
      throw new Error(`Prosody did not come back (see ${server.logFile})`)
    await sleep(100)
  }
}

function killProsody(): void {
  process.kill(current.pid, 'SIGKILL')
}

function writeBulkFile(prefix: string, count: number): {file: string; lines: string[]} {
  const file = join(scratch, `${prefix}-${count}.txt`)
  const lines = Array.from(
    {length: count},
    (_, i) => `${user(prefix, i)}@localhost,${password(user(prefix, i))}`,
  )
  writeFileSync(file, `# ${count} accounts\n${lines.join('\n')}\n`, {mode: 0o600})
  return {file, lines}
}

function startRun(args: string[]) {
  return execa('node', [BIN, 'account', 'create', ...args], {
    reject: false,
    env: {XDG_CONFIG_HOME: join(scratch, 'config'), NO_COLOR: '1', CI: 'true', ...env()},
    timeout: 150_000,
  })
}

/** Waits until `n` accounts with this prefix exist on disk (the run is under way). */
async function waitForAccounts(prefix: string, n: number, run: ReturnType<typeof startRun>): Promise<void> {
  const started = Date.now()
  while ([...accountsOnDisk()].filter((a) => a.startsWith(prefix)).length < n) {
    if (run.exitCode !== null || Date.now() - started > 90_000)
      throw new Error(`the run ended before the kill: ${(await run).stderr}`)
    await sleep(25)
  }
}

/** Logs in as each account with the password from the file. */
async function expectLogins(accounts: string[]): Promise<void> {
  for (const u of accounts) {
    const login = await cli(['commands', '--json'], {
      env: {...env(), XMPPADM_JID: `${u}@localhost`, XMPPADM_PASSWORD_FILE: secretFile(`${password(u)}\n`)},
    })
    expect(login.exitCode, `${u}: ${login.stderr}`).toBe(0)
  }
}

beforeAll(async () => {
  // 4096 SCRAM iterations (the least xmppadm accepts) instead of Prosody's 10000: the same code
  // paths, 2000 accounts in less time.
  server = await startProsody({prosodyExtraConfig: 'iteration_count = 4096'})
  current = {pid: server.pid}
})

afterAll(async () => {
  const pid = current?.child?.pid
  if (pid && pidAlive(pid)) {
    process.kill(pid, 'SIGTERM')
    for (let i = 0; i < 100 && pidAlive(pid); i++) await sleep(100)
    if (pidAlive(pid)) process.kill(pid, 'SIGKILL')
  }
  await server?.stop()
})

describe('Prosody is SIGKILLed during account create --from-file', () => {
  it('restarted at once: the run reconnects and finishes, 2000 accounts created exactly once', async () => {
    const prefix = 'rc'
    const COUNT = 2000
    const {file} = writeBulkFile(prefix, COUNT)
    const run = startRun(['--from-file', file, '--concurrency', '8', '--timeout', '10'])
    await waitForAccounts(prefix, 300, run)
    killProsody()
    await restartProsody()
    const r = await run

    expect(r.exitCode, r.stderr.slice(-2000)).toBe(0)
    expectNoStack({exitCode: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr})
    expect(r.stderr).toMatch(/connection lost; reconnecting/)
    expect(r.stderr).toMatch(/\breconnected\b/)
    expect(r.stderr).not.toMatch(/^error:/m)
    expect(r.stderr).toMatch(new RegExp(`created ${COUNT}, skipped 0, failed 0(\\n|$)`))
    expect(existsSync(`${file}.failed`), 'a failed file although nothing failed').toBe(false)
    const onDisk = [...accountsOnDisk()].filter((a) => a.startsWith(prefix))
    expect(onDisk).toHaveLength(COUNT)
    // One created before the kill, the last ones, and the ones around the kill log in with their password.
    const around = [0, 299, 300, 301, 305, 310, COUNT - 1].map((i) => user(prefix, i))
    await expectLogins(around)
  }, 240_000)

  it('down past the retries: a clean stop, a full failed file; a re-run creates each once', async () => {
    const prefix = 'rs'
    const COUNT = 800
    const KILL_AFTER = 200
    const {file, lines} = writeBulkFile(prefix, COUNT)
    const run = startRun(['--from-file', file, '--concurrency', '8', '--timeout', '10', '--retries', '2'])
    await waitForAccounts(prefix, KILL_AFTER, run)
    killProsody()
    const killedAt = Date.now()
    const first = await run
    const stoppedIn = Date.now() - killedAt

    // 1. It stopped cleanly: two reconnection attempts (0.5 s + 1 s of backoff), then the summary.
    expect([2, 75], first.stderr.slice(-2000)).toContain(first.exitCode)
    expect(stoppedIn, 'from the kill to the end of the run (bounded retries)').toBeLessThan(30_000)
    expectNoStack({exitCode: first.exitCode ?? -1, stdout: first.stdout, stderr: first.stderr})
    expect(first.stderr).toMatch(/reconnecting in 0\.5 s \(attempt 1 of 2\)/)
    expect(first.stderr).not.toMatch(/attempt 3/)
    const summary = /created (\d+), skipped (\d+), failed (\d+), not attempted (\d+) \(stopped: (.+)\)/.exec(
      first.stderr,
    )
    expect(summary, first.stderr.slice(-2000)).not.toBeNull()
    const [created1, skipped1, failed1, notAttempted1] = summary!.slice(1, 5).map(Number)
    expect(summary![5]).toMatch(/refused|closed|lost|reset/)
    expect(skipped1).toBe(0)
    expect(created1 + failed1 + notAttempted1).toBe(COUNT)
    expect(created1).toBeGreaterThanOrEqual(KILL_AFTER - 8)
    expect(failed1).toBeGreaterThan(0)
    expect(failed1, 'only commands in flight at the kill may fail').toBeLessThanOrEqual(8 + 8)
    const errors = first.stderr.split('\n').filter((l) => l.startsWith('error:'))
    expect(errors.length).toBe(failed1)
    for (const e of errors) expect(e).toMatch(/^error: line \d+: .*(refused|closed|lost|reset)/)
    expect(first.stderr).toContain(`failed and unattempted lines written to ${file}.failed`)

    // 2. The failed file: every line not created, verbatim, once, mode 0600; then the created ones
    // the server acknowledged in the 10 s before the kill (it may have forgotten them): here, the
    // run was that short, so all of them.
    const unchecked =
      /warning: (\d+) accounts acknowledged just before the connection was lost were not re-checked/.exec(
        first.stderr,
      )
    expect(unchecked, first.stderr.slice(-2000)).not.toBeNull()
    const uncheckedCount = Number(unchecked![1])
    expect(uncheckedCount).toBe(created1)
    const failedPath = `${file}.failed`
    expect(statSync(failedPath).mode & 0o777).toBe(0o600)
    const failedLines = readFileSync(failedPath, 'utf8').split('\n').filter(Boolean)
    expect(failedLines).toHaveLength(failed1 + notAttempted1 + uncheckedCount)
    expect(new Set(failedLines).size).toBe(failedLines.length)
    for (const l of failedLines) expect(lines).toContain(l)
    const notCreated = failedLines.slice(0, failed1 + notAttempted1)
    const onDiskAfterKill = accountsOnDisk()
    const createdFirst = lines.filter((l) => !notCreated.includes(l)).map((l) => l.split('@')[0])
    expect(createdFirst).toHaveLength(created1)
    for (const u of createdFirst)
      expect(onDiskAfterKill.has(u), `${u} reported created but does not exist`).toBe(true)
    expect(
      failedLines
        .slice(failed1 + notAttempted1)
        .map((l) => l.split('@')[0])
        .sort(),
    ).toEqual([...createdFirst].sort())
    // The failed lines come first (in flight at the kill), then the never attempted ones: those do not exist.
    const inFlight = failedLines.slice(0, failed1).map((l) => l.split('@')[0])
    for (const l of notCreated.slice(failed1))
      expect(onDiskAfterKill.has(l.split('@')[0]), `${l} was not attempted but exists`).toBe(false)

    // 3. The server comes back; the failed file is run again.
    await restartProsody()
    const second = await startRun(['--from-file', failedPath, '--skip-existing', '--json', '--timeout', '20'])
    expect(second.exitCode, second.stderr + second.stdout.slice(0, 2000)).toBe(0)
    const result = JSON.parse(second.stdout).result
    const created2: string[] = result.created.map((c: {jid: string}) => c.jid.split('@')[0])
    const skipped2: string[] = result.skipped.map((j: string) => j.split('@')[0])
    expect(result.failed).toEqual([])
    expect(created2.length + skipped2.length).toBe(failedLines.length)
    // Only accounts in flight at the kill, or created before it, can exist already.
    for (const u of skipped2)
      expect(
        [...inFlight, ...createdFirst],
        `${u} skipped, but it was neither in flight nor created`,
      ).toContain(u)
    // Nothing created twice (Prosody's storage kept what it acknowledged): disjoint sets, together all of
    // them.
    for (const u of created2) expect(createdFirst).not.toContain(u)
    expect(new Set([...createdFirst, ...created2, ...skipped2]).size).toBe(COUNT)

    // 4. The server has every account of the file, and they log in with their passwords.
    const finalAccounts = accountsOnDisk()
    for (let i = 0; i < COUNT; i++)
      expect(finalAccounts.has(user(prefix, i)), `${user(prefix, i)} missing`).toBe(true)
    expect([...finalAccounts].filter((a) => a.startsWith(prefix))).toHaveLength(COUNT)
    await expectLogins(
      [
        createdFirst[0],
        createdFirst[createdFirst.length - 1],
        created2[0],
        created2[created2.length - 1],
        ...inFlight.slice(0, 2),
      ].filter(Boolean),
    )
  }, 240_000)
})

describe('Prosody is SIGKILLed during import-user (issue 14)', () => {
  it('restarted at once: the import goes on by itself with merge, each message stored once', async () => {
    const COUNT = 800
    const name = 'imkill'
    const messages = Array.from(
      {length: COUNT},
      (_, i) =>
        `<message xmlns='jabber:client' from='sender@elsewhere.example/r' type='chat' id='k${i}'>` +
        `<body>kill test ${i} ${'k'.repeat(300)}</body><delay xmlns='urn:xmpp:delay' ` +
        `stamp='${new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString().replace('.000', '')}'` +
        `>Offline Storage</delay></message>`,
    )
    const file = join(scratch, `${name}.xml`)
    writeFileSync(
      file,
      `<server-data xmlns='urn:xmpp:pie:0'><host jid='old.example'><user name='${name}'>` +
        `<offline-messages>${messages.join('')}</offline-messages></user></host></server-data>`,
    )
    const store = join(server.dir, 'data', 'localhost', 'offline', `${name}.list`)
    const run = execa('node', [BIN, 'import-user', file, '--timeout', '10'], {
      reject: false,
      env: {XDG_CONFIG_HOME: join(scratch, 'config'), NO_COLOR: '1', CI: 'true', ...env()},
      timeout: 150_000,
    })
    const started = Date.now()
    while (!existsSync(store) || statSync(store).size < 60_000) {
      if (run.exitCode !== null || Date.now() - started > 90_000)
        throw new Error(`the import ended before the kill: ${(await run).stderr}`)
      await sleep(25)
    }
    killProsody()
    await restartProsody()
    const r = await run
    expect(r.exitCode, r.stderr.slice(-2000)).toBe(0)
    expectNoStack({exitCode: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr})
    expect(r.stderr).toMatch(/connection lost; reconnecting/)
    // every message once: the part sent again, and the file imported again with merge, add nothing
    const exp = await cli(['export-user', `${name}@localhost`, '-o', '-'], {env: env()})
    expect(exp.exitCode, exp.stderr).toBe(0)
    // (imported messages were never routed: the archive has none of them)
    const ids = [...exp.stdout.matchAll(/<message [^>]*id="(k\d+)"/g)].map((m) => m[1])
    expect(new Set(ids).size).toBe(COUNT)
    expect(ids).toHaveLength(COUNT)
  }, 240_000)
})
