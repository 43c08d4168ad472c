// policy check on several virtual hosts (--all-hosts, --hosts): one audit per host, a few at a
// time on the one admin connection, each with the host's domain as the probes' stream `to`, TLS
// server name and DNS SRV name, and the admin session's view of that host for the inside checks.
import type {Connector} from '../connect/connector.js'
import {ExitCode, XmppadmError, knownError} from '../errors.js'
import {accountList} from '../ops/account-list.js'
import {type OpContext, discover} from '../ops/context.js'
import {administeredHosts} from '../ops/hosts.js'
import {performIfOffered, seesAdminCommands} from '../ops/operation.js'
import {parseJid} from '../xmpp/jid.js'
import {type AuditReport, type AuditRequest, audit} from './index.js'

export interface HostAudit {
  host: string
  /** The host's audit; absent when it could not run at all (`error` says why). */
  report?: AuditReport
  error?: XmppadmError
}

/**
 * The admin session on `host`, or why not: the server module's #about there refuses a non-admin;
 * where it is not loaded, servers hide admin commands from others (ejabberd's API commands may be
 * listed to any account, hence #about first).
 */
async function adminOn(connector: Promise<Connector>, host: string, signal: AbortSignal): Promise<OpContext> {
  const c = await connector
  const ctx = await discover(c, {to: host, admin: c.admin, signal})
  const notAdmin = new XmppadmError('forbidden', 'forbidden', `${c.admin} is not an admin of ${host}`, {
    hint: 'log in as an admin of the hosts, or leave this one out of --hosts',
  })
  const forbidden = await administeredHosts(ctx).then(
    () => false,
    (error: unknown) => error instanceof XmppadmError && error.exitCode === ExitCode.forbidden,
  )
  if (forbidden || !seesAdminCommands(ctx)) throw notAdmin
  return ctx
}

/**
 * The name of an account that exists on the host, for the registration probe (which asks to
 * register it: an open server answers conflict, nothing is created). Never a guessed name: where
 * none can be listed, the probe stops at the form and says it cannot tell.
 */
async function existingAccount(ctx: Promise<OpContext>): Promise<string | undefined> {
  try {
    const pages = await performIfOffered(await ctx, accountList, {pageSize: 1, concurrency: 1})
    if (!pages) return undefined
    for await (const page of pages) {
      const jid = page.rows[0]?.jid
      return jid ? (parseJid(jid, 'account').local ?? undefined) : undefined
    }
  } catch {
    return undefined
  }
  return undefined
}

export async function auditHosts(
  hosts: string[],
  req: Omit<AuditRequest, 'admin' | 'host' | 'existingName'>,
  connector: Promise<Connector>,
  signal: AbortSignal,
  concurrency = 4,
): Promise<HostAudit[]> {
  // a failed login is every host's "cannot tell" for the inside checks; the probes still run
  connector.catch(() => undefined)
  const own = parseJid(req.conn.jid, 'admin JID').domain
  const out: HostAudit[] = new Array(hosts.length)
  let next = 0
  const worker = async () => {
    while (next < hosts.length && !signal.aborted) {
      const i = next++
      const host = hosts[i]
      const admin = adminOn(connector, host, signal)
      admin.catch(() => undefined)
      try {
        const existingName = host === own ? undefined : existingAccount(admin)
        out[i] = {host, report: await audit({...req, admin, host, existingName})}
      } catch (error) {
        out[i] = {host, error: knownError(error) ?? new XmppadmError('internal', 'internal', String(error))}
      }
    }
  }
  await Promise.all(Array.from({length: Math.min(concurrency, hosts.length)}, worker))
  for (let i = 0; i < hosts.length; i++)
    out[i] ??= {
      host: hosts[i],
      error: new XmppadmError('tempFail', 'interrupted', 'interrupted before this host'),
    }
  return out
}
