// What an audit comes to: each promise's wording (as the README's promise table has it), counts by
// verdict, and the one-line answer of a monitoring check plugin (Nagios, Icinga, Sensu…).
import {formatDuration} from '../ops/values.js'
import type {CheckResult, PromiseId, Verdict} from './check.js'
import type {AuditSettings} from './settings.js'

/** The promise in words, as the policy sets it. */
export function promiseText(
  id: PromiseId,
  settings: AuditSettings,
  ages: {offline: number; uploads: number},
): string {
  switch (id) {
    case 'tls':
      return `only TLS ${settings.tlsMin} or newer, client to server and server to server`
    case 'passwords':
      return settings.plain === 'forbidden'
        ? 'passwords only as salted SCRAM hashes, never sent as is (no PLAIN)'
        : 'passwords only as salted SCRAM hashes'
    case 'archive':
      return settings.archive === 'none' ? 'no message archive' : 'a message archive is allowed'
    case 'registration':
      return settings.registration === 'closed' ? 'no open registration' : 'open registration is allowed'
    case 'offline':
      return `offline messages are deleted after ${formatDuration(ages.offline)}`
    case 'uploads':
      return `uploaded files are deleted after ${formatDuration(ages.uploads)}`
    case 'debug-log':
      return 'debug logs are on only for a while'
    case 'block-ip':
      return 'single addresses or whole ranges can be blocked'
    case 'export':
      return 'a user can get a copy of all data stored about them'
    case 'erasure':
      return 'a user can have the account and its data deleted'
    case 'published':
      return 'what the server publishes about itself agrees (XEP-0157, XEP-0504)'
  }
}

export type Summary = Record<Verdict, number>

export function summarise(results: CheckResult[]): Summary {
  const s: Summary = {pass: 0, warn: 0, fail: 0, 'cannot-tell': 0, 'not-applicable': 0}
  for (const r of results) s[r.verdict]++
  return s
}

/** Promises with at least one failed check, in report order. */
export const brokenPromises = (results: CheckResult[]): PromiseId[] => [
  ...new Set(results.filter((r) => r.verdict === 'fail').map((r) => r.promise)),
]

/** Plugin states (Nagios plugin API): 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN. */
export const NAGIOS = {OK: 0, WARNING: 1, CRITICAL: 2, UNKNOWN: 3} as const
export type NagiosState = keyof typeof NAGIOS

/**
 * A broken promise is CRITICAL; one close to breaking (a certificate expiring soon) WARNING;
 * checks that cannot tell make it UNKNOWN only when nothing else was found.
 */
export function nagiosState(results: CheckResult[]): NagiosState {
  const s = summarise(results)
  if (s.fail) return 'CRITICAL'
  if (s.warn) return 'WARNING'
  if (s['cannot-tell']) return 'UNKNOWN'
  return 'OK'
}

const clip = (text: string, max = 160) => (text.length > max ? `${text.slice(0, max - 1)}…` : text)

/** "|" starts the performance data: none may appear in the text, nor a line break. */
const pluginText = (text: string) => text.replace(/\|/g, '/').replace(/[\r\n]+/g, ' ')

/** The line of a check that could not run at all (a bad file, no password). */
export const nagiosUnknown = (message: string) => `XMPP POLICY UNKNOWN - ${pluginText(message)}`

/** What a plugin line says of `results`, after its state. */
function nagiosText(results: CheckResult[]): string {
  const s = summarise(results)
  const about = (verdict: Verdict) =>
    results
      .filter((r) => r.verdict === verdict)
      .map((r) => `${r.promise}: ${clip(r.evidence)} (${r.target})`)
      .join('; ')
  return nagiosState(results) === 'OK'
    ? `every promise kept (${s.pass} checks passed)`
    : [
        s.fail ? `${brokenPromises(results).length} promise(s) broken: ${about('fail')}` : '',
        s.warn ? `warning: ${about('warn')}` : '',
        s['cannot-tell'] ? `cannot tell: ${about('cannot-tell')}` : '',
      ]
        .filter(Boolean)
        .join('; ')
}

const perfData = (s: Summary, seconds: number) =>
  `pass=${s.pass} warn=${s.warn} fail=${s.fail} cannot_tell=${s['cannot-tell']} time=${seconds.toFixed(2)}s`

/** One line: state, what was found, and performance data (counts, time). */
export function nagiosLine(domain: string, results: CheckResult[], seconds: number): string {
  const state = nagiosState(results)
  const perf = perfData(summarise(results), seconds)
  return `XMPP POLICY ${state} - ${domain}: ${pluginText(nagiosText(results))} | ${perf}`
}

/** The states from best to worst, as a monitoring system ranks them: CRITICAL above all. */
const RANK: NagiosState[] = ['OK', 'UNKNOWN', 'WARNING', 'CRITICAL']

/**
 * One line for several virtual hosts (--all-hosts): the worst host's state, then each host with
 * its own state and findings (a host that could not be audited at all: UNKNOWN and why); the
 * performance data sum the hosts' counts.
 */
export function nagiosHostsLine(
  hosts: Array<{host: string; results?: CheckResult[]; error?: string}>,
  seconds: number,
): {line: string; state: NagiosState} {
  const states = hosts.map((h) => (h.results ? nagiosState(h.results) : 'UNKNOWN'))
  const state = states.reduce((a, b) => (RANK.indexOf(b) > RANK.indexOf(a) ? b : a), 'OK' as NagiosState)
  const parts = hosts.map(
    (h, i) => `${h.host} ${states[i]}: ${h.results ? nagiosText(h.results) : (h.error ?? 'not audited')}`,
  )
  const sum = summarise(hosts.flatMap((h) => h.results ?? []))
  const text = `${hosts.length} host(s): ${parts.join('; ')}`
  return {line: `XMPP POLICY ${state} - ${pluginText(text)} | ${perfData(sum, seconds)}`, state}
}

const SEVERITY: Verdict[] = ['not-applicable', 'pass', 'cannot-tell', 'warn', 'fail']

/** Each promise with its worst verdict: what the report says of it as a whole. */
export function promiseVerdicts(
  results: CheckResult[],
  settings: AuditSettings,
  ages: {offline: number; uploads: number},
): Array<{promise: PromiseId; text: string; verdict: Verdict}> {
  const out = new Map<PromiseId, Verdict>()
  for (const r of results) {
    const before = out.get(r.promise)
    if (!before || SEVERITY.indexOf(r.verdict) > SEVERITY.indexOf(before)) out.set(r.promise, r.verdict)
  }
  return [...out].map(([promise, verdict]) => ({
    promise,
    text: promiseText(promise, settings, ages),
    verdict,
  }))
}

/** Table rows: promise (its words, on its first row), check and target, evidence, verdict. */
export function tableRows(
  results: CheckResult[],
  settings: AuditSettings,
  ages: {offline: number; uploads: number},
  repeatPromise: boolean,
): string[][] {
  let last: PromiseId | undefined
  return results.map((r) => {
    const first = r.promise !== last
    last = r.promise
    const evidence = r.hint && r.verdict !== 'pass' ? `${r.evidence} (hint: ${r.hint})` : r.evidence
    return [
      first || repeatPromise ? promiseText(r.promise, settings, ages) : '',
      `${r.check}: ${r.target}`,
      evidence,
      r.verdict,
    ]
  })
}

/** Column widths on a terminal of `columns`: the evidence gets what the others leave (4 borders). */
export function tableWidths(columns: number): number[] {
  const clamp = (n: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, Math.round(n)))
  const promise = clamp(columns * 0.2, 16, 30)
  const check = clamp(columns * 0.22, 18, 40)
  const verdict = 16
  return [promise, check, Math.max(24, columns - promise - check - verdict - 5), verdict]
}
