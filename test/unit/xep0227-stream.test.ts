// The streaming XEP-0227 writer: pages joined into the document the contract describes, the same
// whether the items come in one page or split anywhere; JSON elements as strings.
import {parseXml as parse} from '../fixtures/captures.js'
import {describe, expect, it} from 'vitest'
import {Xep0227Stream} from '../../src/output/xep0227-stream.js'

const user = (inner: string) => parse(`<user xmlns="urn:xmpp:pie:0" name="alice">${inner}</user>`)

// A section's items as the server wraps them, one entry per string.
const ROSTER = ['a', 'b', 'c'].map(
  (j) => `<query xmlns="jabber:iq:roster" ver="7"><item jid="${j}@x"/></query>`,
)
const PRESENCE = `<presence xmlns="jabber:client" type="subscribe" from="d@x"/>`
const MAM = [1, 2, 3, 4].map(
  (i) => `<archive xmlns="urn:xmpp:pie:0#mam"><result xmlns="urn:xmpp:mam:2" id="m${i}"/></archive>`,
)
const PEP = [
  `<pubsub xmlns="http://jabber.org/protocol/pubsub#owner"><configure node="n1"/></pubsub>`,
  `<pubsub xmlns="http://jabber.org/protocol/pubsub"><items node="n1"><item id="1"/></items></pubsub>`,
  `<pubsub xmlns="http://jabber.org/protocol/pubsub"><items node="n1"><item id="2"/></items></pubsub>`,
  `<pubsub xmlns="http://jabber.org/protocol/pubsub"><items node="n2"><item id="3"/></items></pubsub>`,
]
const SECTIONS = [
  [`<account xmlns="urn:xmppadm:admin:1" disabled="false"/>`],
  [...ROSTER, PRESENCE],
  MAM,
  PEP,
]

/** Writes the sections, each cut into pages of `size` entries. */
function write(format: 'xml' | 'json', size: number): string {
  const s = new Xep0227Stream(format)
  let out = s.header('x', parse('<user xmlns="urn:xmpp:pie:0" name="alice"/>'))
  for (const entries of SECTIONS) {
    for (let i = 0; i < entries.length; i += size) out += s.page(user(entries.slice(i, i + size).join('')))
    out += s.endSection()
  }
  return out + s.footer()
}

describe('Xep0227Stream', () => {
  it('joins the containers a section was cut into, wherever the cut', () => {
    const whole = write('xml', 100)
    const result = (i: number) => `<result xmlns="urn:xmpp:mam:2" id="m${i}"/>`
    expect(whole).toBe(
      `<?xml version='1.0' encoding='UTF-8'?>\n` +
        `<server-data xmlns="urn:xmpp:pie:0"><host jid="x"><user xmlns="urn:xmpp:pie:0" name="alice">` +
        `<account xmlns="urn:xmppadm:admin:1" disabled="false"/>` +
        `<query xmlns="jabber:iq:roster" ver="7">` +
        `<item jid="a@x"/><item jid="b@x"/><item jid="c@x"/></query>${PRESENCE}` +
        `<archive xmlns="urn:xmpp:pie:0#mam">${[1, 2, 3, 4].map(result).join('')}</archive>` +
        `<pubsub xmlns="http://jabber.org/protocol/pubsub#owner"><configure node="n1"/></pubsub>` +
        `<pubsub xmlns="http://jabber.org/protocol/pubsub">` +
        `<items node="n1"><item id="1"/><item id="2"/></items><items node="n2"><item id="3"/></items>` +
        `</pubsub></user></host></server-data>\n`,
    )
    for (const size of [1, 2, 3]) expect(write('xml', size)).toBe(whole)
  })

  it('JSON: one string per top-level element, the same as the XML', () => {
    for (const size of [1, 2, 100]) {
      const elements = JSON.parse(`[${write('json', size)}]`) as string[]
      expect(elements).toHaveLength(6)
      expect(elements[2]).toBe(PRESENCE)
      expect(elements.join('')).toBe(/<user[^>]*>([\s\S]*)<\/user>/.exec(write('xml', 100))![1])
    }
  })

  it('escapes attribute values of the containers it writes', () => {
    const s = new Xep0227Stream('xml')
    expect(
      s.page(user(`<query xmlns="jabber:iq:roster" ver="a&amp;&quot;b"><item jid="a@x"/></query>`)),
    ).toBe(`<query xmlns="jabber:iq:roster" ver="a&amp;&quot;b"><item jid="a@x"/>`)
    expect(s.footer()).toBe('</query></user></host></server-data>\n')
  })
})
