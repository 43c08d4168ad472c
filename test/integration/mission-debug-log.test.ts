// Issue 3: debug-log on / off / status. Prosody (mod_xmppadm): a separate debug file that appears
// and is wiped; ejabberd 26.07: the log level, with the previous level remembered locally.
// Every test leaves debug logging off (Prosody) and the level at info (ejabberd).
import {acquire, debugLogLock} from '../helpers/lock.js'
import {existsSync, mkdtempSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {cliOn, expectNoStack, scratch} from '../helpers/cli.js'
import {expectErrorEnvelope, expectOkEnvelope} from '../helpers/shapes.js'
import {PROSODIES, cliJson, ejabberd24, ejabberd26, ejabberdApi, sleep} from '../helpers/mission.js'

// "debug-log on" on ejabberd remembers the previous level in $XDG_STATE_HOME/xmppadm/: a private one
const state = {env: {XDG_STATE_HOME: mkdtempSync(join(scratch, 'state-'))}}

describe.each(PROSODIES)('debug-log on %s (mod_xmppadm)', (_name, prosody) => {
  // Other files switch debug logging on the same server: hold its lock for this whole block.
  let release = () => {}
  beforeAll(async () => {
    release = await acquire(debugLogLock(prosody.kind))
  })
  afterAll(async () => {
    await cliOn(prosody, ['debug-log', 'off'])
    release()
  })

  it("on: debug lines go to the module's file; status says so; off: logging stops and the file is gone", async () => {
    await cliJson(prosody, ['debug-log', 'off'])
    const before = expectOkEnvelope(await cliJson(prosody, ['debug-log', 'status']))
    expect(before).toMatchObject({active: false, expires: null, via: 'mod_xmppadm', wipes: true})
    const file: string = before.file
    expect(file).toMatch(/xmppadm-debug-localhost\.log$/)
    expect(existsSync(file)).toBe(false)

    const on = expectOkEnvelope(await cliJson(prosody, ['debug-log', 'on']))
    expect(on).toMatchObject({active: true, file, expires: null, previous: false})
    // some traffic to log: this status run's own session
    const status = await cliOn(prosody, ['debug-log', 'status'])
    expect(status.exitCode, status.stderr).toBe(0)
    expect(status.stdout.trim()).toBe('debug logging on')
    expect(existsSync(file)).toBe(true)
    const log = readFileSync(file, 'utf8')
    expect(log).toMatch(/\tdebug\t/)
    expect(log).toMatch(/admin@localhost/)
    expect(log).not.toContain(prosody.admin.password)

    // on again: still on, "previous" says it was
    const again = expectOkEnvelope(await cliJson(prosody, ['debug-log', 'on']))
    expect(again).toMatchObject({active: true, previous: true})

    const off = await cliOn(prosody, ['debug-log', 'off', '--json'])
    expect(off.exitCode, off.stderr).toBe(0)
    expect(expectOkEnvelope(off.json)).toMatchObject({active: false, previous: true, wipes: true})
    expect(off.json.warnings).toBeUndefined()
    expect(existsSync(file)).toBe(false)
    // off while off is fine
    const offAgain = await cliOn(prosody, ['debug-log', 'off'])
    expect(offAgain.exitCode, offAgain.stderr).toBe(0)
    expect(offAgain.stdout.trim()).toBe('debug logging off')
    expect(offAgain.stderr).not.toMatch(/warning/)
    expect(expectOkEnvelope(await cliJson(prosody, ['debug-log', 'status']))).toMatchObject({active: false})
    expect(existsSync(file)).toBe(false)
  })

  it('on --for 2s: the server switches it off by itself and wipes the file', async () => {
    const t0 = Date.now()
    const on = expectOkEnvelope(await cliJson(prosody, ['debug-log', 'on', '--for', '2s']))
    expect(on.active).toBe(true)
    const expires = Date.parse(on.expires)
    expect(expires).toBeGreaterThanOrEqual(Math.floor(t0 / 1000) * 1000 + 1000)
    expect(expires).toBeLessThanOrEqual(Date.now() + 2000)
    expect(existsSync(on.file)).toBe(true)
    await sleep(Math.max(0, expires + 1200 - Date.now()))
    const status = expectOkEnvelope(await cliJson(prosody, ['debug-log', 'status']))
    expect(status).toMatchObject({active: false, expires: null})
    expect(existsSync(on.file)).toBe(false)
  })

  it('a bad --for is exit 65 before anything is sent', async () => {
    const runs = await Promise.all(
      ['0s', 'abc', '-1h'].map((d) =>
        cliOn(prosody, ['debug-log', 'on', `--for=${d}`, '--json'], {env: {XMPPADM_SERVER: '127.0.0.1:1'}}),
      ),
    )
    for (const r of runs) {
      expect(r.exitCode, r.stdout).toBe(65)
      expectErrorEnvelope(r.json, 65)
    }
  })

  it('a non-admin account is refused with exit 77 (on, off, status) and logging stays off', async () => {
    const runs = await Promise.all(
      ['on', 'off', 'status'].map((a) => cliOn(prosody, ['debug-log', a, '--json'], {as: prosody.user})),
    )
    for (const r of runs) {
      expect(r.exitCode, r.stdout).toBe(77)
      expectErrorEnvelope(r.json, 77)
    }
    expect(expectOkEnvelope(await cliJson(prosody, ['debug-log', 'status'])).active).toBe(false)
  })
})

describe('debug-log on ejabberd 26.07 (set_loglevel)', () => {
  const level = async () => String((await ejabberdApi(ejabberd26, 'get_loglevel', {})).levelatom)
  let release = () => {}
  beforeAll(async () => {
    release = await acquire(debugLogLock('ejabberd-26.07'))
  })
  afterAll(async () => {
    await ejabberdApi(ejabberd26, 'set_loglevel', {loglevel: 'info'})
    release()
  })

  it('status shows the level; on: debug; off: back to the previous level, with a warning that the log stays', async () => {
    // start from a level that is not the default, to see that off restores it
    await ejabberdApi(ejabberd26, 'set_loglevel', {loglevel: 'warning'})
    const before = expectOkEnvelope(await cliJson(ejabberd26, ['debug-log', 'status'], 0, state))
    expect(before).toMatchObject({active: false, level: 'warning', via: 'ejabberd API', wipes: false})

    const on = expectOkEnvelope(await cliJson(ejabberd26, ['debug-log', 'on'], 0, state))
    expect(on).toMatchObject({active: true, level: 'debug', previous: 'warning'})
    expect(await level()).toBe('debug')
    const status = await cliOn(ejabberd26, ['debug-log', 'status'], state)
    expect(status.stdout.trim()).toBe('debug logging on (level debug)')

    const off = await cliOn(ejabberd26, ['debug-log', 'off'], state)
    expect(off.exitCode, off.stderr).toBe(0)
    expect(off.stdout.trim()).toBe('debug logging off (level warning)')
    expect(off.stderr).toMatch(/warning: .*cannot wipe/)
    expectNoStack(off)
    expect(await level()).toBe('warning')
    const after = await cliOn(ejabberd26, ['debug-log', 'status', '--json'], state)
    expect(expectOkEnvelope(after.json)).toMatchObject({active: false, level: 'warning'})
    await ejabberdApi(ejabberd26, 'set_loglevel', {loglevel: 'info'})
  })

  it('off --json carries the warning; off without a remembered level goes to info', async () => {
    await ejabberdApi(ejabberd26, 'set_loglevel', {loglevel: 'debug'})
    const off = await cliOn(ejabberd26, ['debug-log', 'off', '--json'], state)
    expect(off.exitCode, off.stderr).toBe(0)
    expect(expectOkEnvelope(off.json)).toMatchObject({active: false, level: 'info', wipes: false})
    expect(off.json.warnings.join('\n')).toMatch(/cannot wipe/)
    expect(await level()).toBe('info')
  })

  it('on --for 2s waits in the foreground and restores the previous level', async () => {
    const t0 = Date.now()
    const r = await cliOn(ejabberd26, ['debug-log', 'on', '--for', '2s', '--json'], state)
    expect(r.exitCode, r.stderr).toBe(0)
    expect(Date.now() - t0).toBeGreaterThanOrEqual(2000)
    const result = expectOkEnvelope(r.json)
    expect(result).toMatchObject({active: true, level: 'debug', previous: 'info'})
    expect(result.after).toMatchObject({active: false, level: 'info'})
    expect(await level()).toBe('info')
  })

  it('a non-admin account is refused with exit 77 and the level is unchanged', async () => {
    const runs = await Promise.all(
      ['on', 'status'].map((a) =>
        cliOn(ejabberd26, ['debug-log', a, '--json'], {...state, as: ejabberd26.user}),
      ),
    )
    for (const r of runs) {
      expect(r.exitCode, r.stdout).toBe(77)
      expectErrorEnvelope(r.json, 77)
    }
    expect(await level()).toBe('info')
  })
})

describe('debug-log on ejabberd 24.12', () => {
  it('on, off and status are unavailable (69) with a hint', async () => {
    const runs = await Promise.all(
      ['on', 'off', 'status'].map((a) => cliOn(ejabberd24, ['debug-log', a, '--json'], state)),
    )
    for (const r of runs) {
      expect(r.exitCode, r.stdout).toBe(69)
      expectErrorEnvelope(r.json, 69)
      expect(r.json.error.hint).toMatch(/set_loglevel/)
    }
  })
})
