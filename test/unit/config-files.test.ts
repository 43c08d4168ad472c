// Issue 16: profiles and policy files are read by one "key = value" reader: "#" after white space
// starts a comment (also after a value), quotes keep it; a policy rule given twice is an error
// naming both lines; policy durations read as systemd does (1M is a month).
import {chmodSync, mkdirSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {readKeyValues} from '../../src/config/key-values.js'
import {loadProfile} from '../../src/config/profile.js'
import {XmppadmError} from '../../src/errors.js'
import {loadPolicy, readPolicyFile} from '../../src/ops/policy.js'

const home = mkdtempSync(join(tmpdir(), 'xmppadm-config-'))
mkdirSync(join(home, 'xmppadm'))
let n = 0
function file(text: string, ext = 'policy'): string {
  const path = join(home, `f${++n}.${ext}`)
  writeFileSync(path, text, {mode: 0o600})
  return path
}
function profile(text: string): string {
  const name = `p${++n}`
  writeFileSync(join(home, 'xmppadm', `${name}.conf`), text, {mode: 0o600})
  chmodSync(join(home, 'xmppadm', `${name}.conf`), 0o600)
  return name
}
function fails(fn: () => unknown): XmppadmError {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(XmppadmError)
    return error as XmppadmError
  }
  throw new Error('did not fail')
}

describe('the key = value reader', () => {
  it('comments: whole lines, and after white space behind a value; quotes keep " #"', () => {
    expect(
      readKeyValues(
        [
          '# a comment',
          '; another',
          '',
          'ca_file = /x/ca.pem  # note',
          'password = pa#ss',
          'password_command = "pass show x # not a comment"   # but this is',
          "to = 'a b'",
          'Timeout = 20\t# tab before',
          'jid=admin@example.org#frag',
        ].join('\n'),
        'f',
      ),
    ).toEqual([
      {key: 'ca_file', value: '/x/ca.pem', line: 4},
      {key: 'password', value: 'pa#ss', line: 5},
      {key: 'password_command', value: 'pass show x # not a comment', line: 6},
      {key: 'to', value: 'a b', line: 7},
      {key: 'timeout', value: '20', line: 8},
      {key: 'jid', value: 'admin@example.org#frag', line: 9},
    ])
  })

  it('a line that is not key = value names its line', () => {
    expect(fails(() => readKeyValues('jid = a@b\njust words\n', 'f.conf')).message).toBe(
      'f.conf:2: expected key = value',
    )
    expect(fails(() => readKeyValues('to = "a" b\n', 'f.conf')).message).toMatch(/^f\.conf:1: text after/)
  })
})

describe('profiles accept an inline # comment after a value', () => {
  it('each value without its comment', () => {
    const name = profile(
      'jid = admin@example.org   # the admin\nserver = xmpp.example.org:5222 # c2s\nca_file = ' +
        '/x/ca.pem  # note\ntimeout = 20 # slow link\ninsecure = false # never\n',
    )
    expect(loadProfile(name, false, {XDG_CONFIG_HOME: home})).toMatchObject({
      jid: 'admin@example.org',
      server: 'xmpp.example.org:5222',
      caFile: '/x/ca.pem',
      timeout: 20,
      insecure: false,
    })
  })
})

describe('policy files', () => {
  it('rules by their stable key, with the value as written and the age in seconds', () => {
    const path = file('offline = 3650d   # ten years\nuploads = 1M\ndebug-log = off\n')
    expect(loadPolicy(path)).toEqual({
      offline: {key: 'offline', value: '3650d', line: 1, written: 'offline', olderThanSeconds: 3650 * 86400},
      uploads: {key: 'uploads', value: '1M', line: 2, written: 'uploads', olderThanSeconds: 2629800},
      debug_log: {key: 'debug_log', value: 'off', line: 3, written: 'debug_log'},
    })
  })

  it('1M is a month and 1m a minute; 1D is refused naming the units', () => {
    expect(loadPolicy(file('offline = 1m\n')).offline!.olderThanSeconds).toBe(60)
    expect(loadPolicy(file('offline = 1M\n')).offline!.olderThanSeconds).toBe(2629800)
    const e = fails(() => loadPolicy(file('offline = 1D\n')))
    expect(e.exitCode).toBe(65)
    expect(e.message).toMatch(/:1: offline "1D": unknown unit "D"/)
    expect(e.hint).toMatch(/M\/month/)
  })

  it('a rule given twice is an error naming both lines (also through an alias)', () => {
    const twice = file('offline = 7d\nuploads = 14d\noffline = 14d\n')
    const e = fails(() => loadPolicy(twice))
    expect(e.exitCode).toBe(78)
    expect(e.message).toBe(
      `${twice}: rule offline is given twice, on lines 1 and 3 (offline = 7d, offline = 14d)`,
    )
    const alias = file('offline_messages = 7d\n\noffline = 1d\n')
    expect(fails(() => loadPolicy(alias)).message).toMatch(
      /on lines 1 and 3 \(offline_messages = 7d, offline = 1d\)/,
    )
  })

  it('audit lines (issue 12): read with the rules, checked, and left to policy check by apply', () => {
    const path = file(
      [
        'offline = 7d',
        'tls_min = 1.3',
        'plain = forbidden',
        'scram-min-iterations = 10000',
        'archive = none',
        'archive_scan_seconds = 50',
        'registration = closed',
        'cert_warn_days = 21',
        'contacts = abuse, security-addresses',
        'channel_binding = required',
        '',
      ].join('\n'),
    )
    expect(readPolicyFile(path).audit).toEqual({
      tlsMin: '1.3',
      plain: 'forbidden',
      scramMinIterations: 10000,
      archive: 'none',
      archiveScanSeconds: 50,
      registration: 'closed',
      certWarnDays: 21,
      contacts: ['abuse', 'security'],
      channelBinding: 'required',
    })
    expect(Object.keys(loadPolicy(path))).toEqual(['offline'])
  })

  it('a bad audit value names its line and what it expects; audit lines only: nothing to apply', () => {
    expect(fails(() => readPolicyFile(file('tls_min = 1.1\n'))).message).toMatch(
      /:1: tls_min: expected "1\.2" or "1\.3"$/,
    )
    expect(fails(() => readPolicyFile(file('archive_scan_seconds = 0\n'))).message).toMatch(
      /:1: archive_scan_seconds: expected a whole number from 1 to 3600$/,
    )
    expect(fails(() => readPolicyFile(file('contacts = abuse, spam\n'))).message).toMatch(
      /unknown contact kind "spam"/,
    )
    expect(fails(() => readPolicyFile(file('archive = none\narchive = allowed\n'))).message).toMatch(
      /rule archive is given twice, on lines 1 and 2/,
    )
    expect(fails(() => readPolicyFile(file('tls = 1.2\n'))).message).toMatch(
      /unknown rule "tls" \(known: .*audit: tls_min/,
    )
    const e = fails(() => loadPolicy(file('archive = none\n')))
    expect(e.exitCode).toBe(78)
    expect(e.message).toMatch(/no retention rules to apply/)
  })
})
