// One XML stream over TCP or TLS. Knows sockets, TLS, stream headers and stanza framing; knows
// nothing of SASL or IQs (session.ts composes those on top).
import net from 'node:net'
import tls from 'node:tls'
import {StringDecoder} from 'node:string_decoder'
import {Element, Parser} from '@xmpp/xml'
import {XmppError} from './errors.js'
import {type TraceSink, traceElement} from './trace.js'

export const NS_STREAM = 'http://etherx.jabber.org/streams'
export const NS_TLS = 'urn:ietf:params:xml:ns:xmpp-tls'
const NS_STREAM_ERR = 'urn:ietf:params:xml:ns:xmpp-streams'

export interface Endpoint {
  host: string
  port: number
  directTls: boolean
}

export interface TlsSettings {
  /** PEM of extra trusted CAs (--ca-file); added to the system store. */
  ca?: string
  insecure: boolean
  /** Name the certificate must match: the XMPP domain. */
  servername: string
}

export interface ConnectionOptions {
  endpoint: Endpoint
  tls: TlsSettings
  timeoutMs: number
  localAddress?: string
  trace?: TraceSink
  /** A single stanza larger than this ends the connection (hostile-server guard). */
  maxStanzaBytes?: number
  /** The stream's namespace: jabber:client (default), or jabber:server for a server-to-server probe. */
  streamNs?: 'jabber:client' | 'jabber:server'
  /** TLS options over the defaults, for probes (policy check): one TLS version, no verification. */
  tlsOverrides?: tls.ConnectionOptions
}

const DEFAULT_MAX_STANZA = 16 * 1024 * 1024
const MAX_DEPTH = 1000
const SOCKET_CODES = new Set([
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EADDRNOTAVAIL',
])

const CERT_MESSAGES: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'the certificate is self-signed and not trusted (use --ca-file with its CA)',
  SELF_SIGNED_CERT_IN_CHAIN: 'the certificate chain ends in a CA that is not trusted (use --ca-file)',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'the certificate was not issued by a trusted CA (use --ca-file)',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'the certificate was not issued by a trusted CA (use --ca-file)',
  UNABLE_TO_GET_ISSUER_CERT: 'the certificate was not issued by a trusted CA (use --ca-file)',
  CERT_HAS_EXPIRED: 'the certificate has expired',
  CERT_NOT_YET_VALID: 'the certificate is not valid yet',
  ERR_TLS_CERT_ALTNAME_INVALID: 'the certificate is for another name',
  CERT_REVOKED: 'the certificate has been revoked',
}

export function describeTlsError(
  err: NodeJS.ErrnoException,
  where: string,
  servername: string,
  directTls = false,
): XmppError {
  const code = err.code ?? ''
  const tlsError = (reason: string, message: string, hint?: string) =>
    new XmppError('tls', reason, message, {condition: reason, hint, details: {tlsCode: code}})
  if (CERT_MESSAGES[code]) {
    const extra = code === 'ERR_TLS_CERT_ALTNAME_INVALID' ? ` than ${servername}` : ''
    return tlsError('bad-certificate', `TLS to ${where} refused: ${CERT_MESSAGES[code]}${extra}`)
  }
  // A server that answers a TLS ClientHello with plain text (an XMPP stream header) is not
  // speaking TLS on that port at all: a STARTTLS port reached with xmpps://.
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' && directTls) {
    return tlsError(
      'not-tls',
      `TLS to ${where} failed: the server did not answer TLS there (a STARTTLS port?)`,
      "drop xmpps:// to use STARTTLS on this port, or use the server's direct-TLS port (often 5223)",
    )
  }
  // OpenSSL's reason, as Node names it: ERR_SSL_UNSUPPORTED_PROTOCOL, …_TLSV1_ALERT_PROTOCOL_VERSION.
  if (/PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL|VERSION_TOO_LOW|WRONG_VERSION/.test(code))
    return tlsError('tls-version', `TLS to ${where} refused: the server does not speak TLS 1.2 or newer`)
  return tlsError('tls-failed', `TLS to ${where} failed: ${err.message}`)
}

export function describeSocketError(err: NodeJS.ErrnoException, where: string): XmppError {
  const condition = err.code
  switch (err.code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      // EAI_AGAIN: the DNS server did not answer, not "no such name"
      return new XmppError('unresolved', 'host-not-found', `cannot resolve ${where}`, {
        condition,
        temporary: err.code === 'EAI_AGAIN',
      })
    case 'ECONNREFUSED':
      return new XmppError('refused', 'connection-refused', `connection refused by ${where}`, {condition})
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new XmppError('unreachable', 'unreachable', `${where} is unreachable`, {condition})
    case 'ECONNRESET':
    case 'EPIPE':
      return new XmppError('lost', 'connection-lost', `connection to ${where} was reset`, {condition})
    default:
      return new XmppError('socket', 'connection-failed', `connection to ${where} failed: ${err.message}`, {
        condition,
      })
  }
}

function streamErrorOf(el: Element, where: string, authenticated: boolean): XmppError {
  let condition = 'undefined-condition'
  let text = ''
  for (const c of el.getChildElements()) {
    if (c.name === 'text') text = c.getText()
    else if (c.attrs.xmlns === NS_STREAM_ERR) condition = c.name
  }
  const phase = authenticated ? 'after-login' : 'before-login'
  // Refused before login: the server will not talk to this address at all (a block, a ban).
  if (condition === 'policy-violation' && !authenticated)
    return new XmppError(
      'stream',
      'blocked',
      `the server at ${where} refuses connections from this address (blocked)${text ? `: ${text}` : ''}`,
      {condition, phase},
    )
  return new XmppError(
    'stream',
    `stream-${condition}`,
    `${where} closed the stream: ${condition}${text ? `: ${text}` : ''}`,
    {condition, phase},
  )
}

type Waiter = {resolve: (el: Element) => void; reject: (err: Error) => void; timer: NodeJS.Timeout}

export class Connection {
  readonly where: string
  private socket!: net.Socket | tls.TLSSocket
  private parser!: Parser
  private decoder = new StringDecoder('utf8')
  private readonly queue: Element[] = []
  private readonly waiters: Waiter[] = []
  private streamBytes = 0
  private headerSent = false
  /** Whitespace keepalive allowed: after TLS, until the first features of the new stream. */
  private nudgeArmed = false
  private held: string[] = []
  private failure?: Error
  /** Once set, every incoming stanza goes here instead of the queue. */
  private router?: (el: Element) => void
  private readonly closeListeners: Array<(err: Error) => void> = []
  /** Set once SASL succeeded: a policy-violation before it means "this address is refused". */
  authenticated = false
  /** The address this end of the connection uses (what the server sees, absent NAT). */
  localAddress?: string

  constructor(private readonly opts: ConnectionOptions) {
    this.where = `${opts.endpoint.host}:${opts.endpoint.port}`
  }

  get tlsSocket(): tls.TLSSocket | undefined {
    return this.socket instanceof tls.TLSSocket ? this.socket : undefined
  }

  private tlsOptions(): tls.ConnectionOptions {
    const {tls: t} = this.opts
    return {
      servername: net.isIP(t.servername) ? undefined : t.servername,
      // A private CA replaces the system store (as curl --cacert does): building a context with all
      // ~150 system roots costs ~20 ms per connection, and a private service needs only its own CA.
      ca: t.ca,
      rejectUnauthorized: !t.insecure,
      minVersion: 'TLSv1.2',
      checkServerIdentity: (_host, cert) => tls.checkServerIdentity(t.servername, cert),
      ...this.opts.tlsOverrides,
    }
  }

  /** Opens the socket (and TLS for direct TLS), within the connect timeout. */
  async connect(): Promise<void> {
    const {endpoint} = this.opts
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        sock.destroy()
        reject(
          new XmppError(
            'timeout',
            'timeout',
            `connecting to ${this.where} timed out after ${this.opts.timeoutMs / 1000} s`,
          ),
        )
      }, this.opts.timeoutMs)
      const sock = net.connect(
        {host: endpoint.host, port: endpoint.port, localAddress: this.opts.localAddress},
        () => {
          clearTimeout(timer)
          this.localAddress = sock.localAddress
          resolve()
        },
      )
      sock.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer)
        reject(describeSocketError(err, this.where))
      })
      this.attach(sock)
    })
    if (endpoint.directTls)
      await this.upgrade([this.opts.streamNs === 'jabber:server' ? 'xmpp-server' : 'xmpp-client'])
  }

  private attach(sock: net.Socket): void {
    this.socket = sock
    sock.setNoDelay(true) // an IQ costs ~0.5 ms instead of ~45 ms with Nagle's algorithm on
    sock.on('data', (chunk: Buffer) => this.onData(chunk))
    sock.on('error', (err: NodeJS.ErrnoException) => this.fail(describeSocketError(err, this.where)))
    sock.on('close', () =>
      this.fail(new XmppError('lost', 'connection-lost', `connection to ${this.where} closed`)),
    )
  }

  private resetParser(): void {
    const parser = new Parser()
    parser.on('element', (el) => this.onElement(el))
    parser.on('end', () =>
      this.fail(new XmppError('lost', 'connection-lost', `${this.where} closed the stream`)),
    )
    parser.on('error', (err) =>
      this.fail(new XmppError('malformed', 'bad-xml', `${this.where} sent malformed XML: ${err.message}`)),
    )
    // Nesting depth, counted on the underlying SAX events: a hostile server must not drive
    // recursive code (serialising, rendering) into a stack overflow.
    let depth = 0
    const sax = (parser as unknown as {parser: {on(e: string, f: () => void): void}}).parser
    sax.on('startElement', () => {
      if (++depth > MAX_DEPTH)
        this.fail(
          new XmppError(
            'malformed',
            'too-deep',
            `${this.where} sent XML nested more than ${MAX_DEPTH} levels deep`,
          ),
        )
    })
    sax.on('endElement', () => {
      depth--
    })
    this.parser = parser
    this.decoder = new StringDecoder('utf8')
    this.streamBytes = 0
    this.held = []
    // Elements from the old stream (e.g. injected behind <proceed/>) never reach the new one.
    this.queue.length = 0
  }

  private onData(chunk: Buffer): void {
    if (this.failure) return
    this.streamBytes += chunk.length
    const limit = this.opts.maxStanzaBytes ?? DEFAULT_MAX_STANZA
    if (this.streamBytes > limit) {
      this.fail(
        new XmppError(
          'malformed',
          'stanza-too-large',
          `${this.where} sent a stanza larger than ${limit} bytes`,
        ),
      )
      this.socket.destroy()
      return
    }
    const text = this.decoder.write(chunk)
    // The SAX parser re-joins an unfinished token with each new chunk (quadratic in its length):
    // chunks that cannot end a token are held and handed over in one piece.
    if (!/[<>'"]/.test(text)) {
      this.held.push(text)
      return
    }
    const data = this.held.length ? this.held.join('') + text : text
    this.held = []
    try {
      this.parser.write(data)
    } catch (error) {
      this.fail(
        new XmppError(
          'malformed',
          'bad-xml',
          `${this.where} sent malformed XML: ${(error as Error).message}`,
        ),
      )
      this.socket.destroy()
    }
    if (this.failure) this.socket.destroy()
  }

  private onElement(el: Element): void {
    this.streamBytes = 0
    this.opts.trace?.('in', traceElement(el))
    if (el.getName() === 'error' && (el.getNS() === NS_STREAM || el.name === 'stream:error')) {
      this.fail(streamErrorOf(el, this.where, this.authenticated))
      return
    }
    if (this.router) {
      this.router(el)
      return
    }
    const w = this.waiters.shift()
    if (w) {
      clearTimeout(w.timer)
      w.resolve(el)
    } else this.queue.push(el)
  }

  private fail(err: Error): void {
    if (this.failure) return
    this.failure = err
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer)
      w.reject(err)
    }
    for (const l of this.closeListeners) l(err)
  }

  onClose(listener: (err: Error) => void): void {
    this.closeListeners.push(listener)
  }

  /** Routes all further stanzas to `fn` (after login). */
  route(fn: (el: Element) => void): void {
    this.router = fn
    for (const el of this.queue.splice(0)) fn(el)
  }

  /** The next top-level element, during negotiation. */
  read(what: string): Promise<Element> {
    if (this.failure) return Promise.reject(this.failure)
    const queued = this.queue.shift()
    if (queued) return Promise.resolve(queued)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.waiters.findIndex((w) => w.timer === timer)
        if (i >= 0) this.waiters.splice(i, 1)
        reject(
          new XmppError(
            'timeout',
            'timeout',
            `${this.where} did not answer (${what}) within ${this.opts.timeoutMs / 1000} s`,
          ),
        )
      }, this.opts.timeoutMs)
      this.waiters.push({resolve, reject, timer})
    })
  }

  send(el: Element): void {
    if (this.failure) throw this.failure
    this.opts.trace?.('out', traceElement(el))
    this.socket.write(el.toString())
  }

  /** Opens (or restarts) the stream and returns the server's stream features. */
  async openStream(domain: string): Promise<Element> {
    this.resetParser()
    const header = `<?xml version='1.0'?><stream:stream xmlns='${this.opts.streamNs ?? 'jabber:client'}' xmlns:stream='${NS_STREAM}' to='${domain.replace(/'/g, '&apos;')}' version='1.0' xml:lang='en'>`
    this.opts.trace?.('out', header)
    this.socket.write(header)
    this.headerSent = true
    const features = await this.read('stream features')
    this.nudgeArmed = false
    if (features.getName() !== 'features')
      throw new XmppError(
        'malformed',
        'no-features',
        `${this.where} sent <${features.name}> instead of stream features`,
      )
    return features
  }

  /** STARTTLS negotiation and the TLS handshake on the same socket. */
  async startTls(): Promise<void> {
    this.send(new Element('starttls', {xmlns: NS_TLS}))
    const answer = await this.read('STARTTLS')
    if (answer.name !== 'proceed')
      throw new XmppError(
        'tls',
        'starttls-failed',
        `${this.where} refused STARTTLS; refusing to log in without TLS`,
      )
    // Anything behind <proceed/> arrived unencrypted and would be taken for the TLS stream's
    // content (a STARTTLS injection attack): refuse.
    if (this.queue.length || this.held.length) {
      throw new XmppError(
        'tls',
        'starttls-injection',
        `${this.where} sent data after <proceed/> before TLS started; refusing (possible STARTTLS injection)`,
      )
    }
    await this.upgrade()
  }

  /** The TLS handshake over the open TCP socket (direct TLS or after STARTTLS). */
  private async upgrade(alpn?: string[]): Promise<void> {
    const raw = this.socket
    raw.removeAllListeners('data')
    raw.removeAllListeners('close')
    raw.removeAllListeners('error')
    // A late error on the raw socket must not become an unhandled 'error' event.
    raw.on('error', () => {})
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        secure.destroy()
        reject(new XmppError('timeout', 'timeout', `TLS handshake with ${this.where} timed out`))
      }, this.opts.timeoutMs)
      const secure = tls.connect({...this.tlsOptions(), socket: raw, ALPNProtocols: alpn}, () => {
        clearTimeout(timer)
        resolve()
      })
      secure.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer)
        reject(
          SOCKET_CODES.has(err.code ?? '')
            ? describeSocketError(err, this.where)
            : describeTlsError(err, this.where, this.opts.tls.servername, alpn !== undefined),
        )
      })
      this.attach(secure)
      // After a TLS 1.3 handshake the server sends session tickets, and a server with Nagle's
      // algorithm on (Prosody's default) then holds its stream header until we ACK them: ~40 ms
      // of delayed ACK. A whitespace keepalive (valid after our stream header) carries the ACK now.
      this.headerSent = false
      this.nudgeArmed = true
      secure.on('session', () => {
        // Deferred: writing inside OpenSSL's ticket callback re-enters it and breaks the record layer.
        setImmediate(() => {
          if (this.headerSent && this.nudgeArmed && !this.failure) secure.write(' ')
        })
      })
    })
  }

  /** Ends the stream politely without waiting for the server's reply. */
  close(): void {
    if (!this.failure) {
      this.failure = new XmppError('lost', 'closed', 'connection closed')
      try {
        this.socket.end('</stream:stream>')
        // Do not keep the process alive for the server's closing tag (ejabberd sends it ~100 ms later).
        this.socket.unref()
      } catch {
        // already gone
      }
    }
    const sock = this.socket
    setTimeout(() => sock?.destroy(), 200).unref()
  }
}
