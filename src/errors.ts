// One error type for everything a user can cause, with a stable machine code and an exit code.
// The table is part of the CLI's contract: README "Exit codes" and man/xmppadm.1 document it.

export const ExitCode = {
  ok: 0,
  internal: 1,
  partial: 2,
  usage: 64,
  data: 65,
  noInput: 66,
  noUser: 67,
  noHost: 68,
  unavailable: 69,
  cantCreate: 73,
  tempFail: 75,
  protocol: 76,
  forbidden: 77,
  config: 78,
  auth: 79,
  tls: 80,
  blocked: 81,
  nothingApplied: 82,
  broken: 83,
} as const

export type ExitCodeName = keyof typeof ExitCode

/** The name of an exit code (to rebuild an error from a reported code); unknown codes are internal. */
export function exitCodeName(code: number): ExitCodeName {
  return (Object.keys(ExitCode) as ExitCodeName[]).find((k) => ExitCode[k] === code) ?? 'internal'
}

/** What each exit code means, in the order the docs list them. */
export const exitCodeTable: Array<[number, string, string]> = [
  [0, 'ok', 'done: the command did what was asked'],
  [1, 'internal', 'a bug in xmppadm (please report it)'],
  [2, 'partial', 'partly done: some items of a bulk run failed (see the summary and the failed-lines file)'],
  [
    64,
    'usage',
    'bad command line: unknown command or flag, missing argument, invalid value; or a confirmation declined (nothing done)',
  ],
  [
    65,
    'data',
    'the server or xmppadm rejected the data: invalid JID/address/duration, a block too broad or covering this connection, account exists, bad form value',
  ],
  [66, 'no-input', 'an input file (password file, fields file, bulk file) cannot be read'],
  [67, 'no-user', 'no such user'],
  [68, 'no-host', 'the server name does not resolve'],
  [
    69,
    'unavailable',
    'the server does not offer this command or operation (the message says what would enable it)',
  ],
  [73, 'cant-create', 'an output file exists (use --force) or cannot be written'],
  [75, 'temp-fail', 'timeout, connection refused or lost, server busy: retry later'],
  [76, 'protocol', 'the server answered something xmppadm cannot understand'],
  [77, 'forbidden', 'logged in, but the account may not do this (not an admin)'],
  [78, 'config', 'misconfigured: bad profile, missing JID or password source, unsafe file permissions'],
  [79, 'auth', 'login failed: wrong JID or password, or no acceptable SASL mechanism'],
  [
    80,
    'tls',
    'TLS failed: certificate not trusted or for another name, TLS below 1.2, no STARTTLS, no TLS on a direct-TLS port',
  ],
  [
    81,
    'blocked',
    'the server refuses connections from this address (blocked by block-ip, or banned by ejabberd mod_fail2ban)',
  ],
  [82, 'nothing-applied', 'nothing was applied: every rule of the policy was skipped (--skip-unavailable)'],
  [
    83,
    'broken',
    'policy check found a promise the server does not keep (the report says which, with the evidence)',
  ],
  [130, 'interrupted', 'stopped by Ctrl-C (SIGINT) or SIGTERM before the work in flight ended'],
]

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
