// Accounts: create, delete, and look up (a dry run's check), each the way the server offers it.
import {randomBytes} from 'node:crypto'
import {XmppadmError, dataError} from '../errors.js'
import {formValues} from '../protocol/dataform.js'
import {registerSecret} from '../secrets.js'
import {XmppError} from '../xmpp/errors.js'
import {parseJid} from '../xmpp/jid.js'
import {type OpContext, invoke} from './context.js'
import {type Operation, perform, performIfOffered} from './operation.js'
import {XEP0133, XMPPADM_NS, admin, api, mod} from './nodes.js'
import {ADHOC_API} from './server-module.js'

/** 24 random bytes, base64url: 192 bits, no characters a shell or a form would mangle. */
export function generatePassword(): string {
  const pw = randomBytes(24).toString('base64url')
  registerSecret(pw)
  return pw
}

/** Accounts must live on the virtual host the commands go to: servers refuse (or worse) otherwise. */
export function checkHost(ctx: OpContext, jid: string): void {
  const host = parseJid(jid).domain
  const target = parseJid(ctx.to).domain
  if (host !== target)
    throw dataError(`${jid} is not on ${target}`, `send the command to its host with --to ${host}`)
}

function splitJid(jid: string): {user: string; host: string} {
  const j = parseJid(jid)
  return {user: j.local!, host: j.domain}
}

/** A failure on the wire with one of these conditions (an IQ error's, or a command's). */
const failedWith = (error: unknown, ...conditions: string[]): error is XmppError =>
  error instanceof XmppError && conditions.includes(error.condition ?? '')

const accountExistsError = (jid: string) =>
  new XmppadmError('data', 'account-exists', `account ${jid} already exists`)

/** ejabberd's check_account: res 0 when the account exists. */
async function checkAccount(ctx: OpContext, jid: string): Promise<boolean> {
  return String(formValues((await invoke(ctx, api('check_account'), splitJid(jid))).form!).res) === '0'
}

/**
 * Prosody's user-stats answers an error note for an account that does not exist (and for another
 * host, which checkHost() ruled out): the note is the answer.
 */
async function userStatsFinds(ctx: OpContext, jid: string): Promise<boolean> {
  try {
    await invoke(ctx, admin('user-stats'), {FORM_TYPE: XEP0133, accountjid: jid})
    return true
  } catch (error) {
    if (failedWith(error, 'error-note')) return false
    throw error
  }
}

export const accountCreate: Operation<{jid: string; password: string}, void> = {
  id: 'account-create',
  summary: 'create accounts',
  check(ctx, {jid, password}) {
    checkHost(ctx, jid)
    registerSecret(password)
  },
  strategies: [
    {
      nodes: [admin('add-user')],
      via: 'XEP-0133',
      async run(ctx, {jid, password}) {
        try {
          await invoke(ctx, admin('add-user'), {
            FORM_TYPE: XEP0133,
            accountjid: jid,
            password,
            'password-verify': password,
          })
        } catch (error) {
          // ejabberd: conflict. Prosody: an error note, which after xmppadm's own checks (this
          // host, a valid JID, the same password twice) can only mean that the account exists.
          if (failedWith(error, 'conflict', 'error-note')) throw accountExistsError(jid)
          // ejabberd answers every bad input to add-user with item-not-found ("No hook has processed this
          // command").
          if (failedWith(error, 'item-not-found'))
            throw new XmppadmError(
              'data',
              'rejected',
              `the server refused to create ${jid}: ${error.details?.text ?? 'item-not-found'}`,
            )
          throw error
        }
      },
    },
    {
      nodes: [api('register')],
      via: 'ejabberd API',
      async run(ctx, {jid, password}) {
        try {
          await invoke(ctx, api('register'), {...splitJid(jid), password})
        } catch (error) {
          if (failedWith(error, 'api-409')) throw accountExistsError(jid)
          throw error
        }
      },
    },
  ],
  enable: {
    prosody: 'load mod_admin_adhoc',
    ejabberd: 'load mod_configure (XEP-0133) or mod_adhoc_api',
    other: 'a server with XEP-0133 add-user',
  },
}

/** Deletes one account: true if it was deleted, false if there was none. */
export const accountDelete: Operation<string, boolean> = {
  id: 'account-delete',
  summary: 'delete accounts',
  check: checkHost,
  strategies: [
    {
      // Prosody's delete-user says which accounts it deleted only in the words of an info note:
      // ask user-stats first, which answers "no such account" as an error note.
      nodes: [admin('delete-user'), admin('user-stats')],
      via: 'XEP-0133',
      families: ['prosody'],
      async run(ctx, jid) {
        if (!(await userStatsFinds(ctx, jid))) return false
        await invoke(ctx, admin('delete-user'), {FORM_TYPE: XEP0133, accountjids: [jid]})
        return true
      },
    },
    {
      nodes: [admin('delete-user')],
      via: 'XEP-0133',
      async run(ctx, jid) {
        try {
          await invoke(ctx, admin('delete-user'), {FORM_TYPE: XEP0133, accountjids: [jid]})
          return true
        } catch (error) {
          // ejabberd: item-not-found for an account that does not exist.
          if (failedWith(error, 'item-not-found')) return false
          throw error
        }
      },
    },
    {
      nodes: [api('unregister'), api('check_account')],
      via: 'ejabberd API',
      async run(ctx, jid) {
        // unregister answers the same whether or not the user existed (and then miscounts users): ask first.
        if (!(await checkAccount(ctx, jid))) return false
        await invoke(ctx, api('unregister'), splitJid(jid))
        return true
      },
    },
  ],
  enable: {
    prosody: 'load mod_admin_adhoc',
    ejabberd: 'load mod_configure (XEP-0133) or mod_adhoc_api',
    other: 'a server with XEP-0133 delete-user',
  },
}

/** Whether an account exists (a dry run's check, not an operation of its own). */
export const accountLookup: Operation<string, boolean> = {
  id: 'account-exists',
  summary: 'tell whether an account exists',
  internal: true,
  check: checkHost,
  strategies: [
    {nodes: [api('check_account')], via: 'ejabberd API', run: checkAccount},
    {
      nodes: [mod('export-user')],
      via: 'mod_xmppadm',
      async run(ctx, jid) {
        try {
          await invoke(ctx, mod('export-user'), {
            FORM_TYPE: XMPPADM_NS,
            accountjid: jid,
            section: 'last',
            max: '1',
          })
          return true
        } catch (error) {
          // item-not-found for a user that does not exist (server/CONTRACT.md 7)
          if (failedWith(error, 'item-not-found')) return false
          throw error
        }
      },
    },
    // ejabberd 24.12's user-stats answers zeros for anyone.
    {nodes: [admin('user-stats')], via: 'XEP-0133', families: ['prosody'], run: userStatsFinds},
  ],
  enable: {
    prosody: 'load mod_admin_adhoc (XEP-0133 user-stats)',
    ejabberd: `${ADHOC_API} (api-commands/check_account)`,
    other: 'a server offering a way to look an account up',
  },
}

export const createAccount = (ctx: OpContext, jid: string, password: string) =>
  perform(ctx, accountCreate, {jid, password})

/** Whether an account exists: true, false, or undefined when this server offers no way to tell. */
export const accountExists = (ctx: OpContext, jid: string) => performIfOffered(ctx, accountLookup, jid)

/** Creates an account; "it exists already" is returned (as the refusal it is), not thrown. */
export const tryCreateAccount = (ctx: OpContext, jid: string, password: string) =>
  createAccount(ctx, jid, password).then(
    () => undefined,
    (e: unknown) => (e instanceof XmppadmError && e.reason === 'account-exists' ? e : Promise.reject(e)),
  )
