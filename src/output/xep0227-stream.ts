// A XEP-0227 export written as its pages arrive, so that memory holds one page and not the export
// (a 50,000-message archive is 18 MB of XML). Each page's <user/> children are appended; the
// containers a section's pages split (its <archive/>, <query/>, <items node=…/>) are joined again,
// as CONTRACT.md 7 says: same name, namespace and node. The text comes out per page, for the
// caller to write: as the XML document, or as the "elements" array of the JSON export (one JSON
// string per top-level element, written piecewise).
import {type Element, escapeXML, xml} from '@xmpp/xml'
import type {ExportSink, UserExport} from '../ops/export-user.js'
import {XMPPADM_NS} from '../ops/nodes.js'
import {isRoster, rosterItems} from '../protocol/roster.js'
import {CONTAINERS, INNER_CONTAINERS, NS_PIE} from '../protocol/xep0227.js'
import {parseJid} from '../xmpp/jid.js'

function startTag(el: Element): string {
  const attrs = Object.entries(el.attrs)
    .filter(([, v]) => v !== undefined && v !== null)
    .map(([k, v]) => ` ${k}="${escapeXML(String(v))}"`)
    .join('')
  return `<${el.name}${attrs}>`
}

/** Identity of a container for joining: name, namespace (inherited) and node. */
const identity = (el: Element, ns: string) => `${el.name} ${ns} ${el.attrs.node ?? ''}`

export type Xep0227Format = 'xml' | 'json'

export class Xep0227Stream {
  /** Open containers, outermost first: identity and closing tag. */
  private open: Array<{id: string; end: string}> = []
  private tops = 0

  /** `skip`: top-level elements left out (the JSON export has no <missing/> elements). */
  constructor(
    readonly format: Xep0227Format,
    private readonly skip: (el: Element) => boolean = () => false,
  ) {}

  /** XML: the prolog and the start of <server-data/>, <host/> and <user/>. */
  header(domain: string, user: Element): string {
    if (this.format === 'json') return ''
    return (
      `<?xml version='1.0' encoding='UTF-8'?>\n` +
      `<server-data xmlns="${NS_PIE}"><host jid="${escapeXML(domain)}">${startTag(user)}`
    )
  }

  /** The text for one page's <user/> element (its children). */
  page(user: Element): string {
    let out = ''
    for (const child of user.getChildElements()) {
      const ns = child.attrs.xmlns ?? NS_PIE
      if (CONTAINERS.has(`${child.name} ${ns}`)) {
        out += this.enter(0, identity(child, ns), child)
        for (const inner of child.getChildElements()) {
          const innerNs = inner.attrs.xmlns ?? ns
          if (INNER_CONTAINERS.has(`${inner.name} ${innerNs}`)) {
            out += this.enter(1, identity(inner, innerNs), inner)
            for (const item of inner.getChildElements()) out += this.text(item.toString())
          } else out += this.closeTo(1) + this.text(inner.toString())
        }
      } else if (!this.skip(child)) {
        out += this.closeTo(0) + this.beginTop() + this.text(child.toString()) + this.endTop()
      }
    }
    return out
  }

  /** A section ended: its containers close (the next section starts its own). */
  endSection(): string {
    return this.closeTo(0)
  }

  /** XML: the end of the document. */
  footer(): string {
    const close = this.closeTo(0)
    return this.format === 'json' ? close : `${close}</user></host></server-data>\n`
  }

  /** Continues the container open at `depth` if it is the same one, else opens this one. */
  private enter(depth: number, id: string, el: Element): string {
    if (this.open[depth]?.id === id) return '' // the previous page's, going on
    let out = this.closeTo(depth)
    if (depth === 0) out += this.beginTop()
    this.open.push({id, end: `</${el.name}>`})
    return out + this.text(startTag(el))
  }

  private closeTo(depth: number): string {
    let out = ''
    while (this.open.length > depth) {
      out += this.text(this.open.pop()!.end)
      if (this.open.length === 0) out += this.endTop()
    }
    return out
  }

  // JSON: every top-level element is one string of the "elements" array, written in pieces.
  private beginTop(): string {
    if (this.format === 'xml') return ''
    return `${this.tops++ ? ',' : ''}\n    "`
  }

  private endTop(): string {
    return this.format === 'xml' ? '' : '"'
  }

  private text(xmlText: string): string {
    return this.format === 'xml' ? xmlText : JSON.stringify(xmlText).slice(1, -1)
  }
}

/**
 * The export document: the pages of an export (ExportSink) written out as they come, as XEP-0227
 * XML or as the JSON export (format xmppadm-export/1: the same elements as XML strings, the roster
 * parsed, what is missing and the counts), through `out`.
 */
export class ExportDocument implements ExportSink {
  private readonly stream: Xep0227Stream
  private started = false
  private readonly roster: Array<{jid: string; name: string | null; subscription: string; groups: string[]}> =
    []

  /** Bytes written so far. */
  bytes = 0

  /**
   * `as`: the account the file is for on another server (export-user --as): its <host jid/> and
   * <user name/>, where the servers' own importers take the account from.
   */
  constructor(
    readonly format: Xep0227Format,
    private readonly jid: string,
    private readonly out: (text: string) => void | Promise<void>,
    private readonly as?: string,
  ) {
    this.stream = new Xep0227Stream(format, (el) => format === 'json' && isMissing(el))
  }

  async page(user: Element): Promise<void> {
    if (!this.started) await this.begin(user)
    if (this.format === 'json')
      for (const el of user.getChildElements().filter(isRoster))
        // as exported since format 1: without "ask"
        for (const {jid, name, subscription, groups} of rosterItems(el))
          this.roster.push({jid, name, subscription, groups})
    await this.emit(this.stream.page(user))
  }

  async endSection(): Promise<void> {
    await this.emit(this.stream.endSection())
  }

  /** The end of the document, with what only the end knows. */
  async finish(exp: Omit<UserExport, 'jid' | 'via'>): Promise<void> {
    if (!this.started) await this.begin(xml('user', {xmlns: NS_PIE}))
    if (this.format === 'xml') return this.emit(this.stream.footer())
    const rest = JSON.stringify(
      {complete: exp.complete, missing: exp.missing, counts: exp.counts, roster: this.roster},
      null,
      2,
    )
    await this.emit(`${this.stream.footer()}\n  ],\n${rest.slice(2)}\n`)
  }

  private async begin(user: Element): Promise<void> {
    this.started = true
    const {local, domain} = parseJid(this.as ?? this.jid)
    user.attrs.name = local!
    if (this.format === 'xml') return this.emit(this.stream.header(domain, user))
    const head = JSON.stringify(
      {
        format: 'xmppadm-export/1',
        jid: this.jid,
        ...(this.as ? {as: this.as} : {}),
        exportedAt: new Date().toISOString(),
      },
      null,
      2,
    )
    await this.emit(`${head.slice(0, -2)},\n  "elements": [`)
  }

  private async emit(text: string): Promise<void> {
    if (!text) return
    this.bytes += Buffer.byteLength(text)
    await this.out(text)
  }
}

const isMissing = (el: Element) => el.name === 'missing' && el.attrs.xmlns === XMPPADM_NS
