// The --debug XML trace. SASL payloads and text-private field values are blanked structurally,
// and any registered secret is blanked textually, before a line is written.
import type {Element} from '@xmpp/xml'
import {REDACTED, redact} from '../secrets.js'

const SASL = 'urn:ietf:params:xml:ns:xmpp-sasl'
const SASL2 = 'urn:xmpp:sasl:2'
const DATA = 'jabber:x:data'

function scrub(el: Element, privateVars: Set<string>): string {
  const ns = el.attrs.xmlns
  if ((ns === SASL || ns === SASL2) && ['auth', 'response', 'challenge', 'success', 'initial-response', 'additional-data'].includes(el.name)) {
    const attrs = Object.entries(el.attrs).map(([k, v]) => ` ${k}='${v}'`).join('')
    return `<${el.name}${attrs}>${REDACTED}</${el.name}>`
  }
  const attrs = Object.entries(el.attrs)
    .map(([k, v]) => ` ${k}="${String(v).replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;')}"`)
    .join('')
  const isPrivateField = el.name === 'field' && (el.attrs.type === 'text-private' || privateVars.has(el.attrs.var ?? ''))
  const inner = el.children
    .map((c) => {
      if (typeof c === 'string') return c.replace(/&/g, '&amp;').replace(/</g, '&lt;')
      if (isPrivateField && c.name === 'value') return `<value>${REDACTED}</value>`
      if (c.name === 'x' && c.attrs.xmlns === DATA) {
        // Fields declared text-private anywhere in the form stay private in echoes of it.
        for (const f of c.getChildren('field')) if (f.attrs.type === 'text-private' && f.attrs.var) privateVars.add(f.attrs.var)
      }
      return scrub(c, privateVars)
    })
    .join('')
  return inner ? `<${el.name}${attrs}>${inner}</${el.name}>` : `<${el.name}${attrs}/>`
}

export function traceElement(el: Element): string {
  return redact(scrub(el, new Set()))
}

export type TraceSink = (direction: 'in' | 'out', text: string) => void
