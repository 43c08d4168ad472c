// Issues 3 and 10: export-user through mod_xmppadm on Prosody, ejabberd 24.12 and ejabberd 26.07.
// The user's data is made through the server as a client would make it (raw client: roster set,
// vCard set, a message while offline, which the archive keeps too) and must come back in the export.
// The partial export through ejabberd's API (no module) is tested in fallback-ejabberd.test.ts.
import {mkdtempSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {beforeAll, describe, expect, it} from 'vitest'
import {cliOn, expectNoStack, scratch, uniqueUser} from '../helpers/cli.js'
import {expectErrorEnvelope, expectOkEnvelope} from '../helpers/shapes.js'
import {
  RawClient,
  WITH_MODULE,
  eventually,
  isProsody,
  newAccounts,
  parseXml,
  sendMessages,
  setRosterAndVcard,
  type TestAccount,
} from '../helpers/mission.js'
import {offlineBodies, uploadFile} from '../helpers/stores.js'

const PIE = 'urn:xmpp:pie:0'
const ADM = 'urn:xmppadm:admin:1'
const out = mkdtempSync(join(scratch, 'export-'))

/** The <user/> of a XEP-0227 document, after checking the document's frame. */
function userOf(xmlText: string, local: string): any {
  expect(xmlText.startsWith('<?xml')).toBe(true)
  const doc = parseXml(xmlText)
  expect(doc.name).toBe('server-data')
  expect(doc.attrs.xmlns).toBe(PIE)
  const host = doc.getChild('host')
  expect(host.attrs.jid).toBe('localhost')
  const users = host.getChildren('user')
  expect(users).toHaveLength(1)
  expect(users[0].attrs.name).toBe(local)
  return users[0]
}

/** Every descendant element named `name` (optionally in namespace `xmlns`). */
function findAll(el: any, name: string, xmlns?: string): any[] {
  const found: any[] = []
  const walk = (e: any) => {
    for (const c of e.getChildElements()) {
      if (c.name === name && (xmlns === undefined || c.attrs.xmlns === xmlns)) found.push(c)
      walk(c)
    }
  }
  walk(el)
  return found
}

describe.each(WITH_MODULE)('export-user on %s (mod_xmppadm)', (kind, server) => {
  let alice: TestAccount
  let bob: TestAccount
  const contact = {jid: 'friend-of-alice@localhost', name: 'Friend Of Alice', group: 'Pals'}
  const vcard = {fn: 'Alice Export', nickname: 'ali'}
  const body = 'offline for the export <&> ü'
  beforeAll(async () => {
    ;[alice, bob] = await newAccounts(server, 2, 'exp')
    await setRosterAndVcard(server, alice, contact, vcard)
    await sendMessages(server, bob, alice.jid, [body])
    await eventually(
      'the offline message',
      async () => (await offlineBodies(server, alice.local)).length === 1,
    )
  })

  it('XEP-0227 to a file (0600): roster item, vCard field, the offline message; no credentials', async () => {
    const file = join(out, `${alice.local}.xml`)
    const r = await cliOn(server, ['export-user', alice.jid, '-o', file, '--json'])
    expect(r.exitCode, r.stderr).toBe(0)
    const result = expectOkEnvelope(r.json)
    expect(result).toMatchObject({
      jid: alice.jid,
      file,
      format: 'xep0227',
      complete: true,
      missing: [],
      via: 'mod_xmppadm',
    })
    expect(result.counts).toMatchObject({account: 1, roster: 1, offline: 1})
    expect(result.counts.vcard).toBeGreaterThanOrEqual(1)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    const text = readFileSync(file, 'utf8')
    expect(result.bytes).toBe(Buffer.byteLength(text))
    const user = userOf(text, alice.local)

    const items = findAll(user, 'item').filter((i) => i.attrs.jid === contact.jid)
    expect(items).toHaveLength(1)
    expect(items[0].attrs.name).toBe(contact.name)
    expect(items[0].getChildren('group').map((g: any) => g.getText())).toEqual([contact.group])

    const fn = findAll(user, 'fn').map((e) => e.getChildText('text'))
    const legacyFn = findAll(user, 'FN').map((e) => e.getText())
    expect([...fn, ...legacyFn]).toContain(vcard.fn)

    const offline = user.getChild('offline-messages')
    expect(offline).toBeDefined()
    const msgs = offline.getChildren('message')
    expect(msgs).toHaveLength(1)
    expect(msgs[0].getChildText('body')).toBe(body)
    expect(msgs[0].attrs.from).toMatch(new RegExp(`^${bob.jid}`))
    expect(msgs[0].getChild('delay', 'urn:xmpp:delay')?.attrs.stamp).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/,
    )

    // the archive (MAM) keeps the message too
    const archived = findAll(user, 'result', 'urn:xmpp:mam:2').filter(
      (r: any) => findAll(r, 'body')[0]?.getText() === body,
    )
    expect(archived).toHaveLength(1)
    expect(archived[0].attrs.id).toMatch(/\S/)
    // XEP-0082 (Prosody adds fractions of a second)
    expect(findAll(archived[0], 'delay')[0]?.attrs.stamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/)

    const account = user.getChild('account', ADM)
    expect(account?.attrs.disabled).toBe('false')
    expect(findAll(user, 'scram-credentials')).toHaveLength(0)
    expect(user.attrs.password).toBeUndefined()
    expect(text).not.toContain(alice.password)
  })

  it('--include-credentials adds the SCRAM credentials (never the password)', async () => {
    const r = await cliOn(server, ['export-user', alice.jid, '-o', '-', '--include-credentials'])
    expect(r.exitCode, r.stderr).toBe(0)
    const creds = findAll(userOf(r.stdout, alice.local), 'scram-credentials', `${PIE}#scram`)
    expect(creds).toHaveLength(1)
    expect(creds[0].attrs.mechanism).toMatch(/^SCRAM-SHA-(1|256)$/)
    for (const k of ['iter-count', 'salt', 'server-key', 'stored-key'])
      expect(creds[0].getChildText(k), k).toMatch(/\S/)
    expect(r.stdout).not.toContain(alice.password)
  })

  it('--format json: the same data as JSON, roster parsed', async () => {
    const file = join(out, `${alice.local}.json`)
    const r = await cliOn(server, ['export-user', alice.jid, '--format', 'json', '-o', file])
    expect(r.exitCode, r.stderr).toBe(0)
    expect(r.stderr).toMatch(/exported .* to /)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    const doc = JSON.parse(readFileSync(file, 'utf8'))
    expect(doc).toMatchObject({format: 'xmppadm-export/1', jid: alice.jid, complete: true, missing: []})
    expect(doc.roster).toEqual([
      {jid: contact.jid, name: contact.name, subscription: 'none', groups: [contact.group]},
    ])
    expect(doc.counts).toMatchObject({roster: 1, offline: 1})
    const all = doc.elements.join('\n')
    expect(all).toContain(vcard.fn)
    expect(all).toContain('offline for the export &lt;&amp;&gt; ü')
    expect(all).not.toContain('scram-credentials')
  })

  it('-o - writes the document to stdout only; with --json it is a usage error', async () => {
    const r = await cliOn(server, ['export-user', alice.jid, '-o', '-'])
    expect(r.exitCode, r.stderr).toBe(0)
    userOf(r.stdout, alice.local)
    expect(r.stdout.trimEnd().endsWith('</server-data>')).toBe(true)
    const both = await cliOn(server, ['export-user', alice.jid, '-o', '-', '--json'])
    expect(both.exitCode).toBe(64)
    expectErrorEnvelope(both.json, 64)
  })

  it('an existing file is not overwritten without --force (73); with --force it is', async () => {
    const file = join(out, `${alice.local}-exists.xml`)
    writeFileSync(file, 'precious\n', {mode: 0o644})
    const r = await cliOn(server, ['export-user', alice.jid, '-o', file])
    expect(r.exitCode).toBe(73)
    expect(r.stderr).toMatch(/exists/)
    expect(r.stderr).toMatch(/--force/)
    expectNoStack(r)
    expect(readFileSync(file, 'utf8')).toBe('precious\n')
    const j = await cliOn(server, ['export-user', alice.jid, '-o', file, '--json'])
    expectErrorEnvelope(j.json, 73)

    const forced = await cliOn(server, ['export-user', alice.jid, '-o', file, '--force'])
    expect(forced.exitCode, forced.stderr).toBe(0)
    userOf(readFileSync(file, 'utf8'), alice.local)
    expect(statSync(file).mode & 0o777).toBe(0o600)
  })

  it('a missing user: 67; a bad JID or another host: 65; nothing written', async () => {
    const file = join(out, 'nobody.xml')
    const [missing, bad, other] = await Promise.all([
      cliOn(server, ['export-user', `${uniqueUser('nobody')}@localhost`, '-o', file, '--json']),
      cliOn(server, ['export-user', 'bad user@localhost', '-o', file, '--json']),
      cliOn(server, ['export-user', `${alice.local}@other.example`, '-o', file, '--json']),
    ])
    expect(missing.exitCode, missing.stdout).toBe(67)
    expectErrorEnvelope(missing.json, 67)
    expect(bad.exitCode, bad.stdout).toBe(65)
    expectErrorEnvelope(bad.json, 65)
    expect(other.exitCode, other.stdout).toBe(65)
    expect(() => statSync(file)).toThrow()
  })

  it('a non-admin account is refused with exit 77', async () => {
    const r = await cliOn(server, ['export-user', alice.jid, '-o', '-'], {as: server.user})
    expect(r.exitCode, r.stderr).toBe(77)
    expect(r.stdout).toBe('')
  })
})

describe.each(WITH_MODULE)('export-user on %s: paged transfer', (kind, server) => {
  it('30 offline messages of ~3 KB, 7 a page (cut by size): each once, in order, one container', async () => {
    const [carol, dave] = await newAccounts(server, 2, 'expg')
    // ejabberd shapes a normal account's traffic (3000 B/s after a 20 kB burst): smaller messages there
    const size = isProsody(kind) ? 3000 : 500
    const bodies = Array.from(
      {length: 30},
      (_, i) => `page-test ${String(i).padStart(2, '0')} ${'z'.repeat(size)}`,
    )
    await sendMessages(server, dave, carol.jid, bodies)
    await eventually(
      'the offline messages',
      async () => (await offlineBodies(server, carol.local)).length === 30,
    )
    const r = await cliOn(server, ['export-user', carol.jid, '-o', '-', '--page-size', '7', '--debug'])
    expect(r.exitCode, r.stderr.slice(-1000)).toBe(0)
    // Several export-user requests went out: the transfer was paged.
    expect((r.stderr.match(/SEND .*urn:xmppadm:admin:1#export-user/g) ?? []).length).toBeGreaterThan(10)
    const user = userOf(r.stdout, carol.local)
    const offline = findAll(user, 'offline-messages')
    expect(offline).toHaveLength(1)
    const got = findAll(offline[0], 'body')
      .map((b: any) => b.getText())
      .filter((t: string) => t.startsWith('page-test'))
    expect(got).toEqual(bodies)
    // The archive (MAM) holds the same messages, also paged: each once there too.
    const archived = findAll(user, 'body')
      .map((b: any) => b.getText())
      .filter((t: string) => t.startsWith('page-test'))
    expect(archived.length).toBe(60)
    expect(new Set(archived).size).toBe(30)
  })
})

describe.each(WITH_MODULE)('export-user on %s: the other sections', (kind, server) => {
  let carol: TestAccount
  beforeAll(async () => {
    ;[carol] = await newAccounts(server, 1, 'expall')
    const c = await RawClient.login(server, carol)
    try {
      await c.iqOk(
        `<iq type='set' id='ID'><query xmlns='jabber:iq:private'><prefs ` +
          `xmlns='urn:xmppadm:test:prefs'><colour>teal</colour></prefs></query></iq>`,
      )
      await c.iqOk(
        `<iq type='set' id='ID'><block xmlns='urn:xmpp:blocking'><item ` +
          `jid='spammer@example.org'/></block></iq>`,
      )
      await c.iqOk(
        `<iq type='set' id='ID'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='http://jabber.org/protocol/nick'><item id='current'><nick xmlns='http://jabber.org/protocol/nick'>Caro</nick></item></publish></pubsub></iq>`,
      )
    } finally {
      await c.close()
    }
    await uploadFile(server, carol, 'for-the-export.txt', 'an uploaded file\n')
  })

  it('private XML, blocklist, PEP node with its item, the upload and last activity', async () => {
    const r = await cliOn(server, ['export-user', carol.jid, '-o', '-'])
    expect(r.exitCode, r.stderr).toBe(0)
    const user = userOf(r.stdout, carol.local)

    const priv = user.getChild('query', 'jabber:iq:private')
    expect(priv?.getChild('prefs', 'urn:xmppadm:test:prefs')?.getChildText('colour')).toBe('teal')

    const blocked = user.getChild('blocklist', 'urn:xmpp:blocking')
    expect(blocked?.getChildren('item').map((i: any) => i.attrs.jid)).toEqual(['spammer@example.org'])

    const nodes = findAll(user, 'configure').map((c: any) => c.attrs.node)
    expect(nodes).toContain('http://jabber.org/protocol/nick')
    const items = findAll(user, 'items').find((i: any) => i.attrs.node === 'http://jabber.org/protocol/nick')
    expect(items?.getChild('item')?.attrs.id).toBe('current')
    expect(findAll(items, 'nick')[0]?.getText()).toBe('Caro')

    const uploads = user.getChildren('upload', ADM)
    expect(uploads).toHaveLength(1)
    expect(uploads[0].attrs).toMatchObject({size: '17'})
    expect(uploads[0].attrs.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/.*for-the-export\.txt$/)
    expect(uploads[0].attrs.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
    const got = await fetch(uploads[0].attrs.url)
    expect(await got.text()).toBe('an uploaded file\n')

    // Prosody 0.12 has no record of an account that never logged out (no account_activity store)
    const last = user.getChild('query', 'jabber:iq:last')
    if (kind === 'prosody-0.12') expect(last).toBeUndefined()
    else expect(last?.attrs.seconds).toMatch(/^\d+$/)
  })
})
