// Named profiles: $XDG_CONFIG_HOME/xmppadm/<name>.conf, "key = value" lines (key-values.ts).
import {readFileSync, statSync} from 'node:fs'
import {homedir} from 'node:os'
import {join} from 'node:path'
import {configError} from '../errors.js'
import {readKeyValues} from './key-values.js'

export interface Profile {
  name: string
  path: string
  jid?: string
  server?: string
  to?: string
  password?: string
  passwordFile?: string
  passwordCommand?: string
  caFile?: string
  sourceAddress?: string
  timeout?: number
  allowPlain?: boolean
  insecure?: boolean
}

const KEYS = [
  'jid',
  'server',
  'to',
  'password',
  'password_file',
  'password_command',
  'ca_file',
  'source_address',
  'timeout',
  'allow_plain',
  'insecure',
] as const

export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  const base =
    env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.startsWith('/')
      ? env.XDG_CONFIG_HOME
      : join(homedir(), '.config')
  return join(base, 'xmppadm')
}

function parseBool(v: string, key: string, path: string): boolean {
  if (/^(1|true|yes|on)$/i.test(v)) return true
  if (/^(0|false|no|off)$/i.test(v)) return false
  throw configError(`${path}: ${key} must be true or false`)
}

/** Loads a profile by name; undefined when `optional` and the file does not exist. */
export function loadProfile(
  name: string,
  optional = false,
  env: NodeJS.ProcessEnv = process.env,
): Profile | undefined {
  if (!/^[\w.-]+$/.test(name) || name.startsWith('.'))
    throw configError(`invalid profile name ${JSON.stringify(name)}`)
  const path = join(configDir(env), `${name}.conf`)
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      if (optional) return undefined
      throw configError(`profile ${name} not found: ${path} does not exist`)
    }
    throw configError(`cannot read profile ${path}: ${(error as Error).message}`)
  }
  const profile: Profile = {name, path}
  for (const {key, value, line} of readKeyValues(text, path)) {
    switch (key as (typeof KEYS)[number]) {
      case 'jid':
        profile.jid = value
        break
      case 'server':
        profile.server = value
        break
      case 'to':
        profile.to = value
        break
      case 'password':
        profile.password = value
        break
      case 'password_file':
        profile.passwordFile = value
        break
      case 'password_command':
        profile.passwordCommand = value
        break
      case 'ca_file':
        profile.caFile = value
        break
      case 'source_address':
        profile.sourceAddress = value
        break
      case 'timeout': {
        const n = Number(value)
        if (!(n > 0)) throw configError(`${path}:${line}: timeout must be a positive number of seconds`)
        profile.timeout = n
        break
      }
      case 'allow_plain':
        profile.allowPlain = parseBool(value, key, path)
        break
      case 'insecure':
        profile.insecure = parseBool(value, key, path)
        break
      default:
        throw configError(`${path}:${line}: unknown key ${JSON.stringify(key)} (known: ${KEYS.join(', ')})`)
    }
  }
  if (profile.password !== undefined) {
    // A password in a file that others can read is as good as published.
    const mode = statSync(path).mode & 0o777
    if (mode & 0o077) {
      throw configError(
        `profile ${path} holds a password and is readable by others (mode ${mode.toString(8)})`,
        `chmod 600 ${path}, or use password_file / password_command`,
      )
    }
  }
  return profile
}
