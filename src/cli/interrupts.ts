// Ctrl-C and SIGTERM. The first one stops new work: `signal` aborts, open command sessions are
// canceled and the command finishes what is in flight and reports. If it has not ended 5 s later,
// or on a second one: exit 130. Work that stops by itself however long it takes (a bulk run
// finishing its in-flight items and writing its failed file, a timed switch turning itself off)
// runs inside finishing(), which holds the 5 s limit off.
import {ExitCode} from '../errors.js'
import type {Ui} from '../output/ui.js'

const GRACE_MS = 5000

export class Interrupts {
  private readonly controller = new AbortController()
  readonly signal = this.controller.signal
  private finishingWork = 0

  /** Catches SIGINT and SIGTERM for the rest of the process. */
  install(ui: Ui): void {
    const interrupt = (name: NodeJS.Signals) => {
      if (this.signal.aborted) process.exit(ExitCode.interrupted)
      this.controller.abort()
      if (!ui.settings.json)
        process.stderr.write(`\n${name}: stopping after the work in flight (again to quit now)\n`)
      if (!this.finishingWork) setTimeout(() => process.exit(ExitCode.interrupted), GRACE_MS).unref()
    }
    process.on('SIGINT', interrupt)
    process.on('SIGTERM', interrupt)
  }

  /** Runs work that ends by itself once `signal` aborts: no forced exit while it runs. */
  async finishing<T>(work: () => Promise<T>): Promise<T> {
    this.finishingWork++
    try {
      return await work()
    } finally {
      this.finishingWork--
    }
  }
}
