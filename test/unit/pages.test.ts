// Paged long operations (CONTRACT.md 1): the CLI follows the cursor, sums each page's counts, stops
// between pages when interrupted, and takes an answer without `more` (an older module) as the whole
// run. In process, on a session that answers with module results.
import {describe, expect, it} from 'vitest'
import {mod} from '../../src/ops/nodes.js'
import {pagedStop, sumPages} from '../../src/cli/paged.js'
import {followPages} from '../../src/ops/pages.js'
import {purgeOffline} from '../../src/ops/purge.js'
import {parseXml} from '../fixtures/captures.js'
import {Replay, context} from '../helpers/replay.js'

/** A completed command whose result form has these fields (a boolean `more` as "1"/"0"). */
function result(fields: Record<string, string | boolean | null>) {
  const f = Object.entries(fields)
    .map(([k, v]) => {
      const type = typeof v === 'boolean' ? ' type="boolean"' : ''
      const value = v === null ? '' : `<value>${v === true ? '1' : v === false ? '0' : v}</value>`
      return `<field var="${k}"${type}>${value}</field>`
    })
    .join('')
  return parseXml(
    `<iq xmlns="jabber:client" type="result" from="localhost" id="x"><command ` +
      `xmlns="http://jabber.org/protocol/commands" node="${mod('purge-offline')}" status="completed" ` +
      `sessionid="s"><x xmlns="jabber:x:data" type="result"><field var="FORM_TYPE" type="hidden">` +
      `<value>urn:xmppadm:admin:1</value></field>${f}</x></command></iq>`,
  )
}

const page = (count: number, users: number, more: boolean, next: string | null, scanned: number) =>
  result({count: String(count), users: String(users), more, next, scanned: String(scanned), total: '300'})

const setup = (...answers: ReturnType<typeof result>[]) => {
  const session = new Replay(answers)
  return {session, ctx: context(session, {nodes: [mod('purge-offline')], family: 'prosody'})}
}

describe('followPages', () => {
  it('sends each cursor back as after, sums the counts, reports every page', async () => {
    const {session, ctx} = setup(
      page(5, 2, true, 'c1', 100),
      page(0, 0, true, 'c2', 200),
      page(7, 3, false, null, 300),
    )
    const seen: unknown[] = []
    const run = await followPages(ctx, mod('purge-offline'), {'older-than': '60'}, ['count', 'users'], (p) =>
      seen.push(p),
    )
    expect(session.asked.map((a) => a.values.after)).toEqual([undefined, ['c1'], ['c2']])
    expect(session.asked.every((a) => a.values['older-than'][0] === '60')).toBe(true)
    expect(run).toMatchObject({
      pages: 3,
      counts: {count: 12, users: 5},
      scanned: 300,
      total: 300,
      complete: true,
    })
    expect(seen).toEqual([
      {pages: 1, scanned: 100, total: 300, counts: {count: 5, users: 2}},
      {pages: 2, scanned: 200, total: 300, counts: {count: 5, users: 2}},
      {pages: 3, scanned: 300, total: 300, counts: {count: 12, users: 5}},
    ])
  })

  it('stops after the page in flight once interrupted; the run says it is not complete', async () => {
    const {session, ctx} = setup(page(5, 2, true, 'c1', 100), page(4, 4, true, 'c2', 200))
    const abort = new AbortController()
    ctx.signal = abort.signal
    const run = await followPages(ctx, mod('purge-offline'), {}, ['count'], () => abort.abort())
    expect(run).toMatchObject({pages: 1, counts: {count: 5}, complete: false})
    expect(session.asked).toHaveLength(1)
  })

  it('an answer without more (a module of revision 2) is the whole run', async () => {
    const {ctx} = setup(result({count: '9', users: '4'}))
    const run = await followPages(ctx, mod('purge-offline'), {}, ['count', 'users'])
    expect(run).toMatchObject({
      pages: 1,
      counts: {count: 9, users: 4},
      scanned: null,
      total: null,
      complete: true,
    })
  })
})

describe('purge-offline through the module', () => {
  it('a run stopped between pages says so: what was done, and "interrupted"', async () => {
    const {ctx} = setup(page(5, 2, true, 'c1', 100), page(4, 4, true, 'c2', 200))
    const abort = new AbortController()
    ctx.signal = abort.signal
    const r = await purgeOffline(ctx, {
      seconds: 86400,
      dryRun: false,
      onPage: (p) => p.pages === 2 && abort.abort(),
    })
    expect(r).toMatchObject({
      count: 9,
      users: 6,
      pages: 2,
      scanned: 200,
      total: 300,
      interrupted: 'interrupted',
    })
  })
})

describe('several paged runs at once (--all-hosts)', () => {
  const run = (pages: number, scanned: number | null, total: number | null, count: number) => ({
    pages,
    scanned,
    total,
    counts: {count},
  })

  it('one progress: pages, walked and counts summed; a total only when every run has one', () => {
    expect(sumPages([run(2, 100, 300, 5), run(1, 40, 40, 1)])).toEqual(run(3, 140, 340, 6))
    expect(sumPages([run(2, 100, 300, 5), run(1, null, null, 1)])).toEqual(run(3, 100, null, 6))
    expect(sumPages([])).toEqual({pages: 0, scanned: null, total: null, counts: {}})
  })

  it('a host stopped between its pages: 2 when something was done, 75 when nothing was', () => {
    expect(pagedStop({interrupted: null, pages: 3}, '3 page(s)')).toBeUndefined()
    const partly = pagedStop({interrupted: 'interrupted', pages: 3}, '3 page(s), 140 of 340 users walked')
    expect(partly).toMatchObject({exitCode: 2, reason: 'interrupted'})
    expect(partly?.message).toBe(
      'stopped (interrupted) after 3 page(s), 140 of 340 users walked: run it again to do the rest',
    )
    expect(pagedStop({interrupted: 'interrupted', pages: 0}, '0 page(s)')).toMatchObject({exitCode: 75})
  })
})
