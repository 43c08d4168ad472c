// The accounts of a host with their last activity, page by page (a server may hold 100,000):
// the module's paged #list-accounts (server/CONTRACT.md 12), or ejabberd's whole user list with
// one request per account for its last activity.
import {commandStep} from '../protocol/adhoc.js'
import {formRows, formValues} from '../protocol/dataform.js'
import {type OpContext, invoke} from './context.js'
import {XEP0133, XMPPADM_NS, admin, api, mod} from './nodes.js'
import type {Operation} from './operation.js'
import {ADHOC_API, EJABBERD_MODULE_HINT, prosodyModuleHint} from './server-module.js'
import {parseJid} from '../xmpp/jid.js'

/** online: a session is live; seen: lastActivity is the last time; never: no login on record; unknown. */
export type Activity = 'online' | 'seen' | 'never' | 'unknown'
const ACTIVITIES: readonly string[] = ['online', 'seen', 'never', 'unknown']

export interface AccountRow {
  jid: string
  /** ISO 8601 UTC, or null when there is none on record. */
  lastActivity: string | null
  /** ISO 8601 UTC when the server knows when the account was made. */
  created: string | null
  activity: Activity
}

export interface AccountPage {
  rows: AccountRow[]
  /** Accounts listed so far and on the host, as far as the server says. */
  scanned?: number
  total?: number
  /** The server gives an account that never logged in a last activity (ejabberd's XEP-0133). */
  neverUnknown?: boolean
}

export interface ListRequest {
  /** Accounts a page (the module's max; the size of a batch of look-ups otherwise). */
  pageSize: number
  /** Look-ups in flight, where each account's activity is one request. */
  concurrency: number
}

const text = (v: unknown) => (v === null || v === undefined ? '' : String(v))
const isoOrNull = (v: unknown) => (text(v) ? text(v) : null)
const asList = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : v ? [String(v)] : [])
const optionalNumber = (v: unknown) => (text(v) === '' ? undefined : Number(v))

/** Runs `look` on every item, `concurrency` at a time, keeping the order. */
async function mapLimit<T, R>(items: T[], concurrency: number, look: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const i = next++
      out[i] = await look(items[i])
    }
  }
  await Promise.all(Array.from({length: Math.min(concurrency, items.length)}, worker))
  return out
}

/** The whole list, then its last activity a page at a time. */
async function* inPages(
  names: string[],
  req: ListRequest,
  look: (jid: string) => Promise<AccountRow>,
): AsyncGenerator<AccountPage> {
  const sorted = [...names].sort()
  for (let i = 0; i < sorted.length; i += req.pageSize) {
    const page = sorted.slice(i, i + req.pageSize)
    yield {rows: await mapLimit(page, req.concurrency, look), scanned: i + page.length, total: sorted.length}
  }
}

/**
 * ejabberd's get_last: "2026-11-21T08:48:45Z : status", "… : ONLINE", "… : Registered but didn't
 * login" (the time of registration), "… : NOT FOUND".
 */
export function parseGetLast(jid: string, value: string): AccountRow {
  const at = value.indexOf(' : ')
  const time = at < 0 ? '' : value.slice(0, at).replace(/\.\d+Z$/, 'Z')
  const status = at < 0 ? value : value.slice(at + 3)
  if (status === 'ONLINE') return {jid, lastActivity: time || null, created: null, activity: 'online'}
  if (status === 'NOT FOUND') return {jid, lastActivity: null, created: null, activity: 'unknown'}
  if (status === "Registered but didn't login")
    return {jid, lastActivity: null, created: time || null, activity: 'never'}
  return {jid, lastActivity: time || null, created: null, activity: time ? 'seen' : 'unknown'}
}

/**
 * ejabberd 24.12's get-user-lastlogin: "Online", "Never" (no record), or the time of mod_last's
 * record as "YYYY-MM-DD HH:MM:SS" in the server's local time zone (read as UTC here).
 */
export function parseLastLogin(jid: string, value: string): AccountRow {
  if (value === 'Online')
    return {jid, lastActivity: new Date().toISOString().slice(0, 19) + 'Z', created: null, activity: 'online'}
  const m = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)$/.exec(value)
  if (m) return {jid, lastActivity: `${m[1]}T${m[2]}Z`, created: null, activity: 'seen'}
  return {jid, lastActivity: null, created: null, activity: 'unknown'}
}

/** Marks every page: this way cannot tell an account that never logged in. */
async function* withNeverUnknown(pages: AsyncGenerator<AccountPage>): AsyncGenerator<AccountPage> {
  for await (const page of pages) yield {...page, neverUnknown: true}
}

/** The module's #list-accounts, a page a request (also the archive audit's walk over a host). */
export async function* moduleList(ctx: OpContext, req: ListRequest): AsyncGenerator<AccountPage> {
  let after: string | undefined
  for (;;) {
    const resp = await invoke(ctx, mod('list-accounts'), {
      FORM_TYPE: XMPPADM_NS,
      after,
      max: String(req.pageSize),
    })
    const v = formValues(resp.form!)
    const rows = formRows(resp.form!).map((r) => ({
      jid: text(r.jid),
      lastActivity: isoOrNull(r['last-activity']),
      created: isoOrNull(r.created),
      activity: (ACTIVITIES.includes(text(r.activity)) ? text(r.activity) : 'unknown') as Activity,
    }))
    yield {rows, scanned: optionalNumber(v.scanned), total: optionalNumber(v.total)}
    if (v.more !== true || !v.next) return
    after = String(v.next)
  }
}

export const accountList: Operation<ListRequest, AsyncGenerator<AccountPage>> = {
  id: 'account-list',
  summary: 'list accounts with their last activity',
  strategies: [
    {
      nodes: [mod('list-accounts')],
      via: 'mod_xmppadm',
      run: async (ctx, req) => moduleList(ctx, req),
    },
    {
      nodes: [api('registered_users'), api('get_last')],
      via: 'ejabberd API',
      partial: 'one request per account for its last activity',
      async run(ctx, req) {
        const host = parseJid(ctx.to).domain
        const users = asList(formValues((await invoke(ctx, api('registered_users'), {host})).form!).users)
        return inPages(
          users.filter(Boolean).map((u) => `${u}@${host}`),
          req,
          async (jid) => {
            const v = formValues(
              (await invoke(ctx, api('get_last'), {user: parseJid(jid).local!, host})).form!,
            )
            return parseGetLast(jid, text(v.last_activity))
          },
        )
      },
    },
    {
      nodes: [admin('get-registered-users-list'), admin('get-user-lastlogin')],
      via: 'XEP-0133',
      // mod_last notes a registration as the last login: get-user-lastlogin cannot tell "never" apart
      partial:
        'one request per account for its last login, which ejabberd gives in its local time (read as ' +
        'UTC); an account that never logged in shows when it was registered',
      families: ['ejabberd'],
      async run(ctx, req) {
        // completes on a bare execute (24.12 answers a submitted form with service-unavailable)
        const list = await commandStep(ctx.session, {to: ctx.to, node: admin('get-registered-users-list')})
        const v = formValues(list.form!)
        // 24.12 lists an account with an empty user name as the bare domain: not an account to act on
        const jids = asList(v.registereduserjids).filter((j) => j.includes('@'))
        return withNeverUnknown(
          inPages(jids, req, async (jid) => {
            const r = formValues(
              (await invoke(ctx, admin('get-user-lastlogin'), {FORM_TYPE: XEP0133, accountjid: jid})).form!,
            )
            return parseLastLogin(jid, text(r.lastlogin))
          }),
        )
      },
    },
  ],
  enable: {
    prosody: prosodyModuleHint,
    ejabberd: `${EJABBERD_MODULE_HINT}; or ${ADHOC_API} (api-commands/registered_users, get_last)`,
    other: `a server offering ${mod('list-accounts')}`,
  },
}

/** Accounts that were last active before `cutoff` (ms), or never logged in and were made before it. */
export function inactiveSince(row: AccountRow, cutoffMs: number): boolean | undefined {
  if (row.activity === 'online') return false
  if (row.activity === 'seen') return row.lastActivity ? Date.parse(row.lastActivity) < cutoffMs : undefined
  if (row.activity === 'never') return row.created ? Date.parse(row.created) < cutoffMs : undefined
  return undefined
}
