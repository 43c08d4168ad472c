// Issue 3: account create / account delete on Prosody 13 and 0.12, ejabberd 24.12 and ejabberd 26.07,
// checked by their effect: the accounts can (or can no longer) log in.
import {readFileSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {cliOn, expectNoStack, scratch, secretFile, uniqueUser} from '../helpers/cli.js'
import {expectErrorEnvelope, expectOkEnvelope} from '../helpers/shapes.js'
import {
  canLogin,
  cliJson,
  fileExists,
  loginExit,
  newAccount,
  newAccounts,
  PROSODIES,
  prosodyUpload,
  prosodyUploadRecordExists,
  servers,
} from '../helpers/mission.js'

const ALL = [servers.prosody, servers.ejabberd24, servers.ejabberd26, servers.prosody012].map(
  (s) => [s.kind, s] as const,
)

describe.each(ALL)('account create on %s', (_kind, server) => {
  const d = server.domain

  it('a generated password is printed once on stdout and works; the account can log in', async () => {
    const jid = `${uniqueUser('gen')}@${d}`
    const r = await cliOn(server, ['account', 'create', jid])
    expect(r.exitCode, r.stderr).toBe(0)
    const lines = r.stdout.trim().split('\n')
    expect(lines).toHaveLength(1)
    const [printedJid, password] = lines[0].split('\t')
    expect(printedJid).toBe(jid)
    expect(password.length).toBeGreaterThanOrEqual(24)
    expect(r.stderr).not.toContain(password)
    expect(r.stderr).toMatch(/created 1/)
    expect((await loginExit(server, {jid, password})).exitCode).toBe(0)
  })

  it('--json: the generated password is in the result (once) and works', async () => {
    const jid = `${uniqueUser('genj')}@${d}`
    const r = await cliOn(server, ['account', 'create', jid, '--json'])
    expect(r.exitCode, r.stderr).toBe(0)
    const result = expectOkEnvelope(r.json)
    expect(result.created).toHaveLength(1)
    expect(result.created[0].jid).toBe(jid)
    const password = result.created[0].password
    expect(typeof password).toBe('string')
    expect(r.stdout.split(password).length - 1).toBe(1)
    expect(r.stderr).not.toContain(password)
    expect(await canLogin(server, {jid, password})).toBe(true)
  })

  it('--user-password-file/-stdin set the password (never echoed); a bare name: the domain', async () => {
    const [a, b] = [uniqueUser('pwf'), uniqueUser('pws')]
    const pwA = `Pw-${a}-file`
    const pwB = `Pw-${b}-stdin`
    const [ra, rb] = await Promise.all([
      cliOn(server, ['account', 'create', `${a}@${d}`, '--user-password-file', secretFile(`${pwA}\n`)]),
      cliOn(server, ['account', 'create', b, '--user-password-stdin'], {input: `${pwB}\n`}),
    ])
    expect(ra.exitCode, ra.stderr).toBe(0)
    expect(rb.exitCode, rb.stderr).toBe(0)
    expect(ra.stdout + ra.stderr).not.toContain(pwA)
    expect(rb.stdout + rb.stderr).not.toContain(pwB)
    const logins = await Promise.all([
      canLogin(server, {jid: `${a}@${d}`, password: pwA}),
      canLogin(server, {jid: `${b}@${d}`, password: pwB}),
      canLogin(server, {jid: `${a}@${d}`, password: pwB}),
    ])
    expect(logins).toEqual([true, true, false])
  })

  it('an existing account: exit 65 naming it; --skip-existing skips it; password unchanged', async () => {
    const acct = await newAccount(server, 'exist')
    const pw = secretFile('Another-Passw0rd\n')
    const j = await cliOn(server, ['account', 'create', acct.jid, '--user-password-file', pw, '--json'])
    expect(j.exitCode).toBe(65)
    expectErrorEnvelope(j.json, 65)
    expect(j.json.error.reason).toBe('account-exists')
    expect(j.json.error.message).toContain(acct.jid)
    expect(j.json.error.message).toMatch(/already exists/)
    expectNoStack(j)

    const skip = await cliJson(server, [
      'account',
      'create',
      acct.jid,
      '--user-password-file',
      pw,
      '--skip-existing',
    ])
    const result = expectOkEnvelope(skip)
    expect(result.skipped).toEqual([acct.jid])
    expect(result.created).toEqual([])
    expect(result.summary).toMatchObject({done: 0, skipped: 1, failed: 0})
    expect(await canLogin(server, acct)).toBe(true)
  })

  it('a bad JID is exit 65 before any command is sent', async () => {
    const runs = await Promise.all(
      ['bad user@localhost', `${uniqueUser('x')}@other.example`].map((bad) =>
        cliOn(server, ['account', 'create', bad, '--debug', '--json']),
      ),
    )
    for (const r of runs) {
      expect(r.exitCode, r.stdout).toBe(65)
      expectErrorEnvelope(r.json, 65)
      // the session was opened, but no ad-hoc command went out
      expect(r.stderr).toMatch(/SEND <iq[^\n]*disco#items/)
      expect(r.stderr).not.toMatch(/SEND [^\n]*<command /)
    }
    expect(runs[0].json.error.message).toMatch(/bad user@localhost/)
    expect(runs[1].json.error.message).toMatch(/not on localhost/)
  })

  it('--from-file: good lines created, a bad one fails: exit 2, in the failed file (0600)', async () => {
    const base = uniqueUser('bulk')
    const given = `Pw-${base}-given`
    const file = join(scratch, `${base}.txt`)
    writeFileSync(
      file,
      [
        '# new staff',
        `${base}a@${d}`,
        `${base}b@${d},${given}`,
        '',
        'bad user@localhost',
        `${base}c`,
        '',
      ].join('\n'),
    )
    const r = await cliOn(server, ['account', 'create', '--from-file', file, '--json'])
    expect(r.exitCode, r.stderr).toBe(2)
    expect(r.json.ok).toBe(false)
    expect(r.json.error.code).toBe(2)
    const result = r.json.result
    expect(result.created.map((c: any) => c.jid).sort()).toEqual([
      `${base}a@${d}`,
      `${base}b@${d}`,
      `${base}c@${d}`,
    ])
    expect(result.failed).toHaveLength(1)
    expect(result.failed[0]).toMatchObject({line: 5, jid: 'bad user@localhost', code: 65})
    expect(result.summary).toMatchObject({done: 3, skipped: 0, failed: 1, notAttempted: 0})
    expect(result.failedFile).toBe(`${file}.failed`)
    expect(readFileSync(`${file}.failed`, 'utf8')).toBe('bad user@localhost\n')
    expect(statSync(`${file}.failed`).mode & 0o777).toBe(0o600)
    // the line with a password keeps it (not printed); the others got generated ones that work
    const byJid = Object.fromEntries(result.created.map((c: any) => [c.jid, c.password]))
    expect(byJid[`${base}b@${d}`]).toBeUndefined()
    expect(r.stdout).not.toContain(given)
    const logins = await Promise.all([
      canLogin(server, {jid: `${base}a@${d}`, password: byJid[`${base}a@${d}`]}),
      canLogin(server, {jid: `${base}b@${d}`, password: given}),
      canLogin(server, {jid: `${base}c@${d}`, password: byJid[`${base}c@${d}`]}),
    ])
    expect(logins).toEqual([true, true, true])
  })

  it('a non-admin account is refused with exit 77', async () => {
    const r = await cliOn(
      server,
      [
        'account',
        'create',
        `${uniqueUser('na')}@${d}`,
        '--user-password-file',
        secretFile('Passw0rd-na\n'),
        '--json',
      ],
      {as: server.user},
    )
    expect(r.exitCode, r.stdout).toBe(77)
    expectErrorEnvelope(r.json, 77)
  })
})

describe.each(ALL)('account delete on %s', (_kind, server) => {
  const d = server.domain

  it('a mixed batch: existing ones deleted (no login), others not found; a repeat finds none', async () => {
    const [a, b] = await newAccounts(server, 2, 'del')
    const missing = `${uniqueUser('nobody')}@${d}`
    // the missing JID in the middle: ejabberd 24.12 refuses a whole batch if one JID is unknown
    const r = await cliOn(server, ['account', 'delete', a.jid, missing, b.jid, '--yes', '--json'])
    expect(r.exitCode, r.stderr).toBe(0)
    const result = expectOkEnvelope(r.json)
    expect([...result.deleted].sort()).toEqual([a.jid, b.jid].sort())
    expect(result.notFound).toEqual([missing])
    const gone = await loginExit(server, a)
    expect(gone.exitCode, gone.stderr).toBe(79)
    expect(await canLogin(server, b)).toBe(false)

    const again = await cliOn(server, ['account', 'delete', a.jid, missing, b.jid, '--yes'])
    expect(again.exitCode, again.stderr).toBe(0)
    expect(again.stdout).not.toMatch(/deleted/)
    for (const j of [a.jid, b.jid, missing]) expect(again.stderr).toContain(`not found: ${j}`)
  })

  it('nothing deleted off a terminal without --yes (64), with --dry-run, or a bad JID (65)', async () => {
    const a = await newAccount(server, 'keep')
    const [noYes, dry, bad] = await Promise.all([
      cliOn(server, ['account', 'delete', a.jid]),
      cliOn(server, ['account', 'delete', a.jid, '--dry-run', '--json']),
      // every JID is parsed first: a bad one refuses the whole run before anything is deleted
      cliOn(server, ['account', 'delete', a.jid, 'bad user@localhost', '--yes', '--json']),
    ])
    expect(noYes.exitCode).toBe(64)
    expect(noYes.stderr).toMatch(/--yes/)
    expectNoStack(noYes)
    expect(dry.exitCode, dry.stderr).toBe(0)
    expect(dry.json.result).toMatchObject({dryRun: true, deleted: []})
    // issue 16: the dry run asks the server (ejabberd 24.12 through mod_xmppadm's #export-user; without
    // the module it cannot tell: fallback-ejabberd.test.ts)
    expect(dry.json.result.wouldDelete).toEqual([a.jid])
    expect(bad.exitCode).toBe(65)
    expectErrorEnvelope(bad.json, 65)
    expect(bad.json.error.message).toMatch(/bad user@localhost/)
    expect(await canLogin(server, a)).toBe(true)
  })

  it('a non-admin account is refused with exit 77 and deletes nothing', async () => {
    const a = await newAccount(server, 'nadel')
    const r = await cliOn(server, ['account', 'delete', a.jid, '--yes', '--json'], {as: server.user})
    expect(r.exitCode, r.stdout).toBe(77)
    expectErrorEnvelope(r.json, 77)
    expect(await canLogin(server, a)).toBe(true)
  })
})

describe.each(PROSODIES)("account delete on %s: the user's data goes too", (_name, prosody) => {
  it("export-user finds nothing (67) and the user's uploads are gone from disk and records", async () => {
    const a = await newAccount(prosody, 'delup')
    const up = await prosodyUpload(prosody, a, 'mine.txt', 'uploaded by a user who will be deleted\n')
    expect(fileExists(up.path), up.path).toBe(true)
    expect(
      (await cliOn(prosody, ['export-user', a.jid, '-o', join(scratch, `${a.local}-before.xml`)])).exitCode,
    ).toBe(0)

    const r = await cliOn(prosody, ['account', 'delete', a.jid, '--yes'])
    expect(r.exitCode, r.stderr).toBe(0)
    expect(r.stdout.trim()).toBe(`deleted ${a.jid}`)
    expect(r.stderr).toMatch(/deleted 1, not found 0/)

    expect(fileExists(up.path)).toBe(false)
    expect(await prosodyUploadRecordExists(prosody, up.slot)).toBe(false)
    const exp = await cliOn(prosody, ['export-user', a.jid, '-o', '-'])
    expect(exp.exitCode).toBe(67)
    expect(exp.stdout).toBe('')
    expect(exp.stderr).toMatch(/no such user/)
    const get = await fetch(up.getUrl)
    expect([404, 410]).toContain(get.status)
  })
})
