// What `policy check` holds a server to: the audit lines of a policy file (the same file, read the
// same way, as `policy apply`), over defaults that are the promises this tool was made for.
import {configError} from '../errors.js'

/** XEP-0157 address kinds (the serverinfo form's `<kind>-addresses` fields). */
export const CONTACT_KINDS = ['abuse', 'admin', 'feedback', 'sales', 'security', 'status', 'support'] as const
export type ContactKind = (typeof CONTACT_KINDS)[number]

export interface AuditSettings {
  /** Lowest TLS version accepted, client to server and server to server. */
  tlsMin: '1.2' | '1.3'
  /** Whether SASL PLAIN may be offered (the server then sees each password as typed). */
  plain: 'forbidden' | 'allowed'
  scramMinIterations: number
  /** required: a -PLUS mechanism must be offered; optional: its absence is a warning. */
  channelBinding: 'required' | 'optional'
  archive: 'none' | 'allowed'
  /**
   * How long the walk over every account's archive may take (seconds): a monitoring check must end
   * in time on a big server; a walk cut short says so.
   */
  archiveScanSeconds: number
  registration: 'closed' | 'open'
  /** A certificate that expires within this many days is a warning. */
  certWarnDays: number
  /** XEP-0157 address kinds the server must publish. */
  contacts: ContactKind[]
}

export const DEFAULT_AUDIT: AuditSettings = {
  tlsMin: '1.2',
  plain: 'forbidden',
  scramMinIterations: 4096,
  channelBinding: 'optional',
  archive: 'none',
  archiveScanSeconds: 20,
  registration: 'closed',
  certWarnDays: 14,
  contacts: [],
}

/** Retention ages when the file does not give them (seconds). */
export const DEFAULT_RETENTION = {offline: 7 * 86400, uploads: 14 * 86400}

type Parser = (value: string, where: string) => Partial<AuditSettings>

const oneOf =
  <K extends keyof AuditSettings>(field: K, values: readonly string[]): Parser =>
  (value, where) => {
    if (!values.includes(value))
      throw configError(`${where}: expected ${values.map((v) => JSON.stringify(v)).join(' or ')}`)
    return {[field]: value} as Partial<AuditSettings>
  }

const wholeNumber =
  <K extends keyof AuditSettings>(field: K, min: number, max: number): Parser =>
  (value, where) => {
    if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max)
      throw configError(`${where}: expected a whole number from ${min} to ${max}`)
    return {[field]: Number(value)} as Partial<AuditSettings>
  }

/** The audit lines a policy file may hold, by key. */
export const AUDIT_KEYS: Record<string, Parser> = {
  tls_min: oneOf('tlsMin', ['1.2', '1.3']),
  plain: oneOf('plain', ['forbidden', 'allowed']),
  scram_min_iterations: wholeNumber('scramMinIterations', 1, 10_000_000),
  channel_binding: oneOf('channelBinding', ['required', 'optional']),
  archive: oneOf('archive', ['none', 'allowed']),
  archive_scan_seconds: wholeNumber('archiveScanSeconds', 1, 3600),
  registration: oneOf('registration', ['closed', 'open']),
  cert_warn_days: wholeNumber('certWarnDays', 0, 3650),
  contacts: (value, where) => {
    const kinds = value
      .split(/[\s,]+/)
      .filter(Boolean)
      .map((k) => k.replace(/-addresses$/, ''))
    const bad = kinds.find((k) => !(CONTACT_KINDS as readonly string[]).includes(k))
    if (bad) throw configError(`${where}: unknown contact kind "${bad}" (known: ${CONTACT_KINDS.join(', ')})`)
    return {contacts: [...new Set(kinds)] as ContactKind[]}
  },
}
