// A deliberately tiny raw XMPP client for harness smoke tests: STARTTLS with certificate
// verification, SASL PLAIN, resource binding, IQs. Regex-based, not a general XML parser.
import * as fs from 'node:fs'
import * as net from 'node:net'
import * as tls from 'node:tls'
import {randomHex} from './util.js'

const NS_STREAM = 'http://etherx.jabber.org/streams'

/** @param {string} s */
export const xmlEscape = (s) =>
  s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/'/g, '&apos;')
    .replace(/"/g, '&quot;')

class Reader {
  /** @param {net.Socket | tls.TLSSocket} sock */
  constructor(sock) {
    this.buf = ''
    /** @type {Error | null} */
    this.closed = null
    /** @type {(() => void)[]} */
    this.waiters = []
    this.attach(sock)
  }
  /** @param {net.Socket | tls.TLSSocket} sock */
  attach(sock) {
    this.sock = sock
    sock.setEncoding('utf8')
    sock.on('data', (d) => {
      this.buf += d
      this.wake()
    })
    sock.on('close', () => {
      this.closed ??= new Error('connection closed')
      this.wake()
    })
    sock.on('error', (e) => {
      this.closed = e
      this.wake()
    })
  }
  wake() {
    const w = this.waiters
    this.waiters = []
    w.forEach((f) => f())
  }
  /**
   * Waits until the buffer matches `re`, consumes everything up to the end of the match.
   * @param {RegExp} re
   * @param {number} [timeoutMs]
   * @returns {Promise<RegExpExecArray>}
   */
  async expect(re, timeoutMs = 10000) {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const m = re.exec(this.buf)
      if (m) {
        this.buf = this.buf.slice(m.index + m[0].length)
        return m
      }
      if (this.closed)
        throw new Error(`${this.closed.message} while waiting for ${re}; got: ${this.buf.slice(0, 500)}`)
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`timed out waiting for ${re}; got: ${this.buf.slice(0, 500)}`)
      await new Promise((resolve) => {
        const t = setTimeout(resolve, left)
        this.waiters.push(() => {
          clearTimeout(t)
          resolve(undefined)
        })
      })
    }
  }
}

/**
 * @typedef {object} RawSession
 * @property {tls.TLSSocket} socket
 * @property {boolean} authorized              certificate verified against the given CA
 * @property {Error | null} authorizationError
 * @property {string | null} protocol          negotiated TLS version
 * @property {string} features                 the stream features after TLS
 * @property {(xml: string) => void} send
 * @property {(re: RegExp, timeoutMs?: number) => Promise<RegExpExecArray>} expect
 * @property {() => void} close
 */

/**
 * Connects, negotiates STARTTLS, and opens the post-TLS stream.
 * Does not throw on a verification failure (rejectUnauthorized is false): check `authorized`.
 * @param {{host: string, port: number, domain: string, caFile: string, servername?: string,
 *          minVersion?: import('node:tls').SecureVersion}} o
 * @returns {Promise<RawSession>}
 */
export async function connectStarttls(o) {
  const plain = net.connect({host: o.host, port: o.port})
  plain.setNoDelay(true)
  await new Promise((resolve, reject) => {
    plain.once('connect', resolve)
    plain.once('error', reject)
  })
  const header =
    `<?xml version='1.0'?><stream:stream to='${o.domain}' xmlns='jabber:client' ` +
    `xmlns:stream='${NS_STREAM}' version='1.0'>`
  let r = new Reader(plain)
  plain.write(header)
  const feats = await r.expect(/<stream:features[\s\S]*?<\/stream:features>/)
  if (!/<starttls[^>]*urn:ietf:params:xml:ns:xmpp-tls/.test(feats[0]))
    throw new Error(`no STARTTLS offered: ${feats[0]}`)
  plain.write(`<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>`)
  await r.expect(/<proceed[^>]*\/>/)
  plain.removeAllListeners('data')
  const socket = tls.connect({
    socket: plain,
    ca: fs.readFileSync(o.caFile),
    servername: o.servername ?? 'localhost',
    minVersion: o.minVersion ?? 'TLSv1.2',
    rejectUnauthorized: false,
  })
  await new Promise((resolve, reject) => {
    socket.once('secureConnect', resolve)
    socket.once('error', reject)
  })
  socket.setNoDelay(true)
  r = new Reader(socket)
  const send = (/** @type {string} */ xml) => void socket.write(xml)
  send(header)
  const features = (await r.expect(/<stream:features[\s\S]*?<\/stream:features>/))[0]
  return {
    socket,
    authorized: socket.authorized,
    authorizationError: socket.authorizationError ?? null,
    protocol: socket.getProtocol(),
    features,
    send,
    expect: (re, t) => r.expect(re, t),
    close: () => {
      try {
        socket.end('</stream:stream>')
      } catch {
        /* ignore */
      }
      setTimeout(() => socket.destroy(), 200).unref()
    },
  }
}

/**
 * SASL PLAIN on a verified session. Resolves true on <success/>, false on <failure/>.
 * After success it restarts the stream and binds a resource.
 * @param {RawSession} s
 * @param {string} domain
 * @param {string} jid
 * @param {string} password
 */
export async function loginPlain(s, domain, jid, password) {
  if (!/<mechanism>PLAIN<\/mechanism>/.test(s.features)) throw new Error(`PLAIN not offered: ${s.features}`)
  const local = jid.split('@')[0]
  const token = Buffer.from(`\0${local}\0${password}`, 'utf8').toString('base64')
  s.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${token}</auth>`)
  const m = await s.expect(/<(success|failure)[\s\S]*?(\/>|<\/\1>)/)
  if (m[1] === 'failure') return false
  s.send(
    `<?xml version='1.0'?><stream:stream to='${domain}' xmlns='jabber:client' ` +
      `xmlns:stream='${NS_STREAM}' version='1.0'>`,
  )
  await s.expect(/<stream:features[\s\S]*?<\/stream:features>/)
  await iq(
    s,
    `<iq type='set' id='ID'><bind ` +
      `xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>smoke-${randomHex(3)}</resource></bind></iq>`,
  )
  return true
}

/**
 * Sends an IQ (the literal id 'ID' in the xml is replaced by a fresh id) and returns the reply.
 * @param {RawSession} s
 * @param {string} xml
 * @returns {Promise<{type: string, xml: string}>}
 */
export async function iq(s, xml) {
  const id = `x${randomHex(4)}`
  s.send(xml.replace(`id='ID'`, `id='${id}'`))
  const re = new RegExp(`<iq\\b[^>]*\\bid=['"]${id}['"][^>]*?(?:/>|>[\\s\\S]*?</iq>)`)
  const m = await s.expect(re)
  const type = /\btype=['"](\w+)['"]/.exec(m[0])?.[1] ?? ''
  return {type, xml: m[0]}
}

/**
 * XEP-0050 command nodes this session can see on `to`.
 * @param {RawSession} s
 * @param {string} to
 * @returns {Promise<string[]>}
 */
export async function listCommands(s, to) {
  const r = await iq(
    s,
    `<iq type='get' to='${to}' id='ID'><query xmlns='http://jabber.org/protocol/disco#items' node='http://jabber.org/protocol/commands'/></iq>`,
  )
  if (r.type !== 'result') throw new Error(`disco#items commands failed: ${r.xml}`)
  return [...r.xml.matchAll(/<item\b[^>]*\bnode=(['"])(.*?)\1/g)].map((x) =>
    x[2]
      .replace(/&apos;/g, "'")
      .replace(/&quot;/g, '"')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&amp;/g, '&'),
  )
}
