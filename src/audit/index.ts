// policy check's engine, for the command: one call that probes, checks and judges, and what the
// command prints (a table, one line for monitoring) and exits with.
import {XmppadmError, exitCodeName, knownError} from '../errors.js'
import type {OpContext} from '../ops/context.js'
import type {PolicyFile} from '../ops/policy.js'
import {parseJid} from '../xmpp/jid.js'
import type {SessionOptions} from '../xmpp/session.js'
import {auditEndpoints} from './endpoints.js'
import type {ProbeEndpoint} from './probe.js'
import {NAGIOS, brokenPromises, nagiosLine, nagiosState, promiseVerdicts, summarise} from './report.js'
import {runAudit} from './run.js'
import {DEFAULT_AUDIT, DEFAULT_RETENTION} from './settings.js'

export {parseProbeEndpoint} from './endpoints.js'
export {NAGIOS, nagiosHostsLine, tableRows, tableWidths} from './report.js'
export type AuditReport = Awaited<ReturnType<typeof audit>>

export interface AuditRequest {
  /** The policy file as read, and its name for the result; none: the defaults. */
  file?: PolicyFile
  path?: string
  /** The connection settings: the admin's JID and password, CA, --server, timeout. */
  conn: SessionOptions
  /** --c2s, --s2s: the endpoints to probe instead of DNS SRV. */
  c2s?: ProbeEndpoint[]
  s2s?: ProbeEndpoint[]
  /** The admin session being opened (it may fail: the checks that need it then cannot tell). */
  admin: Promise<OpContext>
  /**
   * The virtual host audited (--all-hosts, --hosts): its domain is the probes' stream `to`, TLS
   * server name and DNS SRV name, and `admin` is the session's view of it. Default: the admin's domain.
   */
  host?: string
  /** On a host other than the admin's own: an account name that exists there (registration probe). */
  existingName?: Promise<string | undefined>
}

export async function audit(req: AuditRequest) {
  const {conn} = req
  // Looked at only once the probes are under way: a login that fails first must not go unhandled.
  req.admin.catch(() => undefined)
  const settings = {...DEFAULT_AUDIT, ...req.file?.audit}
  const ages = {
    offline: req.file?.rules.offline?.olderThanSeconds ?? DEFAULT_RETENTION.offline,
    uploads: req.file?.rules.uploads?.olderThanSeconds ?? DEFAULT_RETENTION.uploads,
  }
  const jid = parseJid(conn.jid, 'admin JID')
  const domain = req.host ?? jid.domain
  const elsewhere =
    domain === jid.domain
      ? {}
      : {accountElsewhere: jid.domain, existingName: req.existingName ?? Promise.resolve(undefined)}
  const started = performance.now()
  const endpoints = await auditEndpoints(domain, {c2s: req.c2s, s2s: req.s2s, server: conn.endpoint})
  const checks = await runAudit({
    settings,
    ages,
    endpoints,
    probe: {
      domain,
      ca: conn.ca,
      timeoutMs: conn.timeoutMs,
      localAddress: conn.localAddress,
      trace: conn.trace,
      insecure: conn.insecure,
    },
    credentials: {username: jid.local!, password: conn.password},
    admin: req.admin,
    ...elsewhere,
  })
  const seconds = (performance.now() - started) / 1000
  const summary = summarise(checks)
  const broken = brokenPromises(checks)
  const brokenText = broken.length
    ? `${broken.length} promise(s) broken: ${broken.join(', ')}`
    : 'no promise broken'
  const login = await req.admin.then(
    () => undefined,
    (error: unknown) => knownError(error),
  )
  const error = broken.length
    ? new XmppadmError('broken', 'promise-broken', brokenText)
    : login
      ? new XmppadmError(
          exitCodeName(login.exitCode),
          login.reason,
          `the checks that need the admin login could not run: ${login.message}`,
          {hint: login.hint},
        )
      : undefined
  const verdicts = `${summary.pass} passed, ${summary.warn} warning(s), ${summary['cannot-tell']} cannot tell`
  return {
    result: {
      domain,
      file: req.path ?? null,
      settings,
      ages,
      endpoints,
      promises: promiseVerdicts(checks, settings, ages),
      checks,
      summary,
      broken,
      seconds: Math.round(seconds * 1000) / 1000,
    },
    error,
    nagios: nagiosLine(domain, checks, seconds),
    nagiosCode: NAGIOS[nagiosState(checks)],
    /** The summary without the domain, for a report that names each host. */
    summaryText: `${brokenText} (${verdicts}; ${seconds.toFixed(2)} s)`,
    summaryLine: `${domain}: ${brokenText} (${verdicts}; ${seconds.toFixed(2)} s)`,
  }
}
