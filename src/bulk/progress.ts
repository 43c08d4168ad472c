// A one-line progress bar with rate and ETA on stderr; only on a TTY, never in --json/--quiet.
export class Progress {
  private count = 0
  private failed = 0
  private readonly started = Date.now()
  private last = 0

  constructor(
    private readonly enabled: boolean,
    private readonly total?: number,
    private readonly label = '',
  ) {}

  tick(failed: boolean): void {
    this.count++
    if (failed) this.failed++
    const now = Date.now()
    if (this.enabled && (now - this.last > 100 || this.count === this.total)) {
      this.last = now
      this.render(now)
    }
  }

  private render(now: number): void {
    const secs = Math.max((now - this.started) / 1000, 0.001)
    const rate = this.count / secs
    const width = 24
    let bar = ''
    let eta = ''
    if (this.total) {
      const filled = Math.round((this.count / this.total) * width)
      bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${this.count}/${this.total} `
      eta = ` ETA ${Math.ceil((this.total - this.count) / Math.max(rate, 0.001))}s`
    } else bar = `${this.count} `
    process.stderr.write(
      `\r${this.label}${bar}${rate.toFixed(0)}/s${eta}${this.failed ? ` ${this.failed} failed` : ''}\u001b[K`,
    )
  }

  done(): void {
    if (this.enabled && this.count) {
      this.render(Date.now())
      process.stderr.write('\n')
    }
  }
}
