// TLS from outside, per endpoint: which versions the server accepts (each tried alone), whether
// its certificate verifies for the domain and how long it has left, and whether a STARTTLS port
// offers anything (a login, a sign-up, federation) before TLS.
import type {X509Certificate} from 'node:crypto'
import type tls from 'node:tls'
import type {Element} from '@xmpp/xml'
import {NS_TLS} from '../xmpp/connection.js'
import {type CheckResult, check} from './check.js'
import {type ProbeEndpoint, ProbeFailure, type ProbeOptions, describeEndpoint, openTls} from './probe.js'
import type {AuditSettings} from './settings.js'

export const TLS_VERSIONS = ['1.0', '1.1', '1.2', '1.3'] as const
export type TlsVersion = (typeof TLS_VERSIONS)[number]
const OPENSSL_NAME: Record<TlsVersion, tls.SecureVersion> = {
  '1.0': 'TLSv1',
  '1.1': 'TLSv1.1',
  '1.2': 'TLSv1.2',
  '1.3': 'TLSv1.3',
}

export interface VersionOutcome {
  version: TlsVersion
  result: 'accepted' | 'refused' | 'unknown'
  /** Why refused (the alert) or unknown. */
  detail?: string
  /** What the server presented, when accepted. */
  cert?: CertView
}

/** A certificate as this side saw it in a handshake. */
export interface CertView {
  authorized: boolean
  authorizationError?: string
  cert?: X509Certificate
}

export const certView = (socket: tls.TLSSocket): CertView => ({
  authorized: socket.authorized,
  authorizationError: socket.authorizationError ? String(socket.authorizationError) : undefined,
  cert: socket.getPeerX509Certificate(),
})

/** Failures on this side: OpenSSL here cannot offer that version at all, so the server was not asked. */
const LOCAL_TLS_CODES = new Set([
  'ERR_SSL_NO_PROTOCOLS_AVAILABLE',
  'ERR_SSL_NO_CIPHERS_AVAILABLE',
  'ERR_SSL_NO_SUITABLE_SIGNATURE_ALGORITHM',
  'ERR_TLS_INVALID_PROTOCOL_VERSION',
])

/** A TLS failure in a few words: "alert 70 (protocol version)", "connection closed". */
export function tlsFailureText(f: ProbeFailure): string {
  const code = f.code ?? ''
  const alert = /ALERT_(\w+)$/.exec(code)
  if (alert) return `alert: ${alert[1].toLowerCase().replace(/_/g, ' ')}`
  if (code === 'ERR_SSL_UNSUPPORTED_PROTOCOL' || code === 'ERR_SSL_WRONG_VERSION_NUMBER')
    return 'the server answered with another version'
  if (/reset|lost|closed/.test(f.cause.reason)) return 'connection closed'
  return f.cause.message.replace(/^TLS to \S+ (refused|failed): /, '')
}

/** One handshake that offers only `version` (TLS 1.0/1.1 need OpenSSL's security level 0). */
export async function tryVersion(
  endpoint: ProbeEndpoint,
  opts: ProbeOptions,
  version: TlsVersion,
): Promise<VersionOutcome> {
  const name = OPENSSL_NAME[version]
  try {
    const s = await openTls(endpoint, opts, {
      minVersion: name,
      maxVersion: name,
      ...(version === '1.0' || version === '1.1' ? {ciphers: 'DEFAULT:@SECLEVEL=0'} : {}),
    })
    const cert = certView(s.socket)
    s.conn.close()
    return {version, result: 'accepted', cert}
  } catch (error) {
    if (!(error instanceof ProbeFailure)) return {version, result: 'unknown', detail: String(error)}
    if (error.phase !== 'tls') return {version, result: 'unknown', detail: error.message}
    if (LOCAL_TLS_CODES.has(error.code ?? ''))
      return {version, result: 'unknown', detail: `this machine's OpenSSL cannot offer TLS ${version}`}
    return {version, result: 'refused', detail: tlsFailureText(error)}
  }
}

/** The verdict on the versions one endpoint accepts, against the lowest version promised. */
export function judgeVersions(
  target: string,
  outcomes: VersionOutcome[],
  tlsMin: AuditSettings['tlsMin'],
): CheckResult {
  const below = outcomes.filter((o) => o.version < tlsMin)
  const atLeast = outcomes.filter((o) => o.version >= tlsMin)
  const words = outcomes
    .map((o) => `TLS ${o.version} ${o.result === 'unknown' ? `not tried (${o.detail})` : o.result}`)
    .join(', ')
  const promise = `only TLS ${tlsMin} or newer`
  if (below.some((o) => o.result === 'accepted'))
    return check(
      'tls',
      'tls-versions',
      target,
      'fail',
      words,
      `refuse TLS below ${tlsMin} on this port (Prosody: ssl.protocol = "tlsv1_2+"; ` +
        'ejabberd: protocol_options no_tlsv1, no_tlsv1_1 on the listener)',
    )
  if (!atLeast.some((o) => o.result === 'accepted')) {
    const unknown = outcomes.filter((o) => o.result === 'unknown')
    if (unknown.length === outcomes.length) return check('tls', 'tls-versions', target, 'cannot-tell', words)
    return check('tls', 'tls-versions', target, 'fail', `${words}: no TLS ${tlsMin} or newer accepted`)
  }
  if (below.some((o) => o.result === 'unknown'))
    return check('tls', 'tls-versions', target, 'cannot-tell', `${words}: ${promise} not shown`)
  return check('tls', 'tls-versions', target, 'pass', words)
}

const CERT_PROBLEMS: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'is self-signed',
  SELF_SIGNED_CERT_IN_CHAIN: 'chains to a CA that is not trusted',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'was not issued by a trusted CA',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'was not issued by a trusted CA',
  UNABLE_TO_GET_ISSUER_CERT: 'was not issued by a trusted CA',
  CERT_HAS_EXPIRED: 'has expired',
  CERT_NOT_YET_VALID: 'is not valid yet',
  ERR_TLS_CERT_ALTNAME_INVALID: 'is for another name',
  CERT_REVOKED: 'has been revoked',
}

const DAY = 86_400_000
const isoDay = (d: Date) => d.toISOString().slice(0, 10)

/** Whether the certificate verifies for the domain, and how many days it has left. */
export function judgeCertificate(
  target: string,
  view: CertView,
  domain: string,
  warnDays: number,
  now = Date.now(),
): CheckResult {
  const {cert} = view
  if (!cert) return check('tls', 'certificate', target, 'fail', 'the server presented no certificate')
  const validTo = new Date(cert.validTo)
  const days = Math.floor((validTo.getTime() - now) / DAY)
  const issuer = /CN=([^\n,]+)/.exec(cert.issuer)?.[1] ?? cert.issuer.replace(/\n/g, ', ')
  const names = (cert.subjectAltName ?? '').replace(/DNS:/g, '') || cert.subject
  const facts = `for ${names}, issued by ${issuer}, valid until ${isoDay(validTo)}`
  if (!view.authorized) {
    const code = view.authorizationError ?? ''
    const problem = CERT_PROBLEMS[code] ?? `does not verify (${code})`
    const when = code === 'CERT_HAS_EXPIRED' ? ` ${-days} day(s) ago` : ''
    return check(
      'tls',
      'certificate',
      target,
      'fail',
      `the certificate ${problem}${when} (${facts})`,
      code.startsWith('UNABLE') || code.includes('SELF_SIGNED')
        ? 'a private CA: pass it with --ca-file'
        : `renew the certificate for ${domain}`,
    )
  }
  const left = `verifies for ${domain} (${facts}): ${days} day(s) left`
  if (days < warnDays)
    return check(
      'tls',
      'certificate',
      target,
      'warn',
      `${left}, fewer than ${warnDays}`,
      `renew the certificate for ${domain}`,
    )
  return check('tls', 'certificate', target, 'pass', left)
}

const NS_SASL = 'urn:ietf:params:xml:ns:xmpp-sasl'
/** Offered before TLS, these would let a password or a federated stream go in clear text. */
const CLEAR_TEXT: Array<[name: string, xmlns: string, what: string]> = [
  ['mechanisms', NS_SASL, 'SASL login'],
  ['authentication', 'urn:xmpp:sasl:2', 'SASL2 login'],
  ['auth', 'http://jabber.org/features/iq-auth', 'non-SASL login'],
  ['bind', 'urn:ietf:params:xml:ns:xmpp-bind', 'resource binding'],
  ['register', 'http://jabber.org/features/iq-register', 'in-band registration'],
  ['dialback', 'urn:xmpp:features:dialback', 'server dialback'],
]

/** What a STARTTLS port offers before TLS: nothing that works without it. */
export function judgeBeforeTls(target: string, before: Element): CheckResult {
  const starttls = before.getChild('starttls', NS_TLS)
  const required = Boolean(starttls?.getChild('required'))
  const offered = CLEAR_TEXT.filter(([name, ns]) => before.getChild(name, ns))
  // Dialback offered next to a required STARTTLS is only a hint of what follows TLS.
  const exposed = offered.filter(([name]) => !(name === 'dialback' && required))
  const list = before
    .getChildElements()
    .map((c) => (c.name === 'starttls' && required ? 'starttls (required)' : c.name))
    .join(', ')
  if (exposed.length)
    return check(
      'tls',
      'starttls-required',
      target,
      'fail',
      `before TLS the stream offers ${exposed.map(([, , what]) => what).join(', ')} (features: ${list})`,
      'require encryption (Prosody: c2s_require_encryption / s2s_require_encryption = true; ' +
        'ejabberd: starttls_required: true)',
    )
  return check(
    'tls',
    'starttls-required',
    target,
    'pass',
    `before TLS the stream offers only ${list || 'nothing'}`,
  )
}

export interface EndpointTls {
  endpoint: ProbeEndpoint
  results: CheckResult[]
  /** The TLS session of the usual handshake, when it worked (for the SASL checks). */
  stream?: Awaited<ReturnType<typeof openTls>>
}

/**
 * Every TLS check of one endpoint. A port that cannot be reached is "not applicable" when no one
 * announced it (the default s2s port of a server without federation), otherwise "cannot tell".
 */
export async function auditEndpointTls(
  endpoint: ProbeEndpoint,
  opts: ProbeOptions,
  settings: AuditSettings,
): Promise<EndpointTls> {
  const target = describeEndpoint(endpoint)
  const [main, ...versions] = await Promise.allSettled([
    openTls(endpoint, opts),
    ...TLS_VERSIONS.map((v) => tryVersion(endpoint, opts, v)),
  ])
  const outcomes = versions.map((v) => (v as PromiseFulfilledResult<VersionOutcome>).value)
  if (main.status === 'rejected') {
    const f = main.reason as ProbeFailure
    if (f.phase === 'connect') {
      const verdict = endpoint.announced ? 'cannot-tell' : 'not-applicable'
      const why = endpoint.announced ? 'announced but not reachable from here' : 'nothing listens there'
      return {endpoint, results: [check('tls', 'reachable', target, verdict, `${why}: ${f.message}`)]}
    }
    const results: CheckResult[] = []
    const offered = (f.cause.details?.features as string[] | undefined) ?? []
    if (f.phase === 'starttls' && f.cause.reason === 'no-starttls')
      results.push(
        check(
          'tls',
          'starttls-required',
          target,
          'fail',
          `no STARTTLS offered (features: ${offered.join(', ') || 'none'})`,
        ),
      )
    results.push(judgeVersions(target, outcomes, settings.tlsMin))
    // Only an older TLS version worked: its handshake showed the certificate.
    const seen = outcomes.filter((o) => o.cert).pop()?.cert
    if (seen) results.push(judgeCertificate(target, seen, opts.domain, settings.certWarnDays))
    else if (f.cause.reason !== 'no-starttls')
      results.push(check('tls', 'certificate', target, 'cannot-tell', f.message))
    return {endpoint, results}
  }
  const stream = main.value
  const results = [
    judgeVersions(target, outcomes, settings.tlsMin),
    judgeCertificate(target, certView(stream.socket), opts.domain, settings.certWarnDays),
  ]
  if (stream.before) results.push(judgeBeforeTls(target, stream.before))
  return {endpoint, results, stream}
}
