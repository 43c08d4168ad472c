// Issue 15: one command for every virtual host (--all-hosts, --hosts) on the four test servers,
// each serving localhost and second.localhost (boss@second.localhost administers that host alone).
// What these runs do changes nothing (status, lists, dry runs): the shared servers stay as they
// are. What --all-hosts changes is tested in multi-domain-prosody.test.ts and
// multi-domain-ejabberd.test.ts.
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {cliOn, scratch} from '../helpers/cli.js'
import {WITH_MODULE, cliJson} from '../helpers/mission.js'
import {secondHost} from '../helpers/multi-domain.js'
import {expectOkEnvelope} from '../helpers/shapes.js'

const BOTH = ['localhost', 'second.localhost']
const policy = join(scratch, 'all-hosts.policy')
writeFileSync(policy, 'offline = 7d\nuploads = 14d\ndebug_log = off\n')
// run for real by boss, on second.localhost (nothing there is a week old; its debug logging is left
// to the tests that switch it)
const purgesOnly = join(scratch, 'all-hosts-purges.policy')
writeFileSync(purgesOnly, 'offline = 7d\nuploads = 14d\n')

describe.each(WITH_MODULE)('--all-hosts on %s', (_kind, server) => {
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
})
