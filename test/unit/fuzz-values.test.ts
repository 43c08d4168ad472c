// Issue 6: bad input never ends in anything but an XmppadmError with a message. Generated inputs
// (seeded: a failure names its input and can be replayed) for JIDs, IP ranges, durations and the
// data-form values xmppadm puts on the wire.
import net from 'node:net'
import {describe, expect, it} from 'vitest'
import {type DataForm, type FormField, buildSubmit, normaliseValues} from '../../src/protocol/dataform.js'
import {fieldsFromJson, parseFieldArgs} from '../../src/protocol/runner.js'
import {parseDuration, parseIpRange} from '../../src/ops/values.js'
import {bareJid, jidToString, parseAccountJid, parseJid} from '../../src/xmpp/jid.js'
import {
  NASTY,
  Rng,
  badXmlChar,
  nastyString,
  onlyXmppadmErrors,
  parseFragment,
  xmlWireProblem,
} from '../hostile/fuzz.js'

const SEED = Number(process.env.XMPPADM_FUZZ_SEED ?? 20261121)
const N = Number(process.env.XMPPADM_FUZZ_N ?? 3000)

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/

function jidLike(r: Rng): string {
  const part = () =>
    r.bool(0.6)
      ? nastyString(r, 12)
      : r.pick([
          'admin',
          'Alice',
          'ＡＤＭＩＮ',
          'i\u0307',
          'e\u0301',
          'x'.repeat(r.int(1000, 1030)),
          '€'.repeat(r.int(340, 342)),
          '',
        ])
  const domain = r.pick([
    'localhost',
    'example.org',
    'EXAMPLE.org.',
    '[::1]',
    '127.0.0.1',
    'ex..ample',
    '.example',
    'xn--bcher-kva.example',
    nastyString(r, 10),
  ])
  switch (r.int(0, 4)) {
    case 0:
      return nastyString(r, 40)
    case 1:
      return `${part()}@${domain}`
    case 2:
      return `${part()}@${domain}/${part()}`
    case 3:
      return `${domain}/${part()}`
    default:
      return `${part()}@${part()}@${domain}`
  }
}

describe('JIDs', () => {
  it(`${N} generated JIDs: a normalised JID or a data error; normalising twice changes nothing`, () => {
    const r = new Rng(SEED)
    for (let i = 0; i < N; i++) {
      const input = jidLike(r)
      const out = onlyXmppadmErrors(() => parseJid(input), input)
      if (!out.ok) {
        expect(out.error.exitCode, input).toBe(65)
        continue
      }
      const j = out.value
      for (const part of [j.local, j.domain, j.resource]) {
        if (part === undefined) continue
        expect(part, input).not.toBe('')
        expect(CONTROL.test(part), `control character accepted in ${JSON.stringify(input)}`).toBe(false)
        expect(Buffer.byteLength(part), input).toBeLessThanOrEqual(1023)
      }
      expect(j.local ?? '', input).not.toMatch(/["&'/:<>@\s]/)
      const again = parseJid(jidToString(j))
      expect(again, `not idempotent: ${JSON.stringify(input)}`).toEqual(j)
      // account JIDs: same rules plus a localpart and no resource
      const acct = onlyXmppadmErrors(() => parseAccountJid(input, 'localhost'), input)
      if (acct.ok) expect(acct.value).toBe(bareJid(parseJid(acct.value)))
    }
  })

  it('length limits count bytes, per part: 1023 accepted, 1024 refused', () => {
    expect(parseJid(`${'a'.repeat(1023)}@localhost`).local).toHaveLength(1023)
    expect(() => parseJid(`${'a'.repeat(1024)}@localhost`)).toThrow(/localpart is longer than 1023 bytes/)
    expect(parseJid(`${'€'.repeat(341)}@localhost`).local).toBe('€'.repeat(341)) // 1023 bytes
    expect(() => parseJid(`${'€'.repeat(342)}@localhost`)).toThrow(/longer than 1023 bytes/)
    expect(() => parseJid(`a@localhost/${'r'.repeat(1024)}`)).toThrow(/resource is longer/)
    expect(() => parseJid(`a@${'d'.repeat(1024)}`)).toThrow(/domain is longer/)
  })

  it('control characters, empty parts and forbidden localpart characters are refused, named', () => {
    for (const bad of [
      'a\u0000b@localhost',
      'a@local\u0007host',
      'a@localhost/r\u001b',
      'a\u007f@localhost',
      'a\u0085b@localhost',
      '@localhost',
      'a@',
      'a@localhost/',
      'a b@localhost',
      'a"b@localhost',
      "a'b@localhost",
      'a<b@localhost',
      'a>b@localhost',
      'a&b@localhost',
      'a:b@localhost',
      '   ',
    ]) {
      const out = onlyXmppadmErrors(() => parseJid(bad), bad)
      expect(out.ok, `${JSON.stringify(bad)} accepted`).toBe(false)
      if (!out.ok) expect(out.error.message.length).toBeGreaterThan(5)
    }
  })

  it('Unicode is normalised: NFC, and localparts lowercased (PRECIS UsernameCaseMapped)', () => {
    expect(parseJid('Cafe\u0301@Example.ORG').local).toBe('café')
    expect(parseJid('Cafe\u0301@Example.ORG').domain).toBe('example.org')
    expect(parseJid('user@localhost/Res').resource).toBe('Res') // resources keep their case
  })

  // RFC 7622 §3.3 / RFC 8265 §3.3: a localpart is a PRECIS IdentifierClass string.
  // IdentifierClass disallows unpaired surrogates (not even encodable as UTF-8), "Default_Ignorable"
  // format characters such as ZERO WIDTH SPACE, and the bidi embedding/override controls used to
  // make "admin" look like something else.
  it.each([
    ['an unpaired high surrogate', 'ad\ud800min@localhost'],
    ['an unpaired low surrogate', 'admin\udc00@localhost'],
    ['RIGHT-TO-LEFT OVERRIDE', 'ad\u202emin@localhost'],
    ['LEFT-TO-RIGHT EMBEDDING', '\u202aadmin@localhost'],
    ['ZERO WIDTH SPACE', 'ad\u200bmin@localhost'],
    ['WORD JOINER', 'ad\u2060min@localhost'],
    ['an unpaired surrogate in the resource', 'admin@localhost/r\ud800'],
    ['an unpaired surrogate in the domain', 'admin@local\udfffhost'],
  ])('PRECIS: a JID with %s is refused (data error)', (_what, input) => {
    const out = onlyXmppadmErrors(() => parseJid(input), input)
    expect(out.ok, `accepted as ${out.ok ? JSON.stringify(out.value) : ''}`).toBe(false)
  })

  it('PRECIS: fullwidth letters are width-mapped (RFC 8265 §3.3.1): ＡＤＭＩＮ is admin, or refused', () => {
    const out = onlyXmppadmErrors(() => parseJid('ＡＤＭＩＮ@localhost'), 'ＡＤＭＩＮ@localhost')
    if (out.ok) expect(out.value.local).toBe('admin')
  })
})

describe('IP addresses and ranges', () => {
  function ipLike(r: Rng): string {
    const v4 = () =>
      Array.from({length: r.bool(0.9) ? 4 : r.int(1, 6)}, () =>
        String(r.bool(0.9) ? r.int(0, 255) : r.int(256, 99999)).padStart(r.bool(0.1) ? 3 : 0, '0'),
      ).join('.')
    const v6 = () => {
      const groups = Array.from({length: r.int(1, 9)}, () => r.int(0, 0xffff).toString(16))
      if (r.bool(0.5)) groups.splice(r.int(0, groups.length), 0, '')
      let s = groups.join(':')
      if (r.bool(0.2)) s = `::ffff:${v4()}`
      if (r.bool(0.1)) s += `%${r.pick(['eth0', '1', '', 'x y'])}`
      return r.bool(0.3) ? s.toUpperCase() : s
    }
    const addr = r.pick([v4, v6, () => nastyString(r, 16)])()
    const prefix = r.pick([
      '',
      '',
      `/${r.int(0, 140)}`,
      `/0${r.int(0, 9)}`,
      '/',
      '/-1',
      '/1e1',
      `/${nastyString(r, 3)}`,
      '/8/8',
    ])
    return `${r.bool(0.05) ? ' ' : ''}${addr}${prefix}${r.bool(0.05) ? '\t' : ''}`
  }

  it(`${N} generated addresses: "address/prefix", or a data error; normalising twice changes nothing`, () => {
    const r = new Rng(SEED + 1)
    let accepted = 0
    for (let i = 0; i < N; i++) {
      const input = ipLike(r)
      const out = onlyXmppadmErrors(() => parseIpRange(input), input)
      if (!out.ok) {
        expect(out.error.exitCode, input).toBe(65)
        continue
      }
      accepted++
      const m = /^(.+)\/(\d{1,3})$/.exec(out.value)
      expect(m, `${input} → ${out.value}`).not.toBeNull()
      const family = net.isIP(m![1])
      expect(family, `${input} → ${out.value}`).not.toBe(0)
      expect(Number(m![2])).toBeLessThanOrEqual(family === 4 ? 32 : 128)
      expect(parseIpRange(out.value), `not idempotent: ${input}`).toBe(out.value)
    }
    expect(accepted).toBeGreaterThan(N / 10) // the generator does reach the valid space
  })

  it('known answers', () => {
    expect(parseIpRange('203.0.113.7')).toBe('203.0.113.7/32')
    expect(parseIpRange(' 198.51.100.0/24 ')).toBe('198.51.100.0/24')
    expect(parseIpRange('2001:DB8::/32')).toBe('2001:db8::/32')
    expect(parseIpRange('::/0')).toBe('::/0')
    for (const bad of [
      '1.2.3.4/33',
      '::1/129',
      '1.2.3',
      '01.2.3.4',
      '1.2.3.4/',
      '/8',
      '1.2.3.4/8/8',
      'localhost',
      '',
      '١.2.3.4',
      '1.2.3.4/-1',
      '1.2.3.4/1e1',
    ]) {
      const out = onlyXmppadmErrors(() => parseIpRange(bad), bad)
      expect(out.ok, `${JSON.stringify(bad)} accepted`).toBe(false)
    }
  })
})

describe('durations', () => {
  // systemd.time(7), case-sensitive: M is a month (30.44 days), m a minute.
  const UNITS: Record<string, bigint> = {
    s: 1n,
    sec: 1n,
    second: 1n,
    seconds: 1n,
    m: 60n,
    min: 60n,
    minute: 60n,
    minutes: 60n,
    h: 3600n,
    hr: 3600n,
    hour: 3600n,
    hours: 3600n,
    d: 86400n,
    day: 86400n,
    days: 86400n,
    w: 604800n,
    week: 604800n,
    weeks: 604800n,
    M: 2629800n,
    month: 2629800n,
    months: 2629800n,
    y: 31557600n,
    year: 31557600n,
    years: 31557600n,
  }

  it(`${N} generated durations: the exact seconds, or a data error whose message fits the problem`, () => {
    const r = new Rng(SEED + 2)
    for (let i = 0; i < N; i++) {
      let input: string
      let expected: bigint | undefined
      let unknownUnit = false
      if (r.bool(0.6)) {
        const parts = Array.from({length: r.int(1, 4)}, () => {
          const n = r.bool(0.1) ? String(r.int(0, 1e9) * 1e9) : String(r.int(0, 5000))
          let u = r.pick(Object.keys(UNITS))
          // Units are case-sensitive: an upper-cased one is another unit (m → M) or none at all.
          if (r.bool(0.1)) u = u.toUpperCase()
          if (!(u in UNITS)) unknownUnit = true
          return [n, u] as const
        })
        input = parts.map(([n, u]) => `${n}${r.bool(0.2) ? ' ' : ''}${u}`).join(r.bool(0.2) ? ' ' : '')
        expected = unknownUnit ? undefined : parts.reduce((sum, [n, u]) => sum + BigInt(n) * UNITS[u], 0n)
      } else {
        input = r.pick([
          nastyString(r, 10),
          `${r.int(-5, 5)}${r.pick(['s', 'x', '', 'd ', ' d', 'y', 'D', 'S'])}`,
          `${r.int(1, 9)}.${r.int(0, 9)}h`,
          `${'9'.repeat(r.int(15, 40))}w`,
          '\u0661d',
          '7d\n',
          '',
        ])
      }
      const out = onlyXmppadmErrors(() => parseDuration(input), input)
      if (out.ok) {
        expect(unknownUnit, `${JSON.stringify(input)} accepted with an unknown unit`).toBe(false)
        expect(Number.isSafeInteger(out.value) && out.value > 0, input).toBe(true)
        if (expected !== undefined) expect(BigInt(out.value), input).toBe(expected)
        continue
      }
      expect(out.error.exitCode, input).toBe(65)
      if (unknownUnit) expect(out.error.message, input).toMatch(/unknown unit/)
      if (expected !== undefined && expected > 0n) {
        // A positive but too large value is not "zero": the message must say what is wrong.
        expect(out.error.message, `${JSON.stringify(input)} (${expected} s)`).not.toMatch(/more than zero/)
      }
    }
  })

  it('known answers: systemd units, case-sensitive; anything else refused naming the units', () => {
    expect(parseDuration('1M')).toBe(2629800) // a month, not a minute
    expect(parseDuration('1m')).toBe(60)
    expect(parseDuration('90min')).toBe(5400)
    expect(parseDuration('1h 30min')).toBe(5400)
    expect(parseDuration('1d12h')).toBe(129600)
    expect(parseDuration('2 weeks')).toBe(1209600)
    expect(parseDuration('3months')).toBe(3 * 2629800)
    expect(parseDuration('1y')).toBe(31557600)
    expect(parseDuration('3650d')).toBe(3650 * 86400)
    for (const [bad, problem] of [
      ['7D', /unknown unit "D" \(did you mean "d"\?\)/],
      ['30S', /unknown unit "S"/],
      ['2H', /unknown unit "H"/],
      ['1Y', /unknown unit "Y"/],
      ['5mins', /unknown unit "mins"/],
      ['7', /not a duration/],
      ['1.5h', /not a duration/],
      ['0d', /more than zero/],
      ['200y', /too long/],
    ] as const) {
      const out = onlyXmppadmErrors(() => parseDuration(bad, '--older-than'), bad)
      expect(out.ok, bad).toBe(false)
      if (out.ok) continue
      expect(out.error.exitCode, bad).toBe(65)
      expect(out.error.message, bad).toMatch(problem)
      expect(out.error.message, bad).toContain('--older-than')
      if (/unit|duration/.test(out.error.message))
        expect(out.error.hint, bad).toMatch(/s\/sec, m\/min, h\/hour, d\/day, w\/week, M\/month, y\/year/)
    }
  })
})

describe('data-form values on the wire', () => {
  const TYPES = [
    'text-single',
    'text-private',
    'text-multi',
    'hidden',
    'jid-single',
    'list-single',
    'boolean',
  ] as const

  function values(r: Rng): Map<string, string[]> {
    const m = new Map<string, string[]>()
    for (let i = 0, n = r.int(1, 5); i < n; i++) {
      const name = r.bool(0.8)
        ? r.pick([
            'password',
            'accountjid',
            'x',
            'a"b',
            "a'b",
            'a<b>&c',
            'FORM_TYPE',
            '__proto__',
            'constructor',
          ])
        : nastyString(r, 8) || 'v'
      m.set(
        name,
        Array.from({length: r.int(1, 3)}, () => nastyString(r, 30)),
      )
    }
    return m
  }

  function readBack(xmlText: string): Map<string, string[]> {
    const [x] = parseFragment(xmlText)
    const out = new Map<string, string[]>()
    for (const f of x.getChildren('field'))
      out.set(f.attrs.var, [
        ...(out.get(f.attrs.var) ?? []),
        ...f.getChildren('value').map((v) => v.getText()),
      ])
    return out
  }

  it(`${N} generated submissions: well-formed XML reading back the same values, or a data error`, () => {
    const r = new Rng(SEED + 4)
    for (let i = 0; i < N; i++) {
      const given = values(r)
      const form: DataForm | undefined = r.bool(0.5)
        ? undefined
        : {
            type: 'form',
            instructions: [],
            items: [],
            fields: [...given.keys()].map((v): FormField => ({
              var: v,
              type: r.pick(TYPES),
              required: false,
              values: [],
              options: [],
            })),
          }
      const out = onlyXmppadmErrors(() => buildSubmit(form, given).toString(), {
        form: Boolean(form),
        given: [...given],
      })
      if (!out.ok) continue
      const problem = xmlWireProblem(out.value)
      expect(
        problem,
        `${JSON.stringify([...given])} → ${JSON.stringify(out.value).slice(0, 300)}`,
      ).toBeUndefined()
      expect(readBack(out.value), JSON.stringify([...given])).toEqual(given)
    }
  })

  it.each([
    ['a C0 control character', '\u0001'],
    ['NUL', '\u0000'],
    ['an unpaired surrogate', '\ud800'],
    ['the noncharacter U+FFFF', '\uffff'],
    ['a carriage return', 'pass\rword'],
  ])('a value with %s is refused before sending, or sent so that it reads back unchanged', (_what, bad) => {
    const given = new Map([['password', [`Pw-${bad}-1`]]])
    const out = onlyXmppadmErrors(() => buildSubmit(undefined, given).toString(), bad)
    if (!out.ok) {
      expect(out.error.exitCode).toBe(65)
      return
    }
    expect(xmlWireProblem(out.value), JSON.stringify(out.value)).toBeUndefined()
  })

  it('XML special characters in vars and values are escaped and read back exactly', () => {
    const given = new Map([
      ['a"b\'c<d>&e', ['<iq type="set">&amp;</iq>', ']]>\'"', '&#0;', '']],
      ['password', ['p&ss\'"<>w0rd']],
    ])
    const text = buildSubmit(undefined, given).toString()
    expect(xmlWireProblem(text)).toBeUndefined()
    expect(readBack(text)).toEqual(given)
  })

  it('field values from --field and --fields-file: any input is a map of strings or a data error', () => {
    const r = new Rng(SEED + 5)
    for (let i = 0; i < N / 3; i++) {
      const args = Array.from({length: r.int(0, 4)}, () =>
        r.bool(0.8) ? `${nastyString(r, 6)}=${nastyString(r, 10)}` : nastyString(r, 10),
      )
      const out = onlyXmppadmErrors(() => parseFieldArgs(args), args)
      if (out.ok)
        for (const [k, v] of out.value)
          expect(typeof k === 'string' && v.every((x) => typeof x === 'string')).toBe(true)
      const doc = r.pick<unknown>([
        null,
        [],
        'x',
        1,
        {a: 1, b: [true, 'x', null], c: {d: 1}},
        {[nastyString(r, 5)]: nastyString(r)},
        {a: [[1]]},
      ])
      const out2 = onlyXmppadmErrors(() => fieldsFromJson(doc, 'fields.json'), doc)
      if (out2.ok)
        for (const v of out2.value.values()) expect(v.every((x) => typeof x === 'string')).toBe(true)
    }
  })

  it('normaliseValues: any value for any field type is normalised, or refused naming the field', () => {
    const r = new Rng(SEED + 6)
    for (let i = 0; i < N / 3; i++) {
      const field: FormField = {
        var: r.pick(['f', 'accountjid', 'x<y']),
        type: r.pick([
          'boolean',
          'jid-single',
          'jid-multi',
          'list-single',
          'list-multi',
          'text-multi',
          'text-single',
          'text-private',
          'hidden',
          'fixed',
        ]),
        required: r.bool(),
        values: [],
        options: r.bool() ? [{value: 'a'}, {value: nastyString(r, 4)}] : [],
      }
      const vals = Array.from({length: r.int(0, 3)}, () =>
        r.bool(0.3) ? r.pick(['true', '0', 'a', 'admin@localhost', 'a\nb@localhost']) : nastyString(r, 12),
      )
      const out = onlyXmppadmErrors(() => normaliseValues(field, vals), {field, vals})
      if (!out.ok) {
        expect(out.error.exitCode).toBe(65)
        expect(out.error.message).toContain(field.var!)
      }
    }
  })
})

it('the generators reach the characters that matter', () => {
  const r = new Rng(SEED)
  const seen = new Set<string>()
  const all = Array.from({length: 2000}, () => nastyString(r, 30)).join('')
  for (const c of NASTY) if (all.includes(c)) seen.add(c)
  expect(seen.size).toBeGreaterThan(NASTY.length * 0.9)
  expect(badXmlChar('ok\ud83d\ude00')).toBeUndefined()
  expect(badXmlChar('x\ud800')).toBe('U+D800')
})
