// The lite path (dist/lite.js: the commands without oclif) must read every command line exactly as
// oclif does, or hand it to oclif. Each line runs twice through bin/run.js, once forced through
// oclif (XMPPADM_FULL_CLI=1), with XMPPADM_PARSE_ONLY=1 (print what was parsed, stop): the same
// exit code, stdout and stderr, and the common lines must really take the lite path.
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {execa} from 'execa'
import {describe, expect, it} from 'vitest'
import {BIN} from '../helpers/cli.js'
import {ALIASES, COMMANDS, lookup} from '../../src/lite/main.js'

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

// No profile of the machine's user may leak in.
const noConfig = mkdtempSync(join(tmpdir(), 'xmppadm-lite-config-'))

async function parsed(line: Line, full: boolean, parseOnly = true) {
  const r = await execa('node', [BIN, ...line.argv], {
    reject: false,
    input: '',
    timeout: 20_000,
    env: {
      XMPPADM_PARSE_ONLY: parseOnly ? '1' : '',
      XMPPADM_FULL_CLI: full ? '1' : '',
      NO_COLOR: '1',
      XDG_CONFIG_HOME: noConfig,
      CI: 'true',
      XMPPADM_PROFILE: undefined,
      XMPPADM_JID: undefined,
      XMPPADM_SERVER: undefined,
      XMPPADM_TIMEOUT: undefined,
      XMPPADM_CA_FILE: undefined,
      XMPPADM_PASSWORD_FILE: undefined,
      XMPPADM_CONTENT_TYPE: undefined,
      ...line.env,
    },
  })
  let via: string | undefined
  let stderr: unknown = r.stderr
  try {
    const doc = JSON.parse(r.stderr)
    via = doc.via
    delete doc.via
    stderr = doc
  } catch {
    // an error message: compared as text
  }
  return {exitCode: r.exitCode, stdout: r.stdout, stderr, via}
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
      const [lite, full] = await Promise.all([parsed(line, false), parsed(line, true)])
      expect(full.via).not.toBe('lite')
      expect({...lite, via: undefined}).toEqual({...full, via: undefined})
      if (line.lite) expect(lite.via, JSON.stringify(lite)).toBe('lite')
      else expect(lite.via).not.toBe('lite')
    })
  }
})

// Past parsing, both ways run the same command code; the ends (errors, JSON envelope, exit
// codes) go through the stand-in's life cycle, so they are compared too (no server needed).
describe('runs end the same way on both paths', () => {
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
      const [lite, full] = await Promise.all([parsed(line, false, false), parsed(line, true, false)])
      expect(lite.exitCode).toBeGreaterThan(0)
      expect(lite).toEqual(full)
    })
  }
})

it('the lite command table is the manifest: every command and alias, nothing else', async () => {
  const {readFileSync} = await import('node:fs')
  const manifest = JSON.parse(readFileSync(new URL('../../oclif.manifest.json', import.meta.url), 'utf8'))
  expect(Object.keys(COMMANDS).sort()).toEqual(Object.keys(manifest.commands).sort())
  const aliases = Object.fromEntries(
    Object.entries(manifest.commands as Record<string, {aliases: string[]}>).flatMap(([id, c]) =>
      c.aliases.map((a) => [a, id]),
    ),
  )
  expect(ALIASES).toEqual(aliases)
  expect(lookup(['block-ip', 'list'])).toEqual({id: 'block-ip:list', rest: []})
  expect(lookup(['block-ip', '10.0.0.1'])).toEqual({id: 'block-ip', rest: ['10.0.0.1']})
  expect(lookup(['account'])).toBeUndefined()
})
