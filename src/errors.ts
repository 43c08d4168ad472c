// One error type for everything a user can cause, with a stable machine code and an exit code, and
// the one table of exit codes: README "Exit codes" and man/xmppadm.1 document it (a unit test keeps
// the README equal to it). Failures on the wire (src/xmpp/errors.ts) carry no exit code: WIRE,
// below, says what each means for the exit status, at the edge where a command reports it.
import {XmppError} from './xmpp/errors.js'

/** Every exit code: its name in the code, its name in the docs, and what it means. */
const EXIT = {
  ok: [0, 'ok', 'done: the command did what was asked'],
  internal: [1, 'internal', 'a bug in xmppadm (please report it)'],
  partial: [
    2,
    'partial',
    'partly done: some items of a bulk run failed (see the summary and the failed-lines file)',
  ],
  usage: [
    64,
    'usage',
    'bad command line: unknown command or flag, missing argument, invalid value; or a confirmation ' +
      'declined (nothing done)',
  ],
  data: [
    65,
    'data',
    'the server or xmppadm rejected the data: invalid JID/address/duration, a block too broad or ' +
      'covering this connection, account exists, bad form value',
  ],
  noInput: [66, 'no-input', 'an input file (password file, fields file, bulk file) cannot be read'],
  noUser: [67, 'no-user', 'no such user'],
  noHost: [68, 'no-host', 'the server name does not resolve'],
  unavailable: [
    69,
    'unavailable',
    'the server does not offer this command or operation (the message says what would enable it)',
  ],
  cantCreate: [73, 'cant-create', 'an output file exists (use --force) or cannot be written'],
  tempFail: [75, 'temp-fail', 'timeout, connection refused or lost, server busy: retry later'],
  protocol: [76, 'protocol', 'the server answered something xmppadm cannot understand'],
  forbidden: [77, 'forbidden', 'logged in, but the account may not do this (not an admin)'],
  config: [
    78,
    'config',
    'misconfigured: bad profile, missing JID or password source, unsafe file permissions',
  ],
  auth: [79, 'auth', 'login failed: wrong JID or password, or no acceptable SASL mechanism'],
  tls: [
    80,
    'tls',
    'TLS failed: certificate not trusted or for another name, TLS below 1.2, no STARTTLS, no TLS on a ' +
      'direct-TLS port',
  ],
  blocked: [
    81,
    'blocked',
    'the server refuses connections from this address (blocked by block-ip, or banned by ejabberd ' +
      'mod_fail2ban)',
  ],
  nothingApplied: [
    82,
    'nothing-applied',
    'nothing was applied: every rule of the policy was skipped (--skip-unavailable)',
  ],
  broken: [
    83,
    'broken',
    'policy check found a promise the server does not keep (the report says which, with the evidence)',
  ],
  interrupted: [130, 'interrupted', 'stopped by Ctrl-C (SIGINT) or SIGTERM before the work in flight ended'],
} as const

export type ExitCodeName = keyof typeof EXIT

/** The exit codes by name: ExitCode.unavailable is 69. */
export const ExitCode = Object.fromEntries(Object.entries(EXIT).map(([k, [code]]) => [k, code])) as {
  readonly [K in ExitCodeName]: (typeof EXIT)[K][0]
}

/** The table as the docs list it: code, documented name, meaning. */
export const exitCodeTable: ReadonlyArray<readonly [number, string, string]> = Object.values(EXIT)

/** The name of an exit code (to rebuild an error from a reported code); unknown codes are internal. */
export function exitCodeName(code: number): ExitCodeName {
  return (Object.keys(EXIT) as ExitCodeName[]).find((k) => ExitCode[k] === code) ?? 'internal'
}

export class XmppadmError extends Error {
  readonly exitCode: number
  /** Stable, machine-readable reason, e.g. "auth-failed", "timeout", "item-not-found". */
  readonly reason: string
  readonly hint?: string
  readonly details?: Record<string, unknown>

  constructor(
    exit: ExitCodeName,
    reason: string,
    message: string,
    opts: {hint?: string; details?: Record<string, unknown>; cause?: unknown} = {},
  ) {
    super(message, opts.cause === undefined ? undefined : {cause: opts.cause})
    this.name = 'XmppadmError'
    this.exitCode = ExitCode[exit]
    this.reason = reason
    this.hint = opts.hint
    this.details = opts.details
  }
}

export const usageError = (message: string, hint?: string) =>
  new XmppadmError('usage', 'usage', message, {hint})
export const configError = (message: string, hint?: string) =>
  new XmppadmError('config', 'config', message, {hint})
export const dataError = (message: string, hint?: string) =>
  new XmppadmError('data', 'invalid-data', message, {hint})

/** "cannot read FILE: ENOENT": a file xmppadm was told to read is not there or not readable (66). */
export function cannotRead(what: string, error: unknown): XmppadmError {
  const why = (error as NodeJS.ErrnoException)?.code ?? (error as Error)?.message ?? String(error)
  return new XmppadmError('noInput', 'no-input', `cannot read ${what}: ${why}`)
}

/** How to get back in after a block: from an exempt address, or by the server's own tools. */
export const BLOCKED_HINT =
  'lift it from an address the server exempts (loopback on the server itself, by default): xmppadm ' +
  'block-ip list, then block-ip remove RANGE; an ejabberd mod_fail2ban ban: ejabberdctl unban_ip ADDRESS ' +
  '(README "Recovering from a block")'

/**
 * What a failure on the wire means for the exit status, by kind, or kind:condition, or
 * kind:condition:phase (the most specific entry wins). A temporary failure is always temp-fail.
 */
const WIRE: Record<string, ExitCodeName> = {
  unresolved: 'noHost',
  unreachable: 'tempFail',
  refused: 'tempFail',
  socket: 'tempFail',
  lost: 'tempFail',
  timeout: 'tempFail',
  interrupted: 'tempFail',
  tls: 'tls',
  // Refused before login: the server will not talk to this address at all (a block, a ban).
  'stream:policy-violation:before-login': 'blocked',
  'stream:policy-violation': 'forbidden',
  'stream:not-authorized': 'forbidden',
  'stream:system-shutdown': 'tempFail',
  stream: 'protocol',
  sasl: 'auth',
  'negotiation:forbidden': 'forbidden',
  'negotiation:not-allowed': 'forbidden',
  negotiation: 'protocol',
  'stanza:bad-request': 'data',
  'stanza:not-acceptable': 'data',
  'stanza:jid-malformed': 'data',
  'stanza:conflict': 'data',
  'stanza:item-not-found': 'noUser',
  'stanza:service-unavailable': 'unavailable',
  'stanza:feature-not-implemented': 'unavailable',
  'stanza:forbidden': 'forbidden',
  'stanza:not-allowed': 'forbidden',
  'stanza:not-authorized': 'forbidden',
  'stanza:registration-required': 'forbidden',
  'stanza:subscription-required': 'forbidden',
  'stanza:policy-violation': 'forbidden',
  'stanza:remote-server-timeout': 'tempFail',
  'stanza:remote-server-not-found': 'unavailable',
  'stanza:resource-constraint': 'tempFail',
  'stanza:internal-server-error': 'tempFail',
  stanza: 'protocol',
  // ejabberd mod_adhoc_api's "Error NNN" label (an HTTP status); Prosody's error note, whose
  // meaning only the command knows (the operations that know it say so themselves).
  'command:api-403': 'forbidden',
  'command:api-404': 'noUser',
  'command:no-such-node': 'unavailable',
  command: 'data',
  malformed: 'protocol',
}

/** Extra advice at the edge, by the same keys. */
const WIRE_HINTS: Record<string, string> = {'stream:policy-violation:before-login': BLOCKED_HINT}

function wireKey(e: XmppError, table: Record<string, unknown>): string | undefined {
  const keys = [`${e.kind}:${e.condition}:${e.phase}`, `${e.kind}:${e.condition}`, e.kind]
  return keys.find((k) => k in table)
}

/** A failure on the wire as the error a user sees: exit code from WIRE, reason, message, hint. */
export function fromWire(e: XmppError): XmppadmError {
  const exit = e.temporary ? 'tempFail' : (WIRE[wireKey(e, WIRE) ?? ''] ?? 'protocol')
  const hintKey = wireKey(e, WIRE_HINTS)
  return new XmppadmError(exit, e.reason, e.message, {
    hint: e.hint ?? (hintKey ? WIRE_HINTS[hintKey] : undefined),
    details: e.details,
    cause: e,
  })
}

/** Any thrown value as the error a user sees; undefined for what is not a known failure (a bug). */
export function knownError(e: unknown): XmppadmError | undefined {
  if (e instanceof XmppadmError) return e
  if (e instanceof XmppError) return fromWire(e)
  return undefined
}

/** Any thrown value's exit code: its own, or 1 (internal) for what is not a known failure. */
export function exitCodeOf(e: unknown): number {
  return knownError(e)?.exitCode ?? ExitCode.internal
}
