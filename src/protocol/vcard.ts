// vCard4 (RFC 6351 in XML, XEP-0292, what Prosody keeps as the urn:xmpp:vcard4 PEP node) as a
// legacy vcard-temp (XEP-0054, what ejabberd and most importers read), so that a vCard is found
// whichever one a reader knows. The fields both have; a vCard4 field vcard-temp has no place for
// stays in the vCard4.
import {Element} from '@xmpp/xml'

export const NS_VCARD_TEMP = 'vcard-temp'
export const NS_VCARD4 = 'urn:ietf:params:xml:ns:vcard-4.0'
export const VCARD4_NODE = 'urn:xmpp:vcard4'

/** vCard4 property → vcard-temp element, where the value is one child of a known type. */
const SIMPLE: Record<string, [string, string]> = {
  nickname: ['NICKNAME', 'text'],
  bday: ['BDAY', 'date'],
  title: ['TITLE', 'text'],
  role: ['ROLE', 'text'],
  note: ['DESC', 'text'],
  url: ['URL', 'uri'],
}

const text = (el: Element | undefined, child: string) => el?.getChildText(child) ?? undefined

/** HOME or WORK from a property's <parameters><type><text>, if it says so. */
function place(prop: Element): string | undefined {
  const type = prop.getChild('parameters')?.getChild('type')?.getChildText('text')
  return type === 'home' ? 'HOME' : type === 'work' ? 'WORK' : undefined
}

function tag(parent: Element, name: string, value: string | undefined): void {
  if (value) parent.c(name).t(value)
}

/** The vcard-temp equivalent of a <vcard xmlns="urn:ietf:params:xml:ns:vcard-4.0"/>. */
export function vcard4ToTemp(vcard: Element): Element {
  const out = new Element('vCard', {xmlns: NS_VCARD_TEMP})
  tag(out, 'FN', text(vcard.getChild('fn'), 'text'))
  const n = vcard.getChild('n')
  if (n) {
    const parts = new Element('N')
    for (const [from, to] of [
      ['surname', 'FAMILY'],
      ['given', 'GIVEN'],
      ['additional', 'MIDDLE'],
      ['prefix', 'PREFIX'],
      ['suffix', 'SUFFIX'],
    ])
      tag(parts, to, n.getChildText(from) ?? undefined)
    if (parts.children.length) out.append(parts)
  }
  for (const prop of vcard.getChildElements()) {
    const simple = SIMPLE[prop.name]
    if (simple) {
      tag(out, simple[0], text(prop, simple[1]))
    } else if (prop.name === 'email' && text(prop, 'text')) {
      const email = out.c('EMAIL')
      email.c('USERID').t(text(prop, 'text')!)
      email.c('INTERNET')
      const where = place(prop)
      if (where) email.c(where)
    } else if (prop.name === 'tel' && text(prop, 'uri')) {
      const tel = out.c('TEL')
      tel.c('NUMBER').t(text(prop, 'uri')!.replace(/^tel:/, ''))
      const where = place(prop)
      if (where) tel.c(where)
    } else if (prop.name === 'adr') {
      const adr = out.c('ADR')
      for (const [from, to] of [
        ['pobox', 'POBOX'],
        ['ext', 'EXTADD'],
        ['street', 'STREET'],
        ['locality', 'LOCALITY'],
        ['region', 'REGION'],
        ['code', 'PCODE'],
        ['country', 'CTRY'],
      ])
        tag(adr, to, prop.getChildText(from) ?? undefined)
      const where = place(prop)
      if (where) adr.c(where)
    } else if (prop.name === 'impp' && text(prop, 'uri')?.startsWith('xmpp:')) {
      tag(out, 'JABBERID', text(prop, 'uri')!.slice('xmpp:'.length))
    } else if (prop.name === 'org' && text(prop, 'text')) {
      out.c('ORG').c('ORGNAME').t(text(prop, 'text')!)
    }
  }
  return out
}
