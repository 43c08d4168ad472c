// Drives one ad-hoc command session from execute to completion: fills each stage's form from the
// given values, the form's defaults, or an asker (prompts on a TTY), and cancels on abort.
import {type Element} from '@xmpp/xml'
import {XmppadmError, dataError} from '../errors.js'
import {XmppError} from '../xmpp/errors.js'
import {SECRET_VAR, registerSecret} from '../secrets.js'
import type {IqSession} from '../xmpp/iq-session.js'
import {StanzaError} from '../xmpp/stanza-error.js'
import {
  type CommandAction,
  type CommandResponse,
  cancelCommand,
  commandFailure,
  commandStep,
} from './adhoc.js'
import {type DataForm, type FormField, buildSubmit, normaliseValues} from './dataform.js'

/** Asks for a field the caller did not give; returns undefined to leave it out. */
export type FieldAsker = (field: FormField, form: DataForm) => Promise<string[] | undefined>

export interface RunOptions {
  to: string
  node: string
  /** Values by field var; multi-valued fields take several. */
  values?: Map<string, string[]>
  ask?: FieldAsker
  /** Submit the values in the first request, without fetching the form (XEP-0050 allows it). */
  oneShot?: boolean
  /** With oneShot: elements sent next to the form (the <user/> of server/CONTRACT.md's #import-user). */
  payload?: Element[]
  /** Leave a failed completed response to the caller instead of throwing. */
  allowFailure?: boolean
  signal?: AbortSignal
  timeoutMs?: number
  maxStages?: number
}

export interface RunResult {
  response: CommandResponse
  stages: number
  /** Given fields never sent: the command completed on execute, before any form (it takes no input). */
  unused: string[]
}

function isPrivate(f: FormField): boolean {
  return f.type === 'text-private' || (f.var !== undefined && SECRET_VAR.test(f.var))
}

/** The values to submit for one stage: given, else default, else asked; required ones enforced. */
export async function fillForm(
  form: DataForm,
  given: Map<string, string[]>,
  ask?: FieldAsker,
): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>()
  const known = new Set(form.fields.map((f) => f.var).filter(Boolean))
  for (const field of form.fields) {
    if (!field.var || field.type === 'fixed' || out.has(field.var)) continue
    if (field.type === 'hidden') {
      out.set(field.var, given.get(field.var) ?? field.values)
      continue
    }
    let vals = given.get(field.var)
    if (vals === undefined && ask && field.required) vals = await ask(field, form)
    if (vals === undefined) vals = field.values.length ? field.values : undefined
    if (vals === undefined || (field.required && vals.every((v) => v === ''))) {
      if (field.required) {
        throw new XmppadmError(
          'usage',
          'missing-field',
          `required field ${field.var}${field.label ? ` (${field.label})` : ''} has no value`,
          {
            hint: `pass --field ${field.var}=VALUE`,
          },
        )
      }
      continue
    }
    const norm = normaliseValues(field, vals)
    if (isPrivate(field)) for (const v of norm) registerSecret(v)
    out.set(field.var, norm)
  }
  // Values for vars this form does not name are passed through (a later stage's form may name them;
  // runCommand refuses, before the last stage, those no form named).
  for (const [name, vals] of given) {
    if (!known.has(name)) {
      if (SECRET_VAR.test(name)) for (const v of vals) registerSecret(v)
      out.set(name, vals)
    }
  }
  return out
}

function nextAction(resp: CommandResponse): CommandAction {
  if (resp.defaultAction === 'complete' || resp.actions.includes('complete')) return 'complete'
  if (resp.defaultAction === 'next' || resp.actions.includes('next')) return 'next'
  // No <actions/>: the only way on is "execute" (XEP-0050 §3.4); "complete" is what every server
  // we know treats as the end of a single-stage command.
  return 'complete'
}

export async function runCommand(session: IqSession, opts: RunOptions): Promise<RunResult> {
  const given = opts.values ?? new Map()
  for (const [name, vals] of given) if (SECRET_VAR.test(name)) for (const v of vals) registerSecret(v)
  const base = {to: opts.to, node: opts.node, timeoutMs: opts.timeoutMs}
  let resp: CommandResponse
  if (opts.oneShot) {
    resp = await commandStep(session, {
      ...base,
      action: 'execute',
      form: buildSubmit(undefined, given),
      payload: opts.payload,
    })
  } else {
    resp = await firstExecute(session, base)
  }
  /** Every field var the server's forms named so far: given values must fit one of them. */
  const formVars = new Set<string>()
  let stages = 1
  const onAbort = () => {
    if (resp?.status === 'executing') void cancelCommand(session, opts.to, opts.node, resp.sessionid)
  }
  opts.signal?.addEventListener('abort', onAbort, {once: true})
  try {
    while (resp.status === 'executing') {
      if (opts.signal?.aborted)
        throw new XmppError(
          'interrupted',
          'interrupted',
          `${opts.node}: interrupted; the command session was canceled`,
        )
      if (stages >= (opts.maxStages ?? 20)) {
        await cancelCommand(session, opts.to, opts.node, resp.sessionid)
        throw new XmppError(
          'malformed',
          'too-many-stages',
          `${opts.node}: still executing after ${stages} stages; canceled`,
        )
      }
      let form: Element
      if (resp.form) {
        let values: Map<string, string[]>
        try {
          for (const f of resp.form.fields) if (f.var) formVars.add(f.var)
          // The last stage: a value for a field no form had would be dropped or misread by the server.
          if (nextAction(resp) === 'complete') checkKnownFields(opts.node, given, formVars, resp.form)
          values = await fillForm(resp.form, given, opts.ask)
        } catch (error) {
          await cancelCommand(session, opts.to, opts.node, resp.sessionid)
          throw error
        }
        form = buildSubmit(resp.form, values)
      } else {
        // Always send a form when continuing: Prosody never answers a continuation without one.
        form = buildSubmit(undefined, given)
      }
      resp = await commandStep(session, {...base, action: nextAction(resp), sessionid: resp.sessionid, form})
      stages++
    }
  } finally {
    opts.signal?.removeEventListener('abort', onAbort)
  }
  if (!opts.allowFailure) {
    const failure = commandFailure(resp)
    if (failure) throw failure
  }
  const sent = opts.oneShot || stages > 1
  return {response: resp, stages, unused: sent ? [] : [...given.keys()]}
}

/**
 * The bare execute that starts a session. An unknown node fails here, in one way per server
 * (Prosody: service-unavailable; ejabberd: item-not-found "No hook has processed this command",
 * which on a submit means a missing user instead): one error, exit 69.
 */
async function firstExecute(
  session: IqSession,
  base: {to: string; node: string; timeoutMs?: number},
): Promise<CommandResponse> {
  try {
    return await commandStep(session, {...base, action: 'execute'})
  } catch (error) {
    if (error instanceof StanzaError && ['item-not-found', 'service-unavailable'].includes(error.reason))
      throw new XmppError(
        'command',
        'no-such-node',
        `${base.to} has no command ${base.node} ` +
          `(${error.reason}${error.stanzaError.text ? `: ${error.stanzaError.text}` : ''})`,
        {
          condition: 'no-such-node',
          hint: 'see: xmppadm commands (an account that is not an admin sees fewer)',
        },
      )
    throw error
  }
}

/**
 * A node's input form without running it: execute, read the form, cancel. A command that takes no
 * input completes on execute (it ran): `form` is then undefined and `ran` true.
 */
export async function fetchForm(
  session: IqSession,
  to: string,
  node: string,
): Promise<{form?: DataForm; ran: boolean}> {
  const resp = await firstExecute(session, {to, node})
  if (resp.status !== 'executing') return {form: undefined, ran: resp.status === 'completed'}
  await cancelCommand(session, to, node, resp.sessionid)
  return {form: resp.form, ran: false}
}

/** Given values for vars that no form of the session named: refused before the last submit. */
function checkKnownFields(
  node: string,
  given: Map<string, string[]>,
  known: Set<string>,
  form: DataForm,
): void {
  const unknown = [...given.keys()].filter((name) => !known.has(name))
  if (!unknown.length) return
  const vars = form.fields
    .filter((f) => f.var && f.type !== 'hidden' && f.type !== 'fixed')
    .map((f) => f.var!)
  throw new XmppadmError(
    'usage',
    'unknown-field',
    `${node} has no field ${unknown.map((n) => JSON.stringify(n)).join(', ')} (its fields: ` +
      `${vars.join(', ') || 'none'})`,
    {hint: `check the names: xmppadm command info ${node} --fields`},
  )
}

export function parseFieldArgs(args: string[]): Map<string, string[]> {
  const out = new Map<string, string[]>()
  for (const arg of args) {
    const eq = arg.indexOf('=')
    if (eq <= 0) throw dataError(`--field ${JSON.stringify(arg)}: expected var=value`)
    const name = arg.slice(0, eq)
    out.set(name, [...(out.get(name) ?? []), arg.slice(eq + 1)])
  }
  return out
}

export function fieldsFromJson(doc: unknown, source: string): Map<string, string[]> {
  if (!doc || typeof doc !== 'object' || Array.isArray(doc))
    throw dataError(`${source}: expected a JSON object of field var to value`)
  const out = new Map<string, string[]>()
  for (const [k, v] of Object.entries(doc as Record<string, unknown>)) {
    const list = Array.isArray(v) ? v : [v]
    out.set(
      k,
      list.map((x) => (typeof x === 'boolean' ? (x ? 'true' : 'false') : String(x))),
    )
  }
  return out
}
