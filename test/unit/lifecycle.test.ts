// Issue 13 in process: how lines name accounts, what ejabberd's last-activity answers mean, which
// accounts are inactive, and the lifecycle operations against answers recorded from Prosody 13 with
// mod_xmppadm (test/fixtures/captures/prosody-13--lifecycle-*.xml).
import {describe, expect, it} from 'vitest'
import {lineJid} from '../../src/bulk/lines.js'
import {exitCodeOf} from '../../src/errors.js'
import {
  type AccountRow,
  accountList,
  inactiveSince,
  parseGetLast,
  parseLastLogin,
} from '../../src/ops/account-list.js'
import {accountDisable} from '../../src/ops/account-state.js'
import {describeReceipt, erasureReceipt} from '../../src/ops/erasure.js'
import {admin, mod} from '../../src/ops/nodes.js'
import {perform} from '../../src/ops/operation.js'
import {Replay, answer, context} from '../helpers/replay.js'

const DAY = 86_400_000

describe('the JID of a bulk line', () => {
  it.each([
    ['alice@example.org', 'alice@example.org'],
    ['  alice@example.org  ', 'alice@example.org'],
    ['alice@example.org,a password, with commas', 'alice@example.org'],
    ['alice@example.org\t2026-01-01T00:00:00Z\tnot known', 'alice@example.org'],
    ['bob', 'bob'],
    // not cut at a space: the bad JID fails as it is, and never becomes the account "bad"
    ['bad user@example.org', 'bad user@example.org'],
  ])('%j -> %s', (line, jid) => expect(lineJid(line)).toBe(jid))
})

describe("ejabberd's answers about last activity", () => {
  it('get_last (API): online, a time, registered but never logged in, not found', () => {
    const j = 'a@localhost'
    expect(parseGetLast(j, '2026-11-21T08:48:45.054322Z : ONLINE')).toEqual({
      jid: j,
      lastActivity: '2026-11-21T08:48:45Z',
      created: null,
      activity: 'online',
    })
    expect(parseGetLast(j, '2026-11-21T08:48:45Z : Stream reset by peer')).toMatchObject({
      lastActivity: '2026-11-21T08:48:45Z',
      activity: 'seen',
    })
    expect(parseGetLast(j, "2026-11-21T08:48:44Z : Registered but didn't login")).toEqual({
      jid: j,
      lastActivity: null,
      created: '2026-11-21T08:48:44Z',
      activity: 'never',
    })
    expect(parseGetLast(j, '2026-11-21T08:48:45.511814Z : NOT FOUND')).toMatchObject({activity: 'unknown'})
  })

  it('get-user-lastlogin (XEP-0133, 24.12): Online, a local time, Never', () => {
    expect(parseLastLogin('a@b', 'Online').activity).toBe('online')
    expect(parseLastLogin('a@b', '2026-11-21 08:43:00')).toMatchObject({
      lastActivity: '2026-11-21T08:43:00Z',
      activity: 'seen',
    })
    expect(parseLastLogin('a@b', 'Never')).toMatchObject({lastActivity: null, activity: 'unknown'})
  })
})

describe('inactive since a cut-off', () => {
  const now = Date.parse('2026-12-01T00:00:00Z')
  const cutoff = now - 180 * DAY
  const row = (o: Partial<AccountRow>): AccountRow => ({
    jid: 'a@b',
    lastActivity: null,
    created: null,
    activity: 'unknown',
    ...o,
  })
  it('last seen before it: yes; after it or online: no', () => {
    expect(inactiveSince(row({activity: 'seen', lastActivity: '2025-01-01T00:00:00Z'}), cutoff)).toBe(true)
    expect(inactiveSince(row({activity: 'seen', lastActivity: '2026-11-01T00:00:00Z'}), cutoff)).toBe(false)
    expect(inactiveSince(row({activity: 'online', lastActivity: '2026-12-01T00:00:00Z'}), cutoff)).toBe(false)
  })
  it('never logged in: only when made before it; not known: cannot tell', () => {
    expect(inactiveSince(row({activity: 'never', created: '2025-01-01T00:00:00Z'}), cutoff)).toBe(true)
    expect(inactiveSince(row({activity: 'never', created: '2026-11-30T00:00:00Z'}), cutoff)).toBe(false)
    expect(inactiveSince(row({activity: 'never'}), cutoff)).toBeUndefined()
    expect(inactiveSince(row({activity: 'unknown'}), cutoff)).toBeUndefined()
  })
})

const LIFECYCLE = [
  admin('disable-user'),
  admin('user-stats'),
  mod('list-accounts'),
  mod('stored-data'),
  mod('disable-user'),
]
const prosody = (...answers: Array<[string, number]>) => {
  const session = new Replay(answers.map(([f, n]) => answer(f, n)))
  return {session, ctx: context(session, {nodes: LIFECYCLE, family: 'prosody'})}
}

describe('on Prosody 13 (recorded)', () => {
  it('disable: XEP-0133 first; the note\'s "could not be disabled" is no such user (67)', async () => {
    const ok = prosody(['prosody-13--lifecycle-disable-user.xml', 0])
    expect(await perform(ok.ctx, accountDisable, {jid: 'user@localhost'})).toEqual({})
    expect(ok.session.asked[0]).toMatchObject({
      node: admin('disable-user'),
      values: {accountjids: ['user@localhost']},
    })
    const missing = prosody(['prosody-13--lifecycle-disable-user.xml', 1])
    const e = await perform(missing.ctx, accountDisable, {jid: 'nobody@localhost'}).catch((x: unknown) => x)
    expect(e).toMatchObject({reason: 'no-such-user', message: 'no such user: nobody@localhost'})
    expect(exitCodeOf(e)).toBe(67)
  })

  it('list: the module pages with its cursor until it says no more', async () => {
    const {session, ctx} = prosody(
      ['prosody-13--lifecycle-list-accounts.xml', 0],
      ['prosody-13--lifecycle-list-accounts.xml', 1],
    )
    const pages = []
    for await (const page of await perform(ctx, accountList, {pageSize: 1, concurrency: 1})) pages.push(page)
    expect(pages.map((p) => p.rows.map((r) => r.jid))).toEqual([['admin@localhost'], ['user@localhost']])
    expect(pages.map((p) => [p.scanned, p.total])).toEqual([
      [1, 2],
      [2, 2],
    ])
    expect(pages[0].rows[0].activity).toBe('online')
    expect(session.asked.map((a) => a.values.after)).toEqual([undefined, ['accounts:admin']])
    expect(session.done).toBe(true)
  })

  it('the receipt: data still there is asked about again, then judged', async () => {
    const left = prosody(
      ['prosody-13--lifecycle-stored-data.xml', 1],
      ['prosody-13--lifecycle-stored-data.xml', 1],
      ['prosody-13--lifecycle-stored-data.xml', 1],
    )
    const r = await erasureReceipt(left.ctx, 'ghost@localhost', 400)
    expect(r).toMatchObject({
      verdict: 'left',
      left: {offline: 1},
      kept: [],
      unchecked: [],
      via: 'mod_xmppadm',
    })
    expect(describeReceipt(r)).toBe('deleted ghost@localhost, but the server still holds: offline 1')
    expect(left.session.asked.length).toBeGreaterThanOrEqual(2)

    const settles = prosody(
      ['prosody-13--lifecycle-stored-data.xml', 1],
      ['prosody-13--lifecycle-stored-data.xml', 3],
    )
    const clean = await erasureReceipt(settles.ctx, 'ghost@localhost')
    expect(clean).toMatchObject({verdict: 'erased', left: {}, unchecked: []})
    expect(settles.session.done).toBe(true)
  })

  it('the receipt where the server offers no way to ask: unverified, every section named', async () => {
    const session = new Replay([])
    const ctx = context(session, {nodes: [admin('delete-user')], family: 'ejabberd'})
    const r = await erasureReceipt(ctx, 'gone@localhost')
    expect(r.verdict).toBe('unverified')
    expect(r.unchecked).toHaveLength(10)
    expect(describeReceipt(r)).toMatch(/offers no way to ask/)
    expect(session.asked).toEqual([])
  })
})
