// A service's retention promises in a small file, applied in one run (one crontab line).
import {readFileSync} from 'node:fs'
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

/** Lines "key = value": offline = 7d, uploads = 14d, debug_log = off; # comments. */
export function loadPolicy(path: string): Policy {
  let text: string
  try {
    text = readFileSync(path === '-' ? 0 : path, 'utf8')
  } catch (error) {
    throw cannotRead(`policy ${path}`, error)
  }
  const policy: Policy = {}
  for (const {key: written, value, line} of readKeyValues(text, path)) {
    const key = ALIASES[written]
    if (!key)
      throw configError(
        `${path}:${line}: unknown rule ${JSON.stringify(written)} (known: offline, uploads, debug_log)`,
      )
    const before = policy[key]
    if (before)
      throw configError(
        `${path}: rule ${key} is given twice, on lines ${before.line} and ${line} (${before.written} ` +
          `= ${before.value}, ${written} = ${value})`,
        'keep one of them',
      )
    if (key === 'debug_log') {
      if (value !== 'off') throw configError(`${path}:${line}: debug_log can only be "off"`)
      policy[key] = {key, value, line, written}
    } else {
      const olderThanSeconds = parseDuration(value, `${path}:${line}: ${written}`)
      policy[key] = {key, value, line, written, olderThanSeconds}
    }
  }
  if (!Object.keys(policy).length) throw configError(`${path}: no rules`)
  return policy
}
