// Checks shared by the operator-experience tests (test/integration/ux-*.test.ts).
import {readdirSync} from 'node:fs'
import {join} from 'node:path'
import {execa} from 'execa'
import {expect} from 'vitest'
import {type ServerDescriptor, runControl} from '../servers/servers.js'
import {BIN, type CliOptions, type CliResult, cliOn, scratch, serverEnv} from './cli.js'

/**
 * Like cli()/cliOn() but never parses stdout itself (oneJson() does, with a useful message), and
 * without CI or NO_COLOR unless asked: a plain non-interactive run (stdin a pipe, no TTY).
 */
export async function run(
  server: ServerDescriptor | undefined,
  args: string[],
  opts: CliOptions = {},
): Promise<CliResult> {
  const r = await execa('node', [BIN, ...args], {
    reject: false,
    input: opts.input ?? '',
    timeout: opts.timeout ?? 60_000,
    env: {
      XDG_CONFIG_HOME: join(scratch, 'config'),
      CI: undefined,
      NO_COLOR: undefined,
      FORCE_COLOR: undefined,
      XMPPADM_PROFILE: undefined,
      XMPPADM_JID: undefined,
      XMPPADM_PASSWORD: undefined,
      XMPPADM_PASSWORD_FILE: undefined,
      XMPPADM_SERVER: undefined,
      XMPPADM_CA_FILE: undefined,
      XMPPADM_CONTENT_TYPE: undefined,
      ...(server ? serverEnv(server, opts.as) : {}),
      ...opts.env,
    },
    extendEnv: true,
  })
  return {exitCode: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr}
}

/**
 * stdout must be exactly one JSON document and nothing else (whitespace aside); returns it.
 * Fails with what stdout and stderr held, so a broken envelope is easy to see.
 */
export function oneJson(r: CliResult): any {
  const out = r.stdout.trim()
  let doc: any
  try {
    doc = JSON.parse(out)
  } catch (error) {
    throw new Error(
      `stdout is not exactly one JSON document (${(error as Error).message}):\n--- stdout ` +
        `---\n${r.stdout}\n--- stderr ---\n${r.stderr}`,
    )
  }
  expect(out.startsWith('{') && out.endsWith('}'), 'one JSON object on stdout').toBe(true)
  expect(typeof doc).toBe('object')
  expect(typeof doc.ok).toBe('boolean')
  return doc
}

/**
 * Type of each key, as the README "JSON output" table documents it:
 * 'string' | 'number' | 'boolean' | 'array' | 'object' | 'null', joined with '|' ('string|null').
 * A trailing '?' marks a key the table marks optional (`password?`, `bytes?`). Keys whose type
 * admits null may also be absent (JSON.stringify drops undefined; `jq` reads both as null).
 */
export type Shape = Record<string, string>

function typeOf(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'array'
  return typeof v
}

export function expectShape(value: any, shape: Shape, where = 'result'): void {
  expect(typeOf(value), `${where} is an object`).toBe('object')
  for (const [key, spec] of Object.entries(shape)) {
    const optional = spec.endsWith('?')
    const types = spec.replace(/\?$/, '').split('|')
    const v = value[key]
    if (v === undefined) {
      if (optional || types.includes('null')) continue
      throw new Error(
        `${where}.${key} is missing (documented as ${spec}); ${where} = ${JSON.stringify(value)}`,
      )
    }
    expect(types, `${where}.${key} = ${JSON.stringify(v)} should be ${spec}`).toContain(typeOf(v))
  }
}

export function expectEachShape(list: any, shape: Shape, where: string): void {
  expect(Array.isArray(list), `${where} is an array`).toBe(true)
  list.forEach((item: any, i: number) => expectShape(item, shape, `${where}[${i}]`))
}

/** The error envelope: {ok: false, error: {code, reason, message, hint?}}. */
export function expectErrorDoc(doc: any, code: number): void {
  expect(doc.ok).toBe(false)
  expectShape(doc.error, {code: 'number', reason: 'string', message: 'string', hint: 'string?'}, 'error')
  expect(doc.error.code, doc.error.message).toBe(code)
}

/** Accounts on a Prosody test server whose localpart starts with `prefix`, as Prosody lists them. */
export async function prosodyUsers(server: ServerDescriptor, prefix: string): Promise<string[]> {
  const r = await runControl(server, ['shell', 'user', 'list', server.domain, prefix])
  if (r.code !== 0)
    throw new Error(`prosodyctl shell user list failed (exit ${r.code}): ${r.stdout}${r.stderr}`)
  return r.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith(prefix) && l.endsWith(`@${server.domain}`))
}

/** Fast count of Prosody's account files (internal storage) for polling during a run. */
export function prosodyAccountFiles(server: ServerDescriptor, prefix: string): number {
  try {
    return readdirSync(join(server.dir, 'data', server.domain, 'accounts')).filter(
      (f) => f.startsWith(prefix) && f.endsWith('.dat'),
    ).length
  } catch {
    return 0
  }
}

/** Whether the account logs in with this password (a real SCRAM login through the CLI). */
export async function canLogIn(server: ServerDescriptor, jid: string, password: string): Promise<boolean> {
  const r = await cliOn(server, ['commands', '--json'], {as: {jid, password}})
  if (r.exitCode !== 0 && r.exitCode !== 79)
    throw new Error(`login check for ${jid}: unexpected exit ${r.exitCode}: ${r.stderr}`)
  return r.exitCode === 0
}
