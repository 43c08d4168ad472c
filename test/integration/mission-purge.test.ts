// Issues 3 and 10: purge-offline and purge-uploads through mod_xmppadm, checked by their effect on
// the server's stores, on Prosody, ejabberd 24.12 (Mnesia) and ejabberd 26.07 (SQLite): real offline
// messages (sent by a raw client to an offline account) and real XEP-0363 uploads, some made old
// (Prosody: its storage API; ejabberd: Erlang in its node, and the files' mtime).
// Purges act on the whole host: only this file makes anything old, and exact counts rely on that.
// The ejabberd API fall-back (delete_old_messages) is tested in fallback-ejabberd.test.ts.
import {existsSync} from 'node:fs'
import {beforeAll, describe, expect, it} from 'vitest'
import {cliOn, expectNoStack} from '../helpers/cli.js'
import {expectErrorEnvelope, expectOkEnvelope} from '../helpers/shapes.js'
import {
  WITH_MODULE,
  cliJson,
  eventually,
  isProsody,
  newAccounts,
  prosody,
  prosodyUploadRecordExists,
  sendMessages,
  type TestAccount,
} from '../helpers/mission.js'
import {
  backdateOffline,
  backdateUpload,
  offlineBodies,
  type StoredUpload,
  uploadFile,
} from '../helpers/stores.js'

const DAY = 86_400
const NOWHERE = {env: {XMPPADM_SERVER: '127.0.0.1:1'}}

describe.each(WITH_MODULE)('purge-offline on %s (mod_xmppadm)', (_kind, server) => {
  let rcpt: TestAccount
  beforeAll(async () => {
    const [sender, r] = await newAccounts(server, 2, 'off')
    rcpt = r
    await sendMessages(server, sender, rcpt.jid, ['two days old', 'three hours old', 'fresh'])
    await eventually('3 offline messages', async () => (await offlineBodies(server, rcpt.local)).length === 3)
    expect(await backdateOffline(server, rcpt.local, [2 * DAY, 3 * 3600])).toBe(2)
  })

  it('--dry-run counts what is past the age and deletes nothing', async () => {
    const day = expectOkEnvelope(await cliJson(server, ['purge-offline', '--older-than', '1d', '--dry-run']))
    expect(day).toMatchObject({dryRun: true, olderThanSeconds: DAY, count: 1, users: 1, via: 'mod_xmppadm'})
    const hours = expectOkEnvelope(await cliJson(server, ['purge-offline', '--older-than', '1h30m', '-n']))
    expect(hours).toMatchObject({dryRun: true, olderThanSeconds: 5400, count: 2, users: 1})
    expect(await offlineBodies(server, rcpt.local)).toEqual(['two days old', 'three hours old', 'fresh'])
  })

  it('deletes only the messages older than the age, with the count; a repeat deletes nothing', async () => {
    const day = await cliOn(server, ['purge-offline', '--older-than', '1d'])
    expect(day.exitCode, day.stderr).toBe(0)
    expect(day.stdout.trim()).toBe('deleted 1 offline message(s) of 1 user(s)')
    expect(await offlineBodies(server, rcpt.local)).toEqual(['three hours old', 'fresh'])

    const hours = expectOkEnvelope(await cliJson(server, ['purge-offline', '--older-than', '90m']))
    expect(hours).toMatchObject({olderThanSeconds: 5400, count: 1, users: 1})
    expect(await offlineBodies(server, rcpt.local)).toEqual(['fresh'])

    const again = expectOkEnvelope(await cliJson(server, ['purge-offline', '--older-than', '90m']))
    expect(again).toMatchObject({count: 0, users: 0})
    expect(await offlineBodies(server, rcpt.local)).toEqual(['fresh'])
  })

  it('the JSON result has the documented fields, dryRun false included', async () => {
    const r = expectOkEnvelope(await cliJson(server, ['purge-offline', '--older-than', '30d']))
    // README "JSON output": {dryRun, olderThanSeconds, count, bytes?, users?, via, notes, pages,
    // scanned, total, interrupted}; a small store is one page
    expect(r).toEqual({
      dryRun: false,
      olderThanSeconds: 30 * DAY,
      count: 0,
      users: 0,
      via: 'mod_xmppadm',
      notes: [],
      pages: 1,
      scanned: expect.any(Number),
      total: r.scanned,
      interrupted: null,
    })
  })

  it('--quiet prints nothing on success (cron)', async () => {
    const r = await cliOn(server, ['purge-offline', '--older-than', '30d', '--quiet'])
    expect(r.exitCode, r.stderr).toBe(0)
    expect(r.stdout).toBe('')
    expect(r.stderr).toBe('')
  })

  it('a non-admin account is refused with exit 77', async () => {
    const r = await cliOn(server, ['purge-offline', '--older-than', '1d', '--json'], {as: server.user})
    expect(r.exitCode, r.stdout).toBe(77)
    expectErrorEnvelope(r.json, 77)
  })
})

describe.each(WITH_MODULE)('purge-uploads on %s (mod_xmppadm)', (_kind, server) => {
  let oldUp: StoredUpload
  let newUp: StoredUpload
  const OLD = 'an old upload, 33 bytes of text\n'
  beforeAll(async () => {
    const [u] = await newAccounts(server, 1, 'upl')
    oldUp = await uploadFile(server, u, 'old.txt', OLD)
    newUp = await uploadFile(server, u, 'new.txt', 'a new upload\n')
    expect(existsSync(oldUp.path), oldUp.path).toBe(true)
    expect(existsSync(newUp.path), newUp.path).toBe(true)
    await backdateUpload(server, oldUp, 2 * DAY)
  })

  it('--dry-run counts files and bytes and deletes nothing', async () => {
    const r = expectOkEnvelope(await cliJson(server, ['purge-uploads', '--older-than', '1d', '--dry-run']))
    expect(r).toMatchObject({
      dryRun: true,
      olderThanSeconds: DAY,
      count: 1,
      bytes: OLD.length,
      via: 'mod_xmppadm',
    })
    expect(existsSync(oldUp.path)).toBe(true)
    if (isProsody(server.kind)) expect(await prosodyUploadRecordExists(server, oldUp.slot!)).toBe(true)
  })

  it('removes the old file and its record, keeps the new; count and bytes; a repeat: nothing', async () => {
    const r = await cliOn(server, ['purge-uploads', '--older-than', '1d'])
    expect(r.exitCode, r.stderr).toBe(0)
    expect(r.stdout.trim()).toBe(`deleted 1 file(s), ${OLD.length} bytes`)
    expect(existsSync(oldUp.path)).toBe(false)
    if (isProsody(server.kind)) expect(await prosodyUploadRecordExists(server, oldUp.slot!)).toBe(false)
    expect(existsSync(newUp.path)).toBe(true)
    const kept = await fetch(newUp.getUrl)
    expect(kept.status).toBe(200)
    expect(await kept.text()).toBe('a new upload\n')
    const gone = await fetch(oldUp.getUrl)
    expect([404, 410]).toContain(gone.status)

    const again = expectOkEnvelope(await cliJson(server, ['purge-uploads', '--older-than', '1d']))
    expect(again).toMatchObject({count: 0, bytes: 0})
    expect(existsSync(newUp.path)).toBe(true)
  })

  it('the JSON result has the documented fields, dryRun false included', async () => {
    const r = expectOkEnvelope(await cliJson(server, ['purge-uploads', '--older-than', '30d']))
    expect(r).toEqual({
      dryRun: false,
      olderThanSeconds: 30 * DAY,
      count: 0,
      bytes: 0,
      via: 'mod_xmppadm',
      notes: [],
      pages: 1,
      scanned: expect.any(Number),
      total: r.scanned,
      interrupted: null,
    })
  })

  it('--quiet prints nothing on success (cron)', async () => {
    const r = await cliOn(server, ['purge-uploads', '--older-than', '30d', '--quiet'])
    expect(r.exitCode, r.stderr).toBe(0)
    expect(r.stdout).toBe('')
  })

  it("deleting an account removes that user's uploads from disk", async () => {
    const [leaver] = await newAccounts(server, 1, 'uplgone')
    const up = await uploadFile(server, leaver, 'mine.txt', 'goes with the account\n')
    expect(existsSync(up.path), up.path).toBe(true)
    const r = await cliOn(server, ['account', 'delete', leaver.jid, '--yes'])
    expect(r.exitCode, r.stderr).toBe(0)
    await eventually('the upload removed with the account', () => !existsSync(up.path), 10_000)
    expect(existsSync(newUp.path)).toBe(true)
  })

  it('a non-admin account is refused with exit 77', async () => {
    const r = await cliOn(server, ['purge-uploads', '--older-than', '1d', '--json'], {as: server.user})
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
