// How a command's end reaches the user: the --json envelope (success, partly done, failure) and
// any thrown value as an XmppadmError with its documented exit code.
import {XmppadmError, knownError, usageError} from '../errors.js'
import {redactValue} from '../secrets.js'
import {describeParseError} from '../usage.js'

/**
 * What a command returns when it finished but not fully (a bulk run with failures, a policy with
 * a failed rule): its result, and the error that sets the exit code and the envelope's "error".
 */
export class Settled<R = unknown> {
  constructor(
    readonly result: R,
    readonly error?: XmppadmError,
  ) {}
}

/** The --json document of a command that ran to its end (redacted). */
export function successEnvelope(returned: unknown, warnings?: string[]): unknown {
  const {result, error} = returned instanceof Settled ? returned : {result: returned, error: undefined}
  return redactValue({
    ok: !error,
    result,
    ...(error
      ? {error: {code: error.exitCode, reason: error.reason, message: error.message, hint: error.hint}}
      : {}),
    warnings: warnings?.length ? warnings : undefined,
  })
}

/** The --json document of a failure (redacted). */
export function errorEnvelope(e: XmppadmError, warnings?: string[]): unknown {
  return redactValue({
    ok: false,
    error: {
      code: e.exitCode,
      reason: e.reason,
      message: e.message,
      hint: e.hint,
      ...(e.details ? {details: e.details} : {}),
    },
    warnings: warnings?.length ? warnings : undefined,
  })
}

/** Any thrown value as an XmppadmError: oclif parse errors become usage errors, the rest internal. */
export function normaliseError(err: unknown): XmppadmError {
  const known = knownError(err)
  if (known) return known
  const anyErr = err as {oclif?: {exit?: number}; message?: string; code?: string; name?: string}
  const parse = describeParseError(err)
  if (parse) return parse
  if (anyErr?.oclif?.exit !== undefined) {
    const first = String(anyErr.message ?? 'invalid usage').split('\n')[0]
    return usageError(first, 'see --help')
  }
  if (anyErr?.name === 'ExitPromptError' || anyErr?.name === 'AbortPromptError') {
    return new XmppadmError('tempFail', 'interrupted', 'interrupted at a prompt')
  }
  return new XmppadmError(
    'internal',
    'internal',
    `internal error: ${String(anyErr?.message ?? err).split('\n')[0]}`,
  )
}
