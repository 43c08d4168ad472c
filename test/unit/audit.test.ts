// Issue 12: the verdicts of policy check, from what probes saw (no servers here; the real servers
// and the scripted hostile ones are in test/integration/policy-check*.test.ts).
import {X509Certificate} from 'node:crypto'
import {xml} from '@xmpp/xml'
import {beforeAll, describe, expect, it} from 'vitest'
import type {CheckResult} from '../../src/audit/check.js'
import {judgeContacts, judgeDataPolicy} from '../../src/audit/inside.js'
import {ProbeFailure} from '../../src/audit/probe.js'
import {judgeRegistration} from '../../src/audit/registration.js'
import {nagiosHostsLine, nagiosLine, nagiosState, summarise} from '../../src/audit/report.js'
import {judgeOffer, judgeScram, saslOffer} from '../../src/audit/sasl.js'
import {type AuditSettings, DEFAULT_AUDIT} from '../../src/audit/settings.js'
import {
  type VersionOutcome,
  judgeBeforeTls,
  judgeCertificate,
  judgeVersions,
  tlsFailureText,
} from '../../src/audit/tls.js'
import {parseForm} from '../../src/protocol/dataform.js'
import {formatDuration} from '../../src/ops/values.js'
import {type HostilePki, createHostilePki} from '../hostile/pki.js'

const T = 'c2s 127.0.0.1:5222 (STARTTLS)'
const settings = (over: Partial<AuditSettings> = {}): AuditSettings => ({...DEFAULT_AUDIT, ...over})
const versions = (...results: VersionOutcome['result'][]): VersionOutcome[] =>
  (['1.0', '1.1', '1.2', '1.3'] as const).map((version, i) => ({version, result: results[i]}))

describe('TLS versions', () => {
  it('1.0 and 1.1 refused, 1.2 or 1.3 accepted: kept; the evidence names each version', () => {
    const r = judgeVersions(T, versions('refused', 'refused', 'accepted', 'accepted'), '1.2')
    expect(r).toMatchObject({promise: 'tls', check: 'tls-versions', verdict: 'pass'})
    expect(r.evidence).toBe('TLS 1.0 refused, TLS 1.1 refused, TLS 1.2 accepted, TLS 1.3 accepted')
  })

  it('an old version accepted is broken, with how to refuse it', () => {
    const r = judgeVersions(T, versions('accepted', 'refused', 'accepted', 'accepted'), '1.2')
    expect(r.verdict).toBe('fail')
    expect(r.evidence).toMatch(/^TLS 1\.0 accepted/)
    expect(r.hint).toMatch(/tlsv1_2\+/)
  })

  it('tls_min = 1.3: TLS 1.2 accepted is broken', () => {
    expect(judgeVersions(T, versions('refused', 'refused', 'accepted', 'accepted'), '1.3').verdict).toBe(
      'fail',
    )
    expect(judgeVersions(T, versions('refused', 'refused', 'refused', 'accepted'), '1.3').verdict).toBe(
      'pass',
    )
  })

  it('an old version this machine cannot offer: cannot tell (never a pass)', () => {
    const o = versions('unknown', 'refused', 'accepted', 'accepted')
    o[0].detail = "this machine's OpenSSL cannot offer TLS 1.0"
    const r = judgeVersions(T, o, '1.2')
    expect(r.verdict).toBe('cannot-tell')
    expect(r.evidence).toMatch(/TLS 1\.0 not tried \(this machine's OpenSSL cannot offer TLS 1\.0\)/)
  })

  it('no version at or above the minimum accepted: broken', () => {
    expect(judgeVersions(T, versions('refused', 'refused', 'refused', 'refused'), '1.2').verdict).toBe('fail')
  })

  it('a failure in a few words: the alert, or the connection closed', () => {
    const f = (reason: string, tlsCode?: string) =>
      tlsFailureText(new ProbeFailure('tls', {message: 'x', reason, details: {tlsCode}}))
    expect(f('tls-version', 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION')).toBe('alert: protocol version')
    expect(f('connection-lost', 'ECONNRESET')).toBe('connection closed')
  })
})

describe('certificates', () => {
  let pki: HostilePki
  beforeAll(async () => {
    pki = await createHostilePki()
  })
  const view = (pem: string, authorized: boolean, authorizationError?: string) => ({
    authorized,
    authorizationError,
    cert: new X509Certificate(pem),
  })

  it('verified: passes with the names, issuer, end date and days left', () => {
    const r = judgeCertificate(T, view(pki.good.cert, true), 'localhost', 14)
    expect(r.verdict).toBe('pass')
    expect(r.evidence).toMatch(
      /^verifies for localhost \(for localhost.*issued by xmppadm test CA .*, valid until \d{4}-\d\d-\d\d\): \d+ day\(s\) left$/,
    )
  })

  it('fewer days left than cert_warn_days: a warning', () => {
    const cert = new X509Certificate(pki.good.cert)
    const daysLeft = Math.floor((new Date(cert.validTo).getTime() - Date.now()) / 86_400_000)
    const r = judgeCertificate(T, view(pki.good.cert, true), 'localhost', daysLeft + 1)
    expect(r.verdict).toBe('warn')
    expect(r.evidence).toMatch(new RegExp(`${daysLeft} day\\(s\\) left, fewer than ${daysLeft + 1}$`))
  })

  it('expired, another name, self-signed: broken, saying which', () => {
    expect(
      judgeCertificate(T, view(pki.expired.cert, false, 'CERT_HAS_EXPIRED'), 'localhost', 14).evidence,
    ).toMatch(/^the certificate has expired \d+ day\(s\) ago/)
    const other = judgeCertificate(
      T,
      view(pki.wrongName.cert, false, 'ERR_TLS_CERT_ALTNAME_INVALID'),
      'localhost',
      14,
    )
    expect(other).toMatchObject({verdict: 'fail'})
    expect(other.evidence).toMatch(/^the certificate is for another name \(for other\.example/)
    const self = judgeCertificate(
      T,
      view(pki.selfSigned.cert, false, 'DEPTH_ZERO_SELF_SIGNED_CERT'),
      'localhost',
      14,
    )
    expect(self.evidence).toMatch(/^the certificate is self-signed/)
    expect(self.hint).toMatch(/--ca-file/)
  })
})

describe('before TLS', () => {
  const features = (...children: ReturnType<typeof xml>[]) => xml('stream:features', {}, ...children)
  const starttls = (required: boolean) =>
    xml('starttls', {xmlns: 'urn:ietf:params:xml:ns:xmpp-tls'}, ...(required ? [xml('required')] : []))

  it('only STARTTLS: kept', () => {
    const r = judgeBeforeTls(T, features(starttls(true)))
    expect(r).toMatchObject({
      check: 'starttls-required',
      verdict: 'pass',
      evidence: 'before TLS the stream offers only starttls (required)',
    })
  })

  it('a login offered in clear text: broken', () => {
    const r = judgeBeforeTls(
      T,
      features(
        starttls(false),
        xml('mechanisms', {xmlns: 'urn:ietf:params:xml:ns:xmpp-sasl'}, xml('mechanism', {}, 'PLAIN')),
      ),
    )
    expect(r.verdict).toBe('fail')
    expect(r.evidence).toBe('before TLS the stream offers SASL login (features: starttls, mechanisms)')
  })

  it('dialback next to a required STARTTLS (federation) is fine; without it, not', () => {
    const dialback = xml('dialback', {xmlns: 'urn:xmpp:features:dialback'})
    expect(judgeBeforeTls(T, features(starttls(true), dialback)).verdict).toBe('pass')
    expect(judgeBeforeTls(T, features(starttls(false), dialback)).verdict).toBe('fail')
  })
})

describe('SASL mechanisms', () => {
  const offerOf = (...mechs: string[]) =>
    saslOffer(
      xml(
        'stream:features',
        {},
        xml(
          'mechanisms',
          {xmlns: 'urn:ietf:params:xml:ns:xmpp-sasl'},
          ...mechs.map((m) => xml('mechanism', {}, m)),
        ),
        xml('authentication', {xmlns: 'urn:xmpp:sasl:2'}, xml('mechanism', {}, 'PLAIN')),
        xml(
          'sasl-channel-binding',
          {xmlns: 'urn:xmpp:sasl-cb:0'},
          xml('channel-binding', {type: 'tls-exporter'}),
        ),
      ),
    )
  const by = (rs: CheckResult[], name: string) => rs.find((r) => r.check === name)!

  it('SASL and SASL2 lists are one list; binding types are read', () => {
    expect(offerOf('SCRAM-SHA-1')).toEqual({
      mechanisms: ['SCRAM-SHA-1', 'PLAIN'],
      bindingTypes: ['tls-exporter'],
    })
  })

  it('SCRAM with -PLUS and no PLAIN: everything passes', () => {
    const rs = judgeOffer(
      T,
      {mechanisms: ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256'], bindingTypes: ['tls-exporter']},
      settings(),
    )
    expect(rs.map((r) => [r.check, r.verdict])).toEqual([
      ['scram-offered', 'pass'],
      ['plain', 'pass'],
      ['channel-binding', 'pass'],
    ])
    expect(by(rs, 'channel-binding').evidence).toBe('SCRAM-SHA-256-PLUS offered; binding types: tls-exporter')
  })

  it('PLAIN offered: broken unless plain = allowed', () => {
    const offer = {mechanisms: ['SCRAM-SHA-1', 'PLAIN']}
    expect(by(judgeOffer(T, offer, settings()), 'plain')).toMatchObject({
      verdict: 'fail',
      evidence: 'PLAIN offered (mechanisms: SCRAM-SHA-1, PLAIN): the server receives each password as typed',
    })
    expect(by(judgeOffer(T, offer, settings({plain: 'allowed'})), 'plain').verdict).toBe('pass')
  })

  it('only PLAIN: no SCRAM is broken; no -PLUS a warning, or broken with channel binding required', () => {
    const plainOnly = judgeOffer(T, {mechanisms: ['PLAIN']}, settings())
    expect(by(plainOnly, 'scram-offered')).toMatchObject({verdict: 'fail'})
    expect(by(plainOnly, 'scram-offered').evidence).toMatch(
      /offers only PLAIN may keep passwords as they are/,
    )
    expect(by(judgeOffer(T, {mechanisms: ['SCRAM-SHA-1']}, settings()), 'channel-binding').verdict).toBe(
      'warn',
    )
    expect(
      by(
        judgeOffer(T, {mechanisms: ['SCRAM-SHA-1']}, settings({channelBinding: 'required'})),
        'channel-binding',
      ).verdict,
    ).toBe('fail')
  })
})

describe('SCRAM exchanges', () => {
  const login = (
    iterations: number,
    salt: string,
    outcome: 'success' | 'too-few-iterations' = 'success',
  ) => ({
    mechanism: 'SCRAM-SHA-1-PLUS',
    iterations,
    salt,
    outcome,
  })

  it('enough iterations and the same salt twice: a stored salted hash', () => {
    const [it, salt] = judgeScram(T, [login(10000, 'c2FsdA=='), login(10000, 'c2FsdA==')], settings())
    expect(it).toMatchObject({
      verdict: 'pass',
      evidence: 'SCRAM-SHA-1-PLUS: 10000 iterations (at least 4096)',
    })
    expect(salt).toMatchObject({verdict: 'pass', check: 'scram-salt'})
  })

  it('a new salt at each login: the password is kept as is', () => {
    const [, salt] = judgeScram(T, [login(4096, 'YQ=='), login(4096, 'Yg==')], settings())
    expect(salt.verdict).toBe('fail')
    expect(salt.evidence).toMatch(/a new salt in each of two logins/)
  })

  it('fewer iterations than the policy asks: broken (the salt is never printed)', () => {
    const rs = judgeScram(
      T,
      [login(1000, 'c2FsdA==', 'too-few-iterations'), login(1000, 'c2FsdA==', 'too-few-iterations')],
      settings(),
    )
    expect(rs[0]).toMatchObject({
      verdict: 'fail',
      evidence: 'SCRAM-SHA-1-PLUS: only 1000 iterations (at least 4096 promised)',
    })
    expect(JSON.stringify(rs)).not.toContain('c2FsdA==')
    expect(
      judgeScram(T, [login(5000, 'x'), login(5000, 'x')], settings({scramMinIterations: 10000}))[0].verdict,
    ).toBe('fail')
  })

  it('no SCRAM at all: cannot tell the count or the salt', () => {
    const rs = judgeScram(T, [{outcome: 'no-scram'}, {outcome: 'no-scram'}], settings())
    expect(rs.map((r) => r.verdict)).toEqual(['cannot-tell', 'cannot-tell'])
    expect(rs[0].evidence).toBe('no SCRAM mechanism offered')
  })
})

describe('in-band registration', () => {
  const seen = (over: Partial<Parameters<typeof judgeRegistration>[1]>) => ({
    advertised: true,
    get: {},
    ...over,
  })

  it('an error for the form: closed', () => {
    const r = judgeRegistration(T, seen({advertised: false, get: {error: 'service-unavailable'}}), settings())
    expect(r).toMatchObject({
      verdict: 'pass',
      evidence: 'closed: a registration request gets service-unavailable (not advertised)',
    })
  })

  it('a form, and the existing name refused as not allowed: closed (the form alone proves nothing)', () => {
    const r = judgeRegistration(
      T,
      seen({
        get: {form: ['username', 'password']},
        set: {error: 'forbidden', text: 'Access denied by service policy'},
      }),
      settings(),
    )
    expect(r.verdict).toBe('pass')
    expect(r.evidence).toMatch(/signing up is refused: forbidden \(Access denied by service policy\)/)
  })

  it('a form, and the existing name got "conflict": open to anyone', () => {
    const r = judgeRegistration(
      T,
      seen({get: {form: ['username', 'password']}, set: {error: 'conflict'}}),
      settings(),
    )
    expect(r.verdict).toBe('fail')
    expect(r.evidence).toMatch(/^open to anyone/)
    expect(
      judgeRegistration(
        T,
        seen({get: {form: ['username']}, set: {error: 'conflict'}}),
        settings({registration: 'open'}),
      ).verdict,
    ).toBe('pass')
  })

  it('a CAPTCHA: a warning; a web page: no in-band sign-up; no login to try with: cannot tell', () => {
    expect(judgeRegistration(T, seen({get: {captcha: true}}), settings()).verdict).toBe('warn')
    expect(
      judgeRegistration(T, seen({get: {redirect: 'https://example.org/join'}}), settings()).evidence,
    ).toMatch(/points to https:\/\/example\.org\/join/)
    expect(judgeRegistration(T, seen({get: {form: ['username']}}), settings()).verdict).toBe('cannot-tell')
  })

  it('a sign-up with an existing name accepted: broken', () => {
    expect(
      judgeRegistration(T, seen({get: {form: ['username']}, set: {result: true}}), settings()).verdict,
    ).toBe('fail')
  })
})

describe('what the server publishes', () => {
  const form = (
    type: string,
    fields: Record<string, string | string[]>,
    types: Record<string, string> = {},
  ) =>
    parseForm(
      xml(
        'x',
        {xmlns: 'jabber:x:data', type: 'result'},
        xml('field', {var: 'FORM_TYPE', type: 'hidden'}, xml('value', {}, type)),
        ...Object.entries(fields).map(([v, value]) =>
          xml(
            'field',
            {var: v, type: types[v] ?? (Array.isArray(value) ? 'list-multi' : 'text-single')},
            ...(Array.isArray(value) ? value : [value]).map((x) => xml('value', {}, x)),
          ),
        ),
      ),
    )
  const facts = {
    ages: {offline: 7 * 86400, uploads: 14 * 86400},
    plainOffered: false,
    exportAvailable: true,
    erasureAvailable: true,
  }

  it('XEP-0157: published addresses are evidence; a required kind missing is broken', () => {
    const f = form('http://jabber.org/network/serverinfo', {'abuse-addresses': ['mailto:abuse@example.org']})
    expect(judgeContacts('example.org', f, settings())).toMatchObject({
      verdict: 'pass',
      evidence: 'contact addresses (XEP-0157): abuse: mailto:abuse@example.org',
    })
    expect(judgeContacts('example.org', f, settings({contacts: ['abuse', 'security']}))).toMatchObject({
      verdict: 'fail',
    })
    expect(judgeContacts('example.org', undefined, settings()).verdict).toBe('not-applicable')
  })

  it('XEP-0504: a shorter retention than the policy, or "hidden" passwords with PLAIN: broken', () => {
    const dp = (fields: Record<string, string>) =>
      form('urn:xmpp:data-policy:0', fields, {
        auth_data: 'list-single',
        data_export: 'boolean',
        full_erasure: 'boolean',
      })
    expect(
      judgeDataPolicy('example.org', dp({data_retention: '336', auth_data: 'hidden'}), settings(), facts)
        .verdict,
    ).toBe('pass')
    const short = judgeDataPolicy('example.org', dp({data_retention: '48'}), settings(), facts)
    expect(short.verdict).toBe('fail')
    expect(short.evidence).toMatch(/^data_retention says 48 h, but the policy keeps data up to 336 h/)
    expect(
      judgeDataPolicy('example.org', dp({auth_data: 'hidden'}), settings(), {...facts, plainOffered: true})
        .evidence,
    ).toMatch(/auth_data says passwords stay hidden, but PLAIN is offered/)
    expect(
      judgeDataPolicy('example.org', dp({data_export: 'true'}), settings(), {
        ...facts,
        exportAvailable: false,
      }).verdict,
    ).toBe('fail')
    expect(judgeDataPolicy('example.org', undefined, settings(), facts).verdict).toBe('not-applicable')
  })
})

describe('monitoring: one line and a state', () => {
  const r = (verdict: CheckResult['verdict'], evidence = 'x'): CheckResult => ({
    promise: 'tls',
    check: 'certificate',
    target: T,
    verdict,
    evidence,
  })

  it('CRITICAL if broken, WARNING if close to breaking, UNKNOWN only when nothing else, OK', () => {
    expect(nagiosState([r('pass'), r('fail'), r('warn'), r('cannot-tell')])).toBe('CRITICAL')
    expect(nagiosState([r('pass'), r('warn'), r('cannot-tell')])).toBe('WARNING')
    expect(nagiosState([r('pass'), r('cannot-tell'), r('not-applicable')])).toBe('UNKNOWN')
    expect(nagiosState([r('pass'), r('not-applicable')])).toBe('OK')
    expect(summarise([r('pass'), r('pass'), r('fail')])).toMatchObject({pass: 2, fail: 1, warn: 0})
  })

  it('one line, the evidence of what was found, performance data after "|" and no other "|"', () => {
    const line = nagiosLine('example.org', [r('pass'), r('warn', 'expires in 3 days | soon')], 0.84)
    expect(line).toBe(
      `XMPP POLICY WARNING - example.org: warning: tls: expires in 3 days / soon (${T}) | ` +
        'pass=1 warn=1 fail=0 cannot_tell=0 time=0.84s',
    )
    expect(nagiosLine('example.org', [r('pass')], 1)).toBe(
      'XMPP POLICY OK - example.org: every promise kept (1 checks passed) | ' +
        'pass=1 warn=0 fail=0 cannot_tell=0 time=1.00s',
    )
  })

  it('several hosts in one line: the worst state (CRITICAL > WARNING > UNKNOWN > OK), each named', () => {
    const {line, state} = nagiosHostsLine(
      [
        {host: 'example.org', results: [r('pass')]},
        {host: 'example.net', results: [r('pass'), r('warn', 'expires in 3 days')]},
        {host: 'example.com', error: 'interrupted before this host'},
      ],
      2,
    )
    expect(state).toBe('WARNING')
    expect(line).toBe(
      'XMPP POLICY WARNING - 3 host(s): example.org OK: every promise kept (1 checks passed); ' +
        `example.net WARNING: warning: tls: expires in 3 days (${T}); ` +
        'example.com UNKNOWN: interrupted before this host | pass=2 warn=1 fail=0 cannot_tell=0 time=2.00s',
    )
    const worst = nagiosHostsLine(
      [
        {host: 'a.example', results: [r('cannot-tell')]},
        {host: 'b.example', results: [r('fail')]},
      ],
      1,
    )
    expect(worst.state).toBe('CRITICAL')
    expect(worst.line).toMatch(
      /^XMPP POLICY CRITICAL - 2 host\(s\): a\.example UNKNOWN: cannot tell: .*; b\.example CRITICAL: 1 promise\(s\) broken: /,
    )
  })
})

it('durations read back as they are written', () => {
  expect([604800, 1209600, 129600, 90, 3600].map(formatDuration)).toEqual([
    '7d',
    '14d',
    '1d12h',
    '1m30s',
    '1h',
  ])
})
