// Issue 15: one command for every virtual host (--all-hosts, --hosts) on the four test servers,
// each serving localhost and second.localhost (boss@second.localhost administers that host alone).
// What these runs do changes nothing (status, lists, dry runs): the shared servers stay as they
// are. What --all-hosts changes is tested in multi-domain-prosody.test.ts and
// multi-domain-ejabberd.test.ts.
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {cliOn, scratch} from '../helpers/cli.js'
import {WITH_MODULE, cliJson, isProsody} from '../helpers/mission.js'
import {secondHost} from '../helpers/multi-domain.js'
import {expectOkEnvelope} from '../helpers/shapes.js'

const BOTH = ['localhost', 'second.localhost']
const policy = join(scratch, 'all-hosts.policy')
writeFileSync(policy, 'offline = 7d\nuploads = 14d\ndebug_log = off\n')
// run for real by boss, on second.localhost (nothing there is a week old; its debug logging is left
// to the tests that switch it)
const purgesOnly = join(scratch, 'all-hosts-purges.policy')
writeFileSync(purgesOnly, 'offline = 7d\nuploads = 14d\n')

describe.each(WITH_MODULE)('--all-hosts on %s', (kind, server) => {
  const second = secondHost(server)

  it('the global admin: every host, from the module; a host admin: theirs', async () => {
    const all = expectOkEnvelope(await cliJson(server, ['debug-log', 'status', '--all-hosts']))
    expect(all.hosts.map((h: any) => [h.host, h.ok, h.code])).toEqual(BOTH.map((h) => [h, true, 0]))
    expect(all.hosts[0].result).toMatchObject({via: 'mod_xmppadm'})
    const own = expectOkEnvelope(await cliJson(second, ['debug-log', 'status', '--all-hosts']))
    expect(own.hosts.map((h: any) => h.host)).toEqual(['second.localhost'])
  })

  it('dry runs and lists name each host; the text report is a host a line', async () => {
    const runs = await Promise.all(
      [
        ['purge-offline', '--older-than', '7d', '--dry-run'],
        ['purge-uploads', '--older-than', '14d', '--dry-run'],
        ['block-ip', 'list'],
        ['policy', 'apply', policy, '--dry-run'],
        ['capabilities'],
      ].map((args) => cliJson(server, [...args, '--all-hosts'])),
    )
    for (const doc of runs) expect(expectOkEnvelope(doc).hosts.map((h: any) => h.host)).toEqual(BOTH)
    const [offline, , , applied, capabilities] = runs.map((d) => d.result)
    expect(offline.hosts[1].result).toMatchObject({dryRun: true, via: 'mod_xmppadm'})
    expect(offline.hosts[1].text).toMatch(/^would delete \d+ offline message\(s\) of \d+ user\(s\)$/)
    expect(applied).toMatchObject({file: policy, dryRun: true})
    expect(applied.hosts[1].result.rules.map((r: any) => r.rule)).toEqual(['offline', 'uploads', 'debug_log'])
    for (const h of capabilities.hosts)
      expect(h.result.operations.find((o: any) => o.operation === 'block-ip')).toMatchObject({
        available: true,
        via: 'mod_xmppadm',
      })

    // not on a terminal: tab-separated, a host a line (capabilities: a host a column)
    const text = await cliOn(server, ['purge-offline', '--older-than', '7d', '--dry-run', '--all-hosts'])
    expect(text.exitCode, text.stderr).toBe(0)
    expect(text.stdout.split('\n').map((l) => l.split('\t')[0])).toEqual(['host', ...BOTH])
    const matrix = await cliOn(server, ['capabilities', '--all-hosts'])
    expect(matrix.stdout.split('\n')[0]).toBe(['operation', ...BOTH].join('\t'))
    expect(matrix.stdout).toMatch(/^block-ip\tyes\tyes$/m)
  })

  it('--hosts as a host admin: yes on their host, 77 on the other, and the run exits 77', async () => {
    // (a real run: a dry run through ejabberd's API cannot tell a refusal from "cannot count")
    const hosts = ['--hosts', BOTH.join(',')]
    const r = await cliOn(second, ['policy', 'apply', purgesOnly, ...hosts, '--json'])
    expect(r.exitCode, r.stdout).toBe(77)
    expect(r.json).toMatchObject({ok: false, error: {code: 77, reason: 'hosts-failed'}})
    expect(r.json.error.message).toBe('1 of 2 hosts did not succeed: localhost (77)')
    expect(r.json.result.hosts.map((h: any) => [h.host, h.code])).toEqual([
      ['localhost', 77],
      ['second.localhost', 0],
    ])
    const text = await cliOn(second, ['block-ip', 'list', '--hosts', BOTH.join(',')])
    expect(text.exitCode).toBe(77)
    expect(text.stdout).toMatch(/^localhost\terror: .*not an admin.* \(exit 77\)/m)
    expect(text.stdout).toMatch(/^second\.localhost\t/m)
    expect(text.stderr).toMatch(/^error: localhost: .*not an admin/m)
  })

  it('policy check --all-hosts: each host under its own name, the worst exit, one nagios line', async () => {
    const countOn = async (host: string) =>
      (
        await cliJson(server, [
          'command',
          'run',
          'urn:xmppadm:admin:1#list-accounts',
          '--one-shot',
          '-f',
          'max=1',
          '--to',
          host,
        ])
      ).result.form.values.total
    const before = await countOn('second.localhost')
    // the shared servers offer PLAIN (and the admin's account an archive): every host breaks a promise
    const r = await cliOn(server, ['policy', 'check', '--all-hosts', '--json'])
    expect(r.exitCode, r.stderr).toBe(83)
    expect(r.json).toMatchObject({ok: false, error: {code: 83, reason: 'hosts-failed'}, result: {file: null}})
    const hosts = r.json.result.hosts
    expect(hosts.map((h: any) => [h.host, h.ok, h.code, h.result.domain])).toEqual(
      BOTH.map((h) => [h, false, 83, h]),
    )
    const checks = (host: number, name: string) =>
      hosts[host].result.checks.filter((c: any) => c.check === name)
    for (const [i, host] of BOTH.entries()) {
      expect(hosts[i].text).toMatch(/^\d+ promise\(s\) broken: passwords/)
      expect(hosts[i].result.broken).toEqual(expect.arrayContaining(['passwords']))
      // the host's own certificate (its name as the TLS server name), and its own inside checks
      expect(checks(i, 'certificate')[0]).toMatchObject({verdict: 'pass'})
      expect(checks(i, 'certificate')[0].evidence).toMatch(
        new RegExp(`^verifies for ${host.replace('.', '\\.')} `),
      )
      // (pass or fail: other files leave backdated fixtures on the shared servers for a while)
      expect(checks(i, 'offline-age')[0]).toMatchObject({
        target: host,
        evidence: expect.stringMatching(/^older than 7d: \d+ offline/),
      })
      expect(checks(i, 'debug-log')[0]).toMatchObject({target: host})
      expect(checks(i, 'operation').every((c: any) => c.target === host && c.verdict === 'pass')).toBe(true)
    }
    // the SCRAM logins are the admin's, on its own domain only
    expect(checks(0, 'scram-iterations')[0].verdict).toBe('pass')
    expect(checks(1, 'scram-iterations')[0]).toMatchObject({
      verdict: 'not-applicable',
      evidence: 'the admin account is on localhost: its SCRAM logins are checked there only',
    })
    // registration on second.localhost with the name of one of its accounts: ejabberd's test config
    // lets loopback register (conflict: open), Prosody's does not; nothing was created
    expect(checks(1, 'registration')[0]).toMatchObject(
      isProsody(kind)
        ? {verdict: 'pass'}
        : {verdict: 'fail', evidence: expect.stringMatching(/existing name got conflict/)},
    )
    expect(await countOn('second.localhost')).toBe(before)

    const nagios = await cliOn(server, ['policy', 'check', '--all-hosts', '--format', 'nagios'])
    expect(nagios.exitCode, nagios.stderr).toBe(2)
    expect(nagios.stdout.split('\n').filter(Boolean)).toHaveLength(1)
    expect(nagios.stdout).toMatch(
      /^XMPP POLICY CRITICAL - 2 host\(s\): localhost CRITICAL: \d+ promise\(s\) broken: .*; second\.localhost CRITICAL: \d+ promise\(s\) broken: .* \| pass=\d+ warn=\d+ fail=\d+ cannot_tell=\d+ time=/,
    )

    // off a terminal: tab-separated, a host column first; each host summed up on stderr
    const text = await cliOn(server, ['policy', 'check', '--all-hosts'])
    expect(text.exitCode).toBe(83)
    const lines = text.stdout.trim().split('\n')
    expect(lines[0]).toBe('host\tpromise\tcheck\tevidence\tverdict')
    expect(lines.slice(1).every((l) => l.split('\t').length === 5)).toBe(true)
    expect([...new Set(lines.slice(1).map((l) => l.split('\t')[0]))]).toEqual(BOTH)
    for (const host of BOTH)
      expect(text.stderr).toMatch(new RegExp(`^${host}: \\d+ promise\\(s\\) broken`, 'm'))
  })

  it("policy check --hosts by a host admin: the other host's inside checks cannot tell", async () => {
    const r = await cliOn(second, ['policy', 'check', '--hosts', BOTH.join(','), '--json'])
    expect(r.exitCode, r.stderr).toBe(83)
    const [there, own] = r.json.result.hosts
    expect(own).toMatchObject({host: 'second.localhost', code: 83})
    expect(own.result.checks.find((c: any) => c.check === 'offline-age')).toMatchObject({
      target: 'second.localhost',
      evidence: expect.stringMatching(/^older than 7d: \d+ offline/),
    })
    expect(own.result.checks.find((c: any) => c.check === 'scram-iterations').verdict).toBe('pass')
    expect(there.host).toBe('localhost')
    const inside = there.result.checks.filter((c: any) => ['offline-age', 'debug-log'].includes(c.check))
    expect(inside).toHaveLength(2)
    for (const c of inside)
      expect(c).toMatchObject({
        target: 'localhost',
        verdict: 'cannot-tell',
        evidence: 'no admin session: boss@second.localhost is not an admin of localhost',
      })
    expect(there.result.checks.find((c: any) => c.check === 'scram-iterations')).toMatchObject({
      verdict: 'not-applicable',
    })
  })
})
