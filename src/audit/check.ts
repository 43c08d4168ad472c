// One check's answer: which promise it is about, what it looked at, what it saw, and the verdict.

/**
 * pass: the promise holds here. warn: it holds, but is close to breaking (a certificate that
 * expires soon) or is kept in a weaker form than it could be. fail: broken. cannot-tell: this run
 * could not find out (and says why). not-applicable: there is nothing to check (no s2s port open,
 * nothing published).
 */
export type Verdict = 'pass' | 'warn' | 'fail' | 'cannot-tell' | 'not-applicable'

/** The promises, by stable id (the JSON "promise"), in the order the report lists them. */
export const PROMISE_IDS = [
  'tls',
  'passwords',
  'archive',
  'registration',
  'offline',
  'uploads',
  'debug-log',
  'block-ip',
  'export',
  'erasure',
  'published',
] as const
export type PromiseId = (typeof PROMISE_IDS)[number]

export interface CheckResult {
  promise: PromiseId
  /** Stable id of the check, e.g. "tls-versions", "scram-iterations" (the JSON "check"). */
  check: string
  /** What was looked at: "c2s 127.0.0.1:5222 (STARTTLS)", "admin@example.org", "example.org". */
  target: string
  verdict: Verdict
  /** What was seen, or, for cannot-tell, why not. */
  evidence: string
  /** What a fix or a missing piece would be (the server module, a config line). */
  hint?: string
}

export const check = (
  promise: PromiseId,
  name: string,
  target: string,
  verdict: Verdict,
  evidence: string,
  hint?: string,
): CheckResult => ({promise, check: name, target, verdict, evidence, ...(hint ? {hint} : {})})

/** An error's one-line text, for evidence. */
export const errorText = (error: unknown): string => String((error as Error)?.message ?? error).split('\n')[0]
