// A small, configurable, hostile or broken XMPP server for the hardening tests (node:net + node:tls,
// 127.0.0.1, random port). It speaks just enough c2s to get a client through STARTTLS, SASL (SCRAM
// with or without channel binding, PLAIN), resource binding and IQs, and can misbehave at each step.
// It records everything it receives (decrypted), so a test can prove what the client never sent.
import {X509Certificate, createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual} from 'node:crypto'
import net from 'node:net'
import tls from 'node:tls'
import {type Element, Parser, xml} from '@xmpp/xml'

export const NS = {
  stream: 'http://etherx.jabber.org/streams',
  tls: 'urn:ietf:params:xml:ns:xmpp-tls',
  sasl: 'urn:ietf:params:xml:ns:xmpp-sasl',
  bind: 'urn:ietf:params:xml:ns:xmpp-bind',
  cb: 'urn:xmpp:sasl-cb:0',
  stanzas: 'urn:ietf:params:xml:ns:xmpp-stanzas',
  commands: 'http://jabber.org/protocol/commands',
  discoItems: 'http://jabber.org/protocol/disco#items',
  data: 'jabber:x:data',
} as const

type Hash = 'sha1' | 'sha256' | 'sha512'
const HASH_LEN: Record<Hash, number> = {sha1: 20, sha256: 32, sha512: 64}

export interface HostileOptions {
  /** PEM certificate chain and key the server presents. */
  cert: string
  key: string
  minVersion?: tls.SecureVersion
  maxVersion?: tls.SecureVersion
  /** e.g. 'DEFAULT:@SECLEVEL=0' to allow TLS 1.0/1.1 on OpenSSL 3. */
  ciphers?: string
  /**
   * offer: normal STARTTLS. absent: plaintext features with SASL mechanisms (a downgrade).
   * failure: answers <starttls/> with <failure/>. garbage: <proceed/>, then non-TLS bytes.
   * drop: <proceed/>, then closes the TCP connection.
   */
  starttls?: 'offer' | 'absent' | 'failure' | 'garbage' | 'drop'
  /** SASL mechanisms advertised after TLS. Default SCRAM-SHA-1-PLUS, SCRAM-SHA-1. */
  mechanisms?: string[]
  /** XEP-0440 channel-binding types to advertise (undefined: no <sasl-channel-binding/>). */
  channelBindingTypes?: string[]
  /**
   * The server can do channel binding even if it does not advertise -PLUS (default true): a client
   * gs2 flag 'y' then means a stripped mechanism list, and the login fails (RFC 5802 §6).
   */
  supportsBinding?: boolean
  /** Plaintext sent right behind <proceed/>, before the TLS handshake (STARTTLS injection). */
  injectAfterProceed?: string
  /** Send a SCRAM server-final whose signature does not verify. */
  badServerSignature?: boolean
  username?: string
  password?: string
  iterations?: number
  /** The SCRAM salt of every login (default: a new one each time, as a server keeping passwords as is). */
  salt?: Buffer
  /** After bind: each IQ the client sends. Default: disco#items: no commands; others: service-unavailable */
  onIq?: (iq: Element, c: HostileConnection) => void
}

export interface SaslRecord {
  mechanism: string
  /** gs2 header of a SCRAM client-first message: 'p=tls-exporter,,', 'y,,', 'n,,'. */
  gs2Header?: string
  /** base64 payloads exactly as received (auth, response). */
  payloads: string[]
  /** The channel-binding data matched what this server computed for the connection. */
  bindingVerified?: boolean
  outcome?: 'success' | 'failure'
}

export class HostileConnection {
  /** Everything received on this connection: plaintext before TLS, decrypted after. */
  received = ''
  tlsVersion?: string
  tlsError?: string
  sasl?: SaslRecord
  authed = false
  private parser!: Parser
  private streamOpen = false
  private socket: net.Socket | tls.TLSSocket
  private phase: 'plain' | 'tls' | 'authed' = 'plain'
  private scram?: {
    hash: Hash
    clientFirstBare: string
    serverFirst: string
    gs2: string
    salted: Buffer
    binding?: string
  }

  /** When the client's TCP connection closed (ms since the epoch). */
  closedAt?: number
  readonly closed: Promise<number>

  constructor(
    private readonly server: HostileServer,
    raw: net.Socket,
  ) {
    this.socket = raw
    this.closed = new Promise((resolve) => raw.once('close', () => resolve((this.closedAt = Date.now()))))
    this.listen(raw)
    this.newParser()
  }

  get opts(): HostileOptions {
    return this.server.opts
  }

  private listen(sock: net.Socket | tls.TLSSocket): void {
    sock.on('data', (d: Buffer) => {
      let text = d.toString('utf8')
      this.received += text
      this.server.received += text
      // Whitespace keepalives may arrive between a stream restart and the new header: skip them.
      if (!this.streamOpen) text = text.replace(/^\s+/, '')
      if (!text) return
      try {
        this.parser.write(text)
      } catch {
        this.destroy()
      }
    })
    sock.on('error', () => {})
  }

  private newParser(): void {
    const p = new Parser()
    this.streamOpen = false
    p.on('start', () => {
      this.streamOpen = true
      this.onStreamStart()
    })
    p.on('element', (el) => {
      try {
        this.onElement(el)
      } catch {
        this.destroy()
      }
    })
    p.on('end', () => this.end())
    p.on('error', () => this.destroy())
    this.parser = p
  }

  /** Raw text to the client. */
  send(text: string): void {
    if (!this.socket.destroyed && this.socket.writable) this.socket.write(text)
  }

  /** Writes a large payload in chunks, respecting backpressure; stops when the client goes away. */
  async sendLarge(prefix: string, filler: string, totalBytes: number): Promise<number> {
    let sent = 0
    const chunk = filler.repeat(Math.ceil(65536 / filler.length))
    this.send(prefix)
    sent += prefix.length
    while (sent < totalBytes && !this.socket.destroyed && this.socket.writable) {
      const ok = this.socket.write(chunk)
      sent += chunk.length
      if (!ok) {
        await new Promise<void>((resolve) => {
          const done = () => {
            this.socket.off('drain', done)
            this.socket.off('close', done)
            resolve()
          }
          this.socket.on('drain', done)
          this.socket.on('close', done)
        })
      }
    }
    return sent
  }

  /** Closes the XML stream and the connection politely. */
  end(): void {
    this.send('</stream:stream>')
    this.socket.end()
  }

  destroy(): void {
    this.socket.destroy()
  }

  private header(): string {
    return (
      `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='${NS.stream}' ` +
      `id='${randomBytes(6).toString('hex')}' from='localhost' version='1.0' xml:lang='en'>`
    )
  }

  private onStreamStart(): void {
    const o = this.opts
    let features: Element
    if (this.phase === 'plain') {
      features = xml('stream:features')
      if (o.starttls === 'absent') features.append(this.mechanismsEl(['SCRAM-SHA-1', 'PLAIN']))
      else features.append(xml('starttls', {xmlns: NS.tls}, xml('required')))
    } else if (this.phase === 'tls') {
      features = xml(
        'stream:features',
        {},
        this.mechanismsEl(o.mechanisms ?? ['SCRAM-SHA-1-PLUS', 'SCRAM-SHA-1']),
      )
      if (o.channelBindingTypes)
        features.append(
          xml(
            'sasl-channel-binding',
            {xmlns: NS.cb},
            ...o.channelBindingTypes.map((type) => xml('channel-binding', {type})),
          ),
        )
    } else {
      features = xml('stream:features', {}, xml('bind', {xmlns: NS.bind}))
    }
    this.send(this.header() + features.toString())
  }

  private mechanismsEl(list: string[]): Element {
    return xml('mechanisms', {xmlns: NS.sasl}, ...list.map((m) => xml('mechanism', {}, m)))
  }

  private onElement(el: Element): void {
    if (el.name === 'starttls') return this.onStartTls()
    if (el.name === 'auth') return this.onAuth(el)
    if (el.name === 'response') return this.onResponse(el)
    if (el.name === 'iq' && this.phase === 'authed') return this.onIq(el)
    // Before login (an in-band registration request): nothing is offered.
    if (el.name === 'iq') return this.error(el, 'service-unavailable')
  }

  private onStartTls(): void {
    const mode = this.opts.starttls ?? 'offer'
    if (mode === 'absent') return this.end() // nothing offered: a client asking anyway gets nothing
    if (mode === 'failure') {
      this.send(`<failure xmlns='${NS.tls}'/></stream:stream>`)
      this.socket.end()
      return
    }
    // injectAfterProceed: plaintext a man in the middle slips in behind <proceed/>, in the same packet.
    this.send(`<proceed xmlns='${NS.tls}'/>${this.opts.injectAfterProceed ?? ''}`)
    if (mode === 'garbage') {
      // Answer the ClientHello with something that is not TLS.
      this.socket.removeAllListeners('data')
      this.socket.once('data', () =>
        this.socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\nthis is not TLS at all\r\n'),
      )
      return
    }
    if (mode === 'drop') {
      setTimeout(() => this.socket.destroy(), 20)
      return
    }
    const raw = this.socket as net.Socket
    raw.removeAllListeners('data')
    const o = this.opts
    const secure = new tls.TLSSocket(raw, {
      isServer: true,
      secureContext: tls.createSecureContext({
        cert: o.cert,
        key: o.key,
        minVersion: o.minVersion ?? 'TLSv1.2',
        maxVersion: o.maxVersion,
        ciphers: o.ciphers,
      }),
    })
    secure.on('secure', () => {
      this.tlsVersion = secure.getProtocol() ?? undefined
    })
    secure.on('error', (e: NodeJS.ErrnoException) => {
      this.tlsError = e.code ?? e.message
    })
    this.socket = secure
    this.phase = 'tls'
    this.listen(secure)
    this.newParser()
  }

  private bindingData(type: string): Buffer | undefined {
    const s = this.socket
    if (!(s instanceof tls.TLSSocket)) return undefined
    if (type === 'tls-exporter')
      return s.exportKeyingMaterial(32, 'EXPORTER-Channel-Binding', Buffer.alloc(0))
    if (type === 'tls-server-end-point')
      return createHash('sha256').update(new X509Certificate(this.opts.cert).raw).digest()
    return undefined
  }

  private saslFailure(condition = 'not-authorized'): void {
    if (this.sasl) this.sasl.outcome = 'failure'
    this.send(`<failure xmlns='${NS.sasl}'><${condition}/></failure>`)
  }

  private saslSuccess(additional?: string): void {
    if (this.sasl) this.sasl.outcome = 'success'
    this.send(`<success xmlns='${NS.sasl}'>${additional ?? ''}</success>`)
    this.authed = true
    this.phase = 'authed'
    this.newParser()
  }

  private onAuth(el: Element): void {
    const mechanism = el.attrs.mechanism ?? ''
    const payload = el.getText().trim()
    this.sasl = {mechanism, payloads: [payload]}
    this.server.saslLog.push(this.sasl)
    const decoded = Buffer.from(payload, 'base64').toString('utf8')
    const o = this.opts
    const user = o.username ?? 'admin'
    const password = o.password ?? ''
    if (mechanism === 'PLAIN') {
      const [, authcid, pw] = decoded.split('\0')
      if (authcid === user && pw === password) this.saslSuccess()
      else this.saslFailure()
      return
    }
    const m = /^SCRAM-SHA-(1|256|512)(-PLUS)?$/.exec(mechanism)
    if (!m) return this.saslFailure('invalid-mechanism')
    const hash = (m[1] === '1' ? 'sha1' : `sha${m[1]}`) as Hash
    const gs2m = /^([pny](?:=[^,]*)?),([^,]*),/.exec(decoded)
    if (!gs2m) return this.saslFailure('malformed-request')
    const gs2 = gs2m[0]
    this.sasl.gs2Header = gs2
    const flag = gs2m[1]
    if (flag === 'y' && (o.supportsBinding ?? true)) {
      // RFC 5802 §6: the client could bind, we can bind, yet it thought we could not: downgrade.
      return this.saslFailure('not-authorized')
    }
    const clientFirstBare = decoded.slice(gs2.length)
    const cnonce = /(?:^|,)r=([^,]*)/.exec(clientFirstBare)?.[1]
    if (!cnonce) return this.saslFailure('malformed-request')
    const salt = o.salt ?? randomBytes(16)
    const iterations = o.iterations ?? 4096
    const nonce = `${cnonce}${randomBytes(12).toString('base64url')}`
    const serverFirst = `r=${nonce},s=${salt.toString('base64')},i=${iterations}`
    const salted = pbkdf2Sync(password, salt, iterations, HASH_LEN[hash], hash)
    this.scram = {
      hash,
      clientFirstBare,
      serverFirst,
      gs2,
      salted,
      binding: flag.startsWith('p=') ? flag.slice(2) : undefined,
    }
    this.send(`<challenge xmlns='${NS.sasl}'>${Buffer.from(serverFirst).toString('base64')}</challenge>`)
  }

  private onResponse(el: Element): void {
    const s = this.scram
    if (!s || !this.sasl) return this.saslFailure('malformed-request')
    const payload = el.getText().trim()
    this.sasl.payloads.push(payload)
    const clientFinal = Buffer.from(payload, 'base64').toString('utf8')
    const pIdx = clientFinal.lastIndexOf(',p=')
    if (pIdx < 0) return this.saslFailure('malformed-request')
    const withoutProof = clientFinal.slice(0, pIdx)
    const proof = Buffer.from(clientFinal.slice(pIdx + 3), 'base64')
    const c = Buffer.from(/(?:^|,)c=([^,]*)/.exec(withoutProof)?.[1] ?? '', 'base64')
    const expectedC = Buffer.concat([
      Buffer.from(s.gs2),
      s.binding ? (this.bindingData(s.binding) ?? Buffer.alloc(0)) : Buffer.alloc(0),
    ])
    if (s.binding) this.sasl.bindingVerified = c.equals(expectedC)
    if (!c.equals(expectedC)) return this.saslFailure('not-authorized')
    const authMessage = `${s.clientFirstBare},${s.serverFirst},${withoutProof}`
    const clientKeyRef = createHmac(s.hash, s.salted).update('Client Key').digest()
    const storedKey = createHash(s.hash).update(clientKeyRef).digest()
    const clientSignature = createHmac(s.hash, storedKey).update(authMessage).digest()
    if (proof.length !== clientSignature.length) return this.saslFailure('not-authorized')
    const clientKey = Buffer.from(proof.map((b, i) => b ^ clientSignature[i]))
    if (!timingSafeEqual(createHash(s.hash).update(clientKey).digest(), storedKey))
      return this.saslFailure('not-authorized')
    const serverKey = createHmac(s.hash, s.salted).update('Server Key').digest()
    let signature = createHmac(s.hash, serverKey).update(authMessage).digest()
    if (this.opts.badServerSignature)
      signature = createHmac(s.hash, randomBytes(32)).update(authMessage).digest()
    this.saslSuccess(Buffer.from(`v=${signature.toString('base64')}`).toString('base64'))
  }

  /** An IQ result addressed back to the client. */
  result(iq: Element, ...children: Element[]): void {
    this.send(
      xml(
        'iq',
        {type: 'result', id: iq.attrs.id, from: iq.attrs.to ?? 'localhost', to: 'admin@localhost/hostile'},
        ...children,
      ).toString(),
    )
  }

  error(iq: Element, condition: string, type = 'cancel'): void {
    this.send(
      xml(
        'iq',
        {type: 'error', id: iq.attrs.id, from: iq.attrs.to ?? 'localhost'},
        xml('error', {type}, xml(condition, {xmlns: NS.stanzas})),
      ).toString(),
    )
  }

  private onIq(iq: Element): void {
    const bind = iq.getChild('bind', NS.bind)
    if (bind) {
      const resource = bind.getChildText('resource') ?? 'r'
      this.result(
        iq,
        xml(
          'bind',
          {xmlns: NS.bind},
          xml('jid', {}, `${this.opts.username ?? 'admin'}@localhost/${resource}`),
        ),
      )
      this.server.emitBound(this)
      return
    }
    if (iq.getChild('session')) return this.result(iq)
    if (this.opts.onIq) return this.opts.onIq(iq, this)
    if (iq.getChild('query', NS.discoItems))
      return this.result(iq, xml('query', {xmlns: NS.discoItems, node: NS.commands}))
    this.error(iq, 'service-unavailable')
  }
}

export class HostileServer {
  readonly opts: HostileOptions
  readonly connections: HostileConnection[] = []
  readonly saslLog: SaslRecord[] = []
  /** Everything any connection received (decrypted where TLS was up). */
  received = ''
  port = 0
  private readonly server: net.Server
  private readonly boundListeners: Array<(c: HostileConnection) => void> = []

  constructor(opts: HostileOptions) {
    this.opts = opts
    this.server = net.createServer((sock) => {
      sock.setNoDelay(true)
      this.connections.push(new HostileConnection(this, sock))
    })
  }

  static async start(opts: HostileOptions): Promise<HostileServer> {
    const s = new HostileServer(opts)
    await new Promise<void>((resolve) => s.server.listen(0, '127.0.0.1', resolve))
    s.port = (s.server.address() as net.AddressInfo).port
    return s
  }

  /** Forget what earlier clients sent (one server, several test cases). */
  reset(): void {
    this.received = ''
    this.saslLog.length = 0
    for (const c of this.connections.splice(0)) c.destroy()
  }

  emitBound(c: HostileConnection): void {
    for (const l of this.boundListeners) l(c)
  }

  onBound(fn: (c: HostileConnection) => void): void {
    this.boundListeners.push(fn)
  }

  async close(): Promise<void> {
    for (const c of this.connections) c.destroy()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }
}

/** A command response IQ payload: <command status=… sessionid=…> with an optional form. */
export function commandEl(
  node: string,
  status: 'executing' | 'completed' | 'canceled',
  sessionid: string,
  ...children: Element[]
): Element {
  return xml('command', {xmlns: NS.commands, node, status, sessionid}, ...children)
}
