// Issue 12: policy check catches the broken promises no real test server can be configured to
// break, against scripted servers on 127.0.0.1 (test/hostile/server.ts): TLS 1.0/1.1 accepted
// (client and server-to-server ports), PLAIN only, no STARTTLS, too few SCRAM iterations, an
// expired or soon-to-expire certificate, a published data policy the server does not keep. Each
// case checks the verdict, the evidence, the exit code, and that no password was sent where it
// must not be. Real servers: policy-check.test.ts.
import {xml} from '@xmpp/xml'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {type CliResult, cli, expectNoStack, secretFile} from '../helpers/cli.js'
import {type HostilePki, createHostilePki} from '../hostile/pki.js'
import {type HostileOptions, HostileServer, NS} from '../hostile/server.js'

const ADMIN_PW = 'Audit-admin-Pw-8c41fa'
let pki: HostilePki
let pwFile: string
const servers: HostileServer[] = []
const SALT = Buffer.from('a fixed salt!!!!')

beforeAll(async () => {
  pki = await createHostilePki()
  pwFile = secretFile(`${ADMIN_PW}\n`)
})
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()))
})

async function hostile(opts: Partial<HostileOptions> = {}): Promise<HostileServer> {
  const s = await HostileServer.start({
    cert: pki.good.cert,
    key: pki.good.key,
    password: ADMIN_PW,
    salt: SALT,
    ...opts,
  })
  servers.push(s)
  return s
}

/** policy check against a hostile server (its port is the client endpoint), s2s probed where given. */
async function check(
  s: HostileServer,
  opts: {args?: string[]; s2s?: HostileServer; file?: string} = {},
): Promise<CliResult> {
  const r = await cli(
    [
      'policy',
      'check',
      ...(opts.file ? [secretFile(opts.file)] : []),
      '--jid',
      'admin@localhost',
      '--server',
      `127.0.0.1:${s.port}`,
      '--s2s',
      opts.s2s ? `127.0.0.1:${opts.s2s.port}` : '127.0.0.1:1',
      '--password-file',
      pwFile,
      '--ca-file',
      pki.caFile,
      '--timeout',
      '3',
      ...(opts.args ?? ['--json']),
    ],
    {timeout: 60_000},
  )
  expectNoStack(r)
  return r
}

type Row = {promise: string; check: string; target: string; verdict: string; evidence: string; hint?: string}
const rows = (r: CliResult): Row[] => r.json.result.checks
const find = (r: CliResult, name: string, target = 'c2s') =>
  rows(r).filter((c) => c.check === name && c.target.startsWith(target))

/** Offers the admin the nodes of the README's operations (so those promises pass); nothing else. */
const operationsOnly: HostileOptions['onIq'] = (iq, c) => {
  if (iq.getChild('query', NS.discoItems))
    return c.result(
      iq,
      xml(
        'query',
        {xmlns: NS.discoItems, node: NS.commands},
        ...['block-ip', 'list-blocked-ips', 'unblock-ip', 'export-user'].map((n) =>
          xml('item', {jid: 'localhost', node: `urn:xmppadm:admin:1#${n}`, name: n}),
        ),
        xml('item', {jid: 'localhost', node: 'http://jabber.org/protocol/admin#delete-user', name: 'delete'}),
      ),
    )
  c.error(iq, 'service-unavailable')
}

/** The server never saw the password, in any form. */
function expectPasswordNeverSent(s: HostileServer): void {
  expect(s.received).not.toContain(ADMIN_PW)
  expect(s.received).not.toContain(Buffer.from(`\0admin\0${ADMIN_PW}`).toString('base64'))
  expect(s.saslLog.filter((l) => l.mechanism === 'PLAIN')).toHaveLength(0)
}

describe('TLS', () => {
  it('a client port that accepts TLS 1.0 and 1.1: broken, each version named; exit 83', async () => {
    const s = await hostile({minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT:@SECLEVEL=0'})
    const r = await check(s)
    expect(r.exitCode, r.stderr).toBe(83)
    expect(r.json).toMatchObject({ok: false, error: {code: 83, reason: 'promise-broken'}})
    const [versions] = find(r, 'tls-versions')
    expect(versions.verdict).toBe('fail')
    expect(versions.evidence).toBe('TLS 1.0 accepted, TLS 1.1 accepted, TLS 1.2 refused, TLS 1.3 refused')
    expect(versions.hint).toMatch(/tlsv1_2\+/)
    // The certificate is still judged, from the old handshake; the admin login (TLS 1.2+) could not be had.
    expect(find(r, 'certificate')[0].verdict).toBe('pass')
    expect(rows(r).find((c) => c.check === 'debug-log')).toMatchObject({verdict: 'cannot-tell'})
    expect(rows(r).find((c) => c.check === 'debug-log')!.evidence).toMatch(
      /^no admin session: TLS .* 1\.2 or newer/,
    )
    expect(r.json.result.broken).toEqual(['tls'])
    expectPasswordNeverSent(s)
  })

  it('a server-to-server port that accepts TLS 1.0: broken on s2s; the client port passes', async () => {
    const [c2s, s2s] = await Promise.all([
      hostile(),
      hostile({minVersion: 'TLSv1', maxVersion: 'TLSv1.3', ciphers: 'DEFAULT:@SECLEVEL=0'}),
    ])
    const r = await check(c2s, {s2s})
    expect(r.exitCode, r.stderr).toBe(83)
    expect(find(r, 'tls-versions', 'c2s')[0].verdict).toBe('pass')
    const [onS2s] = find(r, 'tls-versions', 's2s')
    expect(onS2s.target).toBe(`s2s 127.0.0.1:${s2s.port} (STARTTLS)`)
    expect(onS2s).toMatchObject({verdict: 'fail'})
    expect(onS2s.evidence).toBe('TLS 1.0 accepted, TLS 1.1 accepted, TLS 1.2 accepted, TLS 1.3 accepted')
    // The s2s probe opened a server-to-server stream, and sent no login there.
    expect(s2s.received).toContain("xmlns='jabber:server'")
    expect(s2s.saslLog).toHaveLength(0)
  })

  it('no STARTTLS, SASL offered in clear text: broken, and no password goes out', async () => {
    const s = await hostile({starttls: 'absent'})
    const r = await check(s)
    expect(r.exitCode).toBe(83)
    const [starttls] = find(r, 'starttls-required')
    expect(starttls).toMatchObject({verdict: 'fail', evidence: 'no STARTTLS offered (features: mechanisms)'})
    expectPasswordNeverSent(s)
    expect(s.received).not.toContain('<auth')
  })

  it('an expired certificate: broken, saying when; no password is sent to it', async () => {
    const s = await hostile({cert: pki.expired.cert, key: pki.expired.key})
    const r = await check(s)
    expect(r.exitCode).toBe(83)
    const [cert] = find(r, 'certificate')
    expect(cert.verdict).toBe('fail')
    expect(cert.evidence).toMatch(
      /^the certificate has expired \d+ day\(s\) ago \(for localhost, issued by xmppadm test CA/,
    )
    expect(find(r, 'scram-iterations')[0]).toMatchObject({verdict: 'cannot-tell'})
    expect(find(r, 'scram-iterations')[0].evidence).toMatch(
      /the certificate does not verify \(CERT_HAS_EXPIRED\): no password is sent there/,
    )
    expect(s.saslLog).toHaveLength(0)
    expectPasswordNeverSent(s)
  })

  it('a certificate that expires in 5 days: a warning (cert_warn_days 14); nagios WARNING', async () => {
    const s = await hostile({cert: pki.expiring.cert, key: pki.expiring.key, onIq: operationsOnly})
    const r = await check(s)
    expect(r.exitCode, r.stdout).toBe(0)
    const [cert] = find(r, 'certificate')
    expect(cert).toMatchObject({verdict: 'warn'})
    expect(cert.evidence).toMatch(/^verifies for localhost \(.*\): [45] day\(s\) left, fewer than 14$/)
    expect(r.json.result.broken).toEqual([])
    const n = await check(s, {args: ['--format', 'nagios']})
    expect(n.exitCode).toBe(1)
    expect(n.stdout.split('\n').filter(Boolean)).toHaveLength(1)
    expect(n.stdout).toMatch(
      /^XMPP POLICY WARNING - localhost: warning: tls: verifies for localhost .* day\(s\) left, fewer than 14 \(c2s 127\.0\.0\.1:\d+ \(STARTTLS\)\); cannot tell: .* \| pass=\d+ warn=1 fail=0 cannot_tell=\d+ time=\d+\.\d\ds$/,
    )
    // With a threshold the certificate already meets: no warning.
    const relaxed = await check(s, {file: 'cert_warn_days = 3\n'})
    expect(find(relaxed, 'certificate')[0].verdict).toBe('pass')
  })
})

describe('passwords', () => {
  it('PLAIN only: no SCRAM and PLAIN offered are both broken; PLAIN never used to find out', async () => {
    const s = await hostile({mechanisms: ['PLAIN']})
    const r = await check(s)
    expect(r.exitCode).toBe(83)
    expect(find(r, 'scram-offered')[0]).toMatchObject({verdict: 'fail'})
    expect(find(r, 'scram-offered')[0].evidence).toBe(
      'no SCRAM mechanism offered (mechanisms: PLAIN): ' +
        'a server that offers only PLAIN may keep passwords as they are',
    )
    expect(find(r, 'plain')[0]).toMatchObject({
      verdict: 'fail',
      evidence: 'PLAIN offered (mechanisms: PLAIN): the server receives each password as typed',
    })
    expect(find(r, 'scram-iterations')[0]).toMatchObject({
      verdict: 'cannot-tell',
      evidence: 'no SCRAM mechanism offered',
    })
    expectPasswordNeverSent(s)
    expect(s.saslLog).toHaveLength(0)
  })

  it('1000 SCRAM iterations: broken; the exchange is abandoned before any proof is sent', async () => {
    const s = await hostile({iterations: 1000})
    const r = await check(s)
    expect(r.exitCode).toBe(83)
    expect(find(r, 'scram-iterations')[0]).toMatchObject({
      verdict: 'fail',
      evidence: 'SCRAM-SHA-1-PLUS: only 1000 iterations (at least 4096 promised)',
    })
    // Two probes got as far as the salt and stopped: no client proof (a <response/>) was sent.
    expect(s.saslLog.filter((l) => l.payloads.length > 1)).toHaveLength(0)
    expect(s.received).toContain('<abort')
  })

  it('a new salt at every login (the password kept as is): broken; the salt never shows', async () => {
    const s = await hostile({salt: undefined})
    const r = await check(s)
    expect(r.exitCode).toBe(83)
    const [salt] = find(r, 'scram-salt')
    expect(salt).toMatchObject({
      verdict: 'fail',
      evidence: 'a new salt in each of two logins: the server computes SCRAM from a password it keeps as is',
    })
    expect(find(r, 'scram-iterations')[0]).toMatchObject({verdict: 'pass'})
    expect(r.stdout).not.toContain(ADMIN_PW)
  })

  it('a stripped -PLUS (no channel binding): a warning; broken with channel_binding = required', async () => {
    const s = await hostile({mechanisms: ['SCRAM-SHA-1'], supportsBinding: false})
    const r = await check(s)
    expect(find(r, 'channel-binding')[0]).toMatchObject({
      verdict: 'warn',
      evidence: 'no SCRAM-*-PLUS mechanism: a login is not bound to its TLS session',
    })
    const strict = await check(s, {file: 'channel_binding = required\n'})
    expect(strict.exitCode).toBe(83)
    expect(find(strict, 'channel-binding')[0].verdict).toBe('fail')
  })
})

describe('what the server publishes', () => {
  /** Answers disco#info of the domain with a XEP-0504 data policy form, the rest as a bare server. */
  const publishing = (fields: Record<string, string>) =>
    hostile({
      mechanisms: ['SCRAM-SHA-1-PLUS', 'SCRAM-SHA-1', 'PLAIN'],
      onIq: (iq, c) => {
        const info = iq.getChild('query', 'http://jabber.org/protocol/disco#info')
        if (info && iq.attrs.to === 'localhost')
          return c.result(
            iq,
            xml(
              'query',
              {xmlns: 'http://jabber.org/protocol/disco#info'},
              xml('identity', {category: 'server', type: 'im'}),
              xml(
                'x',
                {xmlns: NS.data, type: 'result'},
                xml('field', {var: 'FORM_TYPE', type: 'hidden'}, xml('value', {}, 'urn:xmpp:data-policy:0')),
                ...Object.entries(fields).map(([v, value]) =>
                  xml('field', {var: v}, xml('value', {}, value)),
                ),
              ),
            ),
          )
        if (info) return c.result(iq, xml('query', {xmlns: 'http://jabber.org/protocol/disco#info'}))
        if (iq.getChild('query', NS.discoItems))
          return c.result(iq, xml('query', {xmlns: NS.discoItems, node: NS.commands}))
        c.error(iq, 'service-unavailable')
      },
    })

  it('XEP-0504 says 48 h, "hidden" passwords; the policy keeps 14 days, PLAIN offered: broken', async () => {
    const s = await publishing({data_retention: '48', auth_data: 'hidden'})
    const r = await check(s)
    expect(r.exitCode).toBe(83)
    const [dp] = rows(r).filter((c) => c.check === 'xep-0504')
    expect(dp.verdict).toBe('fail')
    expect(dp.evidence).toBe(
      'auth_data says passwords stay hidden, but PLAIN is offered; data_retention says 48 h, ' +
        'but the policy keeps data up to 336 h (published: data_retention = 48; auth_data = hidden)',
    )
  })

  it('a data policy that agrees with the file: passes', async () => {
    const s = await publishing({data_retention: '168'})
    const r = await check(s, {file: 'offline = 7d\nuploads = 7d\nplain = allowed\n'})
    expect(rows(r).find((c) => c.check === 'xep-0504')).toMatchObject({
      verdict: 'pass',
      evidence: 'published data policy agrees: data_retention = 168',
    })
  })
})
