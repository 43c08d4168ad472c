// Issue 15: many domains on one server, on Prosody 13 and 0.12 with mod_xmppadm. Each server has
// a second virtual host second.localhost whose admin boss@ administers that host alone. Every
// operation acts on the host it was sent to and only for that host's admins (global admins, here
// admin@localhost: every host); debug logging switched on by boss records none of localhost's
// users; the files the module writes are the server user's alone.
// Own servers: these tests block, purge and switch debug logging on, server-wide state that the
// shared servers' other tests rely on.
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {cliOn, scratch, uniqueUser} from '../helpers/cli.js'
import {
  expectHostIsolation,
  expectLifecycleNodesStayHome,
  filesNamed,
  operations,
  secondHost,
} from '../helpers/multi-domain.js'
import {
  RawClient,
  canLogin,
  cliJson,
  eventually,
  newAccount,
  prosodyBackdateOffline,
  prosodyBackdateUpload,
  prosodyOfflineCount,
  prosodyUpload,
  sendMessages,
} from '../helpers/mission.js'
import {expectErrorEnvelope, expectOkEnvelope} from '../helpers/shapes.js'
import {type RunningServer, startProsody, startProsody012} from '../servers/harness.js'
import type {ServerDescriptor} from '../servers/servers.js'

const ADM = 'urn:xmppadm:admin:1'
const DAY = 86_400

/** The form of a contract node run in one round trip by `as` on `to`. */
async function node(
  server: ServerDescriptor,
  name: string,
  fields: string[],
  opts: {to?: string; exitCode?: number} = {},
) {
  const args = ['command', 'run', `${ADM}#${name}`, '--one-shot', ...fields.flatMap((f) => ['-f', f])]
  return cliJson(server, opts.to ? [...args, '--to', opts.to] : args, opts.exitCode ?? 0)
}

describe.each([
  ['Prosody', startProsody],
  ['Prosody 0.12', startProsody012],
] as const)('two virtual hosts on %s with mod_xmppadm', (_name, start) => {
  let server: RunningServer
  /** localhost as its global admin, admin@localhost */
  let main: ServerDescriptor
  /** second.localhost as its own admin, boss@second.localhost */
  let second: ServerDescriptor
  beforeAll(async () => {
    server = await start()
    expect(server.xmppadmModule).toBe('enabled')
    main = server
    second = secondHost(server)
  })
  afterAll(async () => {
    await server?.stop()
  })

  it("#about lists the requester's hosts: boss's own, every host for the global admin", async () => {
    const hosts = (doc: any) => expectOkEnvelope(doc).form.values.hosts
    expect(hosts(await node(second, 'about', []))).toEqual(['second.localhost'])
    expect(hosts(await node(main, 'about', []))).toEqual(['localhost', 'second.localhost'])
    expect(hosts(await node(main, 'about', [], {to: second.domain}))).toEqual([
      'localhost',
      'second.localhost',
    ])
    expectErrorEnvelope(await node(second, 'about', [], {to: main.domain, exitCode: 77}), 77)
  })

  describe('every operation: boss succeeds on second.localhost, gets 77 on localhost; admin on both', () => {
    it.each(operations(uniqueUser('md')))('%s', (op, args) => expectHostIsolation(op, args, main, second))
  })

  it("boss's block refuses connections to second.localhost only", async () => {
    const from = {localAddress: '127.0.0.66'}
    await cliJson(second, ['block-ip', '127.0.0.66'])
    try {
      await expect(RawClient.login(second, second.user, from)).rejects.toThrow(/policy-violation/)
      const other = await RawClient.login(main, main.user, from)
      await other.close()
      // and the global admin's block on localhost leaves second.localhost reachable
      await cliJson(second, ['block-ip', 'remove', '127.0.0.66'])
      await cliJson(main, ['block-ip', '127.0.0.66'])
      await expect(RawClient.login(main, main.user, from)).rejects.toThrow(/policy-violation/)
      const own = await RawClient.login(second, second.user, from)
      await own.close()
    } finally {
      await Promise.all([
        cliOn(second, ['block-ip', 'remove', '127.0.0.66']),
        cliOn(main, ['block-ip', 'remove', '127.0.0.66']),
      ])
    }
  })

  it('a purge acts on its host only: old offline messages and uploads of the other host stay', async () => {
    const [mainRcpt, secondRcpt] = await Promise.all([newAccount(main, 'mdo'), newAccount(second, 'mdo')])
    await Promise.all([
      sendMessages(main, main.user, mainRcpt.jid, ['old on localhost']),
      sendMessages(second, second.user, secondRcpt.jid, ['old on second.localhost']),
    ])
    await Promise.all([
      prosodyBackdateOffline(main, mainRcpt.local, [2 * DAY]),
      prosodyBackdateOffline(second, secondRcpt.local, [2 * DAY]),
    ])
    const [mainUp, secondUp] = await Promise.all([
      prosodyUpload(main, main.user, 'main.txt', 'an old upload on localhost\n'),
      prosodyUpload(second, second.user, 'second.txt', 'an old upload on second.localhost\n'),
    ])
    await Promise.all([
      prosodyBackdateUpload(main, mainUp.slot, 2 * DAY),
      prosodyBackdateUpload(second, secondUp.slot, 2 * DAY),
    ])
    expect(existsSync(secondUp.path) && existsSync(mainUp.path)).toBe(true)

    // boss purges second.localhost: its old message and upload are gone, localhost's stay
    expect(expectOkEnvelope(await cliJson(second, ['purge-offline', '--older-than', '1d']))).toMatchObject({
      count: 1,
    })
    const uploads = await node(second, 'purge-uploads', ['older-than=86400'])
    expect(expectOkEnvelope(uploads).form.values).toMatchObject({
      count: '1',
      hosts: ['upload.second.localhost'],
    })
    expect(await prosodyOfflineCount(second, secondRcpt.local)).toBe(0)
    expect(existsSync(secondUp.path)).toBe(false)
    expect(await prosodyOfflineCount(main, mainRcpt.local)).toBe(1)
    expect(existsSync(mainUp.path)).toBe(true)

    // the global admin purges localhost: upload.second.localhost, a subdomain of localhost that
    // belongs to the virtual host second.localhost, is not localhost's
    const mainUploads = await node(main, 'purge-uploads', ['older-than=86400', 'dry-run=1'])
    expect(expectOkEnvelope(mainUploads).form.values).toMatchObject({count: '1', hosts: ['upload.localhost']})
    await cliJson(main, ['purge-offline', '--older-than', '1d'])
    await cliJson(main, ['purge-uploads', '--older-than', '1d'])
    expect(await prosodyOfflineCount(main, mainRcpt.local)).toBe(0)
    expect(existsSync(mainUp.path)).toBe(false)
  })

  it("boss's export and account deletion on second.localhost cannot reach localhost's users", async () => {
    const r = await cliOn(second, ['export-user', main.user.jid, '-o', join(scratch, 'never.xml'), '--json'])
    expect(r.exitCode, r.stdout).toBe(65)
    expect(r.json.error.message).toMatch(/not a JID of a user on second\.localhost/) // the module's answer
    expect(existsSync(join(scratch, 'never.xml'))).toBe(false)
    // XEP-0133 straight to the server (the CLI's account delete refuses a JID of another host)
    const del = await cliJson(second, [
      'command',
      'run',
      'http://jabber.org/protocol/admin#delete-user',
      '--one-shot',
      '-f',
      `accountjids=${main.user.jid}`,
    ])
    expect(JSON.stringify(del.result.notes)).toMatch(/could not be deleted/)
    expect(await canLogin(main, main.user)).toBe(true)
  })

  it("boss's #disable-user and #stored-data on second.localhost cannot reach localhost's users", async () =>
    expectLifecycleNodesStayHome(main, second, await newAccount(main, 'mdv')))

  it("debug logging on by boss: second.localhost's sessions, none of localhost's", async () => {
    const on = expectOkEnvelope(await cliJson(second, ['debug-log', 'on', '--for', '5m']))
    const file: string = on.file
    expect(file).toMatch(/xmppadm-debug-second\.localhost\.log$/)
    try {
      // a user of each host logs in, each from an address of its own
      const other = await RawClient.login(main, main.user, {localAddress: '127.0.0.77'})
      const own = await RawClient.login(second, second.user, {localAddress: '127.0.0.78'})
      await Promise.all([other.close(), own.close()])
      await eventually("second.localhost's login in its debug log", () =>
        /user@second\.localhost/.test(readFileSync(file, 'utf8')),
      )
      const log = readFileSync(file, 'utf8')
      expect(log).toContain('127.0.0.78') // its connection, from before the stream named the host
      expect(log).not.toContain(main.user.jid)
      expect(log).not.toContain(main.admin.jid)
      expect(log).not.toContain('127.0.0.77')
      expect(log).not.toMatch(/^\S+ \d+ [\d:]+ (upload\.)?localhost:/m) // lines of localhost's modules
      expect(filesNamed(`${server.dir}/data`, /xmppadm-debug/)).toEqual([{path: file, mode: 0o600}])
    } finally {
      await cliJson(second, ['debug-log', 'off'])
    }
    expect(existsSync(file)).toBe(false)
  })

  it("and the global admin's debug log of localhost records none of second.localhost's", async () => {
    const on = expectOkEnvelope(await cliJson(main, ['debug-log', 'on', '--for', '5m']))
    const file: string = on.file
    try {
      const other = await RawClient.login(second, second.user, {localAddress: '127.0.0.79'})
      const own = await RawClient.login(main, main.user, {localAddress: '127.0.0.80'})
      await Promise.all([other.close(), own.close()])
      await eventually("localhost's login in its debug log", () =>
        readFileSync(file, 'utf8').includes(main.user.jid),
      )
      const log = readFileSync(file, 'utf8')
      expect(log).toContain('127.0.0.80')
      expect(log).not.toContain('second.localhost')
      expect(log).not.toContain('127.0.0.79')
    } finally {
      await cliJson(main, ['debug-log', 'off'])
    }
  })

  it('the files the module writes have no permission for group or others', async () => {
    await Promise.all([
      cliJson(second, ['block-ip', '192.0.2.16', '--expires', '1h']),
      cliJson(main, ['block-ip', '192.0.2.16', '--expires', '1h']),
      cliJson(second, ['debug-log', 'on', '--for', '5m']),
    ])
    try {
      const files = filesNamed(`${server.dir}/data`, /xmppadm/)
      // Also the module's own stores where they exist (activity notes; 0.12's disabled list).
      expect(files.map((f) => f.path.slice(server.dir.length))).toEqual(
        expect.arrayContaining([
          '/data/localhost/xmppadm_blocked_ips.dat',
          '/data/second%2elocalhost/xmppadm_blocked_ips.dat',
          '/data/xmppadm-debug-second.localhost.log',
        ]),
      )
      for (const f of files) expect(f.mode & 0o077, f.path).toBe(0)
    } finally {
      await Promise.all([
        cliOn(second, ['block-ip', 'remove', '192.0.2.16']),
        cliOn(main, ['block-ip', 'remove', '192.0.2.16']),
        cliOn(second, ['debug-log', 'off']),
      ])
    }
  })

  it('--all-hosts: one purge and one policy for both hosts, each host reported', async () => {
    const oldOffline = async () => {
      const rcpts = await Promise.all([main, second].map((s) => newAccount(s, 'mda')))
      await Promise.all([main, second].map((s, i) => sendMessages(s, s.user, rcpts[i].jid, ['old'])))
      await Promise.all([main, second].map((s, i) => prosodyBackdateOffline(s, rcpts[i].local, [2 * DAY])))
      return rcpts
    }
    const offlineLeft = (rcpts: Array<{local: string}>) =>
      Promise.all([main, second].map((s, i) => prosodyOfflineCount(s, rcpts[i].local)))

    let rcpts = await oldOffline()
    const purged = expectOkEnvelope(
      await cliJson(main, ['purge-offline', '--older-than', '1d', '--all-hosts']),
    )
    expect(purged.hosts.map((h: any) => [h.host, h.ok, h.result.count])).toEqual([
      ['localhost', true, 1],
      ['second.localhost', true, 1],
    ])
    expect(await offlineLeft(rcpts)).toEqual([0, 0])

    // the crontab line of a multi-domain service: every rule on every host
    rcpts = await oldOffline()
    const ups = await Promise.all(
      [main, second].map((s) => prosodyUpload(s, s.user, 'old.txt', `an old upload on ${s.domain}\n`)),
    )
    await Promise.all([main, second].map((s, i) => prosodyBackdateUpload(s, ups[i].slot, 2 * DAY)))
    await cliJson(second, ['debug-log', 'on', '--for', '10m'])
    const policy = join(scratch, `${uniqueUser('mdp')}.policy`)
    writeFileSync(policy, 'offline = 1d\nuploads = 1d\ndebug_log = off\n')
    const r = await cliOn(main, ['policy', 'apply', policy, '--all-hosts'])
    expect(r.exitCode, r.stderr).toBe(0)
    expect(r.stdout.split('\n')).toEqual([
      'host\tresult',
      'localhost\toffline = 1d: deleted 1 offline message(s); uploads = 1d: deleted 1 file(s), ' +
        `${ups[0].size} bytes; debug_log = off: already off`,
      'second.localhost\toffline = 1d: deleted 1 offline message(s); uploads = 1d: deleted 1 file(s), ' +
        `${ups[1].size} bytes; debug_log = off: switched debug logging off`,
    ])
    expect(await offlineLeft(rcpts)).toEqual([0, 0])
    for (const up of ups) expect(existsSync(up.path)).toBe(false)
    expect(expectOkEnvelope(await cliJson(second, ['debug-log', 'status'])).active).toBe(false)
    // again, from cron: nothing to say
    const quiet = await cliOn(main, ['policy', 'apply', policy, '--all-hosts', '--quiet'])
    expect([quiet.exitCode, quiet.stdout, quiet.stderr]).toEqual([0, '', ''])
  })
})

describe('--all-hosts where the server module is not loaded', () => {
  let server: RunningServer
  beforeAll(async () => {
    server = await startProsody({xmppadmModule: false, prosodyUploads: false})
  })
  afterAll(async () => {
    await server?.stop()
  })

  it('says the hosts cannot be found and how to name them; --hosts then runs on each', async () => {
    const r = await cliOn(server, ['purge-offline', '--older-than', '7d', '--all-hosts', '--json'])
    expect(r.exitCode, r.stdout).toBe(69)
    expect(r.json.error).toMatchObject({reason: 'hosts-unknown', hint: expect.stringMatching(/--hosts/)})
    expect(r.json.error.message).toMatch(/server module is not loaded on localhost/)
    const named = expectOkEnvelope(
      await cliJson(server, ['capabilities', '--hosts', 'localhost,second.localhost']),
    )
    expect(named.hosts.map((h: any) => h.host)).toEqual(['localhost', 'second.localhost'])
    for (const h of named.hosts) {
      const ops = Object.fromEntries(h.result.operations.map((o: any) => [o.operation, o]))
      expect(ops['account-create']).toMatchObject({available: true, via: 'XEP-0133'})
      expect(ops['block-ip'].hint).toMatch(/install mod_xmppadm/)
    }
  })
})
