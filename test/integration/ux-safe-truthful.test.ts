// Issue 16, "safe by default and truthful", against the real servers: block-ip refuses what would
// lock everyone (or the admin) out, a blocked connection says so (exit 81), durations read as
// systemd does, command run and dry runs tell the truth on every server, --quiet keeps the data,
// and tab-separated output stays one record a line.
// Addresses used here (nothing else in the suite uses them): 127.0.3.0/24, 127.0.0.0/31 (127.0.0.1
// is exempt), 192.0.2.201-203, 100.0.0.0/7 (Prosody). Everything blocked is unblocked in afterAll.
import {execFileSync} from 'node:child_process'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {
  type CliResult,
  cliOn,
  expectNoStack,
  scratch,
  secretFile,
  serverEnv,
  uniqueUser,
} from '../helpers/cli.js'
import {
  RawClient,
  canLogin,
  cliJson,
  ejabberd24,
  ejabberd26,
  newAccount,
  prosody,
} from '../helpers/mission.js'
import {expectErrorEnvelope, expectOkEnvelope} from '../helpers/shapes.js'
import {removePtyScratch, spawnPty} from '../helpers/pty.js'

const from = (address: string) => ({env: {XMPPADM_SOURCE_ADDRESS: address}})
const nowhere = {env: {XMPPADM_SERVER: '127.0.0.1:1'}}
const ADD = 'http://jabber.org/protocol/admin#add-user'
const all = [prosody, ejabberd24, ejabberd26] as const

async function listed(): Promise<string[]> {
  return expectOkEnvelope(await cliJson(prosody, ['block-ip', 'list'])).blocked.map((b: any) => b.address)
}

/** One line on stderr, no stack. */
function oneLine(r: CliResult): string {
  expectNoStack(r)
  expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1)
  return r.stderr.trim()
}

describe('block-ip is safe by default (Prosody)', () => {
  afterAll(async () => {
    removePtyScratch()
    await cliOn(prosody, [
      'block-ip',
      'remove',
      '127.0.3.0/30',
      '127.0.3.5',
      '192.0.2.201',
      '192.0.2.202',
      '192.0.2.203',
      '100.0.0.0/7',
      '127.0.0.0/31',
    ])
  })

  it('a range broader than /8 or /32, in any form, is refused before anything is sent (65)', async () => {
    const cases = [
      '0.0.0.0/0',
      '::/0',
      '::ffff:0:0/96',
      '::ffff:0.0.0.0/95',
      '::/64',
      '1.0.0.0/7',
      '2000::/3',
    ]
    const runs = await Promise.all(
      cases.map((range) => cliOn(prosody, ['block-ip', '192.0.2.201', range, '--json'], nowhere)),
    )
    runs.forEach((r, i) => {
      expect(r.exitCode, `${cases[i]}: ${r.stdout}`).toBe(65)
      expectErrorEnvelope(r.json, 65)
      expect(r.json.error.reason).toBe('too-broad')
      expect(r.json.error.message).toMatch(/^argument 2: refusing to block \S+: it (covers|is broader)/)
      expect(r.json.error.hint).toMatch(/--allow-broad/)
    })
    const text = await cliOn(prosody, ['block-ip', '0.0.0.0/0'], nowhere)
    expect(oneLine(text)).toMatch(
      /^error: argument 1: refusing to block 0\.0\.0\.0\/0: it covers every IPv4 address \(hint: .*--allow-broad\)$/,
    )
    expect(await listed()).not.toContain('192.0.2.201/32')
  })

  it("a range covering this connection's own address is refused (65), and nothing is blocked", async () => {
    const r = await cliOn(prosody, ['block-ip', '127.0.3.0/30', '--json'], from('127.0.3.1'))
    expect(r.exitCode, r.stdout).toBe(65)
    expect(r.json.error).toMatchObject({reason: 'own-address'})
    expect(r.json.error.message).toMatch(
      /127\.0\.3\.0\/30: it covers 127\.0\.3\.1, the address this connection/,
    )
    expect(r.json.error.hint).toMatch(/--include-own-address/)
    expect(await listed()).not.toContain('127.0.3.0/30')
    const still = await cliOn(prosody, ['commands', '--quiet'], from('127.0.3.1'))
    expect(still.exitCode, still.stderr).toBe(0)
  })

  it('--include-own-address blocks it (off a terminal the flag consents); next connection: 81', async () => {
    const r = expectOkEnvelope(
      await cliJson(prosody, ['block-ip', '127.0.3.0/30', '--include-own-address'], 0, from('127.0.3.1')),
    )
    expect(r).toMatchObject({blocked: ['127.0.3.0/30'], sessionsClosed: 1})
    // none of the exempt addresses (loopback by default) is covered: null from a module that does
    // not report exemptions (contract revision 1), else an empty list; never a claim it cannot make
    expect([null, []]).toContainEqual(r.exempt)

    const [text, json] = await Promise.all([
      cliOn(prosody, ['commands'], from('127.0.3.2')),
      cliOn(prosody, ['commands', '--json'], from('127.0.3.1')),
    ])
    expect(text.exitCode).toBe(81)
    expect(oneLine(text)).toMatch(
      /^error: the server at 127\.0\.0\.1:\d+ refuses connections from this address \(blocked\): Connections from your IP address are blocked \(hint: .*block-ip remove.*Recovering from a block/,
    )
    expectErrorEnvelope(json.json, 81)
    expect(json.json.error.reason).toBe('blocked')

    // lifted from an address that is not blocked, and the way is open again
    expect((await cliOn(prosody, ['block-ip', 'remove', '127.0.3.0/30'])).exitCode).toBe(0)
    const back = await cliOn(prosody, ['commands', '--quiet'], from('127.0.3.1'))
    expect(back.exitCode, back.stderr).toBe(0)
  })

  it('a block covering an exempt address warns that it stays reachable (exempt in JSON)', async () => {
    // the test Prosody exempts its loopback, 127.0.0.1 (the default); 127.0.0.0/31 covers it
    const [json, text] = [
      await cliJson(prosody, ['block-ip', '127.0.0.0/31', '--expires', '10min'], 0, from('127.0.3.9')),
      await cliOn(prosody, ['block-ip', '127.0.0.0/31', '--expires', '10min'], from('127.0.3.9')),
    ]
    try {
      expect(expectOkEnvelope(json).exempt).toEqual(['127.0.0.1/32'])
      expect(json.warnings).toEqual([
        "exempt from blocks by the server's configuration, so still reachable: 127.0.0.1/32",
      ])
      expect(text.exitCode, text.stderr).toBe(0)
      expect(text.stderr).toMatch(/^warning: exempt from blocks .*still reachable: 127\.0\.0\.1\/32$/m)
      // and it is: this very suite connects from 127.0.0.1
      expect((await cliOn(prosody, ['commands', '--quiet'])).exitCode).toBe(0)
    } finally {
      await cliOn(prosody, ['block-ip', 'remove', '127.0.0.0/31'])
    }
  })

  it('--allow-broad blocks a broad range', async () => {
    const r = expectOkEnvelope(
      await cliJson(prosody, ['block-ip', '100.0.0.0/7', '--allow-broad', '--expires', '10min']),
    )
    expect(r.blocked).toEqual(['100.0.0.0/7'])
    expect(await listed()).toContain('100.0.0.0/7')
    expect((await cliOn(prosody, ['block-ip', 'remove', '100.0.0.0/7'])).exitCode).toBe(0)
  })

  it('--from-file: a broad and an own-address line fail alone (exit 2), the rest is blocked', async () => {
    const file = join(scratch, `${uniqueUser('safe')}.txt`)
    writeFileSync(file, '0.0.0.0/0\n192.0.2.202\n127.0.3.5\n')
    const r = await cliOn(prosody, ['block-ip', '--from-file', file, '--json'], from('127.0.3.5'))
    expect(r.exitCode, r.stderr).toBe(2)
    expect(r.json.result.blocked).toEqual(['192.0.2.202/32'])
    expect(r.json.result.failed.map((f: any) => [f.line, f.code, f.reason])).toEqual([
      [1, 65, 'too-broad'],
      [3, 65, 'own-address'],
    ])
    expect(r.json.result.summary).toEqual({blocked: 1, failed: 2, notAttempted: 0, interrupted: null})
    const now = await listed()
    expect(now).toContain('192.0.2.202/32')
    expect(now).not.toContain('0.0.0.0/0')
    expect(now).not.toContain('127.0.3.5/32')
  })

  it('on a terminal the flag is not enough: it asks; "n" blocks nothing (64), "y" blocks', async () => {
    const no = spawnPty(['block-ip', '100.0.0.0/7', '--allow-broad'], {env: serverEnv(prosody)})
    await no.waitFor(/Block 100\.0\.0\.0\/7 \(it covers 33554432 IPv4 addresses.*\)\?/)
    no.type('n\r')
    const declined = await no.exited
    expect(declined.exitCode, declined.screen).toBe(64)
    expect(declined.screen).toMatch(/nothing done: not confirmed/)
    expect(await listed()).not.toContain('100.0.0.0/7')

    // from a file: asked once, before the run, naming what the flag would let through
    const file = join(scratch, `${uniqueUser('broadfile')}.txt`)
    writeFileSync(file, '192.0.2.203\n100.0.0.0/7\n')
    const bulk = spawnPty(['block-ip', '--from-file', file, '--allow-broad'], {env: serverEnv(prosody)})
    await bulk.waitFor(
      /Block 100\.0\.0\.0\/7 \(it covers 33554432 IPv4 addresses, more than a \/8\)\? Every client/,
    )
    bulk.type('n\r')
    const bulkDeclined = await bulk.exited
    expect(bulkDeclined.exitCode, bulkDeclined.screen).toBe(64)
    expect(await listed()).not.toContain('192.0.2.203/32')

    const yes = spawnPty(['block-ip', '100.0.0.0/7', '--allow-broad'], {env: serverEnv(prosody)})
    await yes.waitFor(/Block 100\.0\.0\.0\/7/)
    yes.type('y\r')
    const done = await yes.exited
    expect(done.exitCode, done.screen).toBe(0)
    expect(await listed()).toContain('100.0.0.0/7')
  })
})

describe('durations read as systemd does: 1M is a month, units are case-sensitive', () => {
  it('purge-offline --older-than 1M is a month; 1m a minute; 1D is refused naming the units', async () => {
    const [month, minute] = await Promise.all([
      cliJson(prosody, ['purge-offline', '--older-than', '1M', '--dry-run']),
      cliJson(prosody, ['purge-offline', '--older-than', '1m', '--dry-run']),
    ])
    expect(month.result.olderThanSeconds).toBe(2629800)
    expect(minute.result.olderThanSeconds).toBe(60)
    const bad = await cliOn(prosody, ['purge-offline', '--older-than', '1D', '--json'], nowhere)
    expect(bad.exitCode).toBe(65)
    expect(bad.json.error.message).toBe('--older-than "1D": unknown unit "D" (did you mean "d"?)')
    expect(bad.json.error.hint).toMatch(/s\/sec, m\/min, h\/hour, d\/day, w\/week, M\/month, y\/year/)
  })

  it('a policy file reads the same way', async () => {
    const policy = join(scratch, `${uniqueUser('month')}.policy`)
    writeFileSync(policy, 'offline = 1M\n')
    const r = expectOkEnvelope(await cliJson(prosody, ['policy', 'apply', policy, '--dry-run']))
    expect(r.rules[0]).toMatchObject({rule: 'offline', value: '1M', olderThanSeconds: 2629800})
  })
})

describe.each(all.map((s) => [s.kind, s] as const))('command run on %s', (_kind, server) => {
  it('an unknown node: exit 69, reason no-such-node', async () => {
    const r = await cliOn(server, ['command', 'run', 'urn:xmppadm:test:no-such-node', '--json'])
    expect(r.exitCode, r.stdout).toBe(69)
    expect(r.json.error).toMatchObject({code: 69, reason: 'no-such-node'})
    expect(r.json.error.message).toMatch(/^localhost has no command urn:xmppadm:test:no-such-node/)
  })

  it('a --field the form does not have is refused before the submit (64): nothing is created', async () => {
    const local = uniqueUser('nofield')
    const password = 'pw-Unused-42'
    const r = await cliOn(server, [
      'command',
      'run',
      ADD,
      '--field',
      `accountjid=${local}@${server.domain}`,
      '--fields-file',
      secretFile(JSON.stringify({password, 'password-verify': password})),
      '--field',
      'acountjid=typo@localhost',
      '--json',
    ])
    expect(r.exitCode, r.stdout).toBe(64)
    expect(r.json.error.reason).toBe('unknown-field')
    expect(r.json.error.message).toMatch(
      new RegExp(
        `^${ADD.replace(/[.#/]/g, '\\$&')} has no field "acountjid" \\(its fields: accountjid, ` +
          `password, password-verify\\)$`,
      ),
    )
    expect(r.json.error.hint).toMatch(/command info .* --fields/)
    expect(await canLogin(server, {jid: `${local}@${server.domain}`, password})).toBe(false)
  })

  it('command info --fields shows the form: var, type, required, label (text and JSON)', async () => {
    const [text, json] = await Promise.all([
      cliOn(server, ['command', 'info', ADD, '--fields']),
      cliJson(server, ['command', 'info', ADD, '--fields']),
    ])
    expect(text.exitCode, text.stderr).toBe(0)
    expect(text.stdout).toMatch(/^var\ttype\trequired\tlabel\tdefault\toptions$/m)
    expect(text.stdout).toMatch(/^accountjid\tjid-single\tyes\t/m)
    const fields = expectOkEnvelope(json).fields
    expect(fields.map((f: any) => f.var)).toEqual(['accountjid', 'password', 'password-verify'])
    expect(fields[0]).toMatchObject({var: 'accountjid', type: 'jid-single', required: true, default: null})
    expect(fields[1]).toMatchObject({var: 'password', type: 'text-private'})
  })
})

describe('dry runs say what would happen', () => {
  it.each([
    [prosody.kind, prosody],
    [ejabberd26.kind, ejabberd26],
  ])(
    'account delete --dry-run on %s: "would delete" an account that exists, "not found" one that does not',
    async (_k, server) => {
      const a = await newAccount(server, 'dryx')
      const missing = `${uniqueUser('drynone')}@${server.domain}`
      const [text, json] = await Promise.all([
        cliOn(server, ['account', 'delete', a.jid, missing, '--dry-run']),
        cliJson(server, ['account', 'delete', a.jid, missing, '--dry-run']),
      ])
      expect(text.exitCode, text.stderr).toBe(0)
      expect(text.stdout.split('\n')).toEqual([`would delete ${a.jid}`, `not found: ${missing}`])
      expect(text.stderr).toMatch(/would delete 1, not found 1/)
      expect(expectOkEnvelope(json)).toMatchObject({
        dryRun: true,
        wouldDelete: [a.jid],
        notFound: [missing],
        cannotTell: [],
        deleted: [],
      })
      expect(await canLogin(server, a)).toBe(true)
    },
  )

  it('policy apply --dry-run: "would delete N" on Prosody, ejabberd with the module; no "done"', async () => {
    const policy = join(scratch, `${uniqueUser('dry')}.policy`)
    writeFileSync(policy, 'offline = 3650d  # ten years\nuploads = 3650d\ndebug_log = off\n')
    const [p, e] = await Promise.all([
      cliOn(prosody, ['policy', 'apply', policy, '--dry-run', '--quiet']),
      cliJson(ejabberd26, ['policy', 'apply', policy, '--dry-run', '--skip-unavailable']),
    ])
    expect(p.exitCode, p.stderr).toBe(0)
    // the dry run's answer is the data asked for: printed even with --quiet, values as written
    expect(p.stdout).toMatch(/^offline = 3650d: would delete 0 offline message\(s\)$/m)
    expect(p.stdout).toMatch(/^uploads = 3650d: would delete 0 file\(s\), 0 bytes$/m)
    expect(p.stdout).toMatch(/^debug_log = off: (already off|would switch debug logging off)$/m)
    // (without the module, ejabberd cannot tell: fallback-ejabberd.test.ts)
    const rules = expectOkEnvelope(e).rules
    expect(rules.map((r: any) => [r.rule, r.status])).toEqual([
      ['offline', 'would-apply'],
      ['uploads', 'would-apply'],
      ['debug_log', expect.stringMatching(/^(unchanged|would-apply)$/)],
    ])
    expect(rules[0]).toMatchObject({value: '3650d', olderThanSeconds: 3650 * 86400, count: 0})
    const pj = expectOkEnvelope(await cliJson(prosody, ['policy', 'apply', policy, '--dry-run']))
    expect(pj.rules.map((r: any) => r.status)).not.toContain('done')
    expect(pj.rules[0]).toMatchObject({rule: 'offline', status: 'would-apply', count: 0})
  })

  it('a policy with a rule given twice is refused naming both lines (78), nothing applied', async () => {
    const policy = join(scratch, `${uniqueUser('twice')}.policy`)
    writeFileSync(policy, 'offline = 7d\nuploads = 14d\noffline = 14d\n')
    const r = await cliOn(prosody, ['policy', 'apply', policy])
    expect(r.exitCode).toBe(78)
    expect(oneLine(r)).toContain(`${policy}: rule offline is given twice, on lines 1 and 3`)
  })
})

describe('connection errors point the right way', () => {
  it('xmpps:// on a STARTTLS port: the server did not answer TLS there (80), with the way out', async () => {
    const r = await cliOn(prosody, ['commands', '--json'], {
      env: {XMPPADM_SERVER: `xmpps://${prosody.host}:${prosody.port}`},
    })
    expect(r.exitCode, r.stdout).toBe(80)
    expect(r.json.error).toMatchObject({reason: 'not-tls'})
    expect(r.json.error.message).toMatch(/the server did not answer TLS there/)
    expect(r.json.error.hint).toMatch(/drop xmpps:\/\/ to use STARTTLS/)
  })
})

describe('--quiet silences messages, never the data asked for (Prosody)', () => {
  it('commands, capabilities, block-ip list, debug-log status, export-user -o - print data', async () => {
    const a = await newAccount(prosody, 'quietx')
    const [commands, caps, list, status, exp, purge] = await Promise.all([
      cliOn(prosody, ['commands', '-q']),
      cliOn(prosody, ['capabilities', '-q']),
      cliOn(prosody, ['block-ip', 'list', '-q']),
      cliOn(prosody, ['debug-log', 'status', '-q']),
      cliOn(prosody, ['export-user', a.jid, '-o', '-', '-q']),
      cliOn(prosody, ['purge-offline', '--older-than', '3650d', '-q']),
    ])
    for (const r of [commands, caps, list, status, exp, purge]) {
      expect(r.exitCode, r.stderr).toBe(0)
      expect(r.stderr).toBe('')
    }
    expect(commands.stdout).toMatch(/^node\tname\n/)
    expect(commands.stdout).toContain(ADD)
    expect(caps.stdout).toMatch(/^operation\tavailable\tvia\tnotes\n/)
    expect(list.stdout).toMatch(/^address\texpires\treason\tcreated/)
    expect(status.stdout).toMatch(/^debug logging (on|off)/)
    expect(exp.stdout).toContain('<server-data xmlns="urn:xmpp:pie:0">')
    // what was done is a message: nothing on success (cron mails only failures)
    expect(purge.stdout).toBe('')
  })
})

describe('tab-separated output stays one record a line', () => {
  it('get-online-users-list with several users online: one line per JID, cut -f2 reads them', async () => {
    const [a, b] = await Promise.all([newAccount(prosody, 'tsva'), newAccount(prosody, 'tsvb')])
    const clients = await Promise.all([RawClient.login(prosody, a), RawClient.login(prosody, b)])
    try {
      const r = await cliOn(prosody, [
        'command',
        'run',
        'http://jabber.org/protocol/admin#get-online-users-list',
      ])
      expect(r.exitCode, r.stderr).toBe(0)
      const lines = r.stdout.split('\n').slice(1) // under the header "field\tvalue"
      for (const line of lines) expect(line.split('\t'), line).toHaveLength(2)
      const jids = execFileSync('cut', ['-f2'], {input: lines.join('\n'), encoding: 'utf8'})
        .trim()
        .split('\n')
      expect(jids).toEqual(expect.arrayContaining([a.jid, b.jid, prosody.admin.jid]))
      expect(new Set(lines.map((l) => l.split('\t')[0])).size).toBe(1) // the field, repeated
    } finally {
      await Promise.all(clients.map((c) => c.close()))
    }
  })
})

describe('smaller things', () => {
  it('bad JIDs given as arguments: each named by its argument number, nothing deleted', async () => {
    const a = await newAccount(prosody, 'argx')
    const r = await cliOn(prosody, [
      'account',
      'delete',
      a.jid,
      'bad user@localhost',
      'also bad@localhost',
      '--yes',
      '--json',
    ])
    expect(r.exitCode, r.stdout).toBe(65)
    expect(r.json.error.message).toMatch(
      /^argument 2: .*bad user@localhost.*; argument 3: .*also bad@localhost/,
    )
    expect(r.json.error.message).not.toMatch(/line/)
    expect(r.json.error.details.invalid.map((i: any) => i.argument)).toEqual([2, 3])
    expect(await canLogin(prosody, a)).toBe(true)

    const create = await cliOn(prosody, [
      'account',
      'create',
      `${uniqueUser('argok')}@localhost`,
      'two words@localhost',
    ])
    expect(create.exitCode).toBe(2)
    expect(create.stderr).toMatch(/^error: argument 2: /m)
  })

  it('bulk JSON summaries always carry "interrupted" (null when the run was not stopped)', async () => {
    const prefix = uniqueUser('intr')
    const file = join(scratch, `${prefix}.txt`)
    writeFileSync(file, `${prefix}a@localhost,pw-${prefix}-1\n${prefix}b@localhost,pw-${prefix}-2\n`)
    const created = await cliJson(prosody, ['account', 'create', '--from-file', file])
    expect(created.result.summary).toHaveProperty('interrupted', null)
    const deleted = await cliJson(prosody, ['account', 'delete', '--from-file', file, '--yes'])
    expect(deleted.result.summary).toHaveProperty('interrupted', null)
  })
})
