// Account create/delete on top of whichever way the server offers.
import {randomBytes} from 'node:crypto'
import {XmppadmError, dataError} from '../errors.js'
import {registerSecret} from '../secrets.js'
import {formValues} from '../protocol/dataform.js'
import {StanzaError} from '../xmpp/stanza-error.js'
import {parseJid} from '../xmpp/jid.js'
import {pickStrategy, requireStrategy} from './catalogue.js'
import {type OpContext, invoke} from './context.js'
import {XEP0133, XMPPADM_NS, admin, api, mod} from './nodes.js'

/** 24 random bytes, base64url: 192 bits, no characters a shell or a form would mangle. */
export function generatePassword(): string {
  const pw = randomBytes(24).toString('base64url')
  registerSecret(pw)
  return pw
}

function splitJid(jid: string): {user: string; host: string} {
  const j = parseJid(jid)
  return {user: j.local!, host: j.domain}
}

/** Accounts must live on the virtual host the commands go to: servers refuse (or worse) otherwise. */
export function checkHost(ctx: OpContext, jid: string): void {
  const host = parseJid(jid).domain
  const target = parseJid(ctx.to).domain
  if (host !== target)
    throw dataError(`${jid} is not on ${target}`, `send the command to its host with --to ${host}`)
}

const exists = (jid: string) => new XmppadmError('data', 'account-exists', `account ${jid} already exists`)

export async function createAccount(ctx: OpContext, jid: string, password: string): Promise<void> {
  checkHost(ctx, jid)
  registerSecret(password)
  const s = await requireStrategy(ctx, 'account-create')
  try {
    if (s.via === 'XEP-0133') {
      await invoke(ctx, admin('add-user'), {
        FORM_TYPE: XEP0133,
        accountjid: jid,
        password,
        'password-verify': password,
      })
    } else {
      await invoke(ctx, api('register'), {...splitJid(jid), password})
    }
  } catch (error) {
    if (
      error instanceof XmppadmError &&
      (error.reason === 'conflict' || /already (exists|registered)|Error 409/i.test(error.message))
    )
      throw exists(jid)
    // ejabberd answers every bad input to add-user with item-not-found "No hook has processed this command".
    if (error instanceof StanzaError && error.reason === 'item-not-found')
      throw new XmppadmError(
        'data',
        'rejected',
        `the server refused to create ${jid}: ${error.stanzaError.text ?? 'item-not-found'}`,
      )
    throw error
  }
}

export interface DeleteOutcome {
  deleted: string[]
  notFound: string[]
}

function parseProsodyDeleteNote(text: string, asked: string[]): DeleteOutcome {
  const [okPart, failPart = ''] = text.split(/could not be deleted:?/i)
  const inPart = (part: string) => asked.filter((j) => part.split(/\s+/).includes(j))
  return {deleted: inPart(okPart), notFound: inPart(failPart)}
}

async function deleteXep0133(ctx: OpContext, jids: string[]): Promise<DeleteOutcome> {
  try {
    const resp = await invoke(ctx, admin('delete-user'), {FORM_TYPE: XEP0133, accountjids: jids})
    const note = resp.notes.find((n) => /deleted/i.test(n.text))
    return note ? parseProsodyDeleteNote(note.text, jids) : {deleted: jids, notFound: []}
  } catch (error) {
    // ejabberd refuses the whole batch with item-not-found if one JID is unknown: find which, one by one.
    if (error instanceof StanzaError && error.reason === 'item-not-found' && jids.length > 1) {
      const out: DeleteOutcome = {deleted: [], notFound: []}
      for (const jid of jids) {
        const one = await deleteXep0133(ctx, [jid])
        out.deleted.push(...one.deleted)
        out.notFound.push(...one.notFound)
      }
      return out
    }
    if (error instanceof StanzaError && error.reason === 'item-not-found')
      return {deleted: [], notFound: jids}
    throw error
  }
}

async function deleteApi(ctx: OpContext, jids: string[]): Promise<DeleteOutcome> {
  const out: DeleteOutcome = {deleted: [], notFound: []}
  for (const jid of jids) {
    // unregister answers the same whether or not the user existed (and then miscounts users): ask first.
    const check = await invoke(ctx, api('check_account'), splitJid(jid))
    if (String(formValues(check.form!).res) !== '0') {
      out.notFound.push(jid)
      continue
    }
    await invoke(ctx, api('unregister'), splitJid(jid))
    out.deleted.push(jid)
  }
  return out
}

export async function deleteAccounts(ctx: OpContext, jids: string[]): Promise<DeleteOutcome> {
  for (const j of jids) checkHost(ctx, j)
  const s = await requireStrategy(ctx, 'account-delete')
  return s.via === 'XEP-0133' ? deleteXep0133(ctx, jids) : deleteApi(ctx, jids)
}

/** Deletes one account: true if it was deleted, false if there was none. */
export async function deleteAccount(ctx: OpContext, jid: string): Promise<boolean> {
  return (await deleteAccounts(ctx, [jid])).deleted.includes(jid)
}

/**
 * Whether an account exists, asked the way the server offers (the catalogue's "account-exists"):
 * true, false, or undefined when this server offers no way to tell.
 */
export async function accountExists(ctx: OpContext, jid: string): Promise<boolean | undefined> {
  checkHost(ctx, jid)
  const s = pickStrategy(ctx, 'account-exists')
  if (!s) return undefined
  try {
    if (s.via === 'ejabberd API')
      return String(formValues((await invoke(ctx, api('check_account'), splitJid(jid))).form!).res) === '0'
    if (s.via === 'mod_xmppadm')
      await invoke(ctx, mod('export-user'), {
        FORM_TYPE: XMPPADM_NS,
        accountjid: jid,
        section: 'last',
        max: '1',
      })
    else await invoke(ctx, admin('user-stats'), {FORM_TYPE: XEP0133, accountjid: jid})
    return true
  } catch (error) {
    // The module: item-not-found; Prosody's user-stats: an error note "User does not exist" (67).
    if (error instanceof XmppadmError && (error.reason === 'item-not-found' || error.exitCode === 67))
      return false
    throw error
  }
}
