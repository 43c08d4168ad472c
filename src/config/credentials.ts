// Where the admin password comes from. Never argv: flags name a file, and the rest is env,
// a profile's password command, or a prompt on a TTY.
import {execFile} from 'node:child_process'
import {readFileSync, statSync} from 'node:fs'
import {XmppadmError, cannotRead, configError, usageError} from '../errors.js'
import type {Ui} from '../output/ui.js'
import {registerSecret} from '../secrets.js'

export interface PasswordSources {
  passwordFile?: string
  envPassword?: string
  profilePasswordFile?: string
  profilePasswordCommand?: string
  profilePassword?: string
  /** Prompts on a TTY; absent when prompting is not allowed. */
  prompt?: () => Promise<string>
}

export function readSecretFile(path: string, what: string): string {
  let text: string
  try {
    if (path === '-') {
      text = readFileSync(0, 'utf8')
    } else {
      const mode = statSync(path).mode & 0o777
      if (mode & 0o004)
        throw configError(
          `${what} ${path} is readable by everyone (mode ${mode.toString(8)})`,
          `chmod 600 ${path}`,
        )
      text = readFileSync(path, 'utf8')
    }
  } catch (error) {
    if (error instanceof XmppadmError) throw error
    throw cannotRead(`${what} ${path}`, error)
  }
  // The first line is the secret; a trailing newline is never part of it.
  const value = text.split(/\r?\n/)[0]
  if (!value) throw configError(`${what} ${path === '-' ? '(stdin)' : path} is empty`)
  return value
}

function runPasswordCommand(cmd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('/bin/sh', ['-c', cmd], {timeout: 30_000, maxBuffer: 64 * 1024}, (err, stdout) => {
      if (err) {
        reject(
          configError(
            `password_command failed (exit ${(err as NodeJS.ErrnoException & {code?: number}).code ?? '?'})`,
          ),
        )
        return
      }
      const value = stdout.split(/\r?\n/)[0]
      if (!value) reject(configError('password_command printed nothing'))
      else resolve(value)
    })
  })
}

export async function resolvePassword(src: PasswordSources): Promise<string> {
  let value: string | undefined
  if (src.passwordFile) value = readSecretFile(src.passwordFile, 'password file')
  else if (src.envPassword) value = src.envPassword
  else if (src.profilePasswordFile) value = readSecretFile(src.profilePasswordFile, 'password file')
  else if (src.profilePasswordCommand) value = await runPasswordCommand(src.profilePasswordCommand)
  else if (src.profilePassword) value = src.profilePassword
  else if (src.prompt) value = await src.prompt()
  if (!value) {
    throw configError(
      'no password given',
      'use --password-file FILE (or -), XMPPADM_PASSWORD_FILE, XMPPADM_PASSWORD, or ' +
        'password_file/password_command in a profile',
    )
  }
  registerSecret(value)
  return value
}

/**
 * The one password for new accounts, if there is one: --user-password-file, --user-password-stdin,
 * or a prompt (one account, on a terminal, unless --generate-password; empty: generate one).
 */
export async function newAccountPassword(
  flags: {
    'user-password-file'?: string
    'user-password-stdin'?: boolean
    'generate-password'?: boolean
    'from-file'?: string
  },
  jids: readonly string[],
  ui: Pick<Ui, 'interactive' | 'warn'>,
): Promise<string | undefined> {
  if (flags['user-password-stdin'] && flags['from-file'] === '-')
    throw usageError('--user-password-stdin and --from-file - both want stdin')
  let shared: string | undefined
  if (flags['user-password-file']) shared = readSecretFile(flags['user-password-file'], 'user password file')
  else if (flags['user-password-stdin']) shared = readSecretFile('-', 'user password (stdin)')
  else if (ui.interactive && jids.length === 1 && !flags['generate-password']) {
    const {promptPassword} = await import('../output/prompts.js')
    shared = (await promptPassword(`Password for ${jids[0]} (empty: generate one)`)) || undefined
  }
  if (shared && jids.length > 1) ui.warn('all accounts get the same password')
  return shared
}
