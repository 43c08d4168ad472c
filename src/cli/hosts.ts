// One command on several virtual hosts of a server (--all-hosts, --hosts): which hosts, the work
// on each, concurrently on the one connection, and one report naming each host's result, whose
// exit status is the worst host's.
import type {Connector} from '../connect/connector.js'
import {ExitCode, XmppadmError, exitCodeName, knownError} from '../errors.js'
import {type OpContext, discover} from '../ops/context.js'
import {administeredHosts, parseHostList} from '../ops/hosts.js'
import {renderTable} from '../output/table.js'
import {Settled} from './outcome.js'

/** What a command's work on one host gave: its result, one line saying it, and an error if partly done. */
export interface HostWork<R> {
  result: R
  text: string
  /** Set when the host's run ended partly done or failed but has a result (a policy's failed rule). */
  error?: XmppadmError
}

/** One host's line in the report (and its element of the --json `hosts` array). */
export interface HostOutcome<R> {
  host: string
  ok: boolean
  /** Its exit code, as if the command had run on it alone. */
  code: number
  text: string
  result?: R
  error?: {code: number; reason: string; message: string; hint?: string}
  /** What the host's work warned about. */
  warnings?: string[]
}

/**
 * The hosts to run on: --hosts as given; --all-hosts, those the server module lists for this
 * account (asked on --to, default the account's domain); undefined for the usual single host.
 */
export async function targetHosts(
  flags: {'all-hosts'?: boolean; hosts?: string},
  connect: () => Promise<Connector>,
  signal: AbortSignal,
): Promise<string[] | undefined> {
  if (flags.hosts !== undefined) return parseHostList(flags.hosts)
  if (!flags['all-hosts']) return undefined
  const connector = await connect()
  const {to, admin} = connector
  return administeredHosts({
    session: connector,
    admin,
    to,
    nodes: new Set(),
    software: {family: 'other'},
    signal,
  })
}

/** Runs `work` on each host, a few at a time on the one connection; a host's failure is its outcome. */
export async function runOnHosts<R>(
  connector: Connector,
  hosts: string[],
  signal: AbortSignal,
  work: (ctx: OpContext, warn: (msg: string) => void) => Promise<HostWork<R>>,
  concurrency = 8,
): Promise<Array<HostOutcome<R>>> {
  const outcomes: Array<HostOutcome<R>> = new Array(hosts.length)
  let next = 0
  const worker = async () => {
    while (next < hosts.length && !signal.aborted) {
      const i = next++
      const host = hosts[i]
      const warnings: string[] = []
      try {
        const ctx = await discover(connector, {to: host, admin: connector.admin, signal})
        const done = await work(ctx, (msg) => warnings.push(msg))
        outcomes[i] = {
          host,
          ok: !done.error,
          code: done.error?.exitCode ?? ExitCode.ok,
          text: done.text,
          result: done.result,
          ...(done.error ? {error: brief(done.error)} : {}),
        }
      } catch (error) {
        const e = knownError(error) ?? new XmppadmError('internal', 'internal', `internal error: ${error}`)
        outcomes[i] = {host, ok: false, code: e.exitCode, text: `error: ${e.message}`, error: brief(e)}
      }
      if (warnings.length) outcomes[i].warnings = warnings
    }
  }
  await Promise.all(Array.from({length: Math.min(concurrency, hosts.length)}, worker))
  // hosts not started before an interrupt: nothing done there, 75 as for a paged run stopped
  // before its first page (src/cli/paged.ts); a new run does them
  for (let i = 0; i < hosts.length; i++)
    outcomes[i] ??= {
      host: hosts[i],
      ok: false,
      code: ExitCode.tempFail,
      text: 'not run: interrupted',
      error: {code: ExitCode.tempFail, reason: 'interrupted', message: 'interrupted before this host'},
    }
  return outcomes
}

const brief = (e: XmppadmError) => ({
  code: e.exitCode,
  reason: e.reason,
  message: e.message,
  ...(e.hint ? {hint: e.hint} : {}),
})

/**
 * The run's result for --json (`hosts`, one element per host) and its exit: 0 when every host
 * succeeded, otherwise the highest exit code of any host, with a message naming the hosts.
 */
export function settleHosts<R, X extends object>(
  outcomes: Array<HostOutcome<R>>,
  extra?: X,
): Settled<X & {hosts: Array<HostOutcome<R>>}> {
  const result = {...(extra ?? ({} as X)), hosts: outcomes}
  const failed = outcomes.filter((o) => !o.ok)
  if (!failed.length) return new Settled(result)
  const worst = Math.max(...failed.map((o) => o.code))
  const names = failed.map((o) => `${o.host} (${o.code})`).join(', ')
  return new Settled(
    result,
    new XmppadmError(
      exitCodeName(worst),
      'hosts-failed',
      `${failed.length} of ${outcomes.length} hosts did not succeed: ${names}`,
    ),
  )
}

/** The report as a table: a host a line, its result or what went wrong. */
export function hostsTable<R>(outcomes: Array<HostOutcome<R>>, color: boolean): Promise<string> {
  return renderTable(
    ['host', 'result'],
    outcomes.map((o) => [
      o.host,
      o.ok ? o.text : `${o.text}${o.code === ExitCode.partial ? '' : ` (exit ${o.code})`}`,
    ]),
    color,
  )
}
