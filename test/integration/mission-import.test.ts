// Issue 14: a user's export moves to another provider, and xmppadm takes it in. Each move is
// checked by effect on the receiving server, as the user sees it there: they log in with the old
// password, and find the roster item, the vCard field and the offline message. Moves through the
// servers' own importers (ejabberd's import_piefxis, Prosody's prosody-migrator, run the way an
// operator runs them: test/servers importWithServerTool) and through `import-user`, both ways.
// Unique users on the shared test servers.
import {mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {cli, cliOn, expectNoStack, scratch, secretFile, uniqueUser} from '../helpers/cli.js'
import {expectOkEnvelope} from '../helpers/shapes.js'
import {
  RawClient,
  canLogin,
  ejabberd24,
  ejabberd26,
  eventually,
  newAccounts,
  parseXml,
  prosody,
  prosody012,
  runControlOk,
  sendMessages,
  setRosterAndVcard,
  type TestAccount,
} from '../helpers/mission.js'
import {offlineBodies} from '../helpers/stores.js'
import {type ServerDescriptor, importWithServerTool} from '../servers/servers.js'

const out = mkdtempSync(join(scratch, 'import-'))

/** What a moving user has: a roster item, a vCard and a message that came while they were away. */
interface Mover extends TestAccount {
  contact: {jid: string; name: string; group: string}
  fn: string
  body: string
}

async function moverOn(server: ServerDescriptor, prefix: string): Promise<Mover> {
  const [mover, sender] = await newAccounts(server, 2, prefix)
  const contact = {jid: `friend-${mover.local}@example.org`, name: 'An Old Friend', group: 'Pals'}
  const fn = `Mover ${mover.local}`
  const body = `while you were away ${mover.local}`
  await setRosterAndVcard(server, mover, contact, {fn, nickname: 'mo'})
  await sendMessages(server, sender, mover.jid, [body])
  await eventually('the offline message', async () => (await offlineBodies(server, mover.local)).length === 1)
  return {...mover, contact, fn, body}
}

/** The export of `m` from `server` for the account `as` on the new server. */
async function exported(
  server: ServerDescriptor,
  m: Mover,
  as: string,
  extra: string[] = [],
): Promise<string> {
  const file = join(out, `${uniqueUser('x')}.xml`)
  const r = await cliOn(server, [
    'export-user',
    m.jid,
    '--include-credentials',
    '--as',
    as,
    '-o',
    file,
    ...extra,
  ])
  expect(r.exitCode, r.stderr).toBe(0)
  return file
}

/**
 * Logs in as `account` with the old password and checks what the user finds: the roster item,
 * the vCard's FN and (unless `offline` is false) the offline message, delivered on presence.
 */
async function arrived(server: ServerDescriptor, account: string, m: Mover, offline = true): Promise<void> {
  const c = await RawClient.login(server, {jid: account, password: m.password})
  try {
    const roster = parseXml(await c.iqOk(`<iq type='get' id='ID'><query xmlns='jabber:iq:roster'/></iq>`))
    const item = roster
      .getChild('query', 'jabber:iq:roster')
      .getChildren('item')
      .find((i: any) => i.attrs.jid === m.contact.jid)
    expect(item?.attrs.name, `roster of ${account}`).toBe(m.contact.name)
    expect(item.getChildren('group').map((g: any) => g.getText())).toEqual([m.contact.group])
    const vcard = parseXml(await c.iqOk(`<iq type='get' id='ID'><vCard xmlns='vcard-temp'/></iq>`))
    expect(vcard.getChild('vCard', 'vcard-temp')?.getChildText('FN'), `vCard of ${account}`).toBe(m.fn)
    if (offline) {
      c.send('<presence/>')
      await c.expect(new RegExp(`<body[^>]*>${m.body}</body>`), 15_000)
    }
  } finally {
    await c.close()
  }
}

describe("through the servers' own importers", () => {
  it('Prosody 13 → ejabberd 26.07 with import_piefxis: export-user --for ejabberd', async () => {
    const m = await moverOn(prosody, 'mvpe')
    const target = `${uniqueUser('mvpe')}@localhost`
    const file = await exported(prosody, m, target, ['--for', 'ejabberd'])
    // SCRAM data base64 twice, the vCard as vcard-temp (Prosody keeps it as vCard4 only)
    const user = parseXml(readFileSync(file, 'utf8')).getChild('host').getChild('user')
    const key = user.getChild('scram-credentials', 'urn:xmpp:pie:0#scram').getChildText('stored-key')
    expect(Buffer.from(Buffer.from(key, 'base64').toString(), 'base64')).toHaveLength(20)
    expect(user.getChild('vCard', 'vcard-temp').getChildText('FN')).toBe(m.fn)
    const r = await importWithServerTool(ejabberd26, file, target.split('@')[0])
    expect(r.code, r.stdout + r.stderr).toBe(0)
    await arrived(ejabberd26, target, m)
  })

  it.each([
    ['Prosody 13', prosody],
    ['Prosody 0.12', prosody012],
  ])('ejabberd 24.12 → %s with prosody-migrator, then import-user --merge', async (_name, server) => {
    const m = await moverOn(ejabberd24, 'mvep')
    const target = `${uniqueUser('mvep')}@localhost`
    const file = await exported(ejabberd24, m, target)
    const r = await importWithServerTool(server, file, target.split('@')[0])
    expect(r.code, r.stdout + r.stderr).toBe(0)
    // Prosody's XEP-0227 reader has no offline messages (README "Moving a user")
    await arrived(server, target, m, false)
    // ...which import-user --merge brings afterwards, the rest already there
    const rest = await cliOn(server, ['import-user', file, '--merge', '--json'])
    expect(rest.exitCode, rest.stderr).toBe(0)
    expect(expectOkEnvelope(rest.json).imported[0].sections).toMatchObject({
      offline: {imported: 1},
      roster: {imported: 1},
    })
    await arrived(server, target, m)
  })
})

describe('through import-user', () => {
  it('README "Moving a user to another server" as written: Prosody 13 → ejabberd 26.07', async () => {
    const m = await moverOn(prosody, 'mvrd')
    const target = `${uniqueUser('mvrd')}@localhost`
    const readme = readFileSync('README.md', 'utf8')
    const section = readme.slice(readme.indexOf('### Moving a user to another server'))
    const block = /```sh\n([\s\S]*?)```/.exec(section)![1]
    const lines = block.split('\n').filter((l) => l.startsWith('xmppadm '))
    expect(lines).toHaveLength(3)
    // profiles old (the Prosody) and new (the ejabberd) in a fresh config dir
    const config = mkdtempSync(join(scratch, 'profiles-'))
    mkdirSync(join(config, 'xmppadm'))
    for (const [name, server] of [
      ['old', prosody],
      ['new', ejabberd26],
    ] as const)
      writeFileSync(
        join(config, 'xmppadm', `${name}.conf`),
        `jid = ${server.admin.jid}\nserver = ${server.host}:${server.port}\nca_file = ${server.caFile}\n` +
          `password_file = ${secretFile(`${server.admin.password}\n`)}\n`,
      )
    const cwd = mkdtempSync(join(scratch, 'move-'))
    const outputs: string[] = []
    for (const line of lines) {
      const argv = line
        .replace(/alice@old\.example/g, m.jid)
        .replace(/alice@new\.example/g, target)
        .split(/\s+/)
        .slice(1)
      const r = await cli(
        argv.map((a) => (a === 'alice.xml' ? join(cwd, 'alice.xml') : a)),
        {
          env: {XDG_CONFIG_HOME: config},
        },
      )
      expect(r.exitCode, `${line}\n${r.stderr}`).toBe(0)
      expectNoStack(r)
      outputs.push(r.stdout + r.stderr)
    }
    // the dry run said what would come, and changed nothing before the import
    expect(outputs[1]).toMatch(new RegExp(`would import .*${target} \\(new account\\): account 1, roster 1`))
    expect(outputs[1]).toMatch(/would skip last: 1 skipped: last activity describes the old server/)
    expect(outputs[2]).toMatch(new RegExp(`imported .*${target} \\(new account\\)`))
    await arrived(ejabberd26, target, m)
  })

  it.each([
    ['ejabberd 26.07 → Prosody 13', ejabberd26, prosody],
    ['Prosody 0.12 → ejabberd 24.12', prosody012, ejabberd24],
    ['ejabberd 24.12 → Prosody 0.12', ejabberd24, prosody012],
  ])('%s', async (_name, from, to) => {
    const m = await moverOn(from, 'mvim')
    const target = `${uniqueUser('mvim')}@localhost`
    const file = await exported(from, m, target)
    const r = await cliOn(to, ['import-user', file, '--json'])
    expect(r.exitCode, r.stdout + r.stderr).toBe(0)
    const [u] = expectOkEnvelope(r.json).imported
    expect(u).toMatchObject({from: target, account: target, created: true, dryRun: false})
    expect(u.sections).toMatchObject({
      account: {imported: 1, skipped: 0},
      roster: {imported: 1},
      offline: {imported: 1},
      mam: {imported: 1},
    })
    await arrived(to, target, m)
  })

  it('an existing account is refused (65) unless --merge; a second import stores nothing twice', async () => {
    const m = await moverOn(prosody, 'mvmg')
    const target = `${uniqueUser('mvmg')}@localhost`
    const file = await exported(prosody, m, target)
    const dry = await cliOn(ejabberd26, ['import-user', file, '--dry-run', '--json'])
    expect(dry.exitCode, dry.stderr).toBe(0)
    expect(expectOkEnvelope(dry.json).imported[0]).toMatchObject({dryRun: true, created: true})
    expect(await canLogin(ejabberd26, {jid: target, password: m.password})).toBe(false)

    expect((await cliOn(ejabberd26, ['import-user', file])).exitCode).toBe(0)
    const again = await cliOn(ejabberd26, ['import-user', file, '--json'])
    expect(again.exitCode).toBe(65)
    expect(again.json.error).toMatchObject({reason: 'account-exists', hint: expect.stringMatching(/--merge/)})

    const merged = await cliOn(ejabberd26, ['import-user', file, '--merge', '--json'])
    expect(merged.exitCode, merged.stderr).toBe(0)
    const [u] = expectOkEnvelope(merged.json).imported
    expect(u.created).toBe(false)
    expect(u.sections.account).toMatchObject({
      skipped: 1,
      reasons: [expect.stringMatching(/credentials are kept/)],
    })
    expect(u.sections.offline).toMatchObject({imported: 0, skipped: 1, reasons: ['already there']})
    expect(u.sections.mam).toMatchObject({imported: 0, skipped: 1, reasons: ['already there']})
    expect(await offlineBodies(ejabberd26, target.split('@')[0])).toEqual([m.body])
  })

  it("ejabberd's own export (export_piefxis: XInclude, SCRAM base64 twice) into Prosody 13", async () => {
    const m = await moverOn(ejabberd24, 'mvpx')
    const dir = join(ejabberd24.dir, `piefxis-${m.local}`)
    mkdirSync(dir)
    await runControlOk(ejabberd24, ['export_piefxis_host', dir, 'localhost'])
    // the host file holds every user of the host: this one, renamed, in a file of its own
    const host = readFileSync(
      join(
        dir,
        readdirSync(dir).find((f) => f.includes('_'))!,
      ),
      'utf8',
    )
    const userXml = new RegExp(`<user name='${m.local}'>[\\s\\S]*?</user>`).exec(host)![0]
    const target = `${uniqueUser('mvpx')}@localhost`
    const file = join(out, `${m.local}-piefxis.xml`)
    writeFileSync(
      file,
      `<server-data xmlns='urn:xmpp:pie:0'><host jid='localhost'>${userXml}</host></server-data>`,
    )
    const r = await cliOn(prosody, ['import-user', file, '--as', target])
    expect(r.exitCode, r.stderr).toBe(0)
    expect(r.stderr).toMatch(/double-encoded form, read as such/)
    await arrived(prosody, target, m)
  })

  it('a file with missing and foreign sections: what can be is imported, the rest said', async () => {
    const name = uniqueUser('mvfo')
    const file = join(out, `${name}.xml`)
    writeFileSync(
      file,
      `<?xml version='1.0'?><server-data xmlns='urn:xmpp:pie:0'><host jid='elsewhere.example'>
        <user name='${name}' password='clear-text-never'>
          <scram-credentials xmlns='urn:xmpp:pie:0#scram' mechanism='SCRAM-SHA-256'>
            <iter-count>4096</iter-count>
            <salt>c2FsdHNhbHQ=</salt><server-key>${Buffer.alloc(32, 1).toString('base64')}</server-key>
            <stored-key>${Buffer.alloc(32, 2).toString('base64')}</stored-key></scram-credentials>
          <query xmlns='jabber:iq:roster'>
            <item jid='kept@example.org' name='Kept' subscription='none'/></query>
          <upload xmlns='urn:xmppadm:admin:1' url='https://elsewhere.example/f.txt' size='3'/>
          <missing xmlns='urn:xmppadm:admin:1' section='mam'>the server could not export it</missing>
          <weather xmlns='urn:example:weather'><sunny/></weather>
        </user></host></server-data>`,
    )
    for (const server of [prosody, ejabberd26]) {
      const r = await cliOn(server, ['import-user', file, '--json'])
      expect(r.exitCode, `${server.kind}: ${r.stdout}`).toBe(0)
      const [u] = expectOkEnvelope(r.json).imported
      expect(u.complete).toBe(false)
      expect(u.sections.roster).toMatchObject({imported: 1, skipped: 0})
      expect(u.sections.account.reasons.join(' ')).toMatch(/SCRAM-SHA-256 only.*SCRAM-SHA-1/)
      expect(u.sections.account.reasons.join(' ')).toMatch(/clear-text password is not imported/)
      expect(u.sections.uploads).toMatchObject({skipped: 1, reasons: [expect.stringMatching(/old provider/)]})
      expect(u.sections.other.reasons).toEqual([
        'not in the export: mam: the server could not export it',
        '{urn:example:weather}weather is not part of what xmppadm imports',
      ])
      expect(r.stdout).not.toContain('clear-text-never')
      // the roster item is there (seen through an export); the clear password does not log in
      const exp = await cliOn(server, ['export-user', `${name}@localhost`, '-o', '-'])
      expect(exp.stdout).toContain('kept@example.org')
      expect(await canLogin(server, {jid: `${name}@localhost`, password: 'clear-text-never'})).toBe(false)
      await cliOn(server, ['account', 'delete', `${name}@localhost`, '--yes'])
    }
  })

  it('--from-file: each file a line; a bad line fails alone (exit 2) into the failed file', async () => {
    const m = await moverOn(prosody, 'mvbk')
    const target = `${uniqueUser('mvbk')}@localhost`
    const good = await exported(prosody, m, target)
    const list = join(out, `${m.local}.list`)
    writeFileSync(list, `# exports\n${good}\n${join(out, 'not-there.xml')}\n`)
    const r = await cliOn(ejabberd26, ['import-user', '--from-file', list, '--json'])
    expect(r.exitCode, r.stderr).toBe(2)
    expect(r.json.result.summary).toMatchObject({files: 1, users: 1, failed: 1})
    expect(r.json.result.failed).toEqual([expect.objectContaining({line: 3, code: 66})])
    expect(readFileSync(`${list}.failed`, 'utf8')).toBe(`${join(out, 'not-there.xml')}\n`)
    await arrived(ejabberd26, target, m)
  })
})
