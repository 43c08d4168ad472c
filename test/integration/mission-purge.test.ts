// Issue 3: purge-offline and purge-uploads, checked by their effect on the server's stores.
// Prosody: real offline messages (sent by a raw client to an offline account) and real XEP-0363
// uploads, some made old through Prosody's own storage API (prosodyctl shell, archive:set).
// Purges act on the whole host: only this file makes anything old, and exact counts rely on that.
import {beforeAll, describe, expect, it} from 'vitest'
import {cliOn, expectNoStack} from '../helpers/cli.js'
import {expectErrorEnvelope, expectOkEnvelope} from '../helpers/shapes.js'
import {
  PROSODIES,
  cliJson,
  ejabberd24,
  ejabberd26,
  ejabberdOfflineCount,
  eventually,
  fileExists,
  newAccounts,
  prosody,
  prosodyBackdateOffline,
  prosodyBackdateUpload,
  prosodyOfflineBodies,
  prosodyUpload,
  prosodyUploadRecordExists,
  sendMessages,
  type TestAccount,
  type Upload,
} from '../helpers/mission.js'

const DAY = 86_400
const NOWHERE = {env: {XMPPADM_SERVER: '127.0.0.1:1'}}

describe.each(PROSODIES)('purge-offline on %s (mod_xmppadm)', (_name, prosody) => {
  let rcpt: TestAccount
  beforeAll(async () => {
    const [sender, r] = await newAccounts(prosody, 2, 'off')
    rcpt = r
    await sendMessages(prosody, sender, rcpt.jid, ['two days old', 'three hours old', 'fresh'])
    await eventually(
      '3 offline messages',
      async () => (await prosodyOfflineBodies(prosody, rcpt.local)).length === 3,
    )
    expect(await prosodyBackdateOffline(prosody, rcpt.local, [2 * DAY, 3 * 3600])).toBe(2)
  })

  it('--dry-run counts what is past the age and deletes nothing', async () => {
    const day = expectOkEnvelope(await cliJson(prosody, ['purge-offline', '--older-than', '1d', '--dry-run']))
    expect(day).toMatchObject({dryRun: true, olderThanSeconds: DAY, count: 1, users: 1, via: 'mod_xmppadm'})
    const hours = expectOkEnvelope(await cliJson(prosody, ['purge-offline', '--older-than', '1h30m', '-n']))
    expect(hours).toMatchObject({dryRun: true, olderThanSeconds: 5400, count: 2, users: 1})
    expect(await prosodyOfflineBodies(prosody, rcpt.local)).toEqual([
      'two days old',
      'three hours old',
      'fresh',
    ])
  })

  it('deletes only the messages older than the age, reports the count; a repeat deletes nothing', async () => {
    const day = await cliOn(prosody, ['purge-offline', '--older-than', '1d'])
    expect(day.exitCode, day.stderr).toBe(0)
    expect(day.stdout.trim()).toBe('deleted 1 offline message(s) of 1 user(s)')
    expect(await prosodyOfflineBodies(prosody, rcpt.local)).toEqual(['three hours old', 'fresh'])

    const hours = expectOkEnvelope(await cliJson(prosody, ['purge-offline', '--older-than', '90m']))
    expect(hours).toMatchObject({olderThanSeconds: 5400, count: 1, users: 1})
    expect(await prosodyOfflineBodies(prosody, rcpt.local)).toEqual(['fresh'])

    const again = expectOkEnvelope(await cliJson(prosody, ['purge-offline', '--older-than', '90m']))
    expect(again).toMatchObject({count: 0, users: 0})
    expect(await prosodyOfflineBodies(prosody, rcpt.local)).toEqual(['fresh'])
  })

  it('the JSON result has the documented fields, dryRun false included', async () => {
    const r = expectOkEnvelope(await cliJson(prosody, ['purge-offline', '--older-than', '30d']))
    // README "JSON output": {dryRun, olderThanSeconds, count, bytes?, users?, via, notes}
    expect(r).toEqual({
      dryRun: false,
      olderThanSeconds: 30 * DAY,
      count: 0,
      users: 0,
      via: 'mod_xmppadm',
      notes: [],
    })
  })

  it('--quiet prints nothing on success (cron)', async () => {
    const r = await cliOn(prosody, ['purge-offline', '--older-than', '30d', '--quiet'])
    expect(r.exitCode, r.stderr).toBe(0)
    expect(r.stdout).toBe('')
    expect(r.stderr).toBe('')
  })

  it('a non-admin account is refused with exit 77', async () => {
    const r = await cliOn(prosody, ['purge-offline', '--older-than', '1d', '--json'], {as: prosody.user})
    expect(r.exitCode, r.stdout).toBe(77)
    expectErrorEnvelope(r.json, 77)
  })
})

describe.each(PROSODIES)('purge-uploads on %s (mod_xmppadm)', (_name, prosody) => {
  let oldUp: Upload
  let newUp: Upload
  const OLD = 'an old upload, 33 bytes of text\n'
  beforeAll(async () => {
    const [u] = await newAccounts(prosody, 1, 'upl')
    oldUp = await prosodyUpload(prosody, u, 'old.txt', OLD)
    newUp = await prosodyUpload(prosody, u, 'new.txt', 'a new upload\n')
    expect(fileExists(oldUp.path), oldUp.path).toBe(true)
    expect(fileExists(newUp.path), newUp.path).toBe(true)
    await prosodyBackdateUpload(prosody, oldUp.slot, 2 * DAY)
  })

  it('--dry-run counts files and bytes and deletes nothing', async () => {
    const r = expectOkEnvelope(await cliJson(prosody, ['purge-uploads', '--older-than', '1d', '--dry-run']))
    expect(r).toMatchObject({
      dryRun: true,
      olderThanSeconds: DAY,
      count: 1,
      bytes: OLD.length,
      via: 'mod_xmppadm',
    })
    expect(fileExists(oldUp.path)).toBe(true)
    expect(await prosodyUploadRecordExists(prosody, oldUp.slot)).toBe(true)
  })

  it('removes the old file from disk and its record, keeps the new one; count and bytes reported; a repeat deletes nothing', async () => {
    const r = await cliOn(prosody, ['purge-uploads', '--older-than', '1d'])
    expect(r.exitCode, r.stderr).toBe(0)
    expect(r.stdout.trim()).toBe(`deleted 1 file(s), ${OLD.length} bytes`)
    expect(fileExists(oldUp.path)).toBe(false)
    expect(await prosodyUploadRecordExists(prosody, oldUp.slot)).toBe(false)
    expect(fileExists(newUp.path)).toBe(true)
    const kept = await fetch(newUp.getUrl)
    expect(kept.status).toBe(200)
    expect(await kept.text()).toBe('a new upload\n')
    const gone = await fetch(oldUp.getUrl)
    expect([404, 410]).toContain(gone.status)

    const again = expectOkEnvelope(await cliJson(prosody, ['purge-uploads', '--older-than', '1d']))
    expect(again).toMatchObject({count: 0, bytes: 0})
    expect(fileExists(newUp.path)).toBe(true)
  })

  it('the JSON result has the documented fields, dryRun false included', async () => {
    const r = expectOkEnvelope(await cliJson(prosody, ['purge-uploads', '--older-than', '30d']))
    expect(r).toEqual({
      dryRun: false,
      olderThanSeconds: 30 * DAY,
      count: 0,
      bytes: 0,
      via: 'mod_xmppadm',
      notes: [],
    })
  })

  it('--quiet prints nothing on success (cron)', async () => {
    const r = await cliOn(prosody, ['purge-uploads', '--older-than', '30d', '--quiet'])
    expect(r.exitCode, r.stderr).toBe(0)
    expect(r.stdout).toBe('')
  })

  it('a non-admin account is refused with exit 77', async () => {
    const r = await cliOn(prosody, ['purge-uploads', '--older-than', '1d', '--json'], {as: prosody.user})
    expect(r.exitCode, r.stdout).toBe(77)
    expectErrorEnvelope(r.json, 77)
  })
})

describe('purge ages are checked before anything is sent', () => {
  it.each([
    ['purge-offline', ['0s', '-5d', 'abc', '1.5d', '7']],
    ['purge-uploads', ['0d0h', '-5d', 'abc']],
  ])('%s: zero, negative, malformed ages: exit 65; none: 64', async (cmd, bad) => {
    const runs = await Promise.all(
      bad.map((age) => cliOn(prosody, [cmd, `--older-than=${age}`, '--json'], NOWHERE)),
    )
    runs.forEach((r, i) => {
      expect(r.exitCode, `${bad[i]}: ${r.stdout}`).toBe(65)
      expectErrorEnvelope(r.json, 65)
      expect(r.json.error.message).toContain('--older-than')
    })
    const missing = await cliOn(prosody, [cmd], NOWHERE)
    expect(missing.exitCode).toBe(64)
    expectNoStack(missing)
  })
})

describe('purge-offline on ejabberd 26.07 (delete_old_messages: whole days)', () => {
  let rcpt: TestAccount
  beforeAll(async () => {
    const [sender, r] = await newAccounts(ejabberd26, 2, 'off26')
    rcpt = r
    await sendMessages(ejabberd26, sender, rcpt.jid, ['kept by a 1-day purge'])
    await eventually(
      '1 offline message',
      async () => (await ejabberdOfflineCount(ejabberd26, rcpt.local)) === 1,
    )
  })

  it('runs with a warning about whole days and all hosts; no count; a fresh message is kept', async () => {
    const r = await cliOn(ejabberd26, ['purge-offline', '--older-than', '1d', '--json'])
    expect(r.exitCode, r.stderr).toBe(0)
    const result = expectOkEnvelope(r.json)
    expect(result).toMatchObject({olderThanSeconds: DAY, count: null, via: 'ejabberd API'})
    expect(r.json.warnings.join('\n')).toMatch(/whole days/)
    expect(r.stderr).toMatch(/warning: .*whole days.*every virtual host/)
    expect(await ejabberdOfflineCount(ejabberd26, rcpt.local)).toBe(1)

    const text = await cliOn(ejabberd26, ['purge-offline', '--older-than', '36h'])
    expect(text.exitCode, text.stderr).toBe(0)
    expect(text.stdout.trim()).toBe('purged (the server does not say how many)')
    expect(text.stderr).toMatch(/rounded up to 2 day/)
    expect(await ejabberdOfflineCount(ejabberd26, rcpt.local)).toBe(1)
  })

  it('--dry-run does nothing and says that ejabberd cannot count', async () => {
    const r = await cliOn(ejabberd26, ['purge-offline', '--older-than', '1s', '--dry-run', '--json'])
    expect(r.exitCode, r.stderr).toBe(0)
    expect(expectOkEnvelope(r.json)).toMatchObject({dryRun: true, count: null})
    expect(r.json.warnings.join('\n')).toMatch(/cannot count/)
    expect(await ejabberdOfflineCount(ejabberd26, rcpt.local)).toBe(1)
  })

  it('a non-admin account is refused with exit 77', async () => {
    const r = await cliOn(ejabberd26, ['purge-offline', '--older-than', '1d', '--json'], {
      as: ejabberd26.user,
    })
    expect(r.exitCode, r.stdout).toBe(77)
    expectErrorEnvelope(r.json, 77)
  })

  it('purge-uploads is unavailable (69) with a hint', async () => {
    const r = await cliOn(ejabberd26, ['purge-uploads', '--older-than', '14d', '--json'])
    expect(r.exitCode, r.stdout).toBe(69)
    expectErrorEnvelope(r.json, 69)
    expect(r.json.error.hint).toMatch(/max_days|find/)
  })
})

describe('purge on ejabberd 24.12', () => {
  it('purge-offline and purge-uploads are unavailable (69) with a hint', async () => {
    const runs = await Promise.all([
      cliOn(ejabberd24, ['purge-offline', '--older-than', '7d', '--json']),
      cliOn(ejabberd24, ['purge-uploads', '--older-than', '7d']),
    ])
    expect(runs[0].exitCode, runs[0].stdout).toBe(69)
    expectErrorEnvelope(runs[0].json, 69)
    expect(runs[0].json.error.hint).toMatch(/delete_old_messages|mod_adhoc_api/)
    expect(runs[1].exitCode).toBe(69)
    expect(runs[1].stderr).toMatch(/hint: .*max_days/)
  })
})
