// Bulk jobs that survive a lost connection (a server restart, a network drop): the connector opens
// a new session (one attempt shared by every job in flight), then, once per new session, the
// items the lost server acknowledged in its last seconds are done again (ack-journal.ts: a dying
// server may forget them), then the job that failed is tried again.
import type {Ui} from '../output/ui.js'
import {isConnectionLoss} from '../xmpp/errors.js'
import type {Session} from '../xmpp/session.js'
import {AckJournal, RECHECK_WINDOW_MS} from './ack-journal.js'
import type {Connector} from './connector.js'

export interface RecoveryOptions<T> {
  /** Reconnections allowed per loss (0: a lost connection ends the run). */
  retries: number
  /**
   * Does an acknowledged item again: true if it had been forgotten, false if it was still done.
   * Without it nothing is redone (for servers that write what they acknowledge).
   */
  redo?: (item: T) => Promise<boolean>
  /** Names an item in a warning. */
  name: (item: T) => string
  /** "accounts", and what a forgotten one is after redo: "created again". */
  noun: string
  again: string
  ui: Pick<Ui, 'info' | 'warn'>
}

export class Recovery<T> {
  private readonly journal = new AckJournal<T>()
  private readonly seenLost = new WeakSet<Session>()
  private passFor?: Session
  private pass?: Promise<void>
  readonly counts = {rechecked: 0, redone: 0}

  constructor(
    private readonly connector: Connector,
    private readonly o: RecoveryOptions<T>,
  ) {}

  /** Runs a job; after a lost connection, reconnects and runs it again with attempt > 0. */
  async run<R>(job: (attempt: number) => Promise<R>): Promise<R> {
    for (let attempt = 0; ; attempt++) {
      const used = this.connector.current
      try {
        if (attempt > 0) await this.recheck(used)
        return await job(attempt)
      } catch (error) {
        if (!isConnectionLoss(error) || attempt >= 3 || this.o.retries === 0 || this.connector.signal.aborted)
          throw error
        if (!this.seenLost.has(used)) {
          this.seenLost.add(used)
          this.journal.lost(used.closedAt ?? Date.now())
        }
        await this.connector.reconnect(this.o.retries, used)
      }
    }
  }

  /** The server acknowledged this item (it counts as done). */
  acked(item: T): void {
    if (this.o.redo) this.journal.acked(item)
  }

  /** Acknowledged just before a loss and never re-checked (the run ended first). */
  get unchecked(): readonly T[] {
    return this.journal.pending
  }

  /** One pass per new session, shared by every job waiting on it. */
  private recheck(session: Session): Promise<void> {
    if (this.passFor !== session) {
      this.passFor = session
      this.pass = this.redoAll()
    }
    return this.pass!
  }

  private async redoAll(): Promise<void> {
    const items = this.journal.take()
    if (!items.length) return
    let again = 0
    let checked = 0
    for (let i = 0; i < items.length; i++) {
      try {
        if (await this.o.redo!(items[i])) again++
        checked++
      } catch (error) {
        // Lost again: the rest waits for the next session.
        if (isConnectionLoss(error)) {
          this.journal.putBack(items.slice(i))
          throw error
        }
        checked++
        this.o.ui.warn(
          `${this.o.name(items[i])}: acknowledged before the connection was lost, and now: ` +
            (error as Error).message,
        )
      }
    }
    this.counts.rechecked += checked
    this.counts.redone += again
    this.o.ui.info(
      `re-checked ${checked} ${this.o.noun} acknowledged in the last ${RECHECK_WINDOW_MS / 1000} s before ` +
        `the connection was lost: ${again} ${this.o.again}`,
    )
  }
}
