// A spinner on stderr for waits (connecting, discovering): only when a person watches a terminal.
import type {Ui} from './ui.js'

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏']

export class Spinner {
  private timer?: NodeJS.Timeout
  private frame = 0

  constructor(private readonly enabled: boolean) {}

  start(text: string): void {
    if (!this.enabled) return
    this.stop()
    const draw = () => process.stderr.write(`\r${FRAMES[this.frame++ % FRAMES.length]} ${text}\u001b[K`)
    draw()
    this.timer = setInterval(draw, 80)
    this.timer.unref()
  }

  /** Clears the line, so whatever comes next starts clean. */
  stop(): void {
    if (!this.timer) return
    clearInterval(this.timer)
    this.timer = undefined
    process.stderr.write('\r\u001b[K')
  }
}

/** A spinner for a wait; silent unless a person watches stderr (Ui.live). */
export const spinnerFor = (ui: Ui) => new Spinner(ui.live)
