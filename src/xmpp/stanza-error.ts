import type {Element} from '@xmpp/xml'
import {type ExitCodeName, XmppadmError} from '../errors.js'

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

const EXIT_BY_CONDITION: Record<string, ExitCodeName> = {
  'bad-request': 'data',
  'not-acceptable': 'data',
  'jid-malformed': 'data',
  conflict: 'data',
  'item-not-found': 'noUser',
  'service-unavailable': 'unavailable',
  'feature-not-implemented': 'unavailable',
  forbidden: 'forbidden',
  'not-allowed': 'forbidden',
  'not-authorized': 'forbidden',
  'registration-required': 'forbidden',
  'subscription-required': 'forbidden',
  'policy-violation': 'forbidden',
  'remote-server-timeout': 'tempFail',
  'remote-server-not-found': 'unavailable',
  'resource-constraint': 'tempFail',
  'internal-server-error': 'tempFail',
  'unexpected-request': 'protocol',
  'undefined-condition': 'protocol',
}

/** An IQ error from the server, as an XmppadmError with the documented exit code. */
export class StanzaError extends XmppadmError {
  readonly stanzaError: StanzaErrorInfo
  constructor(info: StanzaErrorInfo, context: string) {
    const exit: ExitCodeName =
      info.type === 'wait' ? 'tempFail' : (EXIT_BY_CONDITION[info.condition] ?? 'protocol')
    const text = info.text ? `: ${info.text}` : ''
    super(exit, info.condition, `${context}: ${info.condition}${text}`, {details: {...info}})
    this.stanzaError = info
  }
}
