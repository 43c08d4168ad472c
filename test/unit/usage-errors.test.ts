// Issue 16: every usage error names the flag or argument and what is wrong with it, as text and in
// --json, on the lite path and through oclif alike; an unknown command is exit 64 with the nearest
// one; connection settings that cannot work are refused before anything is sent. No server: each
// of these fails before connecting (XMPPADM_SERVER points at a closed port, so a 75 would show
// that something was sent).
import {mkdirSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {execa} from 'execa'
import {describe, expect, it} from 'vitest'
import {BIN} from '../helpers/cli.js'

const home = mkdtempSync(join(tmpdir(), 'xmppadm-usage-'))
const pw = join(home, 'pw')
writeFileSync(pw, 'not-used\n', {mode: 0o600})
const nowhere = {XMPPADM_JID: 'admin@localhost', XMPPADM_SERVER: '127.0.0.1:1', XMPPADM_PASSWORD_FILE: pw}

async function run(args: string[], env: Record<string, string | undefined> = {}) {
  const r = await execa('node', [BIN, ...args], {
    reject: false,
    input: '',
    timeout: 20_000,
    env: {
      XDG_CONFIG_HOME: home,
      NO_COLOR: '1',
      CI: 'true',
      XMPPADM_PROFILE: undefined,
      XMPPADM_JID: undefined,
      XMPPADM_SERVER: undefined,
      XMPPADM_TIMEOUT: undefined,
      XMPPADM_CA_FILE: undefined,
      XMPPADM_PASSWORD_FILE: undefined,
      XMPPADM_CONTENT_TYPE: undefined,
      XMPPADM_FULL_CLI: undefined,
      ...env,
    },
  })
  return {exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr}
}

/** Text on stderr (one line), and the same message in the --json envelope. */
async function usage(args: string[], env: Record<string, string | undefined> = {}) {
  const [text, json] = await Promise.all([run(args, env), run([...args, '--json'], env)])
  expect(text.exitCode, text.stderr).toBe(64)
  expect(text.stdout).toBe('')
  expect(text.stderr.trim().split('\n'), text.stderr).toHaveLength(1)
  expect(json.exitCode, json.stdout).toBe(64)
  const doc = JSON.parse(json.stdout)
  expect(doc).toMatchObject({ok: false, error: {code: 64}})
  expect(text.stderr).toContain(doc.error.message)
  return {message: doc.error.message as string, reason: doc.error.reason as string, hint: doc.error.hint}
}

describe('usage errors name the flag or argument and what is wrong', () => {
  it.each([
    [['purge-offline'], /^missing required flag --older-than: delete what is older/, 'missing-flag'],
    [['policy', 'apply'], /^missing argument FILE: policy file/, 'missing-argument'],
    [['command', 'run'], /^missing argument NODE: command node/, 'missing-argument'],
    [['command', 'info'], /^missing argument NODE/, 'missing-argument'],
    [['export-user'], /^missing argument JID: the account to export/, 'missing-argument'],
    [
      ['purge-offline', '--older-than', '7d', '--timeout', 'abc'],
      /^--timeout: "abc" is not a whole number/,
      'invalid-value',
    ],
    [
      ['account', 'create', 'a@b', '--concurrency', '0'],
      /^--concurrency: 0 is less than the minimum, 1/,
      'invalid-value',
    ],
    [
      ['account', 'create', 'a@b', '--concurrency', '300'],
      /^--concurrency: 300 is more than the maximum, 256/,
      'invalid-value',
    ],
    [
      ['account', 'create', 'a@b', '--concurency', '3'],
      /^unknown flag --concurency \(did you mean --concurrency\?\)/,
      'unknown-flag',
    ],
    [
      ['purge-offline', '--older-than', '7d', '--concurrency', '2'],
      /^unknown flag --concurrency$/,
      'unknown-flag',
    ],
    [
      ['export-user', 'a@b', '--format', 'xml'],
      /^--format: "xml" is not one of: xep0227, json/,
      'invalid-value',
    ],
    [['account', 'create', '--from-file'], /^--from-file needs a value/, 'missing-value'],
    [
      ['capabilities', 'extra'],
      /^unexpected argument "extra" \(xmppadm capabilities takes no arguments\)/,
      'unexpected-argument',
    ],
    [
      ['block-ip', 'list', 'extra'],
      /^unexpected argument "extra" \(xmppadm block-ip list takes no arguments\)/,
      'unexpected-argument',
    ],
  ] as const)('%j', async (args, message, reason) => {
    const e = await usage([...args], nowhere)
    expect(e.message).toMatch(message)
    expect(e.reason).toBe(reason)
    expect(e.hint).toMatch(/--help/)
  })

  it('a value from the environment is named by its variable (XMPPADM_TIMEOUT=abc)', async () => {
    const e = await usage(['purge-offline', '--older-than', '7d'], {...nowhere, XMPPADM_TIMEOUT: 'abc'})
    expect(e.message).toBe('XMPPADM_TIMEOUT (for --timeout): "abc" is not a whole number')
  })

  it('the lite path and oclif give the same message', async () => {
    const args = ['purge-offline', '--older-than', '7d', '--timeout', '0', '--json']
    const [lite, full] = await Promise.all([
      run(args, nowhere),
      run(args, {...nowhere, XMPPADM_FULL_CLI: '1'}),
    ])
    expect(lite).toEqual(full)
    expect(JSON.parse(lite.stdout).error.message).toBe('--timeout: 0 is less than the minimum, 1')
  })
})

describe('an unknown command: exit 64 with the nearest command', () => {
  it.each([
    [['purge-ofline'], 'unknown command "purge-ofline"; did you mean "purge-offline"?'],
    [['account', 'creat', 'a@b'], 'unknown command "account creat"; did you mean "account create"?'],
    [['policy', 'aply', 'f'], 'unknown command "policy aply"; did you mean "policy apply"?'],
    [['frobnicate'], 'unknown command "frobnicate"'],
  ])('%j', async (args, message) => {
    const e = await usage(args)
    expect(e.message).toBe(message)
    expect(e.reason).toBe('unknown-command')
  })

  it('help for an unknown command says the same', async () => {
    const r = await run(['help', 'purge-ofline'])
    expect(r.exitCode).toBe(64)
    expect(r.stderr.trim()).toBe(
      'error: unknown command "purge-ofline"; did you mean "purge-offline"? (hint: see: xmppadm help)',
    )
  })

  it('autocomplete for a shell it does not support names the ones it does', async () => {
    const e = await usage(['autocomplete', 'fish'])
    expect(e.message).toBe('argument SHELL: "fish" is not one of: zsh, bash, powershell')
  })
})

describe('connection settings that cannot work are refused before anything is sent', () => {
  it('--server host:notaport is a usage error naming --server (or XMPPADM_SERVER)', async () => {
    const flag = await usage(['commands', '--server', '127.0.0.1:notaport'], nowhere)
    expect(flag.message).toBe(
      '--server "127.0.0.1:notaport": the port "notaport" is not a number from 1 to 65535',
    )
    const env = await usage(['commands'], {...nowhere, XMPPADM_SERVER: '127.0.0.1:notaport'})
    expect(env.message).toMatch(/^XMPPADM_SERVER "127\.0\.0\.1:notaport": the port/)
    const v6 = await usage(['commands', '--server', '2001:db8::1:5222x'], nowhere)
    expect(v6.message).toMatch(/--server/)
  })

  it('--source-address must be an IP address (flag, environment, profile), checked first', async () => {
    const flag = await usage(['commands', '--source-address', 'eth0'], nowhere)
    expect(flag.message).toBe('--source-address "eth0" is not an IP address')
    const env = await usage(['commands'], {...nowhere, XMPPADM_SOURCE_ADDRESS: '10.0.0.300'})
    expect(env.message).toBe('XMPPADM_SOURCE_ADDRESS "10.0.0.300" is not an IP address')
    mkdirSync(join(home, 'xmppadm'), {recursive: true})
    writeFileSync(join(home, 'xmppadm', 'xmppadm-src.conf'), 'source_address = nowhere\n')
    const profile = await usage(['commands', '--profile', 'xmppadm-src'], nowhere)
    expect(profile.message).toMatch(/xmppadm-src\.conf: source_address "nowhere" is not an IP address$/)
  })

  it('a --ca-file without a certificate is a configuration error naming the file (78)', async () => {
    const empty = join(home, 'empty-ca.pem')
    writeFileSync(empty, '# nothing here\n')
    const r = await run(['commands', '--ca-file', empty, '--json'], nowhere)
    expect(r.exitCode, r.stdout).toBe(78)
    expect(JSON.parse(r.stdout).error.message).toBe(`CA file ${empty} holds no certificate`)
    const text = await run(['commands', '--ca-file', empty], nowhere)
    expect(text.stderr).toMatch(
      /error: CA file .* holds no certificate \(hint: it must hold PEM certificates/,
    )
  })
})
