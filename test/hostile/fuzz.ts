// Seeded input generators for the fuzz unit tests (no dependencies): a PRNG, nasty strings, XML
// checks, and stanza seeds and mutations built from recorded server traffic (test/fixtures/fuzz/,
// copied from the research captures of Prosody 13, ejabberd 24.12 and ejabberd 26.07).
import {readFileSync, readdirSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {Element, Parser} from '@xmpp/xml'
import {XmppadmError, exitCodeTable, knownError} from '../../src/errors.js'

/** mulberry32: small, fast, good enough for test inputs; the seed makes every failure replayable. */
export class Rng {
  private s: number
  constructor(readonly seed: number) {
    this.s = seed >>> 0
  }

  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0
    let t = this.s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }

  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1))
  }

  bool(p = 0.5): boolean {
    return this.next() < p
  }

  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)]
  }
}

/** Characters that break naive code: XML specials, controls, odd whitespace, surrogates, bidi, wide forms. */
export const NASTY = [
  '<',
  '>',
  '&',
  "'",
  '"',
  ']]>',
  '&amp;',
  '&#0;',
  '&lt;',
  '<!--',
  '<![CDATA[',
  '/',
  '@',
  ':',
  ',',
  '=',
  '\\',
  '%',
  '[',
  ']',
  ' ',
  '\t',
  '\n',
  '\r',
  '\r\n',
  '\u00a0',
  '\u2028',
  '\u3000',
  '\u0000',
  '\u0001',
  '\u0008',
  '\u000b',
  '\u001f',
  '\u007f',
  '\u0085',
  '\u009f',
  '\ud83d\ude00',
  '\ud800',
  '\udfff',
  '\ufffe',
  '\uffff',
  '\ufdd0',
  '\ufeff',
  '\u200b',
  '\u200c',
  '\u200d',
  '\u2060',
  '\u202a',
  '\u202e',
  '\u2066',
  '\u2069',
  '\u0301',
  '\u0130',
  '\u00df',
  '\u03a3',
  '\uff21',
  '\uff41',
  '\u2126',
  '\u212a',
  '\ufb01',
  'é',
  'e\u0301',
  'ß',
  'Σ',
  'ж',
  '中',
  'ع',
  '\u0661',
  'ǅ',
  'ﬁ',
  '𝔄',
]
const PLAIN = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.'

/** A random string: mostly plain with nasty pieces, sometimes long. */
export function nastyString(r: Rng, maxLen = 24): string {
  const n = r.bool(0.05) ? r.int(200, 1200) : r.int(0, maxLen)
  let s = ''
  for (let i = 0; i < n; i++) s += r.bool(0.25) ? r.pick(NASTY) : PLAIN[r.int(0, PLAIN.length - 1)]
  return s
}

export const DOCUMENTED_EXIT_CODES = new Set(exitCodeTable.map(([code]) => code))

/**
 * Runs fn; a returned value passes, a thrown XmppadmError (or a failure on the wire, as the CLI's
 * edge reports it) with a message and a documented exit code passes (returned as `refused`);
 * anything else is a failure with the input that caused it.
 */
export function onlyXmppadmErrors<T>(
  fn: () => T,
  input: unknown,
): {ok: true; value: T} | {ok: false; error: XmppadmError} {
  try {
    return {ok: true, value: fn()}
  } catch (thrown) {
    const error = knownError(thrown)
    if (!error) {
      throw new Error(
        `non-XmppadmError for input ${JSON.stringify(input)?.slice(0, 400)}: ` +
          `${(thrown as Error)?.name}: ${(thrown as Error)?.message}`,
      )
    }
    if (!error.message.trim())
      throw new Error(`refusal without a message for input ${JSON.stringify(input)?.slice(0, 400)}`)
    if (!DOCUMENTED_EXIT_CODES.has(error.exitCode) || error.exitCode === 1)
      throw new Error(`exit code ${error.exitCode} for input ${JSON.stringify(input)?.slice(0, 400)}`)
    return {ok: false, error}
  }
}

/** XML 1.0 Char production (lone surrogates count as not allowed). */
export function badXmlChar(s: string): string | undefined {
  for (const ch of s) {
    const cp = ch.codePointAt(0)!
    const ok =
      cp === 0x9 ||
      cp === 0xa ||
      cp === 0xd ||
      (cp >= 0x20 && cp <= 0xd7ff) ||
      (cp >= 0xe000 && cp <= 0xfffd) ||
      (cp >= 0x10000 && cp <= 0x10ffff)
    if (!ok) return `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`
  }
  return undefined
}

/**
 * What a conforming XML parser would object to, or silently change, in serialised output: characters
 * outside the Char production, a raw CR (end-of-line handling turns it into LF), and a raw TAB/LF
 * inside an attribute value (attribute-value normalisation turns it into a space).
 */
export function xmlWireProblem(serialised: string): string | undefined {
  const bad = badXmlChar(serialised)
  if (bad) return `character ${bad} is not allowed in XML`
  if (serialised.includes('\r')) return 'a raw CR is read back as LF'
  for (const m of serialised.matchAll(/="([^"]*)"/g))
    if (/[\t\n]/.test(m[1])) return 'a raw TAB or LF in an attribute is read back as a space'
  return undefined
}

/** Parses one XML fragment (several top-level elements allowed) with the same parser xmppadm uses. */
export function parseFragment(text: string): Element[] {
  const out: Element[] = []
  const p = new Parser()
  let error: Error | undefined
  p.on('element', (el) => out.push(el))
  p.on('error', (e) => {
    error ??= e
  })
  p.write(`<fuzz-root>${text}</fuzz-root>`)
  if (error) throw error
  return out
}

const FIXTURES = new URL('../fixtures/fuzz/', import.meta.url)

/** Every stanza recorded in test/fixtures/fuzz (both directions), as sent and without pretty-printing. */
export function seedStanzas(): Element[] {
  const out: Element[] = []
  for (const file of readdirSync(fileURLToPath(FIXTURES))
    .filter((f) => f.endsWith('.xml'))
    .sort()) {
    const text = readFileSync(fileURLToPath(new URL(file, FIXTURES)), 'utf8')
    for (const chunk of text.split(/<!--[\s\S]*?-->/)) {
      if (!chunk.trim()) continue
      for (const variant of [chunk, chunk.replace(/>\s+/g, '>').replace(/\s+</g, '<')]) {
        try {
          out.push(...parseFragment(variant))
        } catch {
          // a chunk that is not a complete element (stream headers): not a seed
        }
      }
    }
  }
  return out
}

export function clone(el: Element): Element {
  const c = new Element(el.name, {...el.attrs})
  for (const child of el.children) c.children.push(typeof child === 'string' ? child : clone(child))
  for (const child of c.children) if (typeof child !== 'string') child.parent = c
  return c
}

function allElements(el: Element, out: Element[] = []): Element[] {
  out.push(el)
  for (const c of el.children) if (typeof c !== 'string') allElements(c, out)
  return out
}

const NAMES = [
  'command',
  'x',
  'field',
  'value',
  'option',
  'reported',
  'item',
  'actions',
  'next',
  'prev',
  'complete',
  'note',
  'error',
  'text',
  'required',
  'desc',
  'title',
  'instructions',
  'iq',
  'query',
  'bad-request',
  'conflict',
  'item-not-found',
  'bad-sessionid',
]
const ATTRS = [
  'type',
  'status',
  'var',
  'xmlns',
  'node',
  'sessionid',
  'execute',
  'label',
  'action',
  'id',
  'code',
]
const VALUES = [
  'executing',
  'completed',
  'canceled',
  'result',
  'form',
  'submit',
  'error',
  'cancel',
  'wait',
  'modify',
  'auth',
  'boolean',
  'hidden',
  'fixed',
  'jid-multi',
  'list-single',
  'text-private',
  'text-multi',
  'next',
  'prev',
  'complete',
  'execute',
  'info',
  'warn',
  'FORM_TYPE',
  'error',
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  'http://jabber.org/protocol/commands',
  'jabber:x:data',
  'urn:ietf:params:xml:ns:xmpp-stanzas',
  'Error 409',
  'Error 403',
  'Error 500',
  'Error 404',
  'Error abc',
  '',
]

/** One random structural change to a copy of `seed`. */
export function mutate(r: Rng, seed: Element): Element {
  const root = clone(seed)
  const rounds = r.int(1, 4)
  for (let i = 0; i < rounds; i++) {
    const nodes = allElements(root)
    const el = r.pick(nodes)
    switch (r.int(0, 11)) {
      case 0: // drop a child
        if (el.children.length) el.children.splice(r.int(0, el.children.length - 1), 1)
        break
      case 1: {
        // duplicate a child
        const kids = el.getChildElements()
        if (kids.length) {
          const c = clone(r.pick(kids))
          c.parent = el
          el.children.push(c)
        }
        break
      }
      case 2: // change an attribute
        el.attrs[r.pick(ATTRS)] = r.bool(0.7) ? r.pick(VALUES) : nastyString(r)
        break
      case 3: // remove an attribute
        delete el.attrs[r.pick(Object.keys(el.attrs).length ? Object.keys(el.attrs) : ATTRS)]
        break
      case 4: // rename the element
        el.name = r.pick(NAMES)
        break
      case 5: // text where there was structure
        el.children.splice(0, el.children.length, nastyString(r))
        break
      case 6: {
        // a new child element
        const c = new Element(r.pick(NAMES), r.bool() ? {[r.pick(ATTRS)]: r.pick(VALUES)} : {})
        if (r.bool()) c.children.push(nastyString(r))
        c.parent = el
        el.children.splice(r.int(0, el.children.length), 0, c)
        break
      }
      case 7: // empty it
        el.children.length = 0
        break
      case 8: {
        // move an element somewhere else
        const other = r.pick(nodes)
        if (other !== el && !allElements(el).includes(other) && other.parent) {
          other.parent.children.splice(other.parent.children.indexOf(other), 1)
          other.parent = el
          el.children.push(other)
        }
        break
      }
      case 9: {
        // many copies (big forms)
        const kids = el.getChildElements()
        if (kids.length) {
          const c = r.pick(kids)
          for (let k = 0; k < r.int(10, 200); k++) {
            const d = clone(c)
            d.parent = el
            el.children.push(d)
          }
        }
        break
      }
      case 10: {
        // nest deeper
        const wrapper = new Element(r.pick(NAMES), {})
        wrapper.children = el.children
        for (const c of wrapper.children) if (typeof c !== 'string') c.parent = wrapper
        wrapper.parent = el
        el.children = [wrapper]
        break
      }
      default: // a nasty attribute name
        el.attrs[nastyString(r, 6) || 'x'] = nastyString(r)
    }
  }
  return root
}

/** Text-level damage to serialised XML: the parser either rejects it or gives a strange tree. */
export function mangleText(r: Rng, text: string): string {
  let s = text
  for (let i = 0, n = r.int(1, 3); i < n; i++) {
    const at = r.int(0, s.length)
    switch (r.int(0, 3)) {
      case 0:
        s = s.slice(0, at) + s.slice(at + r.int(1, 20))
        break
      case 1:
        s = s.slice(0, at) + r.pick(NASTY) + s.slice(at)
        break
      case 2:
        s = s.slice(0, at) + s.slice(r.int(0, s.length), r.int(0, s.length)) + s.slice(at)
        break
      default:
        s = s.slice(0, at) + r.pick(['<', '>', '/>', '</x>', '<x>', '"', "'", '&', '=']) + s.slice(at)
    }
  }
  return s
}
