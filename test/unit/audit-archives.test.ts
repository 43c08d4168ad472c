// Issue 12: "no message archive" in every account's archive, the walk and its words (no servers
// here; on real Prosody and ejabberd: test/integration/policy-check.test.ts).
import {describe, expect, it} from 'vitest'
import {
  type AccountPageOfJids,
  type ArchiveScan,
  type ArchiveScanOptions,
  judgeArchiveScan,
  scanArchives,
} from '../../src/audit/archives.js'

const jids = (from: number, n: number) => Array.from({length: n}, (_, i) => `u${from + i}@example.org`)

/** Pages of `size` over `n` accounts, recording which were asked for. */
function pagesOf(n: number, size: number, asked: number[] = []): AsyncIterator<AccountPageOfJids> {
  return (async function* () {
    for (let i = 0; i < n; i += size) {
      asked.push(i)
      yield {jids: jids(i, Math.min(size, n - i)), total: n}
    }
  })()
}

const options = (over: Partial<ArchiveScanOptions> = {}): ArchiveScanOptions => ({
  budgetMs: 60_000,
  enough: 10,
  concurrency: 4,
  pageSize: 5,
  ...over,
})

describe('the walk over every archive', () => {
  it('counts every account of every page, at most `concurrency` at a time', async () => {
    let inFlight = 0
    let most = 0
    const scan = await scanArchives(
      pagesOf(23, 5),
      async (jid) => {
        most = Math.max(most, ++inFlight)
        await new Promise((r) => setTimeout(r, 1))
        inFlight--
        return jid === 'u7@example.org' ? 120 : jid === 'u20@example.org' ? 1 : 0
      },
      options(),
    )
    expect(scan).toEqual({
      holders: [
        {jid: 'u7@example.org', count: 120},
        {jid: 'u20@example.org', count: 1},
      ],
      scanned: 23,
      total: 23,
    })
    expect(most).toBe(4)
  })

  it('stops once `enough` holders are found: the verdict cannot change', async () => {
    const asked: number[] = []
    const scan = await scanArchives(pagesOf(1000, 5, asked), async () => 3, options({enough: 6}))
    expect(scan.stopped).toBe('enough')
    expect(scan.holders.length).toBeGreaterThanOrEqual(6)
    // Those in flight finish; no page is asked for past the one after the stop.
    expect(scan.scanned).toBeLessThan(20)
    expect(asked.length).toBeLessThan(5)
  })

  it('stops when its time is up, saying so', async () => {
    let clock = 0
    const scan = await scanArchives(
      pagesOf(1000, 5),
      async () => {
        clock += 100
        return 0
      },
      options({budgetMs: 1000, concurrency: 1}),
      () => clock,
    )
    expect(scan).toMatchObject({stopped: 'time', scanned: 10, total: 1000, holders: []})
  })

  it("a failed count ends the walk with the server's error", async () => {
    const walk = scanArchives(
      pagesOf(50, 5),
      async (jid) => {
        if (jid === 'u12@example.org') throw new Error('forbidden: not an admin here')
        return 0
      },
      options(),
    )
    await expect(walk).rejects.toThrow('forbidden: not an admin here')
  })

  it('an empty host: nothing to count', async () => {
    expect(await scanArchives(pagesOf(0, 5), async () => 1, options())).toEqual({holders: [], scanned: 0})
  })
})

describe('the verdict on the archives', () => {
  const judge = (scan: ArchiveScan) => judgeArchiveScan('example.org', scan, {budgetSeconds: 20, enough: 10})

  it('no archive holds messages, every account looked at: kept', () => {
    expect(judge({holders: [], scanned: 1204, total: 1204})).toMatchObject({
      promise: 'archive',
      check: 'archive-contents',
      target: 'example.org',
      verdict: 'pass',
      evidence: "no account's archive holds messages (1,204 accounts)",
    })
  })

  it('archives with messages: broken, naming them, most first', () => {
    const r = judge({
      holders: [
        {jid: 'carol@example.org', count: 1},
        {jid: 'alice@example.org', count: 1200},
        {jid: 'bob@example.org', count: 3},
      ],
      scanned: 1204,
      total: 1204,
    })
    expect(r.verdict).toBe('fail')
    expect(r.evidence).toBe(
      '3 of 1,204 accounts hold archived messages ' +
        '(alice@example.org: 1,200, bob@example.org: 3, carol@example.org: 1)',
    )
    expect(r.hint).toMatch(/or set archive = allowed$/)
    expect(judge({holders: [{jid: 'd@example.org', count: 2}], scanned: 3, total: 3}).evidence).toBe(
      '1 of 3 accounts holds archived messages (d@example.org: 2)',
    )
  })

  it('stopped at enough holders: "at least", how many were looked at, ten named', () => {
    const holders = jids(0, 12).map((jid) => ({jid, count: 5}))
    const r = judge({holders, scanned: 40, total: 1204, stopped: 'enough'})
    expect(r.verdict).toBe('fail')
    expect(r.evidence).toMatch(
      /^at least 12 of 1,204 accounts hold archived messages \(u0@example\.org: 5, .*, 2 more\); the walk stopped once 10 were found, after 40 accounts$/,
    )
  })

  it('out of time with holders found: still broken; with none: cannot tell, and how to look further', () => {
    expect(
      judge({holders: [{jid: 'a@example.org', count: 7}], scanned: 800, total: 1204, stopped: 'time'}),
    ).toMatchObject({
      verdict: 'fail',
      evidence:
        'at least 1 of 1,204 accounts holds archived messages (a@example.org: 7); ' +
        'the walk stopped at its 20 s limit (archive_scan_seconds), after 800 accounts',
    })
    expect(judge({holders: [], scanned: 800, total: 1204, stopped: 'time'})).toMatchObject({
      verdict: 'cannot-tell',
      evidence:
        'no archive holds messages among the first 800 accounts of 1,204; ' +
        'the walk stopped at its 20 s limit (archive_scan_seconds)',
      hint: 'raise archive_scan_seconds in the policy file (now 20)',
    })
  })
})
