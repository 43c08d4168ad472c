// A service's promises in a small file: retention rules, applied in one run (one crontab line,
// `policy apply`), and audit lines that `policy check` holds the server to (src/audit/settings.ts).
import {readFileSync} from 'node:fs'
import {AUDIT_KEYS, type AuditSettings} from '../audit/settings.js'
import {readKeyValues} from '../config/key-values.js'
import {cannotRead, configError} from '../errors.js'
import {parseDuration} from './values.js'

/** The rules a policy may hold, by their stable key (the JSON "rule"). */
export type RuleKey = 'offline' | 'uploads' | 'debug_log'

export interface Rule {
  key: RuleKey
  /** The value as written in the file ("3650d"), for messages. */
  value: string
  /** The file line, and the key as written there (offline_messages is offline), for messages. */
  line: number
  written: string
  /** Purge rules: the age in seconds. */
  olderThanSeconds?: number
}

/** The rules in the order they run; each key at most once. */
export type Policy = Partial<Record<RuleKey, Rule>>

const ALIASES: Record<string, RuleKey> = {
  offline: 'offline',
  offline_messages: 'offline',
  uploads: 'uploads',
  debug_log: 'debug_log',
}

export interface PolicyFile {
  rules: Policy
  /** What the audit lines say; the rest is the defaults (src/audit/settings.ts). */
  audit: Partial<AuditSettings>
}

const KNOWN = `known: offline, uploads, debug_log; audit: ${Object.keys(AUDIT_KEYS).join(', ')}`

/** Lines "key = value": offline = 7d, uploads = 14d, debug_log = off, audit lines; # comments. */
export function readPolicyFile(path: string): PolicyFile {
  let text: string
  try {
    text = readFileSync(path === '-' ? 0 : path, 'utf8')
  } catch (error) {
    throw cannotRead(`policy ${path}`, error)
  }
  const rules: Policy = {}
  const audit: Partial<AuditSettings> = {}
  const seen = new Map<string, {line: number; written: string; value: string}>()
  for (const {key: written, value, line} of readKeyValues(text, path)) {
    const key = ALIASES[written] ?? (Object.hasOwn(AUDIT_KEYS, written) ? written : undefined)
    if (!key) throw configError(`${path}:${line}: unknown rule ${JSON.stringify(written)} (${KNOWN})`)
    const before = seen.get(key)
    if (before)
      throw configError(
        `${path}: rule ${key} is given twice, on lines ${before.line} and ${line} (${before.written} ` +
          `= ${before.value}, ${written} = ${value})`,
        'keep one of them',
      )
    seen.set(key, {line, written, value})
    if (!ALIASES[written]) {
      Object.assign(audit, AUDIT_KEYS[key](value, `${path}:${line}: ${written}`))
    } else if (key === 'debug_log') {
      if (value !== 'off') throw configError(`${path}:${line}: debug_log can only be "off"`)
      rules.debug_log = {key, value, line, written}
    } else {
      const olderThanSeconds = parseDuration(value, `${path}:${line}: ${written}`)
      rules[key as RuleKey] = {key: key as RuleKey, value, line, written, olderThanSeconds}
    }
  }
  if (!seen.size) throw configError(`${path}: no rules`)
  return {rules, audit}
}

/** The rules `policy apply` enforces; audit lines are checked, then left to `policy check`. */
export function loadPolicy(path: string): Policy {
  const {rules} = readPolicyFile(path)
  if (!Object.keys(rules).length)
    throw configError(
      `${path}: no retention rules to apply (offline, uploads, debug_log); ` +
        'its audit lines are for policy check',
    )
  return rules
}
