// Issue 13: an account between create and delete, on every test server with mod_xmppadm (Prosody 13
// and 0.12, ejabberd 24.12 and 26.07), checked by effect: a disabled account cannot log in and its
// session ended, and it can again after enable; a changed password works and the old one does not;
// a kicked session is gone; `account list --inactive-since` finds an account made old and not a
// fresh one; the erasure receipt of a user who left data behind is clean. Then Prosody's kept data
// (a tombstone, a deletion grace period) on an instance of its own, and the servers without the
// module where the way differs (Prosody; ejabberd's are in fallback-ejabberd.test.ts).
import {readFileSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {cli, cliOn, expectNoStack, scratch, serverEnv} from '../helpers/cli.js'
import {backdateActivity, leaveData, loginRefusal, sessionEnded} from '../helpers/lifecycle.js'
import {
  RawClient,
  WITH_MODULE,
  canLogin,
  cliJson,
  eventually,
  isProsody,
  newAccount,
  newAccounts,
  prosodyLua,
} from '../helpers/mission.js'
import {expectErrorEnvelope, expectOkEnvelope} from '../helpers/shapes.js'
import {type RunningServer, startProsody, startProsody012} from '../servers/harness.js'

const DAY = 86_400

describe.each(WITH_MODULE)('account lifecycle on %s', (kind, server) => {
  it('disable: the live session ends and logins are refused; enable: the account logs in again', async () => {
    const a = await newAccount(server, 'dis')
    const session = await RawClient.login(server, a)
    const r = await cliOn(server, ['account', 'disable', a.jid, '--reason', 'terms, ticket 4711', '--json'])
    expect(r.exitCode, r.stderr).toBe(0)
    const result = expectOkEnvelope(r.json)
    expect(result.disabled.map((d: any) => d.jid)).toEqual([a.jid])
    await sessionEnded(session)
    expect(await loginRefusal(server, a)).toMatch(/account-disabled/)
    // the export says so too (0.12: from the module's own list)
    const exported = await cliOn(server, ['export-user', a.jid, '-o', '-'])
    expect(exported.exitCode, exported.stderr).toBe(0)
    expect(exported.stdout).toMatch(/<account [^>]*disabled=["']true["']/)
    // ejabberd shows the refused client the reason it keeps
    const refused = await cliOn(server, ['commands'], {as: a})
    expect(refused.exitCode).toBe(79)
    expect(refused.stderr).toMatch(/the account is disabled/)
    if (!isProsody(kind)) expect(refused.stderr).toContain('terms, ticket 4711')

    const again = await cliOn(server, ['account', 'disable', a.jid])
    expect(again.exitCode, again.stderr).toBe(0)
    const en = await cliOn(server, ['account', 'enable', a.jid])
    expect(en.exitCode, en.stderr).toBe(0)
    expect(en.stdout.trim()).toBe(`enabled ${a.jid}`)
    expect(await canLogin(server, a)).toBe(true)
    const en2 = await cliJson(server, ['account', 'enable', a.jid])
    // Prosody 13's XEP-0133 reenable-user answers the same whether or not the account was disabled
    if (kind === 'prosody') expect(en2.result.enabled).toEqual([{jid: a.jid}])
    else expect(en2.result.already).toEqual([a.jid])
  })

  it('password: the new one works, the old one not; an empty one is refused before sending', async () => {
    const a = await newAccount(server, 'pw')
    const newPw = `New-${a.local}-pw`
    const r = await cliOn(server, ['account', 'password', a.jid, '--user-password-stdin'], {
      input: `${newPw}\n`,
    })
    expect(r.exitCode, r.stderr).toBe(0)
    expect(r.stdout + r.stderr).not.toContain(newPw)
    expect(await canLogin(server, {jid: a.jid, password: newPw})).toBe(true)
    expect(await canLogin(server, a)).toBe(false)

    const gen = await cliOn(server, ['account', 'password', a.local, '--json'])
    expect(gen.exitCode, gen.stderr).toBe(0)
    const generated = expectOkEnvelope(gen.json).password
    expect(generated.length).toBeGreaterThanOrEqual(24)
    expect(gen.stdout.split(generated).length - 1).toBe(1)
    expect(await canLogin(server, {jid: a.jid, password: generated})).toBe(true)

    const empty = await cliOn(server, ['account', 'password', a.jid, '--user-password-stdin', '--debug'], {
      input: '\n',
    })
    expect(empty.exitCode).toBe(78)
    expect(empty.stderr).toMatch(/empty/)
    expect(empty.stderr).not.toMatch(/<iq/) // refused before connecting: nothing was sent
    expect(await canLogin(server, {jid: a.jid, password: generated})).toBe(true)
  })

  it('kick: the live session is gone; the account may log in again', async () => {
    const a = await newAccount(server, 'kick')
    const session = await RawClient.login(server, a)
    const r = await cliOn(server, ['account', 'kick', a.jid])
    expect(r.exitCode, r.stderr).toBe(0)
    expect(r.stdout).toContain(`kicked ${a.jid}`)
    await sessionEnded(session)
    expect(await canLogin(server, a)).toBe(true)
  })

  it('missing users: disable, enable, kick and password exit 67 naming the account', async () => {
    const nobody = `nobody-${Date.now().toString(36)}@${server.domain}`
    for (const args of [['disable'], ['enable'], ['kick'], ['password', '--user-password-stdin']]) {
      const r = await cliOn(server, ['account', args[0], nobody, ...args.slice(1)], {input: 'Pw-1234567\n'})
      expect(r.exitCode, `${args[0]}: ${r.stderr}`).toBe(67)
      expect(r.stderr).toContain(`no such user: ${nobody}`)
      expectNoStack(r)
    }
  })

  it('non-admins: exit 77 for disable, kick, password and list', async () => {
    const u = await newAccount(server, 'na')
    for (const args of [
      ['disable', u.jid],
      ['kick', u.jid],
      ['password', u.jid, '--generate-password'],
      ['list'],
    ]) {
      const r = await cliOn(server, ['account', ...args, '--json'], {as: u})
      expect(r.exitCode, `${args[0]}: ${r.stdout}`).toBe(77)
      expectErrorEnvelope(r.json, 77)
    }
    expect(await canLogin(server, u)).toBe(true)
  })

  it('list --inactive-since: an account made old, not a fresh one; the output feeds delete', async () => {
    const [old, fresh] = await newAccounts(server, 2, 'act')
    expect(await canLogin(server, old)).toBe(true)
    expect(await canLogin(server, fresh)).toBe(true)
    await backdateActivity(server, old.local, 400 * DAY)

    const all = await cliJson(server, ['account', 'list'])
    const row = (jid: string) => all.result.accounts.find((a: any) => a.jid === jid)
    expect(row(old.jid)).toMatchObject({activity: 'seen'})
    expect(Date.now() - Date.parse(row(old.jid).lastActivity)).toBeGreaterThan(399 * DAY * 1000)
    expect(row(fresh.jid)).toBeDefined()
    expect(row(server.admin.jid).activity).toBe('online')

    const plain = await cliOn(server, ['account', 'list', '--inactive-since', '180d', '--page-size', '1'])
    expect(plain.exitCode, plain.stderr).toBe(0)
    const lines = plain.stdout.trim().split('\n')
    expect(lines[0]).toBe('# jid\tlast activity\tcreated')
    const jids = lines.slice(1).map((l) => l.split('\t')[0])
    expect(jids).toContain(old.jid)
    expect(jids).not.toContain(fresh.jid)
    expect(jids).not.toContain(server.admin.jid)

    // only the old account goes: the list as it is, through stdin
    const oldOnly = `${lines[0]}\n${lines.find((l) => l.startsWith(`${old.jid}\t`))}\n`
    const del = await cliOn(server, ['account', 'delete', '--from-file', '-', '--yes'], {input: oldOnly})
    expect(del.exitCode, del.stderr).toBe(0)
    expect(del.stdout.trim()).toBe(`deleted ${old.jid}`)
    expect(await canLogin(server, old)).toBe(false)
    expect(await canLogin(server, fresh)).toBe(true)
  })

  it('list --never-logged-in: a new account that never logged in, where the server can tell', async () => {
    const quiet = await newAccount(server, 'never')
    const r = await cliJson(server, ['account', 'list', '--never-logged-in'])
    const jids = r.result.accounts.map((a: any) => a.jid)
    if (kind === 'prosody-0.12') {
      // 0.12 keeps no creation time: its accounts from before the module's notes are "not known"
      expect(jids).not.toContain(quiet.jid)
      expect(r.warnings.join('\n')).toMatch(/left out: the server cannot tell whether they ever logged in/)
    } else {
      expect(jids).toContain(quiet.jid)
      expect(jids).not.toContain(server.admin.jid)
    }
  })

  it('delete: a clean receipt after a user with roster, vCard, offline message, upload', async () => {
    const [user, sender] = await newAccounts(server, 2, 'era')
    await leaveData(server, user, sender)
    // the data is there to be erased
    const before = await cliJson(server, [
      'command',
      'run',
      'urn:xmppadm:admin:1#stored-data',
      '-f',
      `accountjid=${user.jid}`,
    ])
    const counts = Object.fromEntries(
      before.result.form.rows.map((row: any) => [row.section, Number(row.count)]),
    )
    expect(counts).toMatchObject({account: 1, roster: 1, vcard: expect.any(Number), offline: 1, uploads: 1})
    expect(counts.vcard).toBeGreaterThan(0)

    const r = await cliOn(server, ['account', 'delete', user.jid, '--yes', '--json'])
    expect(r.exitCode, r.stdout).toBe(0)
    const result = expectOkEnvelope(r.json)
    expect(result.deleted).toEqual([user.jid])
    expect(result.receipts).toEqual([
      {jid: user.jid, verdict: 'erased', left: {}, kept: [], unchecked: [], via: 'mod_xmppadm'},
    ])
    expect(result.summary.erasure).toEqual({erased: 1, kept: 0, unverified: 0, left: 0})

    const text = await cliOn(server, ['account', 'delete', user.jid, '--yes'])
    expect(text.exitCode, text.stderr).toBe(0)
    expect(text.stderr).toMatch(new RegExp(`erased ${user.jid}: the server reports nothing left`))
  })
})

describe('erasure receipt: data still there', () => {
  it('Prosody 13: an offline message of a deleted user fails the receipt (exit 2), named', async () => {
    const {prosody} = await import('../helpers/mission.js')
    const gone = `gone-${Date.now().toString(36)}`
    const out = await prosodyLua(
      prosody,
      `require"core.storagemanager".open("localhost","offline","archive")` +
        `:append(${JSON.stringify(gone)},nil,require"util.stanza".message({to="${gone}@localhost"},` +
        `"left behind"),os.time(),"x@localhost"); return "ok"`,
    )
    expect(out).toBe('ok')
    const r = await cliOn(prosody, ['account', 'delete', `${gone}@localhost`, '--yes', '--json'])
    expect(r.exitCode, r.stdout).toBe(2)
    expect(r.json.error.reason).toBe('erasure-incomplete')
    expect(r.json.error.message).toMatch(/still holds: offline 1/)
  })
})

describe('Prosody 13 keeps some things on purpose: a tombstone, a deletion grace period', () => {
  let server: RunningServer
  beforeAll(async () => {
    // mod_tombstones and the grace period of mod_user_account_management, on the host
    server = await startProsody({
      prosodyExtraConfig:
        'VirtualHost "localhost"\n  modules_enabled = { "tombstones" }\n' +
        '  registration_delete_grace_period = 604800\n',
    })
  }, 60_000)
  afterAll(async () => {
    await server?.stop()
  })

  it('the receipt names the tombstone instead of claiming a clean erasure', async () => {
    const a = await newAccount(server, 'tomb')
    const r = await cliOn(server, ['account', 'delete', a.jid, '--yes', '--json'])
    expect(r.exitCode, r.stdout).toBe(0)
    const [receipt] = expectOkEnvelope(r.json).receipts
    expect(receipt.verdict).toBe('kept')
    expect(receipt.left).toEqual({})
    expect(receipt.kept).toHaveLength(1)
    expect(receipt.kept[0]).toMatch(/^tombstone: the user name is kept since \d{4}-.*mod_tombstones/)
    expect(r.json.warnings.join('\n')).toMatch(/except what the server keeps on purpose: tombstone/)
  })

  it('#stored-data names a deletion the user asked for, kept during its grace period', async () => {
    const a = await newAccount(server, 'grace')
    const c = await RawClient.login(server, a)
    await c.iq(`<iq type='set' id='ID'><query xmlns='jabber:iq:register'><remove/></query></iq>`)
    await c.closed
    expect(await loginRefusal(server, a)).toMatch(/account-disabled|not-authorized/)
    const r = await cliJson(server, [
      'command',
      'run',
      'urn:xmppadm:admin:1#stored-data',
      '-f',
      `accountjid=${a.jid}`,
    ])
    const values = r.result.form.values
    expect(values.exists).toBe(true)
    expect(values.kept.join('\n')).toMatch(/^grace-period: deletion requested at .* until \d{4}-/)
  })
})

describe('Prosody without mod_xmppadm', () => {
  let p13: RunningServer
  let p12: RunningServer
  beforeAll(async () => {
    ;[p13, p12] = await Promise.all([
      startProsody({xmppadmModule: false, prosodyUploads: false}),
      startProsody012({xmppadmModule: false, prosodyUploads: false}),
    ])
  }, 60_000)
  afterAll(async () => {
    await Promise.all([p13?.stop(), p12?.stop()])
  })

  it('13: disable and enable through XEP-0133 (no reason kept: said so); list names the module', async () => {
    const a = await newAccount(p13, 'x13')
    const r = await cliOn(p13, ['account', 'disable', a.jid, '--reason', 'kept nowhere'])
    expect(r.exitCode, r.stderr).toBe(0)
    expect(r.stderr).toMatch(/keeps no reason: --reason is not stored/)
    expect(await loginRefusal(p13, a)).toMatch(/account-disabled/)
    expect((await cliOn(p13, ['account', 'enable', a.jid])).exitCode).toBe(0)
    expect(await canLogin(p13, a)).toBe(true)
    const list = await cliOn(p13, ['account', 'list'])
    expect(list.exitCode).toBe(69)
    expect(list.stderr).toMatch(/offers no way to list accounts.*install mod_xmppadm/s)
  })

  it('0.12: disable not offered (the hint names the module); receipts check the account only', async () => {
    const a = await newAccount(p12, 'x12')
    const r = await cliOn(p12, ['account', 'disable', a.jid])
    expect(r.exitCode).toBe(69)
    expect(r.stderr).toMatch(/offers no way to disable accounts.*install mod_xmppadm/s)
    const caps = await cliJson(p12, ['capabilities'])
    const cap = (id: string) => caps.result.operations.find((o: any) => o.operation === id)
    expect(cap('account-disable')).toMatchObject({available: false})
    expect(cap('account-kick')).toMatchObject({available: true, via: 'XEP-0133'})
    expect(cap('erasure-receipt')).toMatchObject({
      available: true,
      partial: 'only whether the account exists',
    })

    for (const s of [p12, p13]) {
      const b = await newAccount(s, 'rcpt')
      const d = await cliOn(s, ['account', 'delete', b.jid, '--yes', '--json'])
      expect(d.exitCode, d.stdout).toBe(0)
      const [receipt] = d.json.result.receipts
      expect(receipt).toMatchObject({verdict: 'unverified', left: {}, via: 'XEP-0133'})
      expect(receipt.unchecked).toEqual([
        'roster',
        'vcard',
        'private',
        'offline',
        'mam',
        'blocklist',
        'pep',
        'uploads',
        'last',
      ])
    }
  })
})

describe('bulk: account disable --from-file', () => {
  it('Prosody 0.12: a missing account: the rest disabled, failed file, exit 2; a re-run skips', async () => {
    const {prosody012: server} = await import('../helpers/mission.js')
    const accounts = await newAccounts(server, 3, 'bulkd')
    const file = join(scratch, `disable-${Date.now()}.txt`)
    const missing = `missing-${Date.now().toString(36)}@localhost`
    writeFileSync(
      file,
      `# who\n${accounts[0].jid}\n${missing}\n${accounts[1].local}\n${accounts[2].jid},pw\n`,
    )
    const r = await cliOn(server, ['account', 'disable', '--from-file', file, '--json'])
    expect(r.exitCode, r.stdout).toBe(2)
    expect(r.json.result.summary).toMatchObject({disabled: 3, already: 0, failed: 1})
    expect(r.json.result.failed[0]).toMatchObject({line: 3, jid: missing, code: 67})
    expect(readFileSync(`${file}.failed`, 'utf8')).toBe(`${missing}\n`)
    expect(statSync(`${file}.failed`).mode & 0o777).toBe(0o600)
    for (const a of accounts) expect(await loginRefusal(server, a)).toMatch(/account-disabled/)

    const again = await cliOn(server, [
      'account',
      'disable',
      '--from-file',
      file,
      '--failed-file',
      `${file}.2`,
    ])
    expect(again.stderr).toMatch(/disabled 0, disabled already 3, failed 1/)
    const en = await cli(['account', 'enable', ...accounts.map((a) => a.jid)], {env: serverEnv(server)})
    expect(en.exitCode, en.stderr).toBe(0)
    await eventually('all enabled', async () =>
      (await Promise.all(accounts.map((a) => canLogin(server, a)))).every(Boolean),
    )
  })
})

describe('bulk: account kick and enable --from-file', () => {
  it('ejabberd 26.07: kick from stdin ends the listed sessions; enable: a failed file, exit 2', async () => {
    const {ejabberd26: server} = await import('../helpers/mission.js')
    const accounts = await newAccounts(server, 3, 'bulkk')
    const sessions = await Promise.all(accounts.map((a) => RawClient.login(server, a)))
    // `account list` output, as it would be piped: a header, then jid<TAB>last activity<TAB>created
    const rows = accounts.map((a) => `${a.jid}\tonline now\tnot known\n`)
    const listed = `# jid\tlast activity\tcreated\n${rows.join('')}`
    const kick = await cliOn(server, ['account', 'kick', '--from-file', '-', '--json'], {input: listed})
    expect(kick.exitCode, kick.stdout).toBe(0)
    const result = expectOkEnvelope(kick.json)
    expect(result.kicked.map((k: any) => k.jid).sort()).toEqual(accounts.map((a) => a.jid).sort())
    expect(result.summary).toMatchObject({kicked: 3, failed: 0, sessionsClosed: 3})
    await Promise.all(sessions.map((s) => sessionEnded(s)))

    const file = join(scratch, `enable-${Date.now()}.txt`)
    const missing = `missing-${Date.now().toString(36)}@localhost`
    writeFileSync(file, `${accounts[0].jid}\n${missing}\n${accounts[1].jid}\n`)
    expect((await cliOn(server, ['account', 'disable', accounts[0].jid])).exitCode).toBe(0)
    const en = await cliOn(server, ['account', 'enable', '--from-file', file, '--json'])
    expect(en.exitCode, en.stdout).toBe(2)
    expect(en.json.result.summary).toMatchObject({enabled: 1, already: 1, failed: 1})
    expect(en.json.result.failed[0]).toMatchObject({line: 2, jid: missing, code: 67})
    expect(readFileSync(`${file}.failed`, 'utf8')).toBe(`${missing}\n`)
    expect(await canLogin(server, accounts[0])).toBe(true)
  })
})
