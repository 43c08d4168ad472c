// XEP-0227 (portable import/export format) as a stream of entries: a file is read in chunks and
// each user's data comes out item by item (a roster contact, an offline message, an archived
// message, a PEP item…) with the containers it sits in, so that memory holds one item, not the
// file (an archive of 50,000 messages is 18 MB of XML). What the servers' own exporters write is
// read too: XInclude'd host and user files (XEP-0227's layout, and ejabberd's main file with one
// host file each), the older namespace of XEP-0227 0.x.
import {createReadStream} from 'node:fs'
import {dirname, resolve} from 'node:path'
import {Element, Parser} from '@xmpp/xml'
import {cannotRead, dataError} from '../errors.js'

export const NS_PIE = 'urn:xmpp:pie:0'
const NS_PIE_OLD = 'http://www.xmpp.org/extensions/xep-0227.html#ns'
export const NS_SCRAM = 'urn:xmpp:pie:0#scram'
const NS_XINCLUDE = 'http://www.w3.org/2001/XInclude'

/** Elements directly in <user/> whose children are a section's items: "name namespace". */
export const CONTAINERS = new Set([
  'query jabber:iq:roster',
  'query jabber:iq:private',
  'query jabber:iq:privacy',
  `offline-messages ${NS_PIE}`,
  `archive ${NS_PIE}#mam`,
  'blocklist urn:xmpp:blocking',
  'pubsub http://jabber.org/protocol/pubsub#owner',
  'pubsub http://jabber.org/protocol/pubsub',
])
/** Containers inside those: a PEP node's <items/>. */
export const INNER_CONTAINERS = new Set(['items http://jabber.org/protocol/pubsub'])

/** A container an item sits in, as it starts: its name, namespace and attributes. */
export interface Wrapper {
  name: string
  ns: string
  attrs: Record<string, string>
}

export type Xep0227Event =
  /** A <user/> starts: its attributes and the <host jid/> it is in. */
  | {type: 'user'; host: string; attrs: Record<string, string>}
  /** One item: an element, inside these containers (outermost first; none: directly in <user/>). */
  | {type: 'item'; wrap: Wrapper[]; el: Element; ns: string}
  | {type: 'end-user'}

/** A file, or text already read (stdin). */
export type Xep0227Source = {path: string} | {text: string; name: string}

/** An XInclude where it stands in the document (the included file's events go there). */
type Include = {type: 'include'; href: string; host: string}

interface Frame {
  name: string
  /** The default namespace in effect. */
  ns: string
  attrs: Record<string, string>
  role: 'root' | 'host' | 'user' | 'container' | 'inner' | 'item' | 'other'
}

const NS_DEFAULT = ''

/** A <user/>'s own attributes (name, password…), without namespace declarations. */
const userAttrs = (attrs: Record<string, string>) =>
  Object.fromEntries(Object.entries(attrs).filter(([k]) => k !== 'xmlns' && !k.startsWith('xmlns:')))

/**
 * The SAX side: @xmpp/xml's parser (ltx) with its element-building hooks replaced by ones that
 * keep only the frames above the current item and build only items.
 */
class EntryParser extends Parser {
  readonly events: Array<Xep0227Event | Include> = []
  error?: Error
  private frames: Frame[] = []
  /** The item being built, and where we are inside it. */
  private item?: {el: Element; cursor: Element; depth: number; wrap: Wrapper[]; ns: string}

  /** `host`: the host of an included user file (its root is <user/>). */
  constructor(
    private readonly sourceName: string,
    private host = '',
  ) {
    super()
    this.on('error', (e) => (this.error ??= e))
  }

  private fail(message: string): void {
    this.error ??= dataError(`${this.sourceName}: ${message}`)
  }

  protected override onStartElement(name: string, attrs: Record<string, string>): void {
    if (this.error) return
    if (this.item) {
      const child = new Element(name, attrs)
      this.item.cursor.append(child)
      this.item.cursor = child
      this.item.depth++
      return
    }
    const parent = this.frames.at(-1)
    // The old namespace of XEP-0227 0.x is read as the current one.
    const declared = attrs.xmlns ?? parent?.ns ?? NS_DEFAULT
    const ns = declared === NS_PIE_OLD ? NS_PIE : declared
    const key = `${name} ${ns}`
    let role: Frame['role'] = 'other'
    if (!parent) {
      const pie = ns === NS_PIE
      if (pie && name === 'server-data') role = 'root'
      else if (pie && name === 'host') role = 'host'
      else if (pie && name === 'user') role = 'user'
      else return this.fail(`not a XEP-0227 file (its root is <${name} xmlns="${ns}"/>)`)
      if (role === 'host') this.host = attrs.jid ?? ''
      if (role === 'user') this.events.push({type: 'user', host: this.host, attrs: userAttrs(attrs)})
    } else if (parent.role === 'root' && name === 'host') {
      role = 'host'
      this.host = attrs.jid ?? ''
    } else if ((parent.role === 'root' || parent.role === 'host') && /(^|:)include$/.test(name)) {
      // a host file from the main file, a user file from a host file
      if (attrs.href && (name.startsWith('xi:') || ns === NS_XINCLUDE))
        this.events.push({type: 'include', href: attrs.href, host: this.host})
    } else if (parent.role === 'host' && name === 'user') {
      role = 'user'
      this.events.push({type: 'user', host: this.host, attrs: userAttrs(attrs)})
    } else if (parent.role === 'user' && CONTAINERS.has(key)) {
      role = 'container'
    } else if (parent.role === 'container' && INNER_CONTAINERS.has(key)) {
      role = 'inner'
    } else if (parent.role === 'user' || parent.role === 'container' || parent.role === 'inner') {
      const wrap = this.frames
        .filter((f) => f.role === 'container' || f.role === 'inner')
        .map(({name: n, ns: fns, attrs: a}) => ({name: n, ns: fns, attrs: a}))
      // The item keeps its namespace wherever it is put back (its container's, or <user/>'s).
      const inherited = parent.role === 'user' ? NS_PIE : parent.ns
      const itemAttrs = ns !== inherited && !attrs.xmlns ? {...attrs, xmlns: ns} : attrs
      const el = new Element(name, itemAttrs)
      this.item = {el, cursor: el, depth: 0, wrap, ns}
      return
    }
    this.frames.push({name, ns, attrs: {...attrs}, role})
  }

  protected override onEndElement(name: string): void {
    if (this.error) return
    const item = this.item
    if (item) {
      if (name !== item.cursor.name)
        return this.fail(`<${item.cursor.name}> must be closed before </${name}>`)
      if (item.depth > 0) {
        item.depth--
        item.cursor = item.cursor.parent as Element
        return
      }
      this.item = undefined
      item.el.parent = null
      this.events.push({type: 'item', wrap: item.wrap, el: item.el, ns: item.ns})
      return
    }
    const frame = this.frames.pop()
    if (!frame) return this.fail(`</${name}> closes nothing`)
    if (frame.name !== name) return this.fail(`<${frame.name}> must be closed before </${name}>`)
    if (frame.role === 'user') this.events.push({type: 'end-user'})
  }

  protected override onText(text: string): void {
    if (this.item && !this.error) this.item.cursor.t(text)
  }

  /** The file ended: anything still open is an error. */
  finish(): void {
    if (!this.error && (this.frames.length || this.item))
      this.fail('the file ends in the middle of the document')
  }
}

async function* chunks(source: Xep0227Source): AsyncGenerator<string> {
  if ('text' in source) {
    yield source.text
    return
  }
  const stream = createReadStream(source.path, {encoding: 'utf8', highWaterMark: 256 * 1024})
  // Each piece ends where a tag starts: ltx's parser steps through text that runs past the end of
  // a piece one character at a time (a 300 KiB photo took a second).
  let carry = ''
  try {
    for await (const chunk of stream) {
      const data = carry + (chunk as string)
      const cut = data.lastIndexOf('<')
      carry = cut > 0 ? data.slice(cut) : data
      if (cut > 0) yield data.slice(0, cut)
    }
  } catch (error) {
    throw cannotRead(source.path, error)
  }
  if (carry) yield carry
}

/**
 * The events of a XEP-0227 document, in document order. XIncludes (host files in the main file,
 * user files in a host file) are followed where they stand, relative to the including file.
 * Throws a data error (65) for what is not XEP-0227.
 */
export async function* readXep0227(source: Xep0227Source, host = ''): AsyncGenerator<Xep0227Event> {
  const name = 'path' in source ? source.path : source.name
  const parser = new EntryParser(name, host)
  const drain = async function* (): AsyncGenerator<Xep0227Event> {
    for (const ev of parser.events.splice(0)) {
      if (ev.type !== 'include') yield ev
      else if (!('path' in source)) throw dataError(`${name}: includes ${ev.href}, which stdin cannot`)
      else yield* readXep0227({path: resolve(dirname(source.path), ev.href)}, ev.host)
    }
  }
  for await (const chunk of chunks(source)) {
    parser.write(chunk)
    if (parser.error) break
    yield* drain()
  }
  parser.finish()
  if (parser.error) {
    const e = parser.error
    throw e.name === 'XmppadmError' ? e : dataError(`${name}: not well-formed XML (${e.message})`)
  }
  yield* drain()
}

/** Puts items back into their containers under a <user/>, joining an item to the container before it. */
export class UserBuilder {
  readonly user: Element
  private open: Array<{key: string; el: Element}> = []

  constructor(attrs: Record<string, string | undefined>) {
    this.user = new Element('user', {xmlns: NS_PIE, ...attrs})
  }

  add(wrap: Wrapper[], el: Element): void {
    let parent = this.user
    for (let depth = 0; depth < wrap.length; depth++) {
      const w = wrap[depth]
      const key = `${w.name} ${w.ns} ${w.attrs.node ?? ''}`
      const open = this.open[depth]
      if (open?.key === key) {
        parent = open.el
        continue
      }
      // Inheriting its namespace where it is now would change it: say it.
      const attrs =
        w.attrs.xmlns || w.ns === (depth === 0 ? NS_PIE : wrap[depth - 1].ns)
          ? w.attrs
          : {...w.attrs, xmlns: w.ns}
      const made = new Element(w.name, attrs)
      parent.append(made)
      this.open.splice(depth, this.open.length, {key, el: made})
      parent = made
    }
    if (!wrap.length) this.open = []
    else this.open.length = wrap.length
    parent.append(el)
  }
}

/**
 * SCRAM data as XEP-0227 writes it (salt and keys base64 once) or as ejabberd's import_piefxis
 * and export_piefxis do (base64 of the base64 text ejabberd stores): told apart by the size of
 * the keys, which is the hash's.
 */
export type ScramEncoding = 'once' | 'twice'

const KEY_BYTES: Record<string, number> = {'SCRAM-SHA-1': 20, 'SCRAM-SHA-256': 32, 'SCRAM-SHA-512': 64}
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/
const SCRAM_PARTS = ['salt', 'server-key', 'stored-key']

/** The bytes of strict base64 text, or undefined. */
function unbase64(text: string): Buffer | undefined {
  const t = text.replace(/\s+/g, '')
  return t && BASE64.test(t) ? Buffer.from(t, 'base64') : undefined
}

export function scramEncoding(set: Element): ScramEncoding | undefined {
  const bytes = KEY_BYTES[set.attrs.mechanism ?? '']
  const key = set.getChildText('stored-key') ?? ''
  const once = unbase64(key)
  if (!bytes || !once) return undefined
  if (once.length === bytes) return 'once'
  const twice = unbase64(once.toString('latin1'))
  return twice?.length === bytes ? 'twice' : undefined
}

/** The same SCRAM data in the other encoding (a new element). */
export function reencodeScram(set: Element, to: ScramEncoding): Element {
  const out = new Element('scram-credentials', {...set.attrs})
  for (const child of set.getChildElements()) {
    const value = child.getText().trim()
    const converted = !SCRAM_PARTS.includes(child.name)
      ? value
      : to === 'twice'
        ? Buffer.from(value, 'latin1').toString('base64')
        : (unbase64(value)?.toString('latin1') ?? value)
    out.c(child.name, child.attrs).t(converted)
  }
  return out
}

/**
 * ejabberd before XEP-0227 1.1 wrote SCRAM data into the password attribute:
 * "scram:[sha256,|sha512,]StoredKey,ServerKey,Salt,IterationCount", each base64 of ejabberd's
 * stored base64 text. The same data as a <scram-credentials/> (base64 once), or undefined.
 */
export function scramFromPasswordAttr(password: string): Element | undefined {
  if (!password.startsWith('scram:')) return undefined
  const parts = password.slice('scram:'.length).split(',')
  const mechanism = {sha256: 'SCRAM-SHA-256', sha512: 'SCRAM-SHA-512'}[parts[0]] ?? 'SCRAM-SHA-1'
  if (parts.length === 5) parts.shift()
  if (parts.length !== 4) return undefined
  const [stored, server, salt, iterations] = parts
  const set = new Element('scram-credentials', {xmlns: NS_SCRAM, mechanism})
  set.c('iter-count').t(iterations)
  set.c('salt').t(salt)
  set.c('server-key').t(server)
  set.c('stored-key').t(stored)
  return scramEncoding(set) === 'twice' ? reencodeScram(set, 'once') : set
}
