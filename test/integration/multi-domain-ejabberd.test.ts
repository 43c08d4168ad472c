// Issue 15: many domains on one server, on ejabberd 24.12 and 26.07 with mod_xmppadm. Each test
// server has a second virtual host second.localhost whose admin boss@ administers that host
// alone (its acl in host_config). Every operation acts on the host it was sent to and only for
// that host's admins (global admins, here admin@localhost: every host); debug logging switched on
// by boss records none of localhost's users; the debug log files are mode 0600.
// The shared servers: what is done on localhost does no harm to the other test files (documentation
// addresses, month-old purges, fixtures seconds old that no other file's purge reaches), and
// debug logging on localhost is switched only while holding its lock.
import {existsSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {cliOn, scratch, uniqueUser} from '../helpers/cli.js'
import {acquire, debugLogLock} from '../helpers/lock.js'
import {
  expectHostIsolation,
  expectLifecycleNodesStayHome,
  operations,
  secondHost,
} from '../helpers/multi-domain.js'
import {
  RawClient,
  cliJson,
  ejabberd24,
  ejabberd26,
  eventually,
  newAccount,
  sendMessages,
  sleep,
} from '../helpers/mission.js'
import {expectErrorEnvelope, expectOkEnvelope} from '../helpers/shapes.js'
import {hostPath, offlineBodies, uploadFile} from '../helpers/stores.js'
import {type RunningServer, startEjabberd24} from '../servers/harness.js'
import {type ServerDescriptor, registerAccount} from '../servers/servers.js'

const ADM = 'urn:xmppadm:admin:1'

/** The form of a contract node run in one round trip. */
async function node(
  server: ServerDescriptor,
  name: string,
  fields: string[],
  opts: {to?: string; exitCode?: number} = {},
) {
  const args = ['command', 'run', `${ADM}#${name}`, '--one-shot', ...fields.flatMap((f) => ['-f', f])]
  return cliJson(server, opts.to ? [...args, '--to', opts.to] : args, opts.exitCode ?? 0)
}

// Source addresses of this file only: one to block, one for each host's user whose session is logged.
describe.each([
  ['ejabberd 24.12', ejabberd24, ['127.0.4.24', '127.0.4.124', '127.0.4.224']],
  ['ejabberd 26.07', ejabberd26, ['127.0.4.26', '127.0.4.126', '127.0.4.226']],
] as const)('two virtual hosts on %s with mod_xmppadm', (_name, main, [blockFrom, mainFrom, secondFrom]) => {
  const second = secondHost(main)

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
    // debug-log and policy apply (debug_log = off) change localhost's debug logging
    let release = () => {}
    beforeAll(async () => {
      release = await acquire(debugLogLock(main.kind))
    })
    afterAll(() => release())

    it.each(operations(uniqueUser('mde')))('%s', (op, args) => expectHostIsolation(op, args, main, second))
  })

  it("boss's block refuses connections to second.localhost only", async () => {
    const from = {localAddress: blockFrom}
    await cliJson(second, ['block-ip', blockFrom])
    try {
      await expect(RawClient.login(second, second.user, from)).rejects.toThrow(/policy-violation/)
      const other = await RawClient.login(main, main.user, from)
      await other.close()
    } finally {
      await cliOn(second, ['block-ip', 'remove', blockFrom])
    }
    const own = await RawClient.login(second, second.user, from)
    await own.close()
  })

  it('a purge acts on its host only, also where both hosts keep their uploads in one docroot', async () => {
    const [mainRcpt, secondRcpt] = await Promise.all([newAccount(main, 'mdo'), newAccount(second, 'mdo')])
    await Promise.all([
      sendMessages(main, main.user, mainRcpt.jid, ['kept on localhost']),
      sendMessages(second, second.user, secondRcpt.jid, ['gone from second.localhost']),
    ])
    const [mainUp, secondUp] = await Promise.all([
      uploadFile(main, main.user, 'main.txt', 'kept on localhost\n'),
      uploadFile(second, second.user, 'second.txt', 'gone from second.localhost\n'),
    ])
    expect(existsSync(mainUp.path) && existsSync(secondUp.path)).toBe(true)
    await sleep(2100) // older than the 1 s purge below (no other file purges localhost at that age)

    // boss purges second.localhost: its message and upload are gone, localhost's stay
    const offline = await node(second, 'purge-offline', ['older-than=1'])
    expect(expectOkEnvelope(offline).form.values).toMatchObject({count: '1', users: '1'})
    const uploads = await node(second, 'purge-uploads', ['older-than=1'])
    expect(expectOkEnvelope(uploads).form.values).toMatchObject({
      count: '1',
      hosts: ['upload.second.localhost'],
    })
    expect(await offlineBodies(second, secondRcpt.local)).toEqual([])
    expect(existsSync(secondUp.path)).toBe(false)
    expect(await offlineBodies(main, mainRcpt.local)).toEqual(['kept on localhost'])
    expect(existsSync(mainUp.path)).toBe(true)
  })

  it("boss's policy apply --all-hosts: their one host, reported, and nothing of localhost's", async () => {
    const [rcpt, mainRcpt] = await Promise.all([newAccount(second, 'mdp'), newAccount(main, 'mdp')])
    await Promise.all([
      sendMessages(second, second.user, rcpt.jid, ['gone from second.localhost']),
      sendMessages(main, main.user, mainRcpt.jid, ['kept on localhost']),
    ])
    const up = await uploadFile(second, second.user, 'p.txt', 'gone from second.localhost\n')
    await sleep(2100) // older than the policy's second
    const policy = join(scratch, `${uniqueUser('mdp')}.policy`)
    writeFileSync(policy, 'offline = 1s\nuploads = 1s\n')
    const r = expectOkEnvelope(await cliJson(second, ['policy', 'apply', policy, '--all-hosts']))
    expect(r.hosts.map((h: any) => [h.host, h.code])).toEqual([['second.localhost', 0]])
    expect(r.hosts[0].result.rules.map((x: any) => [x.rule, x.status, x.count])).toEqual([
      ['offline', 'done', 1],
      ['uploads', 'done', 1],
    ])
    expect(await offlineBodies(second, rcpt.local)).toEqual([])
    expect(existsSync(up.path)).toBe(false)
    expect(await offlineBodies(main, mainRcpt.local)).toEqual(['kept on localhost'])
  })

  it("boss's export, sent to second.localhost, cannot reach localhost's users", async () => {
    const r = await cliOn(second, [
      'export-user',
      main.user.jid,
      '-o',
      join(scratch, 'never-e.xml'),
      '--json',
    ])
    expect(r.exitCode, r.stdout).toBe(65)
    expect(r.json.error.message).toMatch(/not a JID of a user on second\.localhost/)
  })

  it("boss's #disable-user and #stored-data on second.localhost cannot reach localhost's users", async () =>
    expectLifecycleNodesStayHome(main, second, await newAccount(main, 'mdv')))

  describe('debug logging', () => {
    let release = () => {}
    beforeAll(async () => {
      release = await acquire(debugLogLock(main.kind))
    })
    afterAll(async () => {
      await Promise.all([cliOn(second, ['debug-log', 'off']), cliOn(main, ['debug-log', 'off'])])
      release()
    })

    it("on by boss: second.localhost's sessions, none of localhost's; its file is 0600", async () => {
      const on = expectOkEnvelope(await cliJson(second, ['debug-log', 'on', '--for', '5m']))
      expect(on.file).toMatch(/\/logs\/xmppadm-debug-second\.localhost\.log$/)
      const file = hostPath(main, on.file)
      try {
        const other = await RawClient.login(main, main.user, {localAddress: mainFrom})
        const own = await RawClient.login(second, second.user, {localAddress: secondFrom})
        await Promise.all([other.close(), own.close()])
        await eventually("second.localhost's login in its debug log", () =>
          readFileSync(file, 'utf8').includes(second.user.jid),
        )
        const log = readFileSync(file, 'utf8')
        expect(log).toContain(secondFrom)
        expect(log).not.toContain('@localhost')
        expect(log).not.toContain('<<"localhost">>') // a JID of localhost, as ejabberd prints records
        expect(log).not.toContain(mainFrom)
        expect(statSync(file).mode & 0o777).toBe(0o600)
        // localhost's own debug logging is not switched on by it
        expect(expectOkEnvelope(await cliJson(main, ['debug-log', 'status'])).active).toBe(false)
      } finally {
        await cliJson(second, ['debug-log', 'off'])
      }
      expect(existsSync(file)).toBe(false)
    })

    it("and the global admin's debug log of localhost records none of second.localhost's", async () => {
      const on = expectOkEnvelope(await cliJson(main, ['debug-log', 'on', '--for', '5m']))
      const file = hostPath(main, on.file)
      try {
        const other = await RawClient.login(second, second.user, {localAddress: secondFrom})
        const own = await RawClient.login(main, main.user, {localAddress: mainFrom})
        await Promise.all([other.close(), own.close()])
        await eventually("localhost's login in its debug log", () =>
          readFileSync(file, 'utf8').includes(mainFrom),
        )
        const log = readFileSync(file, 'utf8')
        expect(log).not.toContain('second.localhost')
        expect(log).not.toContain(secondFrom)
        expect(statSync(file).mode & 0o777).toBe(0o600)
      } finally {
        await cliJson(main, ['debug-log', 'off'])
      }
    })
  })
})

describe('ejabberd 24.12: hosts sharing a docroot, user directories by name (jid_in_url: node)', () => {
  let server: RunningServer
  beforeAll(async () => {
    server = await startEjabberd24({ejabberdJidInUrl: 'node'})
  })
  afterAll(async () => {
    await server?.stop()
  })

  it("purge-uploads unavailable, saying why; deleting one alice keeps the other's uploads", async () => {
    const second = secondHost(server)
    const r = await cliOn(second, ['purge-uploads', '--older-than', '1d', '--json'])
    expect(r.exitCode, r.stdout).toBe(69)
    expect(JSON.stringify(r.json.error)).toMatch(/cannot be told from theirs.*docroot of its own/)

    // alice of each host: one upload directory, "alice", for both
    const local = uniqueUser('alice')
    const alices = [server, second].map((s) => ({jid: `${local}@${s.domain}`, password: `pw-${local}`}))
    await Promise.all([server, second].map((s, i) => registerAccount(s, local, alices[i].password)))
    const [mainUp, secondUp] = await Promise.all([
      uploadFile(server, alices[0], 'a.txt', 'alice of localhost\n'),
      uploadFile(second, alices[1], 'b.txt', 'alice of second.localhost\n'),
    ])
    expect(dirname(dirname(mainUp.path))).toBe(dirname(dirname(secondUp.path)))
    await cliJson(second, ['account', 'delete', alices[1].jid, '--yes'])
    expect(existsSync(mainUp.path)).toBe(true)
  })

  // (a server of this file's own: purging what is a second old on the shared ones would take
  // other files' fixtures)
  it('--all-hosts by the global admin: one purge and one policy for both hosts, each reported', async () => {
    const both = [server, secondHost(server)]
    const oldOffline = async () => {
      const rcpts = await Promise.all(both.map((s) => newAccount(s, 'mda')))
      await Promise.all(both.map((s, i) => sendMessages(s, s.user, rcpts[i].jid, [`old on ${s.domain}`])))
      await sleep(2100) // older than the purges' second
      return rcpts
    }
    const offlineLeft = (rcpts: Array<{local: string}>) =>
      Promise.all(both.map(async (s, i) => (await offlineBodies(s, rcpts[i].local)).length))

    let rcpts = await oldOffline()
    const purged = expectOkEnvelope(
      await cliJson(server, ['purge-offline', '--older-than', '1s', '--all-hosts']),
    )
    expect(purged.hosts.map((h: any) => [h.host, h.ok, h.result.count, h.result.interrupted])).toEqual([
      ['localhost', true, 1, null],
      ['second.localhost', true, 1, null],
    ])
    expect(await offlineLeft(rcpts)).toEqual([0, 0])

    // the crontab line; here uploads cannot be purged on either host (jid_in_url: node): skipped
    rcpts = await oldOffline()
    const policy = join(scratch, `${uniqueUser('mdp')}.policy`)
    writeFileSync(policy, 'offline = 1s\nuploads = 1s\n')
    const r = await cliOn(server, ['policy', 'apply', policy, '--all-hosts', '--skip-unavailable'])
    expect(r.exitCode, r.stderr).toBe(0)
    expect(r.stdout.split('\n')).toEqual([
      'host\tresult',
      'localhost\toffline = 1s: deleted 1 offline message(s)',
      'second.localhost\toffline = 1s: deleted 1 offline message(s)',
    ])
    for (const host of ['localhost', 'second.localhost'])
      expect(r.stderr).toMatch(new RegExp(`^warning: ${host}: uploads = 1s: skipped: .*no way to purge`, 'm'))
    expect(await offlineLeft(rcpts)).toEqual([0, 0])
  })
})
