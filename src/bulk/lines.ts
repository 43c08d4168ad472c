// Input lines for bulk work, streamed (memory stays flat in the size of the file).
import {createReadStream} from 'node:fs'
import {createInterface} from 'node:readline'
import {XmppadmError, cannotRead, exitCodeName} from '../errors.js'

export interface InputLine {
  /** 1-based line number in the source. */
  no: number
  text: string
}

/**
 * Non-blank, non-comment lines of a file ("-" = stdin). `until` stops reading stdin early: a pipe
 * that never ends (a log watcher) must not hold an interrupted run open. (A file is always read to
 * its end: its unattempted rest goes to the failed file.)
 */
export async function* readLines(path: string, opts: {until?: AbortSignal} = {}): AsyncGenerator<InputLine> {
  const stream = path === '-' ? process.stdin : createReadStream(path)
  const opened = new Promise<void>((resolve, reject) => {
    if (path === '-') resolve()
    stream.once('open', () => resolve())
    stream.once('error', (err: NodeJS.ErrnoException) => reject(cannotRead(path, err)))
  })
  await opened
  const rl = createInterface({input: stream, crlfDelay: Infinity})
  const stop = () => rl.close()
  if (path === '-' && opts.until) {
    if (opts.until.aborted) stop()
    opts.until.addEventListener('abort', stop, {once: true})
  }
  let no = 0
  for await (const raw of rl) {
    no++
    const text = raw.trim()
    if (!text || text.startsWith('#')) continue
    yield {no, text}
  }
}

/** Parses one input line; an error names the line (the whole run is refused on it). */
export function atLine<T>(line: InputLine, parse: (text: string) => T): T {
  try {
    return parse(line.text)
  } catch (error) {
    throw Object.assign(error as Error, {message: `line ${line.no}: ${(error as Error).message}`})
  }
}

/** How a bulk item is named in messages: a line of the file, or a command-line argument. */
export const itemLabel = (fromFile: boolean) => (fromFile ? 'line' : 'argument')

/**
 * Parses every value given as a command-line argument, all of them before anything is sent; one
 * error names each bad one ("argument 2: …; argument 4: …").
 */
export function parseArguments<T>(values: readonly string[], parse: (text: string) => T): T[] {
  const parsed: T[] = []
  const bad: Array<{argument: number; value: string; error: XmppadmError}> = []
  values.forEach((value, i) => {
    try {
      parsed.push(parse(value))
    } catch (error) {
      if (!(error instanceof XmppadmError)) throw error
      bad.push({argument: i + 1, value, error})
    }
  })
  if (!bad.length) return parsed
  const first = bad[0].error
  throw new XmppadmError(
    exitCodeName(first.exitCode),
    first.reason,
    bad.map((b) => `argument ${b.argument}: ${b.error.message}`).join('; '),
    {
      hint: first.hint,
      details: {invalid: bad.map((b) => ({argument: b.argument, value: b.value, message: b.error.message}))},
    },
  )
}

/** A bulk line "jid" or "jid,password" (the password may itself contain commas). */
export function splitLine(text: string): [string, string | undefined] {
  const comma = text.indexOf(',')
  return comma < 0
    ? [text.trim(), undefined]
    : [text.slice(0, comma).trim(), text.slice(comma + 1) || undefined]
}

export async function* fromArray(values: string[]): AsyncGenerator<InputLine> {
  let no = 0
  for (const text of values) yield {no: ++no, text}
}

/**
 * Groups items into arrays of up to `size`, streamed. A slow source (a pipe fed as events happen)
 * does not hold a partial group back: it goes out when nothing more arrived for `maxWaitMs`.
 */
export async function* batches<T>(
  items: AsyncIterable<T>,
  size: number,
  maxWaitMs = 200,
): AsyncGenerator<T[]> {
  const iterator = items[Symbol.asyncIterator]()
  let batch: T[] = []
  let pending: Promise<IteratorResult<T>> | undefined
  for (;;) {
    pending ??= iterator.next()
    let timer: NodeJS.Timeout | undefined
    const waited = new Promise<'waited'>((resolve) => (timer = setTimeout(resolve, maxWaitMs, 'waited')))
    const next = batch.length ? await Promise.race([pending, waited]) : await pending
    clearTimeout(timer)
    if (next === 'waited') {
      yield batch
      batch = []
      continue
    }
    pending = undefined
    if (next.done) break
    batch.push(next.value)
    if (batch.length >= size) {
      yield batch
      batch = []
    }
  }
  if (batch.length) yield batch
}

/**
 * Every item checked before anything is sent: each argument (all bad ones named at once), or every
 * line of a file, read ahead and streamed (a bad line refuses the whole run). Stdin can be read only
 * once: its lines are checked as they are done. Returns how many there are and the first, if known.
 */
export async function checkItems<T>(
  args: readonly string[],
  file: string | undefined,
  parse: (text: string) => T,
): Promise<{count?: number; first?: T}> {
  if (!file) return {count: args.length, first: parseArguments(args, parse)[0]}
  if (file === '-') return {}
  let count = 0
  let first: T | undefined
  for await (const line of readLines(file)) {
    const item = atLine(line, parse)
    first ??= item
    count++
  }
  return {count, first}
}
