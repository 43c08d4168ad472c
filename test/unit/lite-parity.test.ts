// The lite path (dist/lite.js: the commands without oclif) must read every command line exactly as
// oclif does, or hand it to oclif. Each line is parsed twice in this process: by the shim's parser
// with the command classes as the bundle builds them, and by oclif's parser with the classes oclif
// loads: the same arguments and flags, and the common lines must really be taken by the shim.
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Flags, Parser} from '@oclif/core'
import {execa} from 'execa'
import {describe, expect, it} from 'vitest'
import {BIN} from '../helpers/cli.js'

// The bundle as built (npm run build): its registry, its parser, and the shim-built command classes.
const lite = await import(new URL('../../dist/lite.js', import.meta.url).href)
// The same for oclif: what init() hands its parser, with oclif's own flag definitions.
const {parseInput} = await import(new URL('../../dist/base-command.js', import.meta.url).href)
const manifest = (await import('../../oclif.manifest.json', {with: {type: 'json'}})).default as {
  commands: Record<string, {aliases: string[]; relativePath: string[]}>
}

interface Line {
  argv: string[]
  env?: Record<string, string>
  /** The lite parser must take it (not hand it to oclif). */
  lite?: boolean
}

const lines: Line[] = [
  {argv: ['account', 'create', 'a@example.org'], lite: true},
  {argv: ['account', 'create', 'a@example.org', 'b@example.org', '--concurrency', '3', '-q'], lite: true},
  {argv: ['account', 'create', '--from-file', '-', '--concurrency=16', '--retries', '0'], lite: true},
  {
    argv: [
      'account',
      'create',
      'x@y',
      '--json',
      '--skip-existing',
      '--user-password-file',
      'f',
      '--generate-password',
    ],
    lite: true,
  },
  {argv: ['--profile', 'prod', '--json', 'account', 'create', 'x@y'], lite: true},
  {argv: ['account', 'create', 'x@y', '-pprod', '-j=admin@x', '-s', 'xmpps://h:5223'], lite: true},
  {
    argv: ['account', 'create', 'x@y'],
    env: {XMPPADM_TIMEOUT: '7', XMPPADM_JID: 'admin@x', XMPPADM_SERVER: 'h:1', XMPPADM_CA_FILE: 'ca.pem'},
    lite: true,
  },
  {argv: ['account', 'create', 'x@y', '--timeout', '5'], env: {XMPPADM_TIMEOUT: '7'}, lite: true},
  {argv: ['account', 'create', 'x@y'], env: {XMPPADM_TIMEOUT: '0'}},
  {argv: ['account', 'create', 'x@y'], env: {XMPPADM_TIMEOUT: ''}, lite: true},
  {argv: ['account', 'create', 'x@y', '--concurrency', '0']},
  {argv: ['account', 'create', 'x@y', '--concurrency', 'abc']},
  {argv: ['account', 'create', 'x@y', '--concurrency', '-3']},
  {argv: ['account', 'create', 'x@y', '--bogus']},
  {argv: ['account', 'create', '--from-file']},
  {argv: ['account', 'create', '--from-file', '--json']},
  {argv: ['account', 'create', 'x@y', '--quiet=yes']},
  {argv: ['account', 'create', 'x@y', '--', '-z']},
  {argv: ['account', 'create', '-qn']},
  {argv: ['account', 'create', 'x@y', '--from-file', 'a', '--from-file', 'b']},
  {argv: ['account', 'delete', 'a@b', 'c@d', '-y', '-n'], lite: true},
  {argv: ['account', 'delete', 'a@b', '--yes', '--yes']},
  {argv: ['account', 'delete'], lite: true},
  {argv: ['account']},
  {
    argv: ['block-ip', '203.0.113.7', '198.51.100.0/24', '--expires', '7d', '--reason', 'spam wave'],
    lite: true,
  },
  {argv: ['block-ip', '0.0.0.0/0', '--allow-broad', '--include-own-address'], lite: true},
  {argv: ['block-ip', 'list', '--json'], lite: true},
  {argv: ['block-ip', 'list', 'extra']},
  {argv: ['block-ip', 'remove', '203.0.113.7', '2001:db8::/32'], lite: true},
  {argv: ['export-user', 'a@b', '-o', '-', '--format', 'json'], lite: true},
  {argv: ['export-user', 'a@b', '--format', 'xml']},
  {argv: ['export-user']},
  {argv: ['purge-offline', '--older-than', '7d', '-n'], lite: true},
  {argv: ['purge-offline']},
  {argv: ['purge-uploads', '--older-than=14d', '--json'], lite: true},
  {argv: ['debug-log', 'on', '--for', '30m'], lite: true},
  {argv: ['debug-log', 'off'], lite: true},
  {argv: ['debug-log', 'off', '--yes']},
  {argv: ['debug-log', 'status', '--json'], lite: true},
  {argv: ['run', 'http://jabber.org/protocol/admin#add-user', '--one-shot'], lite: true},
  {argv: ['command', 'run', 'n', '--field', 'a=1', '--field', 'b=2']},
  {argv: ['command', 'run']},
  {argv: ['command', 'info', 'n', '--fields', '--json'], lite: true},
  {argv: ['commands', '--json'], lite: true},
  {argv: ['command', 'list'], lite: true},
  {argv: ['command:list', '--json'], lite: true},
  {argv: ['policy', 'apply', '-', '--dry-run'], lite: true},
  {
    argv: [
      'capabilities',
      '--to',
      'pubsub.example.org',
      '--insecure',
      '--allow-plain',
      '--debug',
      '--no-color',
      '--no-input',
    ],
    lite: true,
  },
  {argv: ['capabilities', '--', '--json']},
  {argv: ['capabilities', '-5']},
  {argv: ['nope']},
]

// No profile or connection settings of the machine's user may leak in.
const CLEAN = ['XMPPADM_PROFILE', 'XMPPADM_JID', 'XMPPADM_SERVER', 'XMPPADM_TIMEOUT', 'XMPPADM_CA_FILE']
const CLEAN_ALSO = ['XMPPADM_PASSWORD_FILE', 'XMPPADM_CONTENT_TYPE', 'XMPPADM_TO', 'XMPPADM_SOURCE_ADDRESS']

async function withEnv<T>(env: Record<string, string> | undefined, fn: () => Promise<T>): Promise<T> {
  const saved = {...process.env}
  for (const k of [...CLEAN, ...CLEAN_ALSO]) delete process.env[k]
  Object.assign(process.env, env)
  try {
    return await fn()
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k]
    Object.assign(process.env, saved)
  }
}

type Parsed = {args: unknown; argv: unknown; flags: unknown}

/** The shim's parse (undefined: it hands the line to oclif), and oclif's (or the error it throws). */
async function bothParses(line: Line): Promise<{lite?: Parsed; oclif: Parsed | Error}> {
  const found = lite.lookup(lite.leadingOptionsLast(line.argv))
  if (!found) return {oclif: new Error('no such command in the lite registry')}
  const LiteCmd = (await lite.COMMANDS[found.id]()).default
  const path = manifest.commands[found.id].relativePath.join('/')
  const OclifCmd = (await import(new URL(`../../${path}`, import.meta.url).href)).default
  return withEnv(line.env, async () => {
    let litePart: Parsed | undefined
    try {
      const {args, argv, flags} = lite.parseArgv(found.rest, lite.parseInput(LiteCmd))
      litePart = {args, argv, flags}
    } catch (error) {
      if (!(error instanceof lite.NeedsFullCli)) throw error
    }
    // As oclif's Command.parse() does: the base flags, then --json, then the command's own.
    const input = parseInput(OclifCmd)
    const flags = {json: Flags.boolean(), ...input.baseFlags, ...input.flags}
    const oclif = await Parser.parse(found.rest, {...input, flags}).then(
      ({args, argv, flags}) => ({args, argv, flags}),
      (error: Error) => error,
    )
    return {lite: litePart, oclif}
  })
}

describe('the lite path parses every command line as oclif does, or hands it over', () => {
  for (const line of lines) {
    it(`${line.argv.join(' ')}${
      line.env
        ? ` (${Object.entries(line.env)
            .map(([k, v]) => `${k}=${v}`)
            .join(' ')})`
        : ''
    }`, async () => {
      const {lite: taken, oclif} = await bothParses(line)
      if (taken) expect(taken).toEqual(oclif)
      if (line.lite) expect(taken, String(oclif)).toBeDefined()
      else expect(taken).toBeUndefined()
    })
  }
})

// Past parsing, both ways run the same command code; the ends (errors, JSON envelope, exit
// codes) go through the stand-in's life cycle, so they are compared too (no server needed).
describe('runs end the same way on both paths', () => {
  // No profile of the machine's user may leak in.
  const noConfig = mkdtempSync(join(tmpdir(), 'xmppadm-lite-config-'))
  const run = async (line: Line, full: boolean) => {
    const r = await execa('node', [BIN, ...line.argv], {
      reject: false,
      input: '',
      timeout: 20_000,
      env: {
        XMPPADM_FULL_CLI: full ? '1' : '',
        NO_COLOR: '1',
        XDG_CONFIG_HOME: noConfig,
        CI: 'true',
        ...Object.fromEntries([...CLEAN, ...CLEAN_ALSO].map((k) => [k, undefined])),
        ...line.env,
      },
    })
    return {exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr}
  }
  const pw = join(mkdtempSync(join(tmpdir(), 'xmppadm-lite-')), 'pw')
  writeFileSync(pw, 'not-used\n', {mode: 0o600})
  const refused = {XMPPADM_JID: 'admin@localhost', XMPPADM_SERVER: '127.0.0.1:1', XMPPADM_PASSWORD_FILE: pw}
  const runs: Line[] = [
    {argv: ['capabilities', '--json'], env: refused},
    {argv: ['account', 'create', 'x@localhost', '--user-password-file', pw], env: refused},
    {argv: ['purge-offline', '--older-than', '7d', '--json'], env: {XMPPADM_PASSWORD_FILE: pw}},
    {argv: ['purge-offline', '--older-than', '7d']},
    {argv: ['account', 'create', '--json'], env: refused},
    {argv: ['account', 'delete', 'x@localhost'], env: refused},
    // issue 16: refused before connecting, the same way on both paths
    {argv: ['block-ip', '0.0.0.0/0', '--json'], env: refused},
    {argv: ['purge-offline', '--older-than', '7D'], env: refused},
    {argv: ['commands', '--server', '127.0.0.1:notaport'], env: refused},
  ]
  for (const line of runs) {
    it(line.argv.join(' '), async () => {
      const [lite, full] = await Promise.all([run(line, false), run(line, true)])
      expect(lite.exitCode).toBeGreaterThan(0)
      expect(lite).toEqual(full)
    })
  }
})

it('the lite command table is the manifest: every command and alias, nothing else', async () => {
  const {COMMANDS, ALIASES, lookup} = lite
  expect(Object.keys(COMMANDS).sort()).toEqual(Object.keys(manifest.commands).sort())
  const aliases = Object.fromEntries(
    Object.entries(manifest.commands).flatMap(([id, c]) => c.aliases.map((a) => [a, id])),
  )
  expect(ALIASES).toEqual(aliases)
  expect(lookup(['block-ip', 'list'])).toEqual({id: 'block-ip:list', rest: []})
  expect(lookup(['block-ip', '10.0.0.1'])).toEqual({id: 'block-ip', rest: ['10.0.0.1']})
  expect(lookup(['account'])).toBeUndefined()
})
