// An acknowledged write is not always a durable one: ejabberd's Mnesia writes its transaction log
// through a cache it flushes every 2 s (or at 64 KB), so a server killed just after it answered
// "done" forgets the last accounts it created (seen in the lost-connection test: 1 of 5). A bulk
// run that reconnects therefore re-does what the server acknowledged shortly before the loss.

/** How far back before a lost connection an acknowledgement is not trusted (2 s cache, and slack). */
export const RECHECK_WINDOW_MS = 10_000

export class AckJournal<T> {
  /** Acknowledged items, oldest first; those before `head` are out of the window. */
  private recent: Array<{at: number; item: T}> = []
  private head = 0
  private suspect: T[] = []

  constructor(private readonly windowMs = RECHECK_WINDOW_MS) {}

  acked(item: T, at = Date.now()): void {
    this.recent.push({at, item})
    const cutoff = at - this.windowMs
    while (this.head < this.recent.length && this.recent[this.head].at < cutoff) this.head++
    // Drop the old part now and then, not on every call (a bulk run acknowledges thousands a second).
    if (this.head > 1024 && this.head * 2 > this.recent.length) {
      this.recent = this.recent.slice(this.head)
      this.head = 0
    }
  }

  /** The connection was lost at `at`: what was acknowledged in the window before it needs a re-check. */
  lost(at: number): void {
    const from = at - this.windowMs
    for (let i = this.head; i < this.recent.length; i++)
      if (this.recent[i].at >= from) this.suspect.push(this.recent[i].item)
    this.recent = []
    this.head = 0
  }

  /** The items to re-check, each handed out once (give back with `putBack` what could not be done). */
  take(): T[] {
    const items = this.suspect
    this.suspect = []
    return items
  }

  putBack(items: T[]): void {
    this.suspect.push(...items)
  }

  /** Items still waiting for a re-check (the run ended before it could happen). */
  get pending(): readonly T[] {
    return this.suspect
  }
}
