// Issue 6: whatever a server sends, the data-form and command-result parsers end in a result or an
// XmppadmError, never another exception. Seeds: every stanza in test/fixtures/fuzz/ (recorded from
// Prosody 13, ejabberd 24.12 and ejabberd 26.07, see /work/shared/research/captures), mutated
// structurally and textually with a seeded generator.
import {xml} from '@xmpp/xml'
import {describe, expect, it} from 'vitest'
import {XmppadmError, exitCodeOf} from '../../src/errors.js'
import {XmppError} from '../../src/xmpp/errors.js'
import {commandResponseJson, renderCommandResponse} from '../../src/output/render-command.js'
import {type CommandResponse, commandFailure, parseCommandResponse} from '../../src/protocol/adhoc.js'
import {fillForm} from '../../src/protocol/runner.js'
import {formRows, formToJson, formType, formValues, parseForm} from '../../src/protocol/dataform.js'
import {StanzaError, parseStanzaError} from '../../src/xmpp/stanza-error.js'
import {traceElement} from '../../src/xmpp/trace.js'
import {
  DOCUMENTED_EXIT_CODES,
  Rng,
  clone,
  mangleText,
  mutate,
  nastyString,
  onlyXmppadmErrors,
  parseFragment,
  seedStanzas,
} from '../hostile/fuzz.js'
import type {Element} from '@xmpp/xml'

const SEED = Number(process.env.XMPPADM_FUZZ_SEED ?? 20261121)
const N = Number(process.env.XMPPADM_FUZZ_N ?? 3000)
const seeds = seedStanzas()

function findAll(el: Element, name: string, out: Element[] = []): Element[] {
  if (el.name === name) out.push(el)
  for (const c of el.children) if (typeof c !== 'string') findAll(c, name, out)
  return out
}

/** All xmppadm does with a stanza it receives; each step may refuse with a known error only. */
function exercise(stanza: Element): CommandResponse | undefined {
  const info = onlyXmppadmErrors(() => parseStanzaError(stanza), stanza.toString())
  if (info.ok) {
    expect(typeof info.value.condition).toBe('string')
    const err = new StanzaError(info.value, 'node')
    expect(DOCUMENTED_EXIT_CODES.has(exitCodeOf(err))).toBe(true)
    expect(err.message.length).toBeGreaterThan(0)
  }
  for (const x of findAll(stanza, 'x')) {
    const form = onlyXmppadmErrors(() => parseForm(x), x.toString())
    if (!form.ok) continue
    onlyXmppadmErrors(
      () => [formType(form.value), formValues(form.value), formRows(form.value), formToJson(form.value)],
      x.toString(),
    )
  }
  const resp = onlyXmppadmErrors(() => parseCommandResponse(stanza, 'node'), stanza.toString())
  if (!resp.ok) return undefined
  const failure = onlyXmppadmErrors(() => commandFailure(resp.value), stanza.toString())
  if (failure.ok && failure.value) {
    expect(failure.value).toBeInstanceOf(XmppError)
    expect(failure.value.message.trim().length).toBeGreaterThan(0)
    const code = exitCodeOf(failure.value)
    expect(DOCUMENTED_EXIT_CODES.has(code) && code !== 1).toBe(true)
  }
  onlyXmppadmErrors(() => JSON.stringify(commandResponseJson(resp.value)), stanza.toString())
  return resp.value
}

describe('parsers on recorded and mutated server stanzas', () => {
  it('the seeds load: commands, forms, errors from all three servers', () => {
    expect(seeds.length).toBeGreaterThan(100)
    expect(seeds.some((s) => s.getChild('command')?.getChild('x'))).toBe(true)
    expect(seeds.some((s) => s.attrs.type === 'error')).toBe(true)
    for (const s of seeds) exercise(s)
  })

  it(`${N} structural mutations: only XmppadmErrors`, () => {
    const r = new Rng(SEED)
    for (let i = 0; i < N; i++) exercise(mutate(r, r.pick(seeds)))
  })

  it(`${N} textual mutations that still parse: only XmppadmErrors`, () => {
    const r = new Rng(SEED + 1)
    const texts = seeds.map((s) => s.toString())
    let parsed = 0
    for (let i = 0; i < N; i++) {
      let els: Element[]
      try {
        els = parseFragment(mangleText(r, r.pick(texts)))
      } catch {
        continue // the connection turns this into "malformed XML" (exit 76): tested in hardening-hostile
      }
      parsed++
      for (const el of els) exercise(el)
    }
    expect(parsed).toBeGreaterThan(N / 10)
  })

  it('generated forms: every named field survives into the values and the JSON, whatever its var', () => {
    const r = new Rng(SEED + 2)
    for (let i = 0; i < N / 3; i++) {
      const vars = Array.from({length: r.int(1, 6)}, () =>
        r.pick([
          '__proto__',
          'constructor',
          'toString',
          'hasOwnProperty',
          'valueOf',
          'a',
          'b',
          nastyString(r, 6) || 'c',
        ]),
      )
      const unique = [...new Set(vars)].filter((v) => v !== 'FORM_TYPE')
      const x = xml(
        'x',
        {xmlns: 'jabber:x:data', type: 'result'},
        ...unique.map((v) =>
          xml(
            'field',
            {var: v, type: r.pick(['text-single', 'list-multi', 'boolean'])},
            xml('value', {}, 'v1'),
            xml('value', {}, 'v2'),
          ),
        ),
      )
      const form = parseForm(x)
      const values = formValues(form)
      for (const v of unique)
        expect(
          Object.prototype.hasOwnProperty.call(values, v),
          `field ${JSON.stringify(v)} lost from formValues`,
        ).toBe(true)
      const json = JSON.parse(JSON.stringify(formToJson(form)))
      for (const v of unique)
        expect(Object.keys(json.values), `field ${JSON.stringify(v)} lost from --json`).toContain(v)
    }
  })

  it('the --debug trace of any stanza: no exception, no text-private value', () => {
    const r = new Rng(SEED + 3)
    for (let i = 0; i < N / 3; i++) {
      const s = mutate(r, r.pick(seeds))
      const secret = `Priv-${i}-${r.int(1e6, 9e6)}`
      // plant a text-private field somewhere in a data form of the stanza
      const forms = findAll(s, 'x')
      const host = forms.length ? r.pick(forms) : s
      host.children.push(
        xml('field', {var: r.pick(['password', 'pin', 'x']), type: 'text-private'}, xml('value', {}, secret)),
      )
      let text = ''
      expect(() => (text = traceElement(s))).not.toThrow()
      expect(text, 'text-private value in the trace').not.toContain(secret)
    }
  })

  // The connection refuses XML nested deeper than 1000 levels (hardening-hostile covers 50 000 on
  // the wire), so the layers above see at most that.
  it('a payload nested 1000 levels (the most let through): parse, JSON, text, trace end well', async () => {
    let deep = xml('a', {}, 'x')
    for (let i = 0; i < 995; i++) deep = xml('a', {}, deep)
    const iq = xml(
      'iq',
      {type: 'result', id: '1'},
      xml('command', {xmlns: 'http://jabber.org/protocol/commands', node: 'n', status: 'completed'}, deep),
    )
    const resp = onlyXmppadmErrors(() => parseCommandResponse(iq, 'n'), 'deep')
    onlyXmppadmErrors(() => traceElement(iq), 'deep (trace)')
    if (!resp.ok) return
    onlyXmppadmErrors(() => JSON.stringify(commandResponseJson(resp.value)), 'deep (--json)')
    try {
      await renderCommandResponse(resp.value, false)
    } catch (error) {
      expect(error, 'deep (text output)').toBeInstanceOf(XmppadmError)
    }
  })

  it('rendering results of mutated commands (text output): no exception', async () => {
    const r = new Rng(SEED + 4)
    const commands = seeds.filter((s) => s.getChild('command', 'http://jabber.org/protocol/commands'))
    for (let i = 0; i < 300; i++) {
      const resp = exercise(mutate(r, r.pick(commands)))
      if (resp) await renderCommandResponse(resp, false)
    }
  })

  it('filling mutated forms (as command run does): values or an XmppadmError', async () => {
    const r = new Rng(SEED + 5)
    const withForms = seeds.filter((s) => s.getChild('command')?.getChild('x'))
    for (let i = 0; i < 500; i++) {
      const stanza = mutate(r, r.pick(withForms))
      const resp = exercise(stanza)
      if (!resp?.form) continue
      const given = new Map<string, string[]>(
        resp.form.fields
          .filter((f) => f.var && r.bool())
          .map((f) => [f.var!, [r.pick(['1', 'true', 'admin@localhost', nastyString(r, 8)])]]),
      )
      try {
        await fillForm(resp.form, given)
      } catch (error) {
        if (!(error instanceof XmppadmError))
          throw new Error(`fillForm: ${(error as Error).message} on ${stanza.toString().slice(0, 300)}`)
      }
    }
  })

  it('a clone is a faithful copy (sanity of the mutator)', () => {
    for (const s of seeds.slice(0, 20)) expect(clone(s).toString()).toBe(s.toString())
  })
})
