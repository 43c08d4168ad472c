// Issue 14, without servers: reading XEP-0227 files item by item (the XEP's own examples, the
// XInclude layout, ejabberd's host files), the two encodings of SCRAM data, vCard4 as vcard-temp,
// an export shaped for the importers, and the parts import-user sends.
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {xml} from '@xmpp/xml'
import {describe, expect, it} from 'vitest'
import {type ImportPart, type PartResult, importFile, sectionOf} from '../../src/ops/import-user.js'
import {PortableExport} from '../../src/ops/export-user.js'
import {ExportDocument} from '../../src/output/xep0227-stream.js'
import {vcard4ToTemp} from '../../src/protocol/vcard.js'
import {
  UserBuilder,
  type Xep0227Event,
  readXep0227,
  reencodeScram,
  scramEncoding,
  scramFromPasswordAttr,
} from '../../src/protocol/xep0227.js'
import {traceElement} from '../../src/xmpp/trace.js'
import {parseXml} from '../fixtures/captures.js'

const dir = mkdtempSync(join(tmpdir(), 'xmppadm-xep0227-'))
let n = 0
const file = (text: string, name = `f${++n}.xml`) => {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}
async function events(path: string): Promise<Xep0227Event[]> {
  const out: Xep0227Event[] = []
  for await (const ev of readXep0227({path})) out.push(ev)
  return out
}
const items = (evs: Xep0227Event[]) =>
  evs.flatMap((e) => (e.type === 'item' ? [[e.wrap.map((w) => w.name).join('/'), e.el.name, e.ns]] : []))

// XEP-0227 1.1's examples, one user holding them all (the SCRAM data is the XEP's)
const SCRAM_XEP = `<scram-credentials xmlns='urn:xmpp:pie:0#scram' mechanism='SCRAM-SHA-1'>
  <iter-count>100000</iter-count>
  <salt>TmFDbE5hQ2xOYUNsTmFDbE5hQ2xOYUNsTmFDbE5hQ2xOYUNsTmFDbE5hQ2wK</salt>
  <server-key>0pXWGK0GZJ6TR73AIUN3ITYtA1g=</server-key>
  <stored-key>Q6qT/SbybblGCZz8e8eSfCJOQic=</stored-key></scram-credentials>`
const JULIET = `<?xml version='1.0' encoding='UTF-8'?>
<server-data xmlns='urn:xmpp:pie:0'>
  <host jid='capulet.com'>
    <user name='juliet'>
      ${SCRAM_XEP}
      <query xmlns='jabber:iq:roster'>
        <item jid='romeo@montague.net' name='Romeo' subscription='both'><group>Friends</group></item>
        <item jid='nurse@capulet.com' subscription='from'/>
      </query>
      <offline-messages>
        <message xmlns='jabber:client' from='romeo@montague.net/orchard' to='juliet@capulet.com/balcony'
          type='chat'><body>Neither, fair saint, if either thee dislike.</body>
          <delay xmlns='urn:xmpp:delay' from='capulet.com' stamp='1469-07-21T00:32:29Z'>
            Offline Storage
          </delay></message>
      </offline-messages>
      <vCard xmlns='vcard-temp'><FN>Juliet Capulet</FN></vCard>
      <presence xmlns='jabber:client' type='subscribe' from='mercutio@montague.net'/>
      <pubsub xmlns='http://jabber.org/protocol/pubsub#owner'>
        <configure node='http://jabber.org/protocol/nick'><x xmlns='jabber:x:data' type='form'/></configure>
      </pubsub>
      <pubsub xmlns='http://jabber.org/protocol/pubsub'>
        <items node='urn:xmpp:bookmarks:1'><item id='a'><conference xmlns='urn:xmpp:bookmarks:1'/></item>
          <item id='b'><conference xmlns='urn:xmpp:bookmarks:1'/></item></items>
        <items node='http://jabber.org/protocol/nick'><item id='current'>
          <nick xmlns='http://jabber.org/protocol/nick'>Jules</nick></item></items>
      </pubsub>
      <archive xmlns='urn:xmpp:pie:0#mam'>
        <result xmlns='urn:xmpp:mam:2' id='28482-98726-73623'><forwarded xmlns='urn:xmpp:forward:0'>
          <delay xmlns='urn:xmpp:delay' stamp='2010-07-10T23:08:25Z'/>
          <message xmlns='jabber:client' to='juliet@capulet.lit/balcony' from='romeo@montague.lit/orchard'
            type='chat'><body>Call me but love</body></message></forwarded></result>
      </archive>
      <foo xmlns='urn:example:foo'><bar/></foo>
    </user>
  </host>
</server-data>`

describe('reading XEP-0227 item by item', () => {
  it("the XEP's examples: each item with the containers it is in and its namespace", async () => {
    const evs = await events(file(JULIET))
    expect(evs[0]).toEqual({type: 'user', host: 'capulet.com', attrs: {name: 'juliet'}})
    expect(evs.at(-1)).toEqual({type: 'end-user'})
    expect(items(evs)).toEqual([
      ['', 'scram-credentials', 'urn:xmpp:pie:0#scram'],
      ['query', 'item', 'jabber:iq:roster'],
      ['query', 'item', 'jabber:iq:roster'],
      ['offline-messages', 'message', 'jabber:client'],
      ['', 'vCard', 'vcard-temp'],
      ['', 'presence', 'jabber:client'],
      ['pubsub', 'configure', 'http://jabber.org/protocol/pubsub#owner'],
      ['pubsub/items', 'item', 'http://jabber.org/protocol/pubsub'],
      ['pubsub/items', 'item', 'http://jabber.org/protocol/pubsub'],
      ['pubsub/items', 'item', 'http://jabber.org/protocol/pubsub'],
      ['archive', 'result', 'urn:xmpp:mam:2'],
      ['', 'foo', 'urn:example:foo'],
    ])
    const sections = evs.flatMap((e) => (e.type === 'item' ? [sectionOf(e.wrap, e.el, e.ns)] : []))
    expect(sections).toEqual([
      'account',
      'roster',
      'roster',
      'offline',
      'vcard',
      'roster',
      'pep',
      'pep',
      'pep',
      'pep',
      'mam',
      'other',
    ])
  })

  it('put back into a <user/>: the same document, containers joined, nothing lost', async () => {
    const b = new UserBuilder({name: 'juliet'})
    for (const ev of await events(file(JULIET))) if (ev.type === 'item') b.add(ev.wrap, ev.el)
    const user = b.user
    expect(user.getChild('query', 'jabber:iq:roster')!.getChildren('item')).toHaveLength(2)
    const pubsub = user.getChild('pubsub', 'http://jabber.org/protocol/pubsub')!
    expect(pubsub.getChildren('items').map((i) => [i.attrs.node, i.getChildren('item').length])).toEqual([
      ['urn:xmpp:bookmarks:1', 2],
      ['http://jabber.org/protocol/nick', 1],
    ])
    // through text and back: namespaces as they were
    const again = parseXml(user.toString())
    expect(
      again.getChild('offline-messages')!.getChild('message', 'jabber:client')!.getChildText('body'),
    ).toBe('Neither, fair saint, if either thee dislike.')
    expect(
      again.getChild('archive', 'urn:xmpp:pie:0#mam')!.getChild('result', 'urn:xmpp:mam:2'),
    ).toBeDefined()
    expect(again.getChild('foo', 'urn:example:foo')!.getChild('bar')).toBeDefined()
  })

  it("XInclude: the XEP's layout (main, host and user files), ejabberd's (a host file)", async () => {
    const sub = mkdtempSync(join(dir, 'inc-'))
    file(
      `<?xml version='1.0'?><user xmlns='urn:xmpp:pie:0' name='mercutio'><vCard xmlns='vcard-temp'/></user>`,
      'inc-user.xml',
    )
    writeFileSync(
      join(sub, 'capulet.com.xml'),
      `<host xmlns='urn:xmpp:pie:0' xmlns:xi='http://www.w3.org/2001/XInclude' jid='capulet.com'>` +
        `<user name='tybalt'/><xi:include href='../inc-user.xml'/></host>`,
    )
    const main = join(sub, 'main.xml')
    writeFileSync(
      main,
      `<server-data xmlns='urn:xmpp:pie:0' xmlns:xi='http://www.w3.org/2001/XInclude'>` +
        `<xi:include href='capulet.com.xml'/></server-data>`,
    )
    const users = (await events(main)).filter((e) => e.type === 'user')
    expect(users).toEqual([
      {type: 'user', host: 'capulet.com', attrs: {name: 'tybalt'}},
      {type: 'user', host: 'capulet.com', attrs: {name: 'mercutio'}},
    ])
  })

  it("XEP-0227 0.x's namespace is read as 1.1's", async () => {
    const old = `<server-data xmlns='http://www.xmpp.org/extensions/xep-0227.html#ns'><host jid='a.example'>
      <user name='x'><offline-messages><message xmlns='jabber:client' from='b@b.example'/></offline-messages>
      </user></host></server-data>`
    expect(items(await events(file(old)))).toEqual([['offline-messages', 'message', 'jabber:client']])
  })

  it('what is not XEP-0227 is a data error (65) naming the file; a missing file is 66', async () => {
    await expect(events(file(`<html><body/></html>`))).rejects.toMatchObject({
      exitCode: 65,
      message: expect.stringMatching(/not a XEP-0227 file/),
    })
    await expect(
      events(file(`<server-data xmlns='urn:xmpp:pie:0'><host jid='a'><user name='x'>`)),
    ).rejects.toMatchObject({exitCode: 65, message: expect.stringMatching(/ends in the middle/)})
    await expect(events(join(dir, 'nothing-here.xml'))).rejects.toMatchObject({exitCode: 66})
  })
})

describe('SCRAM data: once (XEP-0227) or twice (ejabberd) base64', () => {
  const xep = parseXml(SCRAM_XEP)
  it("tells the XEP's form from ejabberd's by the size of the keys, and converts both ways", () => {
    expect(scramEncoding(xep)).toBe('once')
    const twice = reencodeScram(xep, 'twice')
    expect(scramEncoding(twice)).toBe('twice')
    expect(twice.getChildText('stored-key')).toBe(
      Buffer.from('Q6qT/SbybblGCZz8e8eSfCJOQic=').toString('base64'),
    )
    const back = reencodeScram(twice, 'once')
    for (const k of ['iter-count', 'salt', 'server-key', 'stored-key'])
      expect(back.getChildText(k), k).toBe(xep.getChildText(k)!.trim())
    expect(
      scramEncoding(
        parseXml(`<scram-credentials mechanism='SCRAM-SHA-1'><stored-key>abc</stored-key>
      </scram-credentials>`),
      ),
    ).toBeUndefined()
  })

  it("ejabberd's older password attribute (scram:…, base64 twice) becomes <scram-credentials/>", () => {
    const twice = (s: string) => Buffer.from(s).toString('base64')
    const set = scramFromPasswordAttr(
      `scram:${twice('Q6qT/SbybblGCZz8e8eSfCJOQic=')},${twice('0pXWGK0GZJ6TR73AIUN3ITYtA1g=')},` +
        `${twice('c2FsdA==')},4096`,
    )!
    expect(set.attrs.mechanism).toBe('SCRAM-SHA-1')
    expect(set.getChildText('stored-key')).toBe('Q6qT/SbybblGCZz8e8eSfCJOQic=')
    expect(set.getChildText('salt')).toBe('c2FsdA==')
    expect(set.getChildText('iter-count')).toBe('4096')
    expect(scramFromPasswordAttr('correct horse')).toBeUndefined()
  })

  it('never in a --debug trace: SCRAM salt and keys, a clear password attribute', () => {
    const out = traceElement(
      xml('user', {xmlns: 'urn:xmpp:pie:0', name: 'juliet', password: 'nurse-knows-it'}, parseXml(SCRAM_XEP)),
    )
    for (const secret of [
      'nurse-knows-it',
      '0pXWGK0GZJ6TR73AIUN3ITYtA1g=',
      'Q6qT/SbybblGCZz8e8eSfCJOQic=',
      'TmFDbE5h',
    ])
      expect(out).not.toContain(secret)
    expect(out).toContain('<iter-count>100000</iter-count>')
  })
})

describe('vCard4 as vcard-temp', () => {
  it('the fields both know', () => {
    const v4 = parseXml(`<vcard xmlns='urn:ietf:params:xml:ns:vcard-4.0'><fn><text>Juliet Capulet</text></fn>
      <n><surname>Capulet</surname><given>Juliet</given></n><nickname><text>Jules</text></nickname>
      <email><parameters><type><text>home</text></type></parameters><text>j@capulet.example</text></email>
      <tel><uri>tel:+39-045-000</uri></tel><impp><uri>xmpp:juliet@capulet.com</uri></impp>
      <org><text>House Capulet</text></org><note><text>balcony</text></note></vcard>`)
    const t = vcard4ToTemp(v4)
    expect(t.attrs.xmlns).toBe('vcard-temp')
    expect(t.getChildText('FN')).toBe('Juliet Capulet')
    expect(t.getChild('N')!.getChildText('FAMILY')).toBe('Capulet')
    expect(t.getChild('N')!.getChildText('GIVEN')).toBe('Juliet')
    expect(t.getChildText('NICKNAME')).toBe('Jules')
    expect(t.getChild('EMAIL')!.getChildText('USERID')).toBe('j@capulet.example')
    expect(t.getChild('EMAIL')!.getChild('HOME')).toBeDefined()
    expect(t.getChild('TEL')!.getChildText('NUMBER')).toBe('+39-045-000')
    expect(t.getChildText('JABBERID')).toBe('juliet@capulet.com')
    expect(t.getChild('ORG')!.getChildText('ORGNAME')).toBe('House Capulet')
    expect(t.getChildText('DESC')).toBe('balcony')
  })
})

describe('an export shaped for the importers (page by page)', () => {
  const vcardPage = () =>
    parseXml(`<user xmlns='urn:xmpp:pie:0' name='juliet'>
      <pubsub xmlns='http://jabber.org/protocol/pubsub#owner'><configure node='urn:xmpp:vcard4'/></pubsub>
      <pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='urn:xmpp:vcard4'><item id='current'>
      <vcard xmlns='urn:ietf:params:xml:ns:vcard-4.0'><fn><text>Juliet</text></fn></vcard></item></items>
      </pubsub></user>`)

  /** A sink that keeps nothing (the shaping is looked at directly). */
  const nowhere = {page: () => {}, endSection: () => {}}

  it("the vcard section's PEP copy is left out, and a vCard4-only vCard is added as vcard-temp", () => {
    const p = new PortableExport(nowhere)
    const page = vcardPage()
    p.shape('vcard', page)
    expect(page.getChildElements()).toEqual([])
    const [added] = p.added('vcard')
    expect(added.attrs.xmlns).toBe('vcard-temp')
    expect(added.getChildText('FN')).toBe('Juliet')
    expect(p.counts({vcard: 2, roster: 3})).toEqual({vcard: 1, roster: 3})
  })

  it('a legacy vCard is kept as it is, and nothing is added', () => {
    const p = new PortableExport(nowhere)
    const page = vcardPage()
    page.append(xml('vCard', {xmlns: 'vcard-temp'}, xml('FN', {}, 'Juliet C.')))
    p.shape('vcard', page)
    expect(page.getChildElements().map((c) => c.name)).toEqual(['vCard'])
    expect(p.added('vcard')).toEqual([])
  })

  it('--for ejabberd: the SCRAM salt and keys base64 twice; the XEP form leaves them alone', () => {
    const account = () => xml('user', {xmlns: 'urn:xmpp:pie:0'}, parseXml(SCRAM_XEP))
    const xep = account()
    new PortableExport(nowhere, 'xep0227').shape('account', xep)
    expect(scramEncoding(xep.getChildElements()[0])).toBe('once')
    const ej = account()
    new PortableExport(nowhere, 'ejabberd').shape('account', ej)
    expect(scramEncoding(ej.getChildElements()[0])).toBe('twice')
  })

  it('streamed --as: the new host and name, the vcard-temp written after the vcard pages', async () => {
    let text = ''
    const doc = new ExportDocument('xml', 'juliet@old.example', (t) => void (text += t), 'jules@new.example')
    const sink = new PortableExport(doc)
    await sink.page(xml('user', {xmlns: 'urn:xmpp:pie:0', name: 'juliet'}), 'account')
    await sink.endSection('account')
    await sink.page(vcardPage(), 'vcard')
    await sink.endSection('vcard')
    await doc.finish({complete: true, missing: [], counts: sink.counts({vcard: 1})})
    const host = parseXml(text).getChild('host')!
    expect(host.attrs.jid).toBe('new.example')
    const user = host.getChild('user')!
    expect(user.attrs.name).toBe('jules')
    expect(user.getChildElements().map((c) => `${c.name} ${c.attrs.xmlns}`)).toEqual(['vCard vcard-temp'])
    expect(user.getChild('vCard')!.getChildText('FN')).toBe('Juliet')
  })

  it('streamed --as, JSON: the old JID, the account it is for, the vcard-temp in the elements', async () => {
    let text = ''
    const doc = new ExportDocument('json', 'juliet@old.example', (t) => void (text += t), 'jules@new.example')
    const sink = new PortableExport(doc)
    await sink.page(vcardPage(), 'vcard')
    await sink.endSection('vcard')
    await doc.finish({complete: true, missing: [], counts: sink.counts({vcard: 1})})
    const json = JSON.parse(text)
    expect(json).toMatchObject({jid: 'juliet@old.example', as: 'jules@new.example', counts: {vcard: 1}})
    expect(json.elements).toHaveLength(1)
    expect(parseXml(json.elements[0]).getChildText('FN')).toBe('Juliet')
  })
})

describe('import-user: the parts it sends', () => {
  /** A server that answers each part: everything imported. */
  function recorder() {
    const parts: ImportPart[] = []
    const send = async (part: ImportPart): Promise<PartResult> => {
      parts.push({...part, user: parseXml(part.user.toString())})
      const sections: PartResult['sections'] = {}
      for (const c of part.user.getChildElements()) {
        const s = sectionOf([], c, c.attrs.xmlns ?? 'urn:xmpp:pie:0')
        const count = c.name === 'scram-credentials' || !c.children.length ? 1 : c.getChildElements().length
        sections[s] = {imported: (sections[s]?.imported ?? 0) + count, skipped: 0, reasons: []}
      }
      return {account: part.accountjid, created: !part.merge, sections}
    }
    return {parts, send}
  }
  const opts = {merge: false, dryRun: false, domain: 'new.example'}

  it("the first part carries the credentials (base64 once, from ejabberd's double form too)", async () => {
    const twice = reencodeScram(parseXml(SCRAM_XEP), 'twice').toString()
    const path = file(JULIET.replace(SCRAM_XEP, twice))
    const {parts, send} = recorder()
    const [u] = await importFile(send, {path}, opts)
    expect(parts).toHaveLength(1)
    const set = parts[0].user.getChild('scram-credentials', 'urn:xmpp:pie:0#scram')!
    expect(scramEncoding(set)).toBe('once')
    expect(set.getChildText('stored-key')).toBe('Q6qT/SbybblGCZz8e8eSfCJOQic=')
    expect(parts[0]).toMatchObject({
      accountjid: 'juliet@new.example',
      merge: false,
      source: 'juliet@capulet.com',
    })
    expect(u).toMatchObject({
      from: 'juliet@capulet.com',
      account: 'juliet@new.example',
      created: true,
      scramDecoded: true,
    })
  })

  it('a big user goes in parts under 64 KiB, each item once; parts after the first merge', async () => {
    const msgs = Array.from(
      {length: 400},
      (_, i) =>
        `<message xmlns='jabber:client' from='romeo@montague.net' id='m${i}'>` +
        `<body>${i} ${'x'.repeat(500)}</body></message>`,
    ).join('')
    const path = file(
      `<server-data xmlns='urn:xmpp:pie:0'><host jid='capulet.com'><user name='juliet'>${SCRAM_XEP}` +
        `<offline-messages>${msgs}</offline-messages></user></host></server-data>`,
    )
    const {parts, send} = recorder()
    await importFile(send, {path}, opts)
    expect(parts.length).toBeGreaterThan(2)
    for (const p of parts) expect(Buffer.byteLength(p.user.toString())).toBeLessThan(64 * 1024)
    expect(parts.map((p) => p.merge)).toEqual([false, ...parts.slice(1).map(() => true)])
    expect(parts.filter((p) => p.user.getChild('scram-credentials', 'urn:xmpp:pie:0#scram'))).toHaveLength(1)
    const ids = parts.flatMap((p) =>
      (p.user.getChild('offline-messages')?.getChildren('message') ?? []).map((m) => m.attrs.id),
    )
    expect(ids).toEqual(Array.from({length: 400}, (_, i) => `m${i}`))
  })

  it('never sends a clear password, says so; an item too big for a stanza is skipped and said', async () => {
    const path = file(
      `<server-data xmlns='urn:xmpp:pie:0'><host jid='h.example'><user name='romeo' password='rosaline'>` +
        `<vCard xmlns='vcard-temp'><PHOTO><BINVAL>${'A'.repeat(300 * 1024)}</BINVAL></PHOTO></vCard>` +
        `</user></host></server-data>`,
    )
    const {parts, send} = recorder()
    const [u] = await importFile(send, {path}, opts)
    expect(parts).toHaveLength(1)
    expect(parts[0].user.toString()).not.toContain('rosaline')
    expect(parts[0].user.attrs.password).toBeUndefined()
    expect(u.complete).toBe(false)
    expect(u.sections.account).toMatchObject({
      skipped: 1,
      reasons: [expect.stringMatching(/clear-text password/)],
    })
    expect(u.sections.vcard).toMatchObject({skipped: 1, reasons: [expect.stringMatching(/of 301 KiB/)]})
  })

  it('a vCard4-only user gets a vcard-temp in the first part; --as: a one-user file only', async () => {
    const v4 = `<pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='urn:xmpp:vcard4'><item id='current'>
      <vcard xmlns='urn:ietf:params:xml:ns:vcard-4.0'><fn><text>Romeo M.</text></fn></vcard>
      </item></items></pubsub>`
    const path = file(
      `<server-data xmlns='urn:xmpp:pie:0'><host jid='h.example'><user name='romeo'>${v4}</user>` +
        `</host></server-data>`,
    )
    const {parts, send} = recorder()
    await importFile(send, {path}, {...opts, as: 'rm@new.example'})
    expect(parts[0].accountjid).toBe('rm@new.example')
    expect(parts[0].user.getChild('vCard', 'vcard-temp')!.getChildText('FN')).toBe('Romeo M.')
    const two = file(
      `<server-data xmlns='urn:xmpp:pie:0'><host jid='h.example'><user name='a'/><user name='b'/>` +
        `</host></server-data>`,
    )
    await expect(importFile(send, {path: two}, {...opts, as: 'x@new.example'})).rejects.toMatchObject({
      exitCode: 65,
      message: expect.stringMatching(/holds 2 users/),
    })
    const {parts: both, send: send2} = recorder()
    const users = await importFile(send2, {path: two}, opts)
    expect(users.map((u) => u.account)).toEqual(['a@new.example', 'b@new.example'])
    expect(both.map((p) => p.accountjid)).toEqual(['a@new.example', 'b@new.example'])
  })
})
