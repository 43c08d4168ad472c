// A one-line progress bar on stderr; only on a TTY, never in --json/--quiet. With a total (the
// input is a regular file, counted first; a paged run's total from the server): done/total,
// percentage and time left; without one (a pipe): the count and the rate.
import {statSync} from 'node:fs'
import {readLines} from './lines.js'

/** Items in a regular file (what readLines would yield), for a total; undefined for stdin or a pipe. */
export async function countItems(path: string): Promise<number | undefined> {
  try {
    if (path === '-' || !statSync(path).isFile()) return undefined
  } catch {
    return undefined // unreadable: the run itself says so
  }
  let n = 0
  for await (const _ of readLines(path)) n++
  return n
}

/** 42s, 3m05s, 1h02m. */
function shortDuration(seconds: number): string {
  const s = Math.max(0, Math.ceil(seconds))
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
}

export class Progress {
  private count = 0
  private failed = 0
  private readonly started = Date.now()
  private last = 0
  private note = ''

  constructor(
    readonly enabled: boolean,
    private total?: number,
    private readonly label = '',
  ) {}

  /** The total, once known (counted while nothing was drawn yet). */
  setTotal(total: number | undefined): void {
    this.total = total
  }

  tick(failed: boolean): void {
    this.count++
    if (failed) this.failed++
    const now = Date.now()
    if (this.enabled && (now - this.last > 100 || this.count === this.total)) {
      this.last = now
      this.render(now)
    }
  }

  /** Where a paged run is (it counts by itself): done of total, and a note ("12 deleted"). */
  set(count: number, total: number | undefined, note = ''): void {
    this.count = count
    this.total = total
    this.note = note
    const now = Date.now()
    if (this.enabled && (now - this.last > 100 || count === total)) {
      this.last = now
      this.render(now)
    }
  }

  private render(now: number): void {
    const secs = Math.max((now - this.started) / 1000, 0.001)
    const rate = this.count / secs
    const width = 24
    let line: string
    if (this.total && this.count <= this.total) {
      const share = this.count / this.total
      const filled = Math.round(share * width)
      const left = (this.total - this.count) / Math.max(rate, 0.001)
      line =
        `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${this.count}/${this.total} ` +
        `${Math.floor(share * 100)}% ${rate.toFixed(0)}/s ETA ${shortDuration(left)}`
    } else line = `${this.count} ${rate.toFixed(0)}/s`
    const tail = `${this.failed ? ` ${this.failed} failed` : ''}${this.note ? ` ${this.note}` : ''}`
    process.stderr.write(`\r${this.label}${line}${tail}\u001b[K`)
  }

  done(): void {
    if (this.enabled && this.count) {
      this.render(Date.now())
      process.stderr.write('\n')
    }
  }
}
