// Helpers for the mission-command integration tests (test/integration/mission-*.test.ts): accounts
// made out of band, a raw XMPP client that can bind a source address and hold a session open, and
// server-side inspection (Prosody's admin shell, its data directory, ejabberd's API via the CLI).
import {randomBytes} from 'node:crypto'
import {existsSync, readFileSync} from 'node:fs'
import net from 'node:net'
import {join} from 'node:path'
import tls from 'node:tls'
import {execa} from 'execa'
// ltx comes with @xmpp/xml (no type declarations); parse() reads a whole document
// @ts-ignore -- ltx ships no type declarations
import {parse as parseXmlDocument} from 'ltx'
import {expect} from 'vitest'
import {type ServerDescriptor, loadServers, registerAccount, runControl} from '../servers/servers.js'
import {type CliResult, cliOn, uniqueUser} from './cli.js'

export const servers = loadServers()
export const {prosody, ejabberd24, ejabberd26, prosody012} = servers
/** The Prosody versions the Prosody tests run on, with their names for test titles: 13 and 0.12. */
export const PROSODIES: Array<[string, ServerDescriptor]> = [
  ['Prosody', prosody],
  ['Prosody 0.12', prosody012],
]
/** Each test server with mod_xmppadm, by kind (for titles): Prosody 13 and 0.12, ejabberd 24.12 and 26.07 */
export const WITH_MODULE = [prosody, prosody012, ejabberd24, ejabberd26].map((s) => [s.kind, s] as const)
/** Prosody 13 or 0.12 (the kinds 'prosody' and 'prosody-0.12'). */
export const isProsody = (kind: string) => kind.startsWith('prosody')

export interface TestAccount {
  jid: string
  local: string
  password: string
}

/** A fresh account, created out of band (prosodyctl / ejabberdctl register). */
export async function newAccount(server: ServerDescriptor, prefix = 'm'): Promise<TestAccount> {
  const local = uniqueUser(prefix)
  const password = `pw-${randomBytes(9).toString('base64url')}`
  await registerAccount(server, local, password)
  return {jid: `${local}@${server.domain}`, local, password}
}

/** Several fresh accounts at once. */
export function newAccounts(server: ServerDescriptor, n: number, prefix = 'm'): Promise<TestAccount[]> {
  return Promise.all(Array.from({length: n}, () => newAccount(server, prefix)))
}

/** prosodyctl / ejabberdctl of that instance; throws unless it exits 0. Returns stdout. */
export async function runControlOk(server: ServerDescriptor, args: string[]): Promise<string> {
  const r = await runControl(server, args)
  if (r.code !== 0)
    throw new Error(
      `${server.control.argv[0]} ${args.join(' ')}: exit ${r.code}: ${(r.stdout + r.stderr).trim()}`,
    )
  return r.stdout
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** Polls `probe` until it returns true (or throws after `timeoutMs`). */
export async function eventually(
  what: string,
  probe: () => Promise<boolean> | boolean,
  timeoutMs = 10_000,
  everyMs = 150,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await probe()) return
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(everyMs)
  }
}

// --- a raw XMPP client --------------------------------------------------------------------------

const NS_STREAM = 'http://etherx.jabber.org/streams'
export const xmlEscape = (s: string) =>
  s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/'/g, '&apos;')
    .replace(/"/g, '&quot;')

/**
 * A deliberately small client: STARTTLS (verified against the test CA), SASL PLAIN, bind.
 * Regex-based reading; everything received is kept in `received` (e.g. to find a stream error).
 */
export class RawClient {
  received = ''
  private buf = ''
  private error: Error | null = null
  private waiters: Array<() => void> = []
  private socket!: net.Socket | tls.TLSSocket
  /** Resolves when the connection is closed (by either side). */
  readonly closed: Promise<void>
  private markClosed!: () => void
  jid = ''

  private constructor() {
    this.closed = new Promise<void>((resolve) => {
      this.markClosed = resolve
    })
  }

  private attach(sock: net.Socket | tls.TLSSocket): void {
    this.socket = sock
    sock.setEncoding('utf8')
    sock.on('data', (d: string) => {
      this.buf += d
      this.received += d
      this.wake()
    })
    sock.on('close', () => {
      this.error ??= new Error('connection closed')
      this.markClosed()
      this.wake()
    })
    sock.on('error', (e) => {
      this.error = e
      this.wake()
    })
  }

  private wake(): void {
    const w = this.waiters
    this.waiters = []
    for (const f of w) f()
  }

  /** Waits until the unread input matches `re`; consumes it up to the end of the match. */
  async expect(re: RegExp, timeoutMs = 10_000): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const m = re.exec(this.buf)
      if (m) {
        this.buf = this.buf.slice(m.index + m[0].length)
        return m
      }
      if (this.error)
        throw new Error(`${this.error.message} while waiting for ${re}; got: ${this.buf.slice(0, 500)}`)
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`timed out waiting for ${re}; got: ${this.buf.slice(0, 500)}`)
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left)
        this.waiters.push(() => {
          clearTimeout(t)
          resolve()
        })
      })
    }
  }

  send(xml: string): void {
    this.socket.write(xml)
  }

  /** Sends an IQ (its literal id 'ID' is replaced by a fresh id) and returns the reply. */
  async iq(xml: string, timeoutMs = 10_000): Promise<{type: string; xml: string}> {
    const id = `m${randomBytes(4).toString('hex')}`
    this.send(xml.replace(`id='ID'`, `id='${id}'`))
    const m = await this.expect(
      new RegExp(`<iq\\b[^>]*\\bid=['"]${id}['"][^>]*?(?:/>|>[\\s\\S]*?</iq>)`),
      timeoutMs,
    )
    return {type: /\btype=['"](\w+)['"]/.exec(m[0])?.[1] ?? '', xml: m[0]}
  }

  /** An IQ that must succeed. */
  async iqOk(xml: string): Promise<string> {
    const r = await this.iq(xml)
    if (r.type !== 'result') throw new Error(`IQ failed: ${xml}\n=> ${r.xml}`)
    return r.xml
  }

  /** Ends the stream and waits until the server has closed the connection (the session is gone). */
  async close(timeoutMs = 5000): Promise<void> {
    try {
      this.socket.end('</stream:stream>')
    } catch {
      // already closed
    }
    const t = setTimeout(() => this.socket.destroy(), timeoutMs)
    await this.closed
    clearTimeout(t)
  }

  /** Connects, negotiates STARTTLS, logs in with PLAIN and binds a resource. */
  static async login(
    server: ServerDescriptor,
    account: {jid: string; password: string},
    opts: {localAddress?: string} = {},
  ): Promise<RawClient> {
    const c = new RawClient()
    try {
      return await c.start(server, account, opts)
    } catch (error) {
      c.socket?.destroy()
      throw error
    }
  }

  private async start(
    server: ServerDescriptor,
    account: {jid: string; password: string},
    opts: {localAddress?: string},
  ): Promise<RawClient> {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- set-up reads better with one short name
    const c = this
    const plain = net.connect({host: server.host, port: server.port, localAddress: opts.localAddress})
    c.socket = plain
    plain.setNoDelay(true)
    await new Promise<void>((resolve, reject) => {
      plain.once('connect', () => resolve())
      plain.once('error', reject)
    })
    const header =
      `<?xml version='1.0'?><stream:stream to='${server.domain}' xmlns='jabber:client' ` +
      `xmlns:stream='${NS_STREAM}' version='1.0'>`
    c.attach(plain)
    plain.write(header)
    await c.expect(/<stream:features[\s\S]*?<\/stream:features>/)
    plain.write(`<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>`)
    await c.expect(/<proceed[^>]*\/>/)
    plain.removeAllListeners('data')
    c.buf = ''
    const sock = tls.connect({
      socket: plain,
      ca: readFileSync(server.caFile),
      servername: 'localhost',
      minVersion: 'TLSv1.2',
    })
    await new Promise<void>((resolve, reject) => {
      sock.once('secureConnect', () => resolve())
      sock.once('error', reject)
    })
    sock.setNoDelay(true)
    c.attach(sock)
    c.send(header)
    const features = (await c.expect(/<stream:features[\s\S]*?<\/stream:features>/))[0]
    if (!/<mechanism>PLAIN<\/mechanism>/.test(features)) throw new Error(`PLAIN not offered: ${features}`)
    const local = account.jid.split('@')[0]
    c.send(
      `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' ` +
        `mechanism='PLAIN'>${Buffer.from(`\0${local}\0${account.password}`).toString('base64')}</auth>`,
    )
    const auth = await c.expect(/<(success|failure)[\s\S]*?(\/>|<\/\1>)/)
    if (auth[1] === 'failure') throw new Error(`login of ${account.jid} failed: ${auth[0]}`)
    c.send(header)
    await c.expect(/<stream:features[\s\S]*?<\/stream:features>/)
    const bound = await c.iqOk(
      `<iq type='set' id='ID'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>` +
        `<resource>mission-${randomBytes(3).toString('hex')}</resource></bind></iq>`,
    )
    c.jid = /<jid>([^<]+)<\/jid>/.exec(bound)?.[1] ?? account.jid
    return c
  }
}

/** Whether `account` can log in (raw SASL PLAIN): true, false on a SASL failure; other errors throw. */
export async function canLogin(
  server: ServerDescriptor,
  account: {jid: string; password: string},
  opts: {localAddress?: string} = {},
): Promise<boolean> {
  let c: RawClient
  try {
    c = await RawClient.login(server, account, opts)
  } catch (error) {
    if (/login of .* failed/.test((error as Error).message)) return false
    throw error
  }
  await c.close()
  return true
}

/** Logs in as `from`, sends chat messages to `to` (offline: they are stored), logs out. */
export async function sendMessages(
  server: ServerDescriptor,
  from: {jid: string; password: string},
  to: string,
  bodies: string[],
): Promise<void> {
  const c = await RawClient.login(server, from)
  try {
    for (const body of bodies)
      c.send(
        `<message type='chat' to='${to}' ` +
          `id='msg-${randomBytes(4).toString('hex')}'><body>${xmlEscape(body)}</body></message>`,
      )
    // One round trip after the messages: the server has routed them by the time it answers.
    await c.iqOk(`<iq type='get' id='ID' to='${server.domain}'><ping xmlns='urn:xmpp:ping'/></iq>`)
  } finally {
    await c.close()
  }
}

/** As `account`: a roster entry and a vCard (vcard-temp; Prosody turns it into vCard4 PEP). */
export async function setRosterAndVcard(
  server: ServerDescriptor,
  account: {jid: string; password: string},
  contact: {jid: string; name: string; group: string},
  vcard: {fn: string; nickname: string},
): Promise<void> {
  const c = await RawClient.login(server, account)
  try {
    await c.iqOk(
      `<iq type='set' id='ID'><query xmlns='jabber:iq:roster'><item jid='${contact.jid}' ` +
        `name='${xmlEscape(contact.name)}'><group>${xmlEscape(contact.group)}</group></item></query></iq>`,
    )
    await c.iqOk(
      `<iq type='set' id='ID'><vCard xmlns='vcard-temp'><FN>${xmlEscape(vcard.fn)}</FN>` +
        `<NICKNAME>${xmlEscape(vcard.nickname)}</NICKNAME></vCard></iq>`,
    )
  } finally {
    await c.close()
  }
}

// --- CLI shortcuts ------------------------------------------------------------------------------

/** The CLI as the admin, with --json; asserts the exit code and returns the parsed document. */
export async function cliJson(
  server: ServerDescriptor,
  args: string[],
  exitCode = 0,
  opts: Parameters<typeof cliOn>[2] = {},
): Promise<any> {
  const r = await cliOn(server, [...args, '--json'], opts)
  expect(r.exitCode, `${args.join(' ')}: ${r.stdout}\n${r.stderr}`).toBe(exitCode)
  return r.json
}

/** Whether `account` can log in (runs `commands` as it): exit 0, or 79 when the login is refused. */
export async function loginExit(
  server: ServerDescriptor,
  account: {jid: string; password: string},
  env?: Record<string, string>,
): Promise<CliResult> {
  return cliOn(server, ['commands', '--quiet'], {as: account, env})
}

// --- Prosody: admin shell and data directory ----------------------------------------------------

/** Runs one line of Lua in the running Prosody (prosodyctl shell) and returns what it returned, as text. */
export async function prosodyLua(server: ServerDescriptor, code: string): Promise<string> {
  if (code.includes('\n')) throw new Error('prosodyLua: one line only')
  const [cmd, ...pre] = server.control.argv
  const r = await execa(cmd, [...pre, 'shell'], {
    input: `> ${code}\n`,
    reject: false,
    timeout: 30_000,
    cwd: '/',
  })
  const err = /^! (.*)$/m.exec(r.stdout)
  if (err) throw new Error(`prosody shell: ${err[1]}\n(code: ${code})`)
  const m = /^\| Result: (.*)$/m.exec(r.stdout)
  if (!m) throw new Error(`prosody shell gave no result (exit ${r.exitCode}):\n${r.stdout}\n${r.stderr}`)
  return m[1]
}

// core.storagemanager: the name both 0.12 and 13 know
const STORE = (host: string, store: string) =>
  `require"core.storagemanager".open(${JSON.stringify(host)},${JSON.stringify(store)},"archive")`

/** Number of offline messages Prosody stores for `local` (all ages). */
export async function prosodyOfflineCount(server: ServerDescriptor, local: string): Promise<number> {
  return Number(
    await prosodyLua(
      server,
      `local n=0; for _ in ${STORE(server.domain, 'offline')}:find(${JSON.stringify(local)}) do ` +
        `n=n+1 end; return tostring(n)`,
    ),
  )
}

/** Bodies of the offline messages Prosody stores for `local`, oldest first. */
export async function prosodyOfflineBodies(server: ServerDescriptor, local: string): Promise<string[]> {
  const out = await prosodyLua(
    server,
    `local t={}; for _,v in ${STORE(server.domain, 'offline')}:find(${JSON.stringify(local)}) do ` +
      `t[#t+1]=v:get_child_text("body") or "" end; return "#"..table.concat(t,"|")`,
  )
  return out === '#' ? [] : out.slice(1).split('|')
}

/**
 * Moves the storage time of the offline messages of `local` back: the i-th oldest by `seconds[i]`
 * (archive:set with a new `when`; the <delay/> stamp follows it). Returns how many were moved.
 */
export async function prosodyBackdateOffline(
  server: ServerDescriptor,
  local: string,
  seconds: number[],
): Promise<number> {
  const u = JSON.stringify(local)
  return Number(
    await prosodyLua(
      server,
      `local s=${STORE(server.domain, 'offline')}; local back={${seconds.join(',')}}; local ` +
        `items={}; for k,v,w,with in s:find(${u}) do items[#items+1]={k,v,w,with} end; local n=0; ` +
        `for i=1,math.min(#back,#items) do local it=items[i]; ` +
        `assert(s:set(${u},it[1],it[2],it[3]-back[i],it[4])); n=n+1 end; return tostring(n)`,
    ),
  )
}

export interface Upload {
  slot: string
  getUrl: string
  /** where Prosody keeps the file */
  path: string
  size: number
}

/** Uploads `content` through XEP-0363 as `account` (slot from the upload service, HTTP PUT). */
export async function prosodyUpload(
  server: ServerDescriptor,
  account: {jid: string; password: string},
  filename: string,
  content: string | Buffer,
): Promise<Upload> {
  const body = Buffer.from(content)
  const c = await RawClient.login(server, account)
  let slotXml: string
  try {
    slotXml = await c.iqOk(
      `<iq type='get' id='ID' to='${server.uploadDomain}'><request xmlns='urn:xmpp:http:upload:0' ` +
        `filename='${xmlEscape(filename)}' size='${body.length}' content-type='text/plain'/></iq>`,
    )
  } finally {
    await c.close()
  }
  const unescape = (s: string) =>
    s
      .replace(/&apos;/g, "'")
      .replace(/&quot;/g, '"')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&amp;/g, '&')
  const putUrl = unescape(/<put url=['"]([^'"]+)['"]/.exec(slotXml)![1])
  const getUrl = unescape(/<get url=['"]([^'"]+)['"]/.exec(slotXml)![1])
  const headers: Record<string, string> = {'content-type': 'text/plain'}
  for (const h of slotXml.matchAll(/<header name=['"]([^'"]+)['"]>([^<]*)<\/header>/g))
    headers[h[1].toLowerCase()] = unescape(h[2])
  const put = await fetch(putUrl, {method: 'PUT', body, headers})
  if (put.status !== 201 && put.status !== 200)
    throw new Error(`upload PUT ${putUrl}: HTTP ${put.status} ${await put.text()}`)
  const slot = /\/file_share\/([^/]+)\//.exec(putUrl)![1]
  return {slot, getUrl, path: prosodyUploadPath(server, slot), size: body.length}
}

/** Prosody's datamanager file-name encoding: every non-alphanumeric byte as %xx. */
const dmEncode = (s: string) =>
  s.replace(/[^A-Za-z0-9]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`)

/** mod_http_file_share's file of a slot: <data_path>/<upload host>/http_file_share/<slot>.bin (encoded) */
export function prosodyUploadPath(server: ServerDescriptor, slot: string): string {
  return join(
    server.dir,
    'data',
    dmEncode(server.uploadDomain ?? 'upload.localhost'),
    'http_file_share',
    `${dmEncode(slot)}.bin`,
  )
}

/** Moves the slot-request time of an upload record back by `seconds` (http_file_share's "uploads" store). */
export async function prosodyBackdateUpload(
  server: ServerDescriptor,
  slot: string,
  seconds: number,
): Promise<void> {
  const k = JSON.stringify(slot)
  const out = await prosodyLua(
    server,
    `local s=${STORE(server.uploadDomain ?? 'upload.localhost', 'uploads')}; local ` +
      `v,w,with=s:get(nil,${k}); assert(v, "no upload record"); ` +
      `assert(s:set(nil,${k},v,w-${seconds},with)); return "ok"`,
  )
  if (out !== 'ok') throw new Error(`backdating upload ${slot}: ${out}`)
}

/** Whether the upload record of a slot exists. */
export async function prosodyUploadRecordExists(server: ServerDescriptor, slot: string): Promise<boolean> {
  return (
    (await prosodyLua(
      server,
      `local v=${STORE(server.uploadDomain ?? 'upload.localhost', 'uploads')}` +
        `:get(nil,${JSON.stringify(slot)}); return v and "yes" or "no"`,
    )) === 'yes'
  )
}

export const fileExists = (path: string) => existsSync(path)

/** A whole XML document as an ltx element tree (getChild, getChildren, attrs, getText...). */
export function parseXml(text: string): any {
  return parseXmlDocument(text)
}

// --- ejabberd 26.07: API commands through the generic runner --------------------------------------

/** Runs an api-commands/* node as the admin with the given fields; returns the result form values. */
export async function ejabberdApi(
  server: ServerDescriptor,
  name: string,
  fields: Record<string, string>,
): Promise<Record<string, any>> {
  const args = ['command', 'run', `api-commands/${name}`]
  for (const [k, v] of Object.entries(fields)) args.push('--field', `${k}=${v}`)
  const doc = await cliJson(server, args)
  return doc.result.form?.values ?? {}
}

export async function ejabberdOfflineCount(server: ServerDescriptor, local: string): Promise<number> {
  return Number((await ejabberdApi(server, 'get_offline_count', {user: local, host: server.domain})).value)
}
