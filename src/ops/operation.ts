// An operation is "pick a strategy, then run it". Each way a server may offer an operation is a
// Strategy: the nodes it needs, how it is shown (via, partial), and the code that uses those
// nodes. The operation lists its strategies in order of preference and says what would enable it
// where a server offers none. Commands never pick nodes; they run operations.
import {XmppadmError} from '../errors.js'
import {cancelCommand, commandStep} from '../protocol/adhoc.js'
import {StanzaError} from '../xmpp/stanza-error.js'
import type {Family, OpContext} from './context.js'
import {isModuleNode, moduleLoaded} from './server-module.js'

export type Via = 'XEP-0133' | 'ejabberd API' | 'mod_xmppadm'

export interface Strategy<I, O> {
  /** Nodes that must all be offered. */
  nodes: string[]
  via: Via
  /** Set when this way can do only part of the operation. */
  partial?: string
  /** Only on these server families (a node another family offers too, but answers differently). */
  families?: Family[]
  run(ctx: OpContext, input: I): Promise<O>
}

export interface Operation<I, O> {
  /** Its stable name, as `capabilities` lists it. */
  id: string
  /** What it does, after "offers no way to": "create accounts". */
  summary: string
  strategies: Array<Strategy<I, O>>
  /** What would enable it where no strategy fits, by server family. */
  enable: Record<Family, string | ((ctx: OpContext) => string)>
  /** A step of other operations (a dry run's check), not an operation of its own: not in capabilities. */
  internal?: boolean
  /** Refuses an input before anything is sent, whatever the strategy (throws why). */
  check?(ctx: OpContext, input: I): void
}

/** Any operation, whatever it takes and gives (for listing them). */
export type AnyOperation = Operation<never, unknown>

/** The first strategy this server can run, or undefined. */
export function pickStrategy<I, O>(ctx: OpContext, op: Operation<I, O>): Strategy<I, O> | undefined {
  return op.strategies.find(
    (s) =>
      s.nodes.every((n) => ctx.nodes.has(n)) && (!s.families || s.families.includes(ctx.software.family)),
  )
}

/**
 * The strategy to use. Without one, the account may simply not be an admin (servers hide admin
 * commands from others): a bare execute of the preferred node (which by XEP-0050 only returns a
 * form) tells "forbidden" (77) from "not offered" (69, with what would enable it).
 */
export async function requireStrategy<I, O>(ctx: OpContext, op: Operation<I, O>): Promise<Strategy<I, O>> {
  const s = pickStrategy(ctx, op)
  if (s) return s
  for (const strategy of op.strategies) {
    const node = strategy.nodes[0]
    try {
      const resp = await commandStep(ctx.session, {
        to: ctx.to,
        node,
        action: 'execute',
        timeoutMs: Math.min(ctx.session.timeoutMs, 5000),
      })
      if (resp.status === 'executing') await cancelCommand(ctx.session, ctx.to, node, resp.sessionid)
      // ejabberd's mod_adhoc_api shows non-admins the form and refuses only the submit.
    } catch (error) {
      if (!(error instanceof StanzaError)) continue
      // the server module knows this node but cannot offer it here, and says why
      if (error.condition === 'feature-not-implemented' && error.stanzaError.text)
        throw unavailable(op.summary, ctx, error.stanzaError.text)
      if (['forbidden', 'not-authorized', 'not-allowed'].includes(error.condition ?? ''))
        throw new XmppadmError(
          'forbidden',
          'forbidden',
          `${ctx.admin} may not ${op.summary} on ${ctx.to} (not an admin)`,
        )
    }
  }
  if (!seesAdminCommands(ctx)) {
    throw new XmppadmError(
      'forbidden',
      'forbidden',
      `${ctx.admin} sees no admin commands on ${ctx.to}: it is not an admin there`,
    )
  }
  throw unavailable(op.summary, ctx, enableHint(ctx, op))
}

const ADMIN_ONLY = [
  'http://jabber.org/protocol/admin#',
  'api-commands/',
  'urn:xmppadm:',
  'http://prosody.im/protocol/',
  'running nodes/',
]

/**
 * Whether the account sees any admin command here; servers hide them from non-admins, so a list of
 * commands without any means "not an admin" (an empty list tells nothing).
 */
export function seesAdminCommands(ctx: OpContext): boolean {
  return ctx.nodes.size === 0 || [...ctx.nodes].some((n) => ADMIN_ONLY.some((p) => n.startsWith(p)))
}

/** Picks the strategy once (or throws why there is none); run() then runs it as often as needed. */
export interface Ready<I, O> {
  strategy: Strategy<I, O>
  run(input: I): Promise<O>
}

export async function ready<I, O>(ctx: OpContext, op: Operation<I, O>): Promise<Ready<I, O>> {
  const strategy = await requireStrategy(ctx, op)
  return {
    strategy,
    run: async (input) => {
      op.check?.(ctx, input)
      return strategy.run(ctx, input)
    },
  }
}

/** Runs an operation once: check the input, pick, run. */
export async function perform<I, O>(ctx: OpContext, op: Operation<I, O>, input: I): Promise<O> {
  op.check?.(ctx, input)
  return (await requireStrategy(ctx, op)).run(ctx, input)
}

/** Runs an operation if this server offers it; undefined (nothing asked) where it does not. */
export async function performIfOffered<I, O>(
  ctx: OpContext,
  op: Operation<I, O>,
  input: I,
): Promise<O | undefined> {
  op.check?.(ctx, input)
  return pickStrategy(ctx, op)?.run(ctx, input)
}

export function unavailable(what: string, ctx: OpContext, hint: string): XmppadmError {
  const server = ctx.software.name ? `${ctx.software.name} ${ctx.software.version ?? ''}`.trim() : ctx.to
  return new XmppadmError('unavailable', 'operation-unavailable', `${server} offers no way to ${what}`, {
    hint,
  })
}

/**
 * What would enable an operation this server does not offer. `reasons`: the loaded module's own
 * reasons by node (server-module.ts moduleReasons()).
 */
export function enableHint<I, O>(
  ctx: OpContext,
  op: Operation<I, O>,
  reasons = new Map<string, string>(),
): string {
  const moduleNodes = op.strategies.flatMap((s) => s.nodes.filter(isModuleNode))
  if (moduleNodes.length && moduleLoaded(ctx)) {
    const reason = moduleNodes.map((n) => reasons.get(n)).find(Boolean)
    return (
      reason ??
      `mod_xmppadm is loaded but offers no ${moduleNodes[0]}: update it to the one in this xmppadm package`
    )
  }
  const hint = op.enable[ctx.software.family]
  return typeof hint === 'function' ? hint(ctx) : hint
}
