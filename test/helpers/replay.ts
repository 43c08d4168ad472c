// A session that answers from recorded server stanzas (test/fixtures/captures): the operations run
// their real code (forms, one-shot command requests, failure detection) against what a real server
// once answered, in process. Each iq() takes the next recorded answer; what was asked is kept.
import type {Element} from '@xmpp/xml'
import type {Family, OpContext} from '../../src/ops/context.js'
import type {IqSession} from '../../src/xmpp/iq-session.js'
import {StanzaError, parseStanzaError} from '../../src/xmpp/stanza-error.js'
import {serverStanzas} from '../fixtures/captures.js'

/** What an IQ asked: the command node and action, and the submitted form's values by var. */
export interface Asked {
  node?: string
  action?: string
  values: Record<string, string[]>
}

export class Replay implements IqSession {
  readonly timeoutMs = 1000
  readonly asked: Asked[] = []
  private readonly answers: Element[]

  constructor(answers: Element[]) {
    this.answers = [...answers]
  }

  async iq(_type: 'get' | 'set', _to: string | undefined, payload: Element, what: string): Promise<Element> {
    const form = payload.getChild('x', 'jabber:x:data')
    const values: Record<string, string[]> = {}
    for (const f of form?.getChildren('field') ?? [])
      values[f.attrs.var] = f.getChildren('value').map((v) => v.getText())
    this.asked.push({node: payload.attrs.node, action: payload.attrs.action, values})
    const answer = this.answers.shift()
    if (!answer) throw new Error(`no recorded answer left for ${what}`)
    if (answer.attrs.type === 'error') throw new StanzaError(parseStanzaError(answer), what)
    return answer
  }

  /** Every recorded answer was asked for. */
  get done(): boolean {
    return this.answers.length === 0
  }
}

/**
 * The server's answer number `n` (0-based; negative counts from the end) in a capture file: an IQ
 * result or error, as the server sent it.
 */
export function answer(file: string, n: number): Element {
  const all = serverStanzas(file)
  const el = all.at(n)
  if (!el) throw new Error(`${file} has no answer ${n} (it has ${all.length})`)
  return el
}

/** The first of the server's answers in a capture file that `pick` accepts. */
export function answerWhere(file: string, pick: (el: Element) => boolean): Element {
  const el = serverStanzas(file).find(pick)
  if (!el) throw new Error(`${file} has no such answer`)
  return el
}

/** What an operation needs, on a replayed session: the host, the nodes offered, the family. */
export function context(session: Replay, o: {nodes: string[]; family: Family; to?: string}): OpContext {
  const to = o.to ?? 'localhost'
  return {session, admin: `admin@${to}`, to, nodes: new Set(o.nodes), software: {family: o.family}}
}
