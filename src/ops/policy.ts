// A service's retention promises in a small file, applied in one run (one crontab line).
import {readFileSync} from 'node:fs'
import {XmppadmError, configError} from '../errors.js'
import {parseDuration} from './values.js'

export interface Policy {
  offlineSec?: number
  uploadsSec?: number
  debugLog?: 'off'
}

/** Lines "key = value": offline = 7d, uploads = 14d, debug_log = off; # comments. */
export function loadPolicy(path: string): Policy {
  let text: string
  try {
    text = readFileSync(path === '-' ? 0 : path, 'utf8')
  } catch (error) {
    throw new XmppadmError(
      'noInput',
      'no-input',
      `cannot read policy ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    )
  }
  const policy: Policy = {}
  text.split('\n').forEach((line, i) => {
    const t = line.replace(/#.*/, '').trim()
    if (!t) return
    const m = /^([\w-]+)\s*=\s*(.+)$/.exec(t)
    if (!m) throw configError(`${path}:${i + 1}: expected key = value`)
    const [, key, value] = m
    switch (key.replace(/-/g, '_')) {
      case 'offline':
      case 'offline_messages':
        policy.offlineSec = parseDuration(value, `${path}:${i + 1}: offline`)
        break
      case 'uploads':
        policy.uploadsSec = parseDuration(value, `${path}:${i + 1}: uploads`)
        break
      case 'debug_log':
        if (value !== 'off') throw configError(`${path}:${i + 1}: debug_log can only be "off"`)
        policy.debugLog = 'off'
        break
      default:
        throw configError(
          `${path}:${i + 1}: unknown rule ${JSON.stringify(key)} (known: offline, uploads, debug_log)`,
        )
    }
  })
  if (policy.offlineSec === undefined && policy.uploadsSec === undefined && !policy.debugLog)
    throw configError(`${path}: no rules`)
  return policy
}
