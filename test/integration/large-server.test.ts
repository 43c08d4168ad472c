// Issue 11: admin work never freezes the server and finishes at any size. Each server gets a
// store of its own, written fast (Prosody: straight into its storage files before it starts;
// ejabberd: Erlang evaluated in the running node), large enough that a purge takes some seconds
// and many pages: thousands of accounts, each with one offline message three days old, one two
// days old and one a minute old. Checked: a concurrent client's pings are all answered during a purge; a
// purge that outlasts --timeout completes with the right count (the purge is paged); Ctrl-C
// stops after the page in flight and reports what it deleted, and a re-run finishes the rest;
// what is newer than the age stays. Timing is not asserted (the bench measures it); the bound on
// a ping only catches a multi-second freeze.
import {execa} from 'execa'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {readFileSync, readdirSync} from 'node:fs'
import {basename, join} from 'node:path'
import {BIN, scratch, serverEnv} from '../helpers/cli.js'
import {RawClient, sleep} from '../helpers/mission.js'
import {removePtyScratch, runPty} from '../helpers/pty.js'
import {countEjabberdOffline, seedEjabberdStore, seedEjabberdUploads} from '../servers/ejabberd-store.js'
import {type RunningServer, startEjabberd24, startProsody, startProsody012} from '../servers/harness.js'
import {countOffline, countUploads, seedProsodyStore} from '../servers/prosody-store.js'

// Short pages (the modules' page_ms option), so that even a fast run has many of them.
const PAGE_MS = 250
const DAY = 86_400
const GROUPS = [
  {tag: 'old3d', perUser: 1, ageS: 3 * DAY},
  {tag: 'old2d', perUser: 1, ageS: 2 * DAY},
  {tag: 'fresh', perUser: 1, ageS: 60},
]
/** Prosody: one user has an archive of ARCHIVE messages, three a second (export pages seek). */
const ARCHIVE_USER = 'bulk0002'
const ARCHIVE = 3000
/** Uploads: OLD_UPLOADS two days old and 100 an hour old, by 100 users. */
const UPLOADS = 'upload.localhost'
const OLD_UPLOADS = 3000
/** A ping slower than this means the server stopped serving others for seconds. */
const FREEZE_MS = 2_000

interface Counts {
  users: number
  [tag: string]: number
}

interface Subject {
  name: string
  /** whether the store has the archive of ARCHIVE_USER */
  archive: boolean
  /** accounts in the store: a purge takes some seconds (ejabberd is faster) */
  users: number
  /**
   * whether a dry run surely takes several pages: ejabberd can read its 8,000 users' offline
   * headers within one page on a quiet machine (its paging shows in the purges)
   */
  pagedDryRun: boolean
  start(): Promise<RunningServer>
  counts(server: RunningServer): Promise<Counts>
  /** Seeded uploads left: old and fresh files (and, where there are any, records). */
  uploads(server: RunningServer): Promise<Record<string, number>>
}

const SUBJECTS: Subject[] = [
  ...(
    [
      ['Prosody 13', startProsody],
      ['Prosody 0.12', startProsody012],
    ] as const
  ).map(([name, start]) => ({
    name,
    archive: true,
    users: 4000,
    pagedDryRun: true,
    start: () =>
      start({
        prosodyExtraConfig: `xmppadm_page_ms = ${PAGE_MS}`,
        prosodySeed: (dataDir) =>
          seedProsodyStore({
            dataDir,
            accounts: 4000,
            offline: GROUPS,
            mam: {user: ARCHIVE_USER, count: ARCHIVE, perSecond: 3},
            uploads: {uploadDomain: UPLOADS, users: 100, perUser: OLD_UPLOADS / 100, freshPerUser: 1},
          }),
      }),
    counts: async (s: RunningServer) => withZeros(countOffline(join(s.dir, 'data'))),
    uploads: async (s: RunningServer) => countUploads(join(s.dir, 'data'), UPLOADS),
  })),
  {
    name: 'ejabberd 24.12 (module)',
    archive: false,
    users: 8000,
    pagedDryRun: false,
    start: async () => {
      const s = await startEjabberd24({ejabberdModuleOptions: {page_ms: PAGE_MS}})
      try {
        await seedEjabberdStore(s, {accounts: 8000, offline: GROUPS})
        for (let u = 1; u <= 100; u++) {
          const user = `bulk${String(u).padStart(4, '0')}`
          seedEjabberdUploads(s, join(s.dir, 'upload'), user, OLD_UPLOADS / 100, 2 * DAY, 'old')
          seedEjabberdUploads(s, join(s.dir, 'upload'), user, 1, 3600, 'fresh')
        }
      } catch (error) {
        await s.stop()
        throw error
      }
      return s
    },
    counts: async (s: RunningServer) => withZeros(await countEjabberdOffline(s)),
    uploads: async (s: RunningServer) => {
      const files = readdirSync(join(s.dir, 'upload'), {recursive: true, encoding: 'utf8'})
      const count = (tag: string) => files.filter((f) => basename(f).startsWith(`${tag}-`)).length
      return {oldFiles: count('old'), freshFiles: count('fresh')}
    },
  },
]

/** Every group's count, 0 where none is left. */
function withZeros(c: Counts): Counts {
  return {...Object.fromEntries(GROUPS.map((g) => [g.tag, 0])), ...c}
}

/** A client that pings the server every `everyMs` until stopped; every round trip is kept. */
async function pinger(server: RunningServer, everyMs = 50) {
  const client = await RawClient.login(server, server.user)
  const rtts: number[] = []
  const lost: string[] = []
  let stopped = false
  const loop = (async () => {
    while (!stopped) {
      const t0 = performance.now()
      try {
        const r = await client.iq(
          `<iq type='get' id='ID' to='${server.domain}'><ping xmlns='urn:xmpp:ping'/></iq>`,
          30_000,
        )
        if (r.type === 'result') rtts.push(performance.now() - t0)
        else lost.push(r.xml)
      } catch (error) {
        lost.push(String(error))
      }
      await sleep(everyMs)
    }
  })()
  return {
    rtts,
    lost,
    async stop() {
      stopped = true
      await loop
      await client.close()
    },
  }
}

/** The CLI as a separate process against `server` (no TTY), with extra environment. */
function purge(server: RunningServer, args: string[]) {
  return execa('node', [BIN, 'purge-offline', ...args, '--json'], {
    reject: false,
    env: {XDG_CONFIG_HOME: join(scratch, 'config'), NO_COLOR: '1', CI: 'true', ...serverEnv(server)},
    extendEnv: true,
    timeout: 5 * 60_000,
  })
}

afterAll(removePtyScratch)

describe.each(SUBJECTS)('a large store on $name', (subject) => {
  const USERS = subject.users
  let server: RunningServer
  beforeAll(async () => {
    server = await subject.start()
    expect(await subject.counts(server)).toMatchObject({old3d: USERS, old2d: USERS, fresh: USERS})
  }, 300_000)
  afterAll(async () => {
    await server?.stop()
  })

  // Prosody only: the ejabberd subject's store has no archive (so the test is not defined there).
  if (subject.archive)
    it('export-user of a large archive: every message once, in order, over many seeking pages', async () => {
      const file = join(scratch, `${subject.name.replace(/\W+/g, '-')}-archive.xml`)
      const r = await execa(
        'node',
        [BIN, 'export-user', `${ARCHIVE_USER}@${server.domain}`, '-o', file, '--json'],
        {
          reject: false,
          env: {XDG_CONFIG_HOME: join(scratch, 'config'), NO_COLOR: '1', CI: 'true', ...serverEnv(server)},
          extendEnv: true,
        },
      )
      expect(r.exitCode, r.stderr).toBe(0)
      expect(JSON.parse(r.stdout).result.counts).toMatchObject({mam: ARCHIVE, offline: 3})
      const ids = [
        // (attributes in any order: Prosody writes them in its tables' order)
        ...readFileSync(file, 'utf8').matchAll(/<result\b[^>]*\bid=['"]([^'"]+)['"]/g),
      ].map((m) => m[1])
      expect(ids).toEqual(
        Array.from({length: ARCHIVE}, (_, i) => `seed-mam-${String(i + 1).padStart(8, '0')}`),
      )
    }, 300_000)

  it('a dry run counts every old message over all pages and deletes nothing', async () => {
    const r = await purge(server, ['--older-than', '1d', '--dry-run'])
    expect(r.exitCode, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout).result).toMatchObject({dryRun: true, count: 2 * USERS, users: USERS})
    if (subject.pagedDryRun) expect(JSON.parse(r.stdout).result.pages).toBeGreaterThan(1)
    expect(r.stderr).toBe('') // no progress without a terminal
    expect(await subject.counts(server)).toMatchObject({old3d: USERS, old2d: USERS, fresh: USERS})

    // on a terminal: users walked of all, rate, time left, and what would go so far
    const tty = await runPty(['purge-offline', '--older-than', '1d', '--dry-run'], {
      env: {...serverEnv(server), XDG_CONFIG_HOME: join(scratch, 'config')},
      timeout: 240_000,
    })
    expect(tty.exitCode, tty.screen).toBe(0)
    expect(tty.screen).toMatch(
      new RegExp(`purge-offline \\[[#.]+\\] \\d+/${USERS} \\d+% \\d+/s ETA \\S+ users, \\d+ message`),
    )
    expect(tty.screen).toContain(`would delete ${2 * USERS} offline message(s) of ${USERS} user(s)`)

    // --all-hosts (issue 15): each host follows its own pages; the store is localhost's alone
    const all = await purge(server, ['--older-than', '1d', '--dry-run', '--all-hosts'])
    expect(all.exitCode, all.stderr).toBe(0)
    const hosts = JSON.parse(all.stdout).result.hosts
    expect(hosts.map((h: any) => [h.host, h.code])).toEqual([
      ['localhost', 0],
      ['second.localhost', 0],
    ])
    expect(hosts[0].result).toMatchObject({count: 2 * USERS, users: USERS, interrupted: null})
    if (subject.pagedDryRun) expect(hosts[0].result.pages).toBeGreaterThan(1)
    expect(hosts[1].result).toMatchObject({count: 0, interrupted: null})
  }, 300_000)

  it('a purge longer than --timeout completes with the right count; pings are answered', async () => {
    const ping = await pinger(server)
    const t0 = performance.now()
    const r = await purge(server, ['--older-than', '60h', '--timeout', '1'])
    const took = performance.now() - t0
    await ping.stop()
    expect(r.exitCode, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout).result).toMatchObject({count: USERS, users: USERS})
    expect(took).toBeGreaterThan(1_000) // it did outlast the per-answer timeout
    expect(await subject.counts(server)).toMatchObject({old3d: 0, old2d: USERS, fresh: USERS})
    expect(ping.lost).toEqual([])
    expect(ping.rtts.length).toBeGreaterThan(10)
    expect(Math.max(...ping.rtts)).toBeLessThan(FREEZE_MS)
  }, 300_000)

  it('purge-uploads over many pages deletes exactly the old files (and their records)', async () => {
    const before = await subject.uploads(server)
    expect(before).toMatchObject({oldFiles: OLD_UPLOADS, freshFiles: 100})
    const r = await execa('node', [BIN, 'purge-uploads', '--older-than', '1d', '--json'], {
      reject: false,
      env: {XDG_CONFIG_HOME: join(scratch, 'config'), NO_COLOR: '1', CI: 'true', ...serverEnv(server)},
      extendEnv: true,
    })
    expect(r.exitCode, r.stderr).toBe(0)
    const result = JSON.parse(r.stdout).result
    expect(result).toMatchObject({count: OLD_UPLOADS, interrupted: null})
    expect(result.pages).toBeGreaterThan(1)
    const after = await subject.uploads(server)
    expect(after).toMatchObject({oldFiles: 0, freshFiles: 100})
    if ('oldRecords' in before) expect(after).toMatchObject({oldRecords: 0, freshRecords: 100})
  }, 300_000)

  // (where a dry run surely has several pages: Ctrl-C comes after the first)
  if (subject.pagedDryRun)
    it("--all-hosts: Ctrl-C stops each host after its page in flight; the worst host's exit", async () => {
      const run = purge(server, ['--older-than', '1d', '--dry-run', '--all-hosts', '--debug'])
      let trace = ''
      await new Promise<void>((resolve, reject) => {
        run.stderr?.on('data', (d: Buffer) => {
          trace += d.toString()
          if (/<value>offline:\d+:/.test(trace)) resolve()
        })
        run.catch(reject).then(() => reject(new Error(`the purge ended before a page came back:\n${trace}`)))
      })
      run.kill('SIGINT')
      const r = await run
      expect(r.exitCode, r.stderr.slice(-2000)).toBe(2)
      const doc = JSON.parse(r.stdout)
      expect(doc).toMatchObject({ok: false, error: {code: 2, reason: 'hosts-failed'}})
      const [local, second] = doc.result.hosts
      // localhost: partly walked; second.localhost (nothing to walk) was done before the first page
      expect(local).toMatchObject({
        host: 'localhost',
        code: 2,
        error: {reason: 'interrupted'},
        result: {interrupted: 'interrupted'},
      })
      expect(local.result.scanned).toBeLessThan(USERS)
      expect(second).toMatchObject({host: 'second.localhost', ok: true, code: 0})
      expect(local.error.message).toMatch(
        /^stopped \(interrupted\) after \d+ page\(s\), \d+ of \d+ users walked: run it again/,
      )
    }, 300_000)

  it('Ctrl-C stops after the page in flight, reports what it deleted; a re-run does the rest', async () => {
    // Interrupted as soon as the first page has answered (its cursor shows in the --debug trace
    // on stderr): the CLI finishes the page in flight, if any, and stops.
    const run = purge(server, ['--older-than', '1d', '--debug'])
    let trace = ''
    await new Promise<void>((resolve, reject) => {
      run.stderr?.on('data', (d: Buffer) => {
        trace += d.toString()
        if (/<value>offline:\d+:/.test(trace)) resolve()
      })
      run.catch(reject).then(() => reject(new Error(`the purge ended before a page came back:\n${trace}`)))
    })
    run.kill('SIGINT')
    const first = await run
    // partly done, as an interrupted bulk run: exit 2, the result says what was done
    expect(first.exitCode, first.stderr.slice(-2000)).toBe(2)
    const stopped = JSON.parse(first.stdout)
    expect(stopped).toMatchObject({ok: false, error: {code: 2, reason: 'interrupted'}})
    expect(stopped.result).toMatchObject({interrupted: 'interrupted', users: stopped.result.count})
    const done = stopped.result.count as number
    expect(done).toBeGreaterThan(0)
    expect(done).toBeLessThan(USERS)
    expect(stopped.result.scanned).toBe(done) // each user walked had one such message
    expect(stopped.error.message).toMatch(/run it again/)
    // what it reports is what is gone: no page runs on after the CLI stopped
    await sleep(1_500)
    expect(await subject.counts(server)).toMatchObject({old3d: 0, old2d: USERS - done, fresh: USERS})

    // (the re-run with --all-hosts: localhost's pages do the rest, second.localhost has none)
    const rest = await purge(server, ['--older-than', '1d', '--all-hosts'])
    expect(rest.exitCode, rest.stderr).toBe(0)
    const hosts = JSON.parse(rest.stdout).result.hosts
    expect(hosts.map((h: any) => [h.host, h.result.count])).toEqual([
      ['localhost', USERS - done],
      ['second.localhost', 0],
    ])
    expect(await subject.counts(server)).toMatchObject({old3d: 0, old2d: 0, fresh: USERS, users: USERS})
  }, 300_000)
})
