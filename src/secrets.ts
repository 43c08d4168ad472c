// Every secret the process handles (passwords read, passwords generated, values of text-private
// fields) is registered here; everything that leaves the process as text goes through redact().
// Servers echo submitted passwords in result forms and errors, so knowing the values is the only
// reliable way to keep them out of output.

const secrets = new Set<string>()
export const REDACTED = '[redacted]'
/** Field vars whose values are secrets even when the server does not type them text-private. */
export const SECRET_VAR = /pass|secret|token/i

export function registerSecret(value: string | undefined): void {
  // Very short values would redact ordinary words; nobody should have a 1-3 character password,
  // and such a value still never reaches argv or the environment.
  if (value && value.length >= 4) secrets.add(value)
}

/** A secret that can no longer appear in output (its bulk line is finished): stop scanning for it. */
export function forgetSecret(value: string | undefined): void {
  if (value) secrets.delete(value)
}

export function redact(text: string): string {
  if (secrets.size === 0 || !text) return text
  let out = text
  for (const s of secrets) {
    if (out.includes(s)) out = out.split(s).join(REDACTED)
    // XML-escaped form, as it appears inside raw stanzas.
    const escaped = s
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/'/g, '&apos;')
      .replace(/"/g, '&quot;')
    if (escaped !== s && out.includes(escaped)) out = out.split(escaped).join(REDACTED)
  }
  return out
}

/**
 * A secret the user asked to see (a generated password, printed once). Redaction leaves it alone;
 * JSON.stringify prints the plain string.
 */
export class Revealed {
  constructor(readonly value: string) {}
  toJSON(): string {
    return this.value
  }
  toString(): string {
    return this.value
  }
}

/** Deep-redacts strings inside a JSON-able value. */
export function redactValue<T>(value: T): T {
  if (value instanceof Revealed) return value
  if (typeof value === 'string') return redact(value) as T
  if (Array.isArray(value)) return value.map((v) => redactValue(v)) as T
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = Object.create(null)
    for (const [k, v] of Object.entries(value)) out[k] = redactValue(v)
    return out as T
  }
  return value
}
