// Runs the built CLI as a user would: a separate process, no TTY, an isolated config dir.
import {chmodSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {execa} from 'execa'
import type {ServerDescriptor} from '../servers/servers.js'

export const BIN = fileURLToPath(new URL('../../bin/run.js', import.meta.url))
export const scratch = mkdtempSync(join(tmpdir(), 'xmppadm-test-'))
// Secrets and exports live here: gone when the test process ends.
process.on('exit', () => rmSync(scratch, {recursive: true, force: true}))
let n = 0

/** A file holding `content` with mode 0600. */
export function secretFile(content: string): string {
  const path = join(scratch, `secret-${++n}`)
  writeFileSync(path, content, {mode: 0o600})
  chmodSync(path, 0o600)
  return path
}

export interface CliResult {
  exitCode: number
  stdout: string
  stderr: string
  json?: any
}

export interface CliOptions {
  env?: Record<string, string | undefined>
  input?: string
  timeout?: number
  /** Log in as this account instead of the admin. */
  as?: {jid: string; password: string}
}

/** Connection settings for a server, through the environment (as a cron job would set them). */
export function serverEnv(server: ServerDescriptor, as = server.admin): Record<string, string> {
  return {
    XMPPADM_JID: as.jid,
    XMPPADM_SERVER: `${server.host}:${server.port}`,
    XMPPADM_PASSWORD_FILE: secretFile(`${as.password}\n`),
    XMPPADM_CA_FILE: server.caFile,
  }
}

export async function cli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  const r = await execa('node', [BIN, ...args], {
    reject: false,
    input: opts.input ?? '',
    timeout: opts.timeout ?? 60_000,
    env: {
      XDG_CONFIG_HOME: join(scratch, 'config'),
      NO_COLOR: '1',
      CI: 'true',
      XMPPADM_PROFILE: undefined,
      XMPPADM_JID: undefined,
      XMPPADM_PASSWORD: undefined,
      ...opts.env,
    },
    extendEnv: true,
  })
  let json: any
  if (args.includes('--json')) json = JSON.parse(r.stdout)
  return {exitCode: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr, json}
}

export async function cliOn(
  server: ServerDescriptor,
  args: string[],
  opts: CliOptions = {},
): Promise<CliResult> {
  return cli(args, {...opts, env: {...serverEnv(server, opts.as), ...opts.env}})
}

/** A unique account localpart for one test. */
export function uniqueUser(prefix = 'u'): string {
  return `${prefix}${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`
}

/** Nothing a user can cause may end in a stack trace. */
export function expectNoStack(r: CliResult): void {
  if (/\n\s+at .+\(.+:\d+:\d+\)/.test(r.stderr) || /\n\s+at .+:\d+:\d+/.test(r.stderr)) {
    throw new Error(`stack trace on stderr:\n${r.stderr}`)
  }
}
