// A logged-in admin session: TLS, SASL (SCRAM with channel binding), resource binding, and an IQ
// caller. No stream management and no presence: a session lives for one command.
import {randomBytes} from 'node:crypto'
import {Element, xml} from '@xmpp/xml'
import {registerSecret} from '../secrets.js'
import {channelBinding} from './channel-binding.js'
import {Connection, type Endpoint, NS_TLS, type TlsSettings} from './connection.js'
import {resolveEndpoints} from './endpoints.js'
import type {IqSession} from './iq-session.js'
import {XmppError, isUnreached} from './errors.js'
import {type Jid, bareJid, parseJid} from './jid.js'
import {chooseMechanism} from './sasl/mechanisms.js'
import {ScramClient} from './sasl/scram.js'
import {StanzaError, parseStanzaError} from './stanza-error.js'
import type {TraceSink} from './trace.js'

const NS_SASL = 'urn:ietf:params:xml:ns:xmpp-sasl'
const NS_BIND = 'urn:ietf:params:xml:ns:xmpp-bind'
const NS_SESSION = 'urn:ietf:params:xml:ns:xmpp-session'
const NS_SASL_CB = 'urn:xmpp:sasl-cb:0'

export interface SessionOptions {
  jid: string
  password: string
  /** Explicit endpoint; otherwise DNS SRV of the JID's domain. */
  endpoint?: Endpoint
  ca?: string
  insecure?: boolean
  allowPlain?: boolean
  timeoutMs: number
  localAddress?: string
  trace?: TraceSink
  maxStanzaBytes?: number
}

export interface LoginInfo {
  endpoint: Endpoint
  tlsVersion?: string
  mechanism: string
  channelBinding?: string
  boundJid: string
}

export class Session implements IqSession {
  readonly jid: Jid
  readonly info: LoginInfo
  private readonly conn: Connection
  private readonly pending = new Map<
    string,
    {
      resolve: (el: Element) => void
      reject: (e: Error) => void
      timer: NodeJS.Timeout
      what: string
      to?: string
    }
  >()
  private readonly idPrefix = randomBytes(6).toString('base64url')
  private counter = 0
  private closed?: Error
  /** When the connection went away (ms since the epoch), for callers that must know what preceded it. */
  closedAt?: number
  readonly timeoutMs: number

  private constructor(conn: Connection, jid: Jid, info: LoginInfo, timeoutMs: number) {
    this.conn = conn
    this.jid = jid
    this.info = info
    this.timeoutMs = timeoutMs
    conn.route((el) => this.onStanza(el))
    conn.onClose((err) => {
      this.closed = err
      this.closedAt ??= Date.now()
      for (const [id, p] of this.pending) {
        clearTimeout(p.timer)
        this.pending.delete(id)
        p.reject(err)
      }
    })
  }

  get domain(): string {
    return this.jid.domain
  }

  get tlsSocket() {
    return this.conn.tlsSocket
  }

  /** The address this session connects from (what the server sees, unless a NAT is in between). */
  get localAddress(): string | undefined {
    return this.conn.localAddress
  }

  /** Connects and logs in; `opts.jid` must be a valid account JID (the caller checked it). */
  static async open(opts: SessionOptions): Promise<Session> {
    const jid = parseJid(opts.jid, 'admin JID')
    registerSecret(opts.password)
    const endpoints = opts.endpoint ? [opts.endpoint] : await resolveEndpoints(jid.domain)
    let lastError: Error | undefined
    for (const endpoint of endpoints) {
      const conn = new Connection({
        endpoint,
        tls: {ca: opts.ca, insecure: Boolean(opts.insecure), servername: jid.domain} satisfies TlsSettings,
        timeoutMs: opts.timeoutMs,
        localAddress: opts.localAddress,
        trace: opts.trace,
        maxStanzaBytes: opts.maxStanzaBytes,
      })
      try {
        await conn.connect()
      } catch (error) {
        // Only "could not reach it" moves on to the next SRV target; TLS failures do not.
        lastError = error as Error
        if (!isUnreached(error)) throw error
        continue
      }
      try {
        const info = await login(conn, endpoint, jid, opts)
        return new Session(conn, jid, info, opts.timeoutMs)
      } catch (error) {
        conn.close()
        throw error
      }
    }
    throw (
      lastError ??
      new XmppError('unresolved', 'no-endpoint', `no server found for ${jid.domain}`, {
        condition: 'no-endpoint',
      })
    )
  }

  private onStanza(el: Element): void {
    if (el.name !== 'iq') return // messages and presence are not for an admin session
    const {id, type} = el.attrs
    if (type === 'result' || type === 'error') {
      const p = id ? this.pending.get(id) : undefined
      // A reply counts only from the entity we asked (RFC 6120 §8.1.2.1): anyone else's stanza
      // with a guessed id is dropped.
      if (!p || !this.fromMatches(p.to, el.attrs.from)) return
      this.pending.delete(id)
      clearTimeout(p.timer)
      if (type === 'error') p.reject(new StanzaError(parseStanzaError(el), p.what))
      else p.resolve(el)
      return
    }
    if (type === 'get' || type === 'set') {
      const isPing = el.getChild('ping', 'urn:xmpp:ping')
      const reply = isPing
        ? xml('iq', {type: 'result', id, to: el.attrs.from})
        : xml(
            'iq',
            {type: 'error', id, to: el.attrs.from},
            xml(
              'error',
              {type: 'cancel'},
              xml('service-unavailable', {xmlns: 'urn:ietf:params:xml:ns:xmpp-stanzas'}),
            ),
          )
      try {
        this.conn.send(reply)
      } catch {
        // the stream is gone; nothing to answer
      }
    }
  }

  private fromMatches(to: string | undefined, from: string | undefined): boolean {
    const own = bareJid(this.jid)
    const norm = (j: string) => j.toLowerCase()
    if (!from) return !to || norm(to) === own || norm(to) === this.domain
    const f = norm(from)
    if (!to) return f === own || f === this.domain
    return f === norm(to)
  }

  /** Sends an IQ and resolves with the result stanza; IQ errors reject with a StanzaError. */
  iq(
    type: 'get' | 'set',
    to: string | undefined,
    payload: Element,
    what: string,
    timeoutMs = this.timeoutMs,
  ): Promise<Element> {
    if (this.closed) return Promise.reject(this.closed)
    const id = `${this.idPrefix}${(++this.counter).toString(36)}`
    const stanza = xml('iq', {type, id, to}, payload)
    return new Promise<Element>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(
          new XmppError(
            'timeout',
            'timeout',
            `${what}: no answer from ${to ?? this.domain} within ${timeoutMs / 1000} s`,
          ),
        )
      }, timeoutMs)
      this.pending.set(id, {resolve, reject, timer, what, to})
      try {
        this.conn.send(stanza)
      } catch (error) {
        clearTimeout(timer)
        this.pending.delete(id)
        reject(error)
      }
    })
  }

  get inFlight(): number {
    return this.pending.size
  }

  close(): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer)
      this.pending.delete(id)
      p.reject(new XmppError('lost', 'closed', 'session closed'))
    }
    this.conn.close()
  }
}

async function login(
  conn: Connection,
  endpoint: Endpoint,
  jid: Jid,
  opts: SessionOptions,
): Promise<LoginInfo> {
  let features = await conn.openStream(jid.domain)
  if (!endpoint.directTls) {
    if (!features.getChild('starttls', NS_TLS)) {
      throw new XmppError(
        'tls',
        'no-starttls',
        `${conn.where} does not offer STARTTLS; refusing to log in without TLS`,
      )
    }
    await conn.startTls()
    features = await conn.openStream(jid.domain)
  }
  const tlsSocket = conn.tlsSocket
  if (!tlsSocket) throw new XmppError('tls', 'no-tls', 'no TLS on this connection')
  const mechanisms = (features.getChild('mechanisms', NS_SASL)?.getChildren('mechanism') ?? []).map((m) =>
    m.getText().trim(),
  )
  const cbTypes = features
    .getChild('sasl-channel-binding', NS_SASL_CB)
    ?.getChildren('channel-binding')
    .map((c) => c.attrs.type)
  const binding = channelBinding(tlsSocket, cbTypes)
  const choice = chooseMechanism(mechanisms, {
    canBind: Boolean(binding),
    allowPlain: Boolean(opts.allowPlain),
  })
  if (!choice) {
    const plainOnly = mechanisms.includes('PLAIN')
    throw new XmppError(
      'sasl',
      'no-mechanism',
      `${conn.where} offers no acceptable login mechanism (offered: ${mechanisms.join(', ') || 'none'})`,
      {
        hint: plainOnly
          ? 'the server offers only PLAIN; pass --allow-plain to accept it over TLS'
          : undefined,
      },
    )
  }
  const username = jid.local!
  if (choice.kind === 'plain') {
    const payload = Buffer.from(`\0${username}\0${opts.password}`).toString('base64')
    conn.send(xml('auth', {xmlns: NS_SASL, mechanism: 'PLAIN'}, payload))
    const answer = await conn.read('SASL')
    if (answer.name !== 'success') throw saslFailure(answer, jid)
  } else {
    const scram = new ScramClient({
      hash: choice.hash!,
      username,
      password: opts.password,
      binding: choice.plus ? binding : undefined,
      clientSupportsBinding: Boolean(binding),
    })
    conn.send(xml('auth', {xmlns: NS_SASL, mechanism: choice.name}, scram.initial().toString('base64')))
    let answer = await conn.read('SASL')
    if (answer.name === 'challenge') {
      const response = await scram.respond(Buffer.from(answer.getText(), 'base64'))
      conn.send(xml('response', {xmlns: NS_SASL}, response.toString('base64')))
      answer = await conn.read('SASL')
    }
    if (answer.name !== 'success') throw saslFailure(answer, jid)
    scram.verify(Buffer.from(answer.getText(), 'base64'))
  }
  conn.authenticated = true
  features = await conn.openStream(jid.domain)
  if (!features.getChild('bind', NS_BIND))
    throw new XmppError('malformed', 'no-bind', `${conn.where} offers no resource binding`)
  const resource = `xmppadm-${randomBytes(4).toString('hex')}`
  const boundJid = await bindResource(conn, resource)
  const sessionFeature = features.getChild('session', NS_SESSION)
  if (sessionFeature && !sessionFeature.getChild('optional')) {
    await negotiationIq(conn, xml('session', {xmlns: NS_SESSION}), 'session')
  }
  return {
    endpoint,
    tlsVersion: tlsSocket.getProtocol() ?? undefined,
    mechanism: choice.name,
    channelBinding: choice.plus ? binding?.type : undefined,
    boundJid,
  }
}

function saslFailure(answer: Element, jid: Jid): XmppError {
  const condition = answer.getChildElements().find((c) => c.name !== 'text')?.name ?? 'not-authorized'
  const text = answer.getChildText('text')
  const who = bareJid(jid)
  const fail = (reason: string, message: string) =>
    new XmppError('sasl', reason, message, {
      condition,
      temporary: condition === 'temporary-auth-failure',
    })
  if (['not-authorized', 'credentials-expired', 'invalid-authzid'].includes(condition))
    return fail('auth-failed', `login as ${who} failed: wrong JID or password`)
  if (condition === 'account-disabled')
    return fail(
      'account-disabled',
      `login as ${who} failed: the account is disabled${text ? ` (${text})` : ''}`,
    )
  if (condition === 'temporary-auth-failure')
    return fail('auth-temporary', `login as ${who} failed temporarily${text ? `: ${text}` : ''}`)
  return fail('auth-failed', `login as ${who} failed: ${condition}${text ? `: ${text}` : ''}`)
}

async function negotiationIq(conn: Connection, payload: Element, what: string): Promise<Element> {
  const id = `n${randomBytes(3).toString('hex')}`
  conn.send(xml('iq', {type: 'set', id}, payload))
  for (;;) {
    const el = await conn.read(what)
    if (el.name !== 'iq' || el.attrs.id !== id) continue
    if (el.attrs.type === 'error') {
      const err = parseStanzaError(el)
      throw new XmppError(
        'negotiation',
        `${what}-${err.condition}`,
        `${what} refused by ${conn.where}: ${err.condition}${err.text ? `: ${err.text}` : ''}`,
        {condition: err.condition},
      )
    }
    return el
  }
}

async function bindResource(conn: Connection, resource: string): Promise<string> {
  const result = await negotiationIq(
    conn,
    xml('bind', {xmlns: NS_BIND}, xml('resource', {}, resource)),
    'resource binding',
  )
  return result.getChild('bind', NS_BIND)?.getChildText('jid') ?? ''
}

export {Element}
