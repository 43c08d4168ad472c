// Where text goes. Data: stdout. Messages, colour, prompts and progress: stderr, and only
// decorated when stderr is a TTY, NO_COLOR is unset, TERM is not dumb and --no-color is absent.
// --quiet silences messages (progress, summaries, lines saying what was done), never the data
// a command was asked to show, errors or security warnings.
import {Chalk, type ChalkInstance} from 'chalk'
import {redact} from '../secrets.js'

export interface UiSettings {
  json: boolean
  quiet: boolean
  noColor: boolean
  noInput: boolean
}

export class Ui {
  readonly warnings: string[] = []
  readonly color: boolean
  readonly interactive: boolean
  /** Colours for stderr; level 0 (no escapes) when colour is off. */
  readonly paint: ChalkInstance

  constructor(
    readonly settings: UiSettings,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.color = Boolean(process.stderr.isTTY) && !settings.noColor && !env.NO_COLOR && env.TERM !== 'dumb'
    this.paint = new Chalk({level: this.color ? 1 : 0})
    // Prompts need a person at both ends: a TTY on stdin and stderr, no CI, no --no-input.
    this.interactive = Boolean(process.stdin.isTTY && process.stderr.isTTY) && !env.CI && !settings.noInput
  }

  /**
   * A person watches stderr (a terminal, no --json, no --quiet, a terminal that takes escapes):
   * spinners and progress bars show.
   */
  get live(): boolean {
    return (
      Boolean(process.stderr.isTTY) &&
      !this.settings.quiet &&
      !this.settings.json &&
      process.env.TERM !== 'dumb'
    )
  }

  /** A progress or status line for a person (never in --json or --quiet mode). */
  info(msg: string): void {
    if (this.settings.quiet || this.settings.json) return
    process.stderr.write(`${redact(msg)}\n`)
  }

  /** A warning; `always` ones (security) print even with --quiet. */
  warn(msg: string, always = false): void {
    const text = redact(msg)
    this.warnings.push(text)
    if (this.settings.quiet && !this.settings.json && !always) return
    if (this.settings.json) {
      // Still visible to a person; stdout stays one JSON document.
      process.stderr.write(`warning: ${text}\n`)
      return
    }
    process.stderr.write(`${this.paint.yellow('warning:')} ${text}\n`)
  }

  error(msg: string, hint?: string): void {
    process.stderr.write(
      `${this.paint.red('error:')} ${redact(msg)}${hint ? this.paint.dim(` (hint: ${redact(hint)})`) : ''}\n`,
    )
  }

  /** A secret the user asked for (generated password), on stdout, unredacted. */
  revealed(text: string): void {
    if (this.settings.json) return
    process.stdout.write(`${text}\n`)
  }

  /**
   * A line about work done, on stdout ("deleted alice@…", "blocked 192.0.2.1/32"): a message, so
   * --quiet silences it (cron mails only failures). Never in --json mode (the result carries it).
   */
  out(text: string): void {
    if (this.settings.json || this.settings.quiet) return
    process.stdout.write(`${redact(text)}\n`)
  }

  /**
   * The data a command was asked to show (a list, a table, a node's fields, a dry run's answer):
   * on stdout even with --quiet, which silences messages, never what was asked for.
   */
  data(text: string): void {
    if (this.settings.json) return
    process.stdout.write(`${redact(text)}\n`)
  }
}
