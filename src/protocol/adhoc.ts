// XEP-0050 ad-hoc commands: discovery, one request/response step, and failure detection across
// server families (IQ errors; Prosody's error notes in completed results; ejabberd mod_adhoc_api's
// "error" result field).
import {type Element, xml} from '@xmpp/xml'
import {XmppError} from '../xmpp/errors.js'
import type {IqSession} from '../xmpp/iq-session.js'
import {type DataForm, NS_DATA, parseForm} from './dataform.js'

export const NS_COMMANDS = 'http://jabber.org/protocol/commands'
const NS_DISCO_ITEMS = 'http://jabber.org/protocol/disco#items'
const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info'

export interface CommandItem {
  node: string
  name?: string
  jid: string
}

export type CommandAction = 'execute' | 'next' | 'prev' | 'complete' | 'cancel'

export interface Note {
  type: 'info' | 'warn' | 'error'
  text: string
}

export interface CommandResponse {
  node: string
  sessionid?: string
  status: 'executing' | 'completed' | 'canceled'
  /** Actions the server allows next, and its default. */
  actions: CommandAction[]
  defaultAction?: CommandAction
  notes: Note[]
  form?: DataForm
  /** Other payload elements (e.g. a XEP-0227 fragment, an embedded roster). */
  payload: Element[]
}

export async function listCommands(session: IqSession, to: string): Promise<CommandItem[]> {
  const result = await session.iq(
    'get',
    to,
    xml('query', {xmlns: NS_DISCO_ITEMS, node: NS_COMMANDS}),
    'listing commands',
  )
  const query = result.getChild('query', NS_DISCO_ITEMS)
  return (query?.getChildren('item') ?? [])
    .filter((i) => i.attrs.node)
    .map((i) => ({node: i.attrs.node, name: i.attrs.name || undefined, jid: i.attrs.jid || to}))
}

export interface NodeInfo {
  node: string
  /** The command's name (its automation identity), if the server gives one. */
  name?: string
  /** Whether the server says this node is an ad-hoc command (identity or feature). */
  isCommand: boolean
  identities: Array<{category: string; type: string; name?: string}>
  features: string[]
}

/** A node's identity and features (XEP-0030 disco#info, as XEP-0050 describes for command nodes). */
export async function commandInfo(session: IqSession, to: string, node: string): Promise<NodeInfo> {
  const result = await session.iq(
    'get',
    to,
    xml('query', {xmlns: NS_DISCO_INFO, node}),
    `disco#info of ${node}`,
  )
  const q = result.getChild('query', NS_DISCO_INFO)
  const identities = (q?.getChildren('identity') ?? []).map((i) => ({
    category: String(i.attrs.category ?? ''),
    type: String(i.attrs.type ?? ''),
    ...(i.attrs.name ? {name: String(i.attrs.name)} : {}),
  }))
  const features = (q?.getChildren('feature') ?? []).map((f) => String(f.attrs.var ?? '')).filter(Boolean)
  const automation = identities.find((i) => i.category === 'automation')
  return {
    node,
    name: automation?.name,
    isCommand: Boolean(automation) || features.includes(NS_COMMANDS),
    identities,
    features,
  }
}

export function parseCommandResponse(iq: Element, node: string): CommandResponse {
  const cmd = iq.getChild('command', NS_COMMANDS)
  if (!cmd) throw new XmppError('malformed', 'no-command', `the answer to ${node} carries no <command/>`)
  const status = cmd.attrs.status
  if (status !== 'executing' && status !== 'completed' && status !== 'canceled') {
    throw new XmppError(
      'malformed',
      'bad-status',
      `${node} answered with unknown status ${JSON.stringify(status ?? '')}`,
    )
  }
  const actionsEl = cmd.getChild('actions')
  const actions = (actionsEl?.getChildElements().map((a) => a.name) ?? []).filter((a): a is CommandAction =>
    ['next', 'prev', 'complete'].includes(a),
  )
  const x = cmd.getChild('x', NS_DATA)
  return {
    node,
    sessionid: cmd.attrs.sessionid || undefined,
    status,
    actions,
    defaultAction: (actionsEl?.attrs.execute as CommandAction | undefined) || undefined,
    notes: cmd.getChildren('note').map((n) => ({
      type: (['info', 'warn', 'error'].includes(n.attrs.type) ? n.attrs.type : 'info') as Note['type'],
      text: n.getText().trim(),
    })),
    form: x ? parseForm(x) : undefined,
    payload: cmd
      .getChildElements()
      .filter(
        (c) => !(c.name === 'x' && c.attrs.xmlns === NS_DATA) && c.name !== 'note' && c.name !== 'actions',
      ),
  }
}

export interface StepRequest {
  to: string
  node: string
  action?: CommandAction
  sessionid?: string
  form?: Element
  /** Elements that go next to the form (e.g. a XEP-0227 <user/> for #import-user). */
  payload?: Element[]
  timeoutMs?: number
}

/** One round trip of a command session. IQ errors reject; error results are left to commandFailure(). */
export async function commandStep(session: IqSession, req: StepRequest): Promise<CommandResponse> {
  const cmd = xml('command', {
    xmlns: NS_COMMANDS,
    node: req.node,
    action: req.action ?? 'execute',
    sessionid: req.sessionid,
  })
  if (req.form) cmd.append(req.form)
  for (const el of req.payload ?? []) cmd.append(el)
  const result = await session.iq('set', req.to, cmd, req.node, req.timeoutMs)
  return parseCommandResponse(result, req.node)
}

export async function cancelCommand(
  session: IqSession,
  to: string,
  node: string,
  sessionid: string | undefined,
  timeoutMs = 2000,
): Promise<void> {
  await commandStep(session, {to, node, action: 'cancel', sessionid, timeoutMs}).catch(() => undefined)
}

const API_ERROR_LABEL = /^Error\s+(\d{3})/i

/**
 * A completed response that reports failure, as an error; undefined for success. Its condition
 * says how the server said it; what it means is the command's to know (src/errors.ts has the
 * generic meaning, an operation that knows better says so):
 * - "error-note": Prosody, a <note type="error"> in a completed result;
 * - "api-NNN": ejabberd mod_adhoc_api, a result field var="error" labelled "Error NNN";
 * - "canceled": the server canceled the command.
 */
export function commandFailure(resp: CommandResponse): XmppError | undefined {
  const errorNote = resp.notes.find((n) => n.type === 'error')
  if (errorNote) {
    return new XmppError('command', 'command-failed', `${resp.node}: ${errorNote.text}`, {
      condition: 'error-note',
      details: {notes: resp.notes},
    })
  }
  const errField = resp.form?.fields.find((f) => f.var === 'error')
  if (errField) {
    const code = Number(API_ERROR_LABEL.exec(errField.label ?? '')?.[1] ?? 0)
    const text = errField.values.join(' ').trim() || errField.label || 'error'
    return new XmppError(
      'command',
      'command-failed',
      `${resp.node}: ${errField.label ? `${errField.label}: ` : ''}${text}`,
      {condition: code ? `api-${code}` : 'api', details: {apiCode: code || undefined}},
    )
  }
  if (resp.status === 'canceled')
    return new XmppError('command', 'canceled', `${resp.node} was canceled by the server`, {
      condition: 'canceled',
    })
  return undefined
}
