// A XEP-0227 export written as its pages arrive, so that memory holds one page and not the export
// (a 50,000-message archive is 18 MB of XML). Each page's <user/> children are appended; the
// containers a section's pages split (its <archive/>, <query/>, <items node=…/>) are joined again,
// as CONTRACT.md 7 says: same name, namespace and node. The text comes out per page, for the
// caller to write: as the XML document, or as the "elements" array of the JSON export (one JSON
// string per top-level element, written piecewise).
import {type Element, escapeXML} from '@xmpp/xml'

export const NS_PIE = 'urn:xmpp:pie:0'

/** Elements directly in <user/> that hold a section's items: "name namespace". */
const CONTAINERS = new Set([
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
const INNER_CONTAINERS = new Set(['items http://jabber.org/protocol/pubsub'])

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

  constructor(readonly format: Xep0227Format) {}

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
      } else {
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
