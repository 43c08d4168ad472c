// Issues 3 and 10: debug-log on / off / status through mod_xmppadm on Prosody, ejabberd 24.12 and
// ejabberd 26.07: a separate debug file that appears and is wiped, the main log keeping its level.
// Every test leaves debug logging off. The ejabberd API fall-back (set_loglevel) is tested in
// fallback-ejabberd.test.ts.
import {acquire, debugLogLock} from '../helpers/lock.js'
import {existsSync, readFileSync} from 'node:fs'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {cliOn} from '../helpers/cli.js'
import {expectErrorEnvelope, expectOkEnvelope} from '../helpers/shapes.js'
import {WITH_MODULE, cliJson, eventually, isProsody, sleep} from '../helpers/mission.js'
import {hostPath} from '../helpers/stores.js'

/** Each module's file name and the look of a debug line in it. */
const FILE = {prosody: /xmppadm-debug-localhost\.log$/, ejabberd: /\/logs\/xmppadm-debug-localhost\.log$/}
const DEBUG_LINE = {prosody: /\tdebug\t/, ejabberd: /\[debug\]/}
const family = (kind: string) => (isProsody(kind) ? 'prosody' : 'ejabberd')

describe.each(WITH_MODULE)('debug-log on %s (mod_xmppadm)', (kind, server) => {
  // Other files switch debug logging on the same server: hold its lock for this whole block.
  let release = () => {}
  beforeAll(async () => {
    release = await acquire(debugLogLock(kind))
  })
  afterAll(async () => {
    await cliOn(server, ['debug-log', 'off'])
    release()
  })

  it("on: debug lines go to the module's file; status says so; off: it stops, the file is gone", async () => {
    await cliJson(server, ['debug-log', 'off'])
    const before = expectOkEnvelope(await cliJson(server, ['debug-log', 'status']))
    expect(before).toMatchObject({active: false, expires: null, via: 'mod_xmppadm', wipes: true})
    expect(before.file).toMatch(FILE[family(kind)])
    const file = hostPath(server, before.file)
    expect(existsSync(file)).toBe(false)

    const on = expectOkEnvelope(await cliJson(server, ['debug-log', 'on']))
    expect(on).toMatchObject({active: true, file: before.file, expires: null, previous: false})
    // some traffic to log: this status run's own session
    const status = await cliOn(server, ['debug-log', 'status'])
    expect(status.exitCode, status.stderr).toBe(0)
    expect(status.stdout.trim()).toBe('debug logging on')
    expect(existsSync(file)).toBe(true)
    // ejabberd's handler writes behind a short buffer
    await eventually('debug lines in the file', () =>
      DEBUG_LINE[family(kind)].test(readFileSync(file, 'utf8')),
    )
    const log = readFileSync(file, 'utf8')
    expect(log).toMatch(/admin/)
    expect(log).not.toContain(server.admin.password)
    // the main log keeps its level: no debug lines there
    if (family(kind) === 'ejabberd') expect(readFileSync(server.logFile, 'utf8')).not.toMatch(/\[debug\]/)

    // on again: still on, "previous" says it was
    const again = expectOkEnvelope(await cliJson(server, ['debug-log', 'on']))
    expect(again).toMatchObject({active: true, previous: true})

    const off = await cliOn(server, ['debug-log', 'off', '--json'])
    expect(off.exitCode, off.stderr).toBe(0)
    expect(expectOkEnvelope(off.json)).toMatchObject({active: false, previous: true, wipes: true})
    expect(off.json.warnings).toBeUndefined()
    expect(existsSync(file)).toBe(false)
    // off while off is fine
    const offAgain = await cliOn(server, ['debug-log', 'off'])
    expect(offAgain.exitCode, offAgain.stderr).toBe(0)
    expect(offAgain.stdout.trim()).toBe('debug logging off')
    expect(offAgain.stderr).not.toMatch(/warning/)
    expect(expectOkEnvelope(await cliJson(server, ['debug-log', 'status']))).toMatchObject({active: false})
    expect(existsSync(file)).toBe(false)
  })

  it('on --for 2s: the server switches it off by itself and wipes the file', async () => {
    const t0 = Date.now()
    const on = expectOkEnvelope(await cliJson(server, ['debug-log', 'on', '--for', '2s']))
    expect(on.active).toBe(true)
    const expires = Date.parse(on.expires)
    expect(expires).toBeGreaterThanOrEqual(Math.floor(t0 / 1000) * 1000 + 1000)
    expect(expires).toBeLessThanOrEqual(Date.now() + 2000)
    expect(existsSync(hostPath(server, on.file))).toBe(true)
    await sleep(Math.max(0, expires + 1200 - Date.now()))
    const status = expectOkEnvelope(await cliJson(server, ['debug-log', 'status']))
    expect(status).toMatchObject({active: false, expires: null})
    expect(existsSync(hostPath(server, on.file))).toBe(false)
  })

  it('a bad --for is exit 65 before anything is sent', async () => {
    const runs = await Promise.all(
      ['0s', 'abc', '-1h'].map((d) =>
        cliOn(server, ['debug-log', 'on', `--for=${d}`, '--json'], {env: {XMPPADM_SERVER: '127.0.0.1:1'}}),
      ),
    )
    for (const r of runs) {
      expect(r.exitCode, r.stdout).toBe(65)
      expectErrorEnvelope(r.json, 65)
    }
  })

  it('a non-admin account is refused with exit 77 (on, off, status) and logging stays off', async () => {
    const runs = await Promise.all(
      ['on', 'off', 'status'].map((a) => cliOn(server, ['debug-log', a, '--json'], {as: server.user})),
    )
    for (const r of runs) {
      expect(r.exitCode, r.stdout).toBe(77)
      expectErrorEnvelope(r.json, 77)
    }
    expect(expectOkEnvelope(await cliJson(server, ['debug-log', 'status'])).active).toBe(false)
  })
})
