// Issue 10: mod_xmppadm in a two-node ejabberd 24.12 cluster on one machine. Both nodes have the
// module (installed as an operator would, each from its own sources directory); node 2 joins node
// 1 with `ejabberdctl join_cluster`. Erlang distribution: long names on 127.0.0.2 and 127.0.0.3
// with one shared port (no epmd; see /work/shared/research/server-modules.md); c2s on 127.0.0.1.
// Checked by effect: a block set through one node refuses connections on the other, closes live
// sessions there and survives a restart; debug logging switched through one node writes and is
// wiped on both. Addresses blocked here (on these servers only): 127.0.0.20, .21.
import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {cliOn} from '../helpers/cli.js'
import {expectOkEnvelope} from '../helpers/shapes.js'
import {RawClient, cliJson, eventually, runControlOk, sleep} from '../helpers/mission.js'
import {type RunningServer, startEjabberd24} from '../servers/harness.js'
import {type ServerDescriptor, runControl} from '../servers/servers.js'
import {freePorts, randomHex, xmppAnswers} from '../servers/util.js'

const from = (address: string) => ({env: {XMPPADM_SOURCE_ADDRESS: address}})
const BLOCKED_TEXT = 'Connections from your IP address are blocked'

let node1: RunningServer
let node2: RunningServer
/** Node 2 as the tests see it: after the join it has node 1's accounts. */
let node2view: ServerDescriptor

/** Whether `c2s` of a server answers and its ejabberd application runs. */
async function ready(s: ServerDescriptor): Promise<boolean> {
  return (await xmppAnswers(s.port, s.domain, 1000)) && (await runControl(s, ['status'], 30_000)).code === 0
}

beforeAll(async () => {
  const [distPort] = await freePorts(1)
  const cookie = randomHex(15).toUpperCase()
  const tag = randomHex(3)
  ;[node1, node2] = await Promise.all(
    [2, 3].map((n) =>
      startEjabberd24({
        erlangNode: `xmppadmc${n}_${tag}@127.0.0.${n}`,
        distInterface: `127.0.0.${n}`,
        distPort,
        cookie,
      }),
    ),
  )
  await runControlOk(node2, ['join_cluster', node1.erlangNode!])
  await eventually(
    'node 2 in the cluster',
    async () => (await runControlOk(node1, ['list_cluster'])).includes(node2.erlangNode!),
    60_000,
    500,
  )
  node2view = {...node2, admin: node1.admin, user: node1.user}
  // joining restarts ejabberd on node 2; it is back when it serves the module's nodes again
  await eventually('node 2 serving again', () => ready(node2view), 60_000, 250)
  // ejabberd keeps node 2's own cached credentials of admin@ and user@ across the join (an auth
  // cache outside Mnesia): logins with the cluster's passwords fail until it is cleared
  await runControlOk(node2, ['clear_cache'])
  await eventually(
    'mod_xmppadm on node 2 after the join',
    async () =>
      (await cliOn(node2view, ['capabilities', '--json'])).json?.result?.operations?.find(
        (o: any) => o.operation === 'block-ip',
      )?.available,
    60_000,
    500,
  )
}, 180_000)

afterAll(async () => {
  await Promise.all([node1?.stop(), node2?.stop()])
}, 60_000)

describe('ejabberd 24.12 cluster: blocks hold on every node', () => {
  afterAll(async () => {
    if (node1) await cliOn(node1, ['block-ip', 'remove', '127.0.0.20', '127.0.0.21'])
  })

  it('a block set through node 1 refuses a connection on node 2, is listed, lifts from node 2', async () => {
    const r = expectOkEnvelope(await cliJson(node1, ['block-ip', '127.0.0.20', '--reason', 'cluster']))
    expect(r.blocked).toEqual(['127.0.0.20/32'])
    const refused = await cliOn(node2view, ['commands'], from('127.0.0.20'))
    expect(refused.exitCode, refused.stderr).toBe(81)
    expect(refused.stderr).toContain(BLOCKED_TEXT)
    const list = expectOkEnvelope(await cliJson(node2view, ['block-ip', 'list']))
    expect(list.blocked).toEqual([expect.objectContaining({address: '127.0.0.20/32', reason: 'cluster'})])

    const removed = expectOkEnvelope(await cliJson(node2view, ['block-ip', 'remove', '127.0.0.20']))
    expect(removed.removed).toEqual(['127.0.0.20/32'])
    const back = await cliOn(node1, ['commands', '--quiet'], from('127.0.0.20'))
    expect(back.exitCode, back.stderr).toBe(0)
  })

  it('a block set through node 1 ends a live session from the address on node 2', async () => {
    const victim = await RawClient.login(node2view, node2view.user, {localAddress: '127.0.0.21'})
    const r = expectOkEnvelope(await cliJson(node1, ['block-ip', '127.0.0.21']))
    expect(r.sessionsClosed).toBe(1)
    await Promise.race([
      victim.closed,
      sleep(10_000).then(() => Promise.reject(new Error('the session on node 2 was not closed'))),
    ])
    expect(victim.received).toContain(BLOCKED_TEXT)
  })

  it('the block survives a restart of the node it was set through', async () => {
    await runControlOk(node1, ['restart'])
    await sleep(1000)
    await eventually('node 1 serving again after the restart', () => ready(node1), 60_000, 250)
    await eventually(
      'node 1 refusing 127.0.0.21 after the restart',
      async () => (await cliOn(node1, ['commands'], from('127.0.0.21'))).exitCode === 81,
      30_000,
      500,
    )
    const list = expectOkEnvelope(await cliJson(node1, ['block-ip', 'list']))
    expect(list.blocked.map((b: any) => b.address)).toContain('127.0.0.21/32')
  })
})

describe('ejabberd 24.12 cluster: debug logging on every node', () => {
  const fileOf = (s: RunningServer) => join(s.dir, 'logs', 'xmppadm-debug-localhost.log')

  it('on through node 1 writes debug lines on both nodes; off through node 1 wipes both files', async () => {
    const on = expectOkEnvelope(await cliJson(node1, ['debug-log', 'on', '--for', '10m']))
    expect(on).toMatchObject({active: true})
    expect(on.file).toBe(fileOf(node1))
    // traffic on each node
    const status2 = expectOkEnvelope(await cliJson(node2view, ['debug-log', 'status']))
    expect(status2).toMatchObject({active: true, file: fileOf(node2)})
    expect(Date.parse(status2.expires)).toBeGreaterThan(Date.now() + 5 * 60_000)
    for (const n of [node1, node2])
      await eventually(`debug lines on ${n.erlangNode}`, () =>
        existsSync(fileOf(n)) ? /\[debug\]/.test(readFileSync(fileOf(n), 'utf8')) : false,
      )

    const off = expectOkEnvelope(await cliJson(node1, ['debug-log', 'off']))
    expect(off).toMatchObject({active: false, previous: true})
    for (const n of [node1, node2]) expect(existsSync(fileOf(n)), fileOf(n)).toBe(false)
    expect(expectOkEnvelope(await cliJson(node2view, ['debug-log', 'status']))).toMatchObject({
      active: false,
    })
  })

  it('a restart ends the debug logging of a node and wipes its file (a clean stop)', async () => {
    expectOkEnvelope(await cliJson(node1, ['debug-log', 'on']))
    await eventually('the debug file on node 2', () => existsSync(fileOf(node2)))
    // (a stop that waited on the application controller from the logging process once hung here)
    await runControlOk(node2, ['restart'])
    await eventually('node 2 serving again after the restart', () => ready(node2view), 60_000, 250)
    expect(existsSync(fileOf(node2))).toBe(false)
    expect(expectOkEnvelope(await cliJson(node2view, ['debug-log', 'status']))).toMatchObject({active: false})
    expectOkEnvelope(await cliJson(node1, ['debug-log', 'off']))
    expect(existsSync(fileOf(node1))).toBe(false)
  })
})
