// What an operation needs to run: a session to send IQs on, the JID offering commands, the nodes
// it offers, and which server software it is (for hints).
import {xml} from '@xmpp/xml'
import {type CommandResponse, listCommands} from '../protocol/adhoc.js'
import {type RunOptions, runCommand} from '../protocol/runner.js'
import type {IqSession} from '../xmpp/iq-session.js'

export type Family = 'prosody' | 'ejabberd' | 'other'

export interface ServerSoftware {
  name?: string
  version?: string
  family: Family
}

export interface OpContext {
  /** The connector in a command (it replaces a lost session itself), a replay in unit tests. */
  session: IqSession
  /** The admin account logged in (bare JID), for messages. */
  admin: string
  to: string
  nodes: Set<string>
  software: ServerSoftware
  signal?: AbortSignal
}

async function softwareVersion(session: IqSession, to: string): Promise<ServerSoftware> {
  try {
    const r = await session.iq(
      'get',
      to,
      xml('query', {xmlns: 'jabber:iq:version'}),
      'software version',
      Math.min(session.timeoutMs, 3000),
    )
    const q = r.getChild('query', 'jabber:iq:version')
    const name = q?.getChildText('name') ?? undefined
    const version = q?.getChildText('version') ?? undefined
    const family: Family = /prosody/i.test(name ?? '')
      ? 'prosody'
      : /ejabberd/i.test(name ?? '')
        ? 'ejabberd'
        : 'other'
    return {name, version, family}
  } catch {
    return {family: 'other'}
  }
}

export async function discover(
  session: IqSession,
  o: {to: string; admin: string; signal?: AbortSignal},
): Promise<OpContext> {
  const {to} = o
  const [commands, software] = await Promise.all([listCommands(session, to), softwareVersion(session, to)])
  const nodes = new Set(commands.map((c) => c.node))
  // ejabberd's mod_adhoc_api lists api-commands only; its family shows in the node names too.
  if (
    software.family === 'other' &&
    [...nodes].some((n) => n.startsWith('api-commands/') || n.startsWith('running nodes/'))
  )
    software.family = 'ejabberd'
  if (software.family === 'other' && [...nodes].some((n) => n.startsWith('http://prosody.im/protocol/')))
    software.family = 'prosody'
  return {session, admin: o.admin, to, nodes, software, signal: o.signal}
}

/** Runs a node in one round trip with the given values (every server we target accepts that). */
export async function invoke(
  ctx: OpContext,
  node: string,
  values: Record<string, string | string[] | undefined>,
  opts: Partial<RunOptions> = {},
): Promise<CommandResponse> {
  const map = new Map<string, string[]>()
  for (const [k, v] of Object.entries(values)) if (v !== undefined) map.set(k, Array.isArray(v) ? v : [v])
  const {response} = await runCommand(ctx.session, {
    to: ctx.to,
    node,
    values: map,
    oneShot: true,
    signal: ctx.signal,
    ...opts,
  })
  return response
}
