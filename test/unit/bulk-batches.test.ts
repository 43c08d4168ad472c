import {expect, it} from 'vitest'
import {batches} from '../../src/bulk/lines.js'

async function* source(items: Array<number | 'pause'>): AsyncGenerator<number> {
  for (const i of items) {
    if (i === 'pause') await new Promise((r) => setTimeout(r, 120))
    else yield i
  }
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const x of it) out.push(x)
  return out
}

it('groups a fast source into full batches and a last partial one', async () => {
  expect(await collect(batches(source([1, 2, 3, 4, 5, 6, 7]), 3))).toEqual([[1, 2, 3], [4, 5, 6], [7]])
  expect(await collect(batches(source([]), 3))).toEqual([])
})

it('sends a partial batch when the source pauses (a pipe fed as events happen)', async () => {
  expect(await collect(batches(source([1, 2, 'pause', 3, 'pause', 'pause', 4, 5, 6, 7]), 3, 50))).toEqual([
    [1, 2],
    [3],
    [4, 5, 6],
    [7],
  ])
})
