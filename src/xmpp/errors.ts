// What went wrong on the wire, as facts: the kind of failure, the protocol's condition (or the
// socket's code), the phase. No exit codes here: src/errors.ts maps these to exit codes at the
// edge (a command's error, a bulk run's failure row), in one table.

export type XmppErrorKind =
  /** The server's name does not resolve (condition: ENOTFOUND, EAI_AGAIN, no-endpoint). */
  | 'unresolved'
  /** No route to it (EHOSTUNREACH, ENETUNREACH). */
  | 'unreachable'
  /** ECONNREFUSED. */
  | 'refused'
  /** Another socket failure (condition: the socket's code). */
  | 'socket'
  /** The connection went away: reset, closed, the stream ended. */
  | 'lost'
  /** No answer in time. */
  | 'timeout'
  /** TLS refused or failed (condition: why, e.g. bad-certificate). */
  | 'tls'
  /** The server sent a stream error (condition: RFC 6120 §4.9.3). */
  | 'stream'
  /** Login refused (condition: the SASL condition, no-mechanism, scram). */
  | 'sasl'
  /** Resource binding or session set-up refused (condition: the stanza error condition). */
  | 'negotiation'
  /** An IQ error (condition: RFC 6120 §8.3.3; temporary when its type is "wait"). */
  | 'stanza'
  /** A completed ad-hoc command that reports failure (condition: error-note, api-NNN, canceled). */
  | 'command'
  /** The server sent something xmppadm cannot understand. */
  | 'malformed'
  /** Stopped by the user (Ctrl-C) in the middle of a command session. */
  | 'interrupted'

export interface XmppErrorOptions {
  condition?: string
  /** Before or after SASL succeeded: a policy-violation before it means "this address is refused". */
  phase?: 'before-login' | 'after-login'
  /** The protocol says: try again later (an IQ error of type "wait", a DNS server failure). */
  temporary?: boolean
  hint?: string
  details?: Record<string, unknown>
  cause?: unknown
}

export class XmppError extends Error {
  readonly kind: XmppErrorKind
  /** Stable, machine-readable reason, e.g. "connection-refused", "bad-certificate", "item-not-found". */
  readonly reason: string
  readonly condition?: string
  readonly phase?: 'before-login' | 'after-login'
  readonly temporary: boolean
  readonly hint?: string
  readonly details?: Record<string, unknown>

  constructor(kind: XmppErrorKind, reason: string, message: string, opts: XmppErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : {cause: opts.cause})
    this.name = 'XmppError'
    this.kind = kind
    this.reason = reason
    this.condition = opts.condition
    this.phase = opts.phase
    this.temporary = Boolean(opts.temporary)
    this.hint = opts.hint
    this.details = opts.details
  }
}

/**
 * The session is gone, or could not be opened again: whatever was in flight has an unknown outcome,
 * and a new session may finish it. (A timeout is not: the server is alive but slow.)
 */
export function isConnectionLoss(e: unknown): e is XmppError {
  return e instanceof XmppError && (e.kind === 'lost' || e.kind === 'refused' || e.kind === 'socket')
}

/** The server was not reached at all (name, route, socket, no answer): another address may work. */
export function isUnreached(e: unknown): e is XmppError {
  return (
    e instanceof XmppError &&
    ['unresolved', 'unreachable', 'refused', 'socket', 'lost', 'timeout'].includes(e.kind)
  )
}
