// What the protocol code and the operations need of a session: send an IQ, get its answer. The
// logged-in Session implements it, so does the Connector that owns it (and replaces it after a
// loss), and so does the replay of recorded server answers in the unit tests.
import type {Element} from '@xmpp/xml'

export interface IqSession {
  /**
   * Sends an IQ and resolves with the result stanza; an IQ error rejects with a StanzaError, a
   * failure on the wire with an XmppError (src/xmpp/errors.ts).
   */
  iq(
    type: 'get' | 'set',
    to: string | undefined,
    payload: Element,
    what: string,
    timeoutMs?: number,
  ): Promise<Element>
  /** How long an answer may take, in ms (an optional question may wait less). */
  readonly timeoutMs: number
}
