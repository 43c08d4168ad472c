import type {Element} from '@xmpp/xml'
import {XmppError} from './errors.js'

const STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas'

export interface StanzaErrorInfo {
  type: string
  condition: string
  text?: string
  /** Application-specific condition element name (e.g. XEP-0050's bad-sessionid). */
  appCondition?: string
}

export function parseStanzaError(stanza: Element): StanzaErrorInfo {
  const err = stanza.getChild('error')
  if (!err) return {type: 'cancel', condition: 'undefined-condition'}
  let condition = 'undefined-condition'
  let appCondition: string | undefined
  for (const child of err.getChildElements()) {
    const ns = child.attrs.xmlns
    if (ns === STANZAS && child.name !== 'text') condition = child.name
    else if (ns !== STANZAS && child.name !== 'text') appCondition = child.name
  }
  const text = err.getChildText('text', STANZAS) ?? undefined
  return {type: err.attrs.type ?? 'cancel', condition, text: text || undefined, appCondition}
}

/** An IQ error from the server: its condition is the reason (src/errors.ts says what it means). */
export class StanzaError extends XmppError {
  readonly stanzaError: StanzaErrorInfo
  constructor(info: StanzaErrorInfo, context: string) {
    const text = info.text ? `: ${info.text}` : ''
    super('stanza', info.condition, `${context}: ${info.condition}${text}`, {
      condition: info.condition,
      temporary: info.type === 'wait',
      details: {...info},
    })
    this.stanzaError = info
  }
}
