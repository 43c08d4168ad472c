// @xmpp/xml ships no type declarations; this covers the part of its (ltx) API we use.
declare module '@xmpp/xml' {
  export class Element {
    constructor(name: string, attrs?: Record<string, string | undefined>)
    name: string
    attrs: Record<string, string>
    children: Array<Element | string>
    parent: Element | null
    getName(): string
    getNS(): string | undefined
    is(name: string, xmlns?: string): boolean
    getChild(name: string, xmlns?: string): Element | undefined
    getChildren(name: string, xmlns?: string): Element[]
    getChildElements(): Element[]
    getChildText(name: string, xmlns?: string): string | null
    getText(): string
    text(): string
    attr(name: string): string | undefined
    c(name: string, attrs?: Record<string, string | undefined>): Element
    t(text: string): Element
    up(): Element
    root(): Element
    cnode<T extends Element>(child: T): T
    append(...nodes: Array<Element | string>): this
    toString(): string
  }
  export class Parser {
    constructor()
    on(event: 'start', fn: (el: Element) => void): this
    on(event: 'element', fn: (el: Element) => void): this
    on(event: 'end', fn: (el: Element) => void): this
    on(event: 'error', fn: (err: Error) => void): this
    write(data: string): void
    /** What the SAX parser calls (a subclass may build something else than the whole tree). */
    protected onStartElement(name: string, attrs: Record<string, string>): void
    protected onEndElement(name: string): void
    protected onText(text: string): void
  }
  export function xml(
    name: string,
    attrs?: Record<string, string | undefined> | null,
    ...children: Array<Element | string | undefined | null | false>
  ): Element
  export function escapeXML(s: string): string
  export function escapeXMLText(s: string): string
  export default xml
}
