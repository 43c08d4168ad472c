// The --debug XML trace. SASL payloads and private field values are blanked structurally, and
// every registered secret is blanked in the raw text and attribute values before they are
// escaped (so no escaping variant can slip past), then once more in the finished line.
import type {Element} from '@xmpp/xml'
import {REDACTED, SECRET_VAR, redact} from '../secrets.js'

const SASL = 'urn:ietf:params:xml:ns:xmpp-sasl'
const SASL2 = 'urn:xmpp:sasl:2'
const DATA = 'jabber:x:data'
/** XEP-0227 credentials: SCRAM salt and keys (as good as a password hash) and clear passwords. */
const PIE = 'urn:xmpp:pie:0'
const SCRAM_SECRETS = new Set(['salt', 'server-key', 'stored-key'])
/** Deeper than this is shown as "…": the trace must not recurse without bound. */
const MAX_DEPTH = 64

const escText = (s: string) => redact(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
const escAttr = (s: string) => escText(s).replace(/"/g, '&quot;')

function isPrivateField(el: Element, privateVars: Set<string>): boolean {
  if (el.name !== 'field') return false
  const v = el.attrs.var ?? ''
  return el.attrs.type === 'text-private' || privateVars.has(v) || SECRET_VAR.test(v)
}

function scrub(el: Element, privateVars: Set<string>, depth: number): string {
  if (depth > MAX_DEPTH) return '…'
  const ns = el.attrs.xmlns
  const userPassword = el.name === 'user' && ns === PIE
  const attrs = Object.entries(el.attrs)
    .map(([k, v]) => ` ${k}="${userPassword && k === 'password' ? REDACTED : escAttr(String(v))}"`)
    .join('')
  if (el.name === 'scram-credentials' && ns === `${PIE}#scram`) {
    const parts = el
      .getChildElements()
      .map((c) => `<${c.name}>${SCRAM_SECRETS.has(c.name) ? REDACTED : escText(c.getText())}</${c.name}>`)
    return `<${el.name}${attrs}>${parts.join('')}</${el.name}>`
  }
  if (
    (ns === SASL || ns === SASL2) &&
    ['auth', 'response', 'challenge', 'success', 'initial-response', 'additional-data'].includes(el.name)
  ) {
    return `<${el.name}${attrs}>${REDACTED}</${el.name}>`
  }
  const priv = isPrivateField(el, privateVars)
  const inner = el.children
    .map((c) => {
      if (typeof c === 'string') return escText(c)
      if (priv && c.name === 'value') return `<value>${REDACTED}</value>`
      if (c.name === 'x' && c.attrs.xmlns === DATA) {
        // Fields declared text-private anywhere in a form stay private in echoes of it.
        for (const f of c.getChildren('field'))
          if (f.attrs.type === 'text-private' && f.attrs.var) privateVars.add(f.attrs.var)
      }
      return scrub(c, privateVars, depth + 1)
    })
    .join('')
  return inner ? `<${el.name}${attrs}>${inner}</${el.name}>` : `<${el.name}${attrs}/>`
}

export function traceElement(el: Element): string {
  return redact(scrub(el, new Set(), 0))
}

export type TraceSink = (direction: 'in' | 'out', text: string) => void
