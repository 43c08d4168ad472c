// One audit: every check, at once. Outside probes (TLS per port, SASL, registration) and the
// checks that need the admin session run side by side; a session that cannot be had leaves its
// checks at "cannot tell" with the reason, and the outside ones still answer.
import {errorText, type CheckResult, PROMISE_IDS, check} from './check.js'
import type {AuditEndpoints} from './endpoints.js'
import {
  auditArchive,
  auditDebugLog,
  auditOperations,
  auditPublished,
  auditRetention,
  unavailableReasons,
} from './inside.js'
import {type ProbeOptions, describeEndpoint} from './probe.js'
import {auditRegistration} from './registration.js'
import {auditScram, judgeOffer, saslOffer} from './sasl.js'
import type {AuditSettings} from './settings.js'
import {auditEndpointTls} from './tls.js'
import type {OpContext} from '../ops/context.js'

export interface AuditInput {
  settings: AuditSettings
  /** Retention ages in seconds (the policy file's, or the defaults). */
  ages: {offline: number; uploads: number}
  endpoints: AuditEndpoints
  probe: ProbeOptions
  /** The admin's credentials, for the SCRAM exchanges (never sent as PLAIN). */
  credentials?: {username: string; password: string}
  /**
   * Set on a host that is not the admin's own domain, whose account lives on it: its logins are
   * tried there only (the SCRAM checks of this host are not applicable, saying so).
   */
  accountElsewhere?: string
  /**
   * An account name that exists on the host (the registration probe asks to register it: an open
   * server says conflict, and nothing is created). Default: the admin's own.
   */
  existingName?: Promise<string | undefined>
  /** The admin session with what the server offers; rejected when it cannot be had. */
  admin: Promise<OpContext>
}

export async function runAudit(input: AuditInput): Promise<CheckResult[]> {
  const {settings, endpoints, probe} = input
  // Do not let an early rejection go unhandled while the probes run.
  const admin = input.admin.then(
    (ctx) => ({ctx}),
    (error: unknown) => ({error}),
  )
  const outside = (async () => {
    const [c2s, s2s] = await Promise.all([
      Promise.all(endpoints.c2s.map((e) => auditEndpointTls(e, probe, settings))),
      Promise.all(endpoints.s2s.map((e) => auditEndpointTls(e, probe, settings))),
    ])
    const results = [...c2s, ...s2s].flatMap((r) => r.results)
    for (const r of s2s) r.stream?.conn.close()
    // What each client port offers after TLS, on the stream its handshake opened.
    const offers = await Promise.all(
      c2s.map(async (r) => {
        if (!r.stream) return undefined
        try {
          return saslOffer(await r.stream.conn.openStream(probe.domain))
        } catch (error) {
          results.push(
            check(
              'passwords',
              'scram-offered',
              describeEndpoint(r.endpoint),
              'cannot-tell',
              errorText(error),
            ),
          )
          return undefined
        } finally {
          r.stream.conn.close()
        }
      }),
    )
    c2s.forEach((r, i) => {
      const offer = offers[i]
      if (offer) results.push(...judgeOffer(describeEndpoint(r.endpoint), offer, settings))
    })
    // Logins and sign-ups go to the first client port whose TLS worked.
    const first = c2s.find((r) => r.stream)
    if (!first) {
      const why = 'no client port could be reached with TLS'
      results.push(check('passwords', 'scram-iterations', 'c2s', 'cannot-tell', why))
      results.push(check('registration', 'registration', 'c2s', 'cannot-tell', why))
      return {results, plainOffered: undefined}
    }
    const existingName =
      input.existingName ?? admin.then((a) => ('ctx' in a ? a.ctx.admin.split('@')[0] : undefined))
    const [scram, registration] = await Promise.all([
      input.accountElsewhere
        ? Promise.resolve([
            check(
              'passwords',
              'scram-iterations',
              describeEndpoint(first.endpoint),
              'not-applicable',
              `the admin account is on ${input.accountElsewhere}: its SCRAM logins are checked there only`,
            ),
          ])
        : input.credentials
          ? auditScram(first.endpoint, probe, input.credentials, settings)
          : Promise.resolve([
              check(
                'passwords',
                'scram-iterations',
                describeEndpoint(first.endpoint),
                'cannot-tell',
                'no admin credentials to log in with',
              ),
            ]),
      auditRegistration(first.endpoint, probe, settings, existingName),
    ])
    results.push(...scram, registration)
    const plainOffered = offers.some((o) => o?.mechanisms.some((m) => m.toUpperCase() === 'PLAIN'))
    return {results, plainOffered: offers.some(Boolean) ? plainOffered : undefined}
  })()

  const inside = (async () => {
    const a = await admin
    if ('error' in a) {
      const why = `no admin session: ${errorText(a.error)}`
      const target = probe.domain
      return [
        check('archive', 'archive-offered', target, 'cannot-tell', why),
        check('offline', 'offline-age', target, 'cannot-tell', why),
        check('uploads', 'uploads-age', target, 'cannot-tell', why),
        check('debug-log', 'debug-log', target, 'cannot-tell', why),
        check('block-ip', 'operation', target, 'cannot-tell', why),
        check('export', 'operation', target, 'cannot-tell', why),
        check('erasure', 'operation', target, 'cannot-tell', why),
        check('published', 'xep-0157', target, 'cannot-tell', why),
        check('published', 'xep-0504', target, 'cannot-tell', why),
      ]
    }
    const {ctx} = a
    const reasons = await unavailableReasons(ctx)
    const [archive, retention, debugLog] = await Promise.all([
      auditArchive(ctx, settings),
      auditRetention(ctx, input.ages, reasons),
      auditDebugLog(ctx),
    ])
    const operations = auditOperations(ctx, reasons)
    const available = (p: string) => operations.find((o) => o.promise === p)?.verdict === 'pass'
    const outsideDone = await outside
    const published = await auditPublished(ctx, settings, () => ({
      plainOffered: outsideDone.plainOffered,
      ages: input.ages,
      exportAvailable: available('export'),
      erasureAvailable: available('erasure'),
    }))
    return [...archive, ...retention, debugLog, ...operations, ...published]
  })()

  const [out, ins] = await Promise.all([outside, inside])
  const order = (r: CheckResult) => PROMISE_IDS.indexOf(r.promise)
  return [...out.results, ...ins].sort((x, y) => order(x) - order(y))
}
