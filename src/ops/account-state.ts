// An account's state between create and delete: disabled or enabled, its live sessions ended, its
// password changed. Each the way the server offers it: XEP-0133, ejabberd's API, or xmppadm's
// module (server/CONTRACT.md 11) where neither exists.
import {XmppadmError, dataError} from '../errors.js'
import type {CommandResponse} from '../protocol/adhoc.js'
import {formValues} from '../protocol/dataform.js'
import {registerSecret} from '../secrets.js'
import {accountExists, checkAccount, checkHost, failedWith, splitJid, userStatsFinds} from './accounts.js'
import {type OpContext, invoke} from './context.js'
import {XEP0133, XMPPADM_NS, admin, api, mod} from './nodes.js'
import type {Operation} from './operation.js'
import {ADHOC_API, EJABBERD_MODULE_HINT, prosodyModuleHint} from './server-module.js'

export const noSuchUser = (jid: string) => new XmppadmError('noUser', 'no-such-user', `no such user: ${jid}`)

/** What a state change did: changed (false: it was so already; undefined: the server does not say). */
export interface StateChange {
  changed?: boolean
  /** Live sessions that ended, where the server says. */
  sessionsClosed?: number
}

export interface DisableRequest {
  jid: string
  reason?: string
}

const asList = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : v ? [String(v)] : [])
const resOf = (resp: CommandResponse) => String(formValues(resp.form!).res ?? '')

/**
 * Prosody's disable-user, reenable-user and end-user-session answer every JID in an info note:
 * "The following accounts were successfully …:\nJID" or "… could not be …:\nJID". Whether this
 * JID is in the second list (after checkHost(), that means: no such account).
 */
function prosodyRefused(resp: CommandResponse, jid: string): boolean {
  const text = resp.notes.map((n) => n.text).join('\n')
  const refused = text.indexOf('could not be')
  return refused >= 0 && text.slice(refused).split('\n').includes(jid)
}

/** Runs a module node that takes accountjids; item-not-found is "no such user". */
async function viaModule(ctx: OpContext, node: string, jid: string, extra: Record<string, string> = {}) {
  try {
    return formValues(
      (await invoke(ctx, mod(node), {FORM_TYPE: XMPPADM_NS, accountjids: [jid], ...extra})).form!,
    )
  } catch (error) {
    if (failedWith(error, 'item-not-found')) throw noSuchUser(jid)
    throw error
  }
}

/** ejabberd's API answers res 1 for a user that does not exist: ask first. */
async function mustExist(ctx: OpContext, jid: string): Promise<void> {
  if (!(await checkAccount(ctx, jid))) throw noSuchUser(jid)
}

/** Prosody's XEP-0133 node for one account, answered in a note; "could not" means no such account. */
async function viaProsodyNote(ctx: OpContext, node: string, jid: string): Promise<void> {
  const resp = await invoke(ctx, admin(node), {FORM_TYPE: XEP0133, accountjids: [jid]})
  if (prosodyRefused(resp, jid)) throw noSuchUser(jid)
}

/**
 * XEP-0133 disable-user / reenable-user for one account. Prosody answers in a note (above);
 * ejabberd 25.10+ (its account ban, with an empty reason) completes with nothing, the same
 * whether or not the account was banned, and fails an unknown account with item-not-found.
 */
async function viaXep0133State(ctx: OpContext, node: string, jid: string): Promise<StateChange> {
  try {
    await viaProsodyNote(ctx, node, jid)
    return {}
  } catch (error) {
    if (failedWith(error, 'item-not-found')) throw noSuchUser(jid)
    throw error
  }
}

const DEFAULT_REASON = 'Disabled by an administrator'

export const accountDisable: Operation<DisableRequest, StateChange> = {
  id: 'account-disable',
  summary: 'disable accounts',
  check: (ctx, {jid}) => checkHost(ctx, jid),
  strategies: [
    {
      // Carries the reason; ejabberd 25.10+'s XEP-0133 disable-user is this with an empty one.
      nodes: [api('ban_account'), api('check_account')],
      via: 'ejabberd API',
      async run(ctx, {jid, reason}) {
        await mustExist(ctx, jid)
        const res = resOf(
          await invoke(ctx, api('ban_account'), {...splitJid(jid), reason: reason || DEFAULT_REASON}),
        )
        if (res === '0') return {changed: true}
        // res 1: banned already, or ejabberd could not keep the ban (no mod_private)
        if (ctx.nodes.has(api('get_ban_details'))) {
          const details = formValues((await invoke(ctx, api('get_ban_details'), splitJid(jid))).form!)
          if (!asList(details.ban_details).length)
            throw new XmppadmError('data', 'rejected', `ejabberd refused to ban ${jid}`, {
              hint: 'ejabberd keeps a ban in private storage: is mod_private loaded?',
            })
        }
        return {changed: false}
      },
    },
    {
      // Prosody 13, ejabberd 25.10+ (mod_configure) where its API is not offered
      nodes: [admin('disable-user')],
      via: 'XEP-0133',
      partial: 'no reason is kept',
      run: (ctx, {jid}) => viaXep0133State(ctx, 'disable-user', jid),
    },
    {
      nodes: [mod('disable-user')],
      via: 'mod_xmppadm',
      async run(ctx, {jid, reason}) {
        const v = await viaModule(ctx, 'disable-user', jid, reason ? {reason} : {})
        return {changed: asList(v.disabled).length > 0, sessionsClosed: Number(v['sessions-closed'] ?? 0)}
      },
    },
  ],
  enable: {
    prosody: (ctx) => `Prosody 13 (XEP-0133 disable-user in mod_admin_adhoc), or ${prosodyModuleHint(ctx)}`,
    ejabberd:
      `${ADHOC_API} (api-commands/ban_account), or ejabberd >= 25.10 with mod_configure (XEP-0133 ` +
      `disable-user), or ${EJABBERD_MODULE_HINT}`,
    other: 'a server with XEP-0133 disable-user',
  },
}

export const accountEnable: Operation<string, StateChange> = {
  id: 'account-enable',
  summary: 'enable disabled accounts',
  check: checkHost,
  strategies: [
    {
      nodes: [api('unban_account'), api('check_account')],
      via: 'ejabberd API',
      async run(ctx, jid) {
        await mustExist(ctx, jid)
        // res 1: the account was not banned
        return {changed: resOf(await invoke(ctx, api('unban_account'), splitJid(jid))) === '0'}
      },
    },
    {
      nodes: [admin('reenable-user')],
      via: 'XEP-0133',
      run: (ctx, jid) => viaXep0133State(ctx, 'reenable-user', jid),
    },
    {
      nodes: [mod('enable-user')],
      via: 'mod_xmppadm',
      run: async (ctx, jid) => ({
        changed: asList((await viaModule(ctx, 'enable-user', jid)).enabled).length > 0,
      }),
    },
  ],
  enable: accountDisable.enable,
}

/** Ends an account's live sessions. */
export const accountKick: Operation<string, StateChange> = {
  id: 'account-kick',
  summary: "end accounts' live sessions",
  check: checkHost,
  strategies: [
    {
      // Says how many sessions it ended.
      nodes: [api('kick_user'), api('check_account')],
      via: 'ejabberd API',
      async run(ctx, jid) {
        await mustExist(ctx, jid)
        const v = formValues((await invoke(ctx, api('kick_user'), splitJid(jid))).form!)
        // API v2 (mod_adhoc_api): res "Kicked sessions: 2"; v1: num_resources 2
        const n = Number(/^Kicked sessions: (\d+)$/.exec(String(v.res ?? ''))?.[1] ?? v.num_resources ?? NaN)
        return Number.isFinite(n) ? {sessionsClosed: n} : {}
      },
    },
    {
      // Answers "disconnected" for any existing account, with or without sessions.
      nodes: [admin('end-user-session')],
      via: 'XEP-0133',
      families: ['prosody'],
      run: async (ctx, jid) => {
        await viaProsodyNote(ctx, 'end-user-session', jid)
        return {}
      },
    },
    {
      // ejabberd's takes one JID (accountjid) and completes for anyone: look the account up first
      // where the server can tell.
      nodes: [admin('end-user-session')],
      via: 'XEP-0133',
      async run(ctx, jid) {
        if ((await accountExists(ctx, jid)) === false) throw noSuchUser(jid)
        const field = ctx.software.family === 'ejabberd' ? 'accountjid' : 'accountjids'
        await invoke(ctx, admin('end-user-session'), {FORM_TYPE: XEP0133, [field]: jid})
        return {}
      },
    },
  ],
  enable: {
    prosody: 'load mod_admin_adhoc (XEP-0133 end-user-session)',
    ejabberd: 'load mod_configure (XEP-0133 end-user-session) or mod_adhoc_api',
    other: 'a server with XEP-0133 end-user-session',
  },
}

export interface PasswordRequest {
  jid: string
  password: string
}

export const accountPassword: Operation<PasswordRequest, void> = {
  id: 'account-password',
  summary: "change accounts' passwords",
  check(ctx, {jid, password}) {
    checkHost(ctx, jid)
    // ejabberd "completes" an empty password and changes nothing.
    if (!password) throw dataError('the new password is empty')
    registerSecret(password)
  },
  strategies: [
    {
      nodes: [admin('change-user-password')],
      via: 'XEP-0133',
      async run(ctx, {jid, password}) {
        try {
          await invoke(ctx, admin('change-user-password'), {FORM_TYPE: XEP0133, accountjid: jid, password})
        } catch (error) {
          // Prosody: the error note "User does not exist" (this host is checked already);
          // ejabberd: item-not-found.
          if (failedWith(error, 'item-not-found')) throw noSuchUser(jid)
          if (failedWith(error, 'error-note') && ctx.nodes.has(admin('user-stats')))
            if (!(await userStatsFinds(ctx, jid))) throw noSuchUser(jid)
          throw error
        }
      },
    },
    {
      nodes: [api('change_password'), api('check_account')],
      via: 'ejabberd API',
      async run(ctx, {jid, password}) {
        await mustExist(ctx, jid)
        await invoke(ctx, api('change_password'), {...splitJid(jid), newpass: password})
      },
    },
  ],
  enable: {
    prosody: 'load mod_admin_adhoc (XEP-0133 change-user-password)',
    ejabberd: 'load mod_configure (XEP-0133 change-user-password) or mod_adhoc_api',
    other: 'a server with XEP-0133 change-user-password',
  },
}
