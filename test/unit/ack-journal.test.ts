import {expect, it} from 'vitest'
import {AckJournal} from '../../src/connect/ack-journal.js'

it('hands out, once, what was acknowledged within the window before the loss', () => {
  const j = new AckJournal<string>(10_000)
  j.acked('old', 1_000)
  j.acked('a', 20_000)
  j.acked('b', 25_000)
  j.lost(29_000)
  expect(j.take()).toEqual(['a', 'b'])
  expect(j.take()).toEqual([])
  // Acknowledged after a loss: a new, separate history.
  j.acked('c', 40_000)
  j.lost(41_000)
  j.putBack(['b'])
  expect(j.pending).toEqual(['c', 'b'])
})

it('forgets acknowledgements older than the window as it goes (memory stays flat)', () => {
  const j = new AckJournal<number>(1_000)
  for (let i = 0; i < 100_000; i++) j.acked(i, i)
  j.lost(100_000)
  expect(j.take()).toHaveLength(1_000)
})

it('keeps only the window in memory however long the run', () => {
  const j = new AckJournal<number>(1_000)
  for (let i = 0; i < 200_000; i++) j.acked(i, i)
  expect((j as unknown as {recent: unknown[]}).recent.length).toBeLessThan(4_000)
  j.lost(200_000)
  expect(j.take()).toEqual(Array.from({length: 1_000}, (_, i) => 199_000 + i))
})
