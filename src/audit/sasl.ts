// Passwords, from outside: the SASL mechanisms a client port offers after TLS (SCRAM present, PLAIN
// absent, channel binding), and two real SCRAM exchanges with the admin's credentials: the
// server-first-message tells the iteration count, and whether the salt stays the same between
// logins tells a stored salted hash from a password kept as is (Prosody's internal_plain and
// ejabberd's plain storage make a new salt for each login). PLAIN is never used here.
import {type Element, xml} from '@xmpp/xml'
import {registerSecret} from '../secrets.js'
import {channelBinding} from '../xmpp/channel-binding.js'
import {chooseMechanism} from '../xmpp/sasl/mechanisms.js'
import {MAX_ITERATIONS, MIN_ITERATIONS, ScramClient} from '../xmpp/sasl/scram.js'
import {type CheckResult, check, errorText} from './check.js'
import {type ProbeEndpoint, type ProbeOptions, type TlsStream, describeEndpoint, openTls} from './probe.js'
import type {AuditSettings} from './settings.js'

const NS_SASL = 'urn:ietf:params:xml:ns:xmpp-sasl'
const NS_SASL2 = 'urn:xmpp:sasl:2'
const NS_SASL_CB = 'urn:xmpp:sasl-cb:0'
const HASHED =
  'store passwords hashed (Prosody: authentication = "internal_hashed"; ejabberd: ' +
  'auth_password_format: scram)'

export interface SaslOffer {
  /** SASL (RFC 6120) and SASL2 (XEP-0388) mechanisms, without duplicates, in the server's order. */
  mechanisms: string[]
  /** XEP-0440 channel-binding types, when advertised. */
  bindingTypes?: string[]
}

export function saslOffer(features: Element): SaslOffer {
  const names = (el: Element | undefined) =>
    (el?.getChildren('mechanism') ?? []).map((m) => m.getText().trim()).filter(Boolean)
  const mechanisms = [
    ...new Set([
      ...names(features.getChild('mechanisms', NS_SASL)),
      ...names(features.getChild('authentication', NS_SASL2)),
    ]),
  ]
  const bindingTypes = features
    .getChild('sasl-channel-binding', NS_SASL_CB)
    ?.getChildren('channel-binding')
    .map((c) => String(c.attrs.type))
  return {mechanisms, ...(bindingTypes ? {bindingTypes} : {})}
}

const isScram = (m: string) => /^SCRAM-SHA-/i.test(m)

/** SCRAM offered, PLAIN not (unless allowed), channel binding: from what one port offers after TLS. */
export function judgeOffer(target: string, offer: SaslOffer, settings: AuditSettings): CheckResult[] {
  const list = offer.mechanisms.join(', ') || 'none'
  const scram = offer.mechanisms.filter(isScram)
  const plain = offer.mechanisms.some((m) => m.toUpperCase() === 'PLAIN')
  const out: CheckResult[] = [
    scram.length
      ? check('passwords', 'scram-offered', target, 'pass', `SCRAM offered (mechanisms: ${list})`)
      : check(
          'passwords',
          'scram-offered',
          target,
          'fail',
          `no SCRAM mechanism offered (mechanisms: ${list})` +
            (plain ? ': a server that offers only PLAIN may keep passwords as they are' : ''),
          HASHED,
        ),
  ]
  if (!plain) out.push(check('passwords', 'plain', target, 'pass', `PLAIN not offered (mechanisms: ${list})`))
  else if (settings.plain === 'allowed')
    out.push(check('passwords', 'plain', target, 'pass', `PLAIN offered, which the policy allows`))
  else
    out.push(
      check(
        'passwords',
        'plain',
        target,
        'fail',
        `PLAIN offered (mechanisms: ${list}): the server receives each password as typed`,
        'disable it (Prosody: disable_sasl_mechanisms = { "PLAIN" }; ' +
          'ejabberd: disable_sasl_mechanisms: ["PLAIN"])',
      ),
    )
  const plus = scram.filter((m) => m.toUpperCase().endsWith('-PLUS'))
  if (plus.length) {
    const types = offer.bindingTypes ? `; binding types: ${offer.bindingTypes.join(', ')}` : ''
    out.push(check('passwords', 'channel-binding', target, 'pass', `${plus.join(', ')} offered${types}`))
  } else if (scram.length)
    out.push(
      check(
        'passwords',
        'channel-binding',
        target,
        settings.channelBinding === 'required' ? 'fail' : 'warn',
        'no SCRAM-*-PLUS mechanism: a login is not bound to its TLS session',
      ),
    )
  return out
}

export interface ScramObservation {
  mechanism?: string
  iterations?: number
  /** base64, as the server sent it; compared, never printed. */
  salt?: string
  outcome: 'success' | 'refused' | 'too-few-iterations' | 'too-many-iterations' | 'no-scram' | 'error'
  detail?: string
  channelBinding?: string
}

/** The server-first-message: r=…,s=…,i=… */
function serverFirst(text: string): {salt?: string; iterations?: number; error?: string} {
  const attrs = new Map(
    text
      .split(',')
      .filter((p) => p[1] === '=')
      .map((p) => [p[0], p.slice(2)]),
  )
  const i = Number(attrs.get('i'))
  return {
    salt: attrs.get('s'),
    iterations: Number.isInteger(i) ? i : undefined,
    error: attrs.get('e'),
  }
}

/** One SCRAM login as `username` over a verified TLS stream; the stream is closed after it. */
export async function scramLogin(
  stream: TlsStream,
  domain: string,
  username: string,
  password: string,
): Promise<ScramObservation> {
  const {conn, socket} = stream
  registerSecret(password)
  try {
    const offer = saslOffer(await conn.openStream(domain))
    const binding = channelBinding(socket, offer.bindingTypes)
    const choice = chooseMechanism(offer.mechanisms.filter(isScram), {
      canBind: Boolean(binding),
      allowPlain: false,
    })
    if (!choice) return {outcome: 'no-scram'}
    const scram = new ScramClient({
      hash: choice.hash!,
      username,
      password,
      binding: choice.plus ? binding : undefined,
      clientSupportsBinding: Boolean(binding),
    })
    const base = {mechanism: choice.name, ...(choice.plus ? {channelBinding: binding?.type} : {})}
    conn.send(xml('auth', {xmlns: NS_SASL, mechanism: choice.name}, scram.initial().toString('base64')))
    const challenge = await conn.read('SASL challenge')
    if (challenge.name !== 'challenge') return {...base, outcome: 'refused', detail: failureText(challenge)}
    const first = Buffer.from(challenge.getText(), 'base64').toString('utf8')
    const {salt, iterations, error} = serverFirst(first)
    if (error) return {...base, outcome: 'refused', detail: error}
    const seen = {...base, salt, iterations}
    if (iterations !== undefined && (iterations < MIN_ITERATIONS || iterations > MAX_ITERATIONS)) {
      // Not worth finishing: fewer iterations make a captured exchange cheap to attack.
      conn.send(xml('abort', {xmlns: NS_SASL}))
      return {...seen, outcome: iterations < MIN_ITERATIONS ? 'too-few-iterations' : 'too-many-iterations'}
    }
    const response = await scram.respond(Buffer.from(first))
    conn.send(xml('response', {xmlns: NS_SASL}, response.toString('base64')))
    const answer = await conn.read('SASL outcome')
    if (answer.name !== 'success') return {...seen, outcome: 'refused', detail: failureText(answer)}
    scram.verify(Buffer.from(answer.getText(), 'base64'))
    return {...seen, outcome: 'success'}
  } catch (error) {
    return {outcome: 'error', detail: errorText(error)}
  } finally {
    conn.close()
  }
}

const failureText = (el: Element) =>
  el.name === 'failure'
    ? (el.getChildElements().find((c) => c.name !== 'text')?.name ?? 'failure')
    : `<${el.name}>`

/** The iteration count and the salt's stability, from two logins on the same port. */
export function judgeScram(
  target: string,
  logins: ScramObservation[],
  settings: AuditSettings,
): CheckResult[] {
  const [a, b] = logins
  const min = settings.scramMinIterations
  const out: CheckResult[] = []
  const counted = logins.find((l) => l.iterations !== undefined)
  if (!counted) {
    const why =
      a.outcome === 'no-scram' ? 'no SCRAM mechanism offered' : `no SCRAM exchange: ${a.detail ?? a.outcome}`
    out.push(check('passwords', 'scram-iterations', target, 'cannot-tell', why))
    out.push(check('passwords', 'scram-salt', target, 'cannot-tell', why))
    return out
  }
  const i = counted.iterations!
  out.push(
    i >= min
      ? check(
          'passwords',
          'scram-iterations',
          target,
          'pass',
          `${counted.mechanism}: ${i} iterations (at least ${min})`,
        )
      : check(
          'passwords',
          'scram-iterations',
          target,
          'fail',
          `${counted.mechanism}: only ${i} iterations (at least ${min} promised)`,
          'raise the count (Prosody: default_iteration_count; a stored hash keeps its count until ' +
            'the password changes)',
        ),
  )
  if (a.salt === undefined || b?.salt === undefined)
    out.push(
      check(
        'passwords',
        'scram-salt',
        target,
        'cannot-tell',
        'only one SCRAM exchange got as far as the salt',
      ),
    )
  else if (a.salt === b.salt)
    out.push(
      check(
        'passwords',
        'scram-salt',
        target,
        'pass',
        'the same salt in two logins: the server keeps a salted SCRAM hash, not the password',
      ),
    )
  else
    out.push(
      check(
        'passwords',
        'scram-salt',
        target,
        'fail',
        'a new salt in each of two logins: the server computes SCRAM from a password it keeps as is',
        HASHED,
      ),
    )
  const refused = logins.find((l) => l.outcome === 'refused' || l.outcome === 'error')
  if (refused && !logins.some((l) => l.outcome === 'success'))
    out.push(
      check(
        'passwords',
        'scram-login',
        target,
        'cannot-tell',
        `the SCRAM login as the admin did not succeed (${refused.detail ?? refused.outcome})`,
      ),
    )
  return out
}

/** Two SCRAM logins on one client port, after its certificate verified (or with --insecure). */
export async function auditScram(
  endpoint: ProbeEndpoint,
  opts: ProbeOptions,
  credentials: {username: string; password: string},
  settings: AuditSettings,
): Promise<CheckResult[]> {
  const target = describeEndpoint(endpoint)
  const once = async (): Promise<ScramObservation> => {
    let stream: TlsStream
    try {
      stream = await openTls(endpoint, opts)
    } catch (error) {
      return {outcome: 'error', detail: errorText(error)}
    }
    if (!stream.socket.authorized && !opts.insecure) {
      stream.conn.close()
      return {
        outcome: 'error',
        detail:
          `the certificate does not verify (${stream.socket.authorizationError}): ` +
          'no password is sent there',
      }
    }
    return scramLogin(stream, opts.domain, credentials.username, credentials.password)
  }
  return judgeScram(target, await Promise.all([once(), once()]), settings)
}
