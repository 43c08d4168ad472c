// Runs the built CLI on a real pseudo-terminal, as a person at a terminal would, through `script`
// (util-linux, in Debian's base system): stdin, stdout and stderr of the CLI are the pty's slave
// side; the test reads everything the terminal would show and types into it.
//
//   const t = spawnPty(['account', 'delete', jid], {env: serverEnv(server)})
//   await t.waitFor(/Really delete/)
//   t.type('n\r')
//   const {exitCode, screen} = await t.exited
//
// `stdoutFile` redirects the CLI's stdout to a file (the shell does it, inside the pty), so a test
// can tell data (stdout) from what the terminal shows (stderr, prompts, progress).
import {type ChildProcess, spawn} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {BIN} from './cli.js'

export const ptyScratch = mkdtempSync(join(tmpdir(), 'xmppadm-pty-'))
/** Removes ptyScratch (call from afterAll: vitest's workers may end without an 'exit' event). */
export function removePtyScratch(): void {
  rmSync(ptyScratch, {recursive: true, force: true})
}

export interface PtyOptions {
  /** Added to (undefined: removed from) a clean terminal environment. */
  env?: Record<string, string | undefined>
  cols?: number
  rows?: number
  /** Redirect the CLI's stdout to this file (stderr stays on the terminal). */
  stdoutFile?: string
  /** Redirect the CLI's stderr to this file (stdin stays the terminal). */
  stderrFile?: string
  /** A shell command piped into the CLI's stdin (stdout and stderr stay the terminal's). */
  stdinCommand?: string
  /** The whole run, in ms (default 60 s); then the terminal is hung up. */
  timeout?: number
}

export interface PtyExit {
  /** The CLI's exit code (script -e passes it on); 128+n when killed by signal n. */
  exitCode: number
  /** Everything the terminal received, escape sequences included. */
  raw: string
  /** The same without escape sequences and carriage returns. */
  screen: string
}

// CSI (colours, cursor moves, erase), OSC and two-byte escapes.

const ANSI = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-Z\\-_]/g

export function stripAnsi(text: string): string {
  return text.replace(ANSI, '').replace(/\r/g, '')
}

export function hasEscapes(text: string): boolean {
  return text.includes('\u001b')
}

const sq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`

/** A clean terminal session's environment: no CI, no NO_COLOR, no inherited xmppadm settings. */
function terminalEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (
      /^(CI|NO_COLOR|FORCE_COLOR|NODE_OPTIONS|TERM|COLUMNS|LINES)$/.test(k) ||
      k.startsWith('XMPPADM_') ||
      k.startsWith('VITEST') ||
      k.startsWith('npm_')
    )
      continue
    env[k] = v
  }
  env.TERM = 'xterm-256color'
  env.LANG = env.LANG ?? 'C.UTF-8'
  env.XDG_CONFIG_HOME = join(ptyScratch, 'config')
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k]
    else env[k] = v
  }
  return env
}

export class PtySession {
  raw = ''
  readonly exited: Promise<PtyExit>
  private readonly child: ChildProcess
  private waiters: Array<() => void> = []
  private done = false

  constructor(args: string[], opts: PtyOptions = {}) {
    const cmd = [
      `stty cols ${opts.cols ?? 120} rows ${opts.rows ?? 40} 2>/dev/null`,
      `${opts.stdinCommand ? `${opts.stdinCommand} | ` : ''}exec node ${[BIN, ...args].map(sq).join(' ')}` +
        (opts.stdoutFile ? ` > ${sq(opts.stdoutFile)}` : '') +
        (opts.stderrFile ? ` 2> ${sq(opts.stderrFile)}` : ''),
    ].join('; ')
    // -q: no start/done lines; -e: exit with the child's code; -f: flush at once; no typescript file.
    this.child = spawn('script', ['-qefc', cmd, '/dev/null'], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: terminalEnv(opts.env),
    })
    this.child.stdout!.setEncoding('utf8')
    this.child.stdout!.on('data', (d: string) => {
      this.raw += d
      this.wake()
    })
    let scriptErr = ''
    this.child.stderr!.on('data', (d) => {
      scriptErr += d
    })
    this.child.stdin!.on('error', () => {})
    const timer = setTimeout(() => this.hangUp(), opts.timeout ?? 60_000)
    this.exited = new Promise((resolve, reject) => {
      this.child.once('error', reject)
      this.child.once('close', (code, signal) => {
        clearTimeout(timer)
        this.done = true
        this.wake()
        if (scriptErr.trim()) this.raw += `\n[script: ${scriptErr.trim()}]`
        resolve({exitCode: code ?? 128 + (signal ? 15 : 0), raw: this.raw, screen: this.screen})
      })
    })
  }

  /** What the terminal shows, without escape sequences. */
  get screen(): string {
    return stripAnsi(this.raw)
  }

  /** The pid of `script`; the CLI is its child, in its own session on the pty. */
  get pid(): number | undefined {
    return this.child.pid
  }

  private wake(): void {
    const w = this.waiters
    this.waiters = []
    for (const f of w) f()
  }

  /** Waits until the screen (from offset `since` on) matches; fails with what was shown. */
  async waitFor(
    pattern: RegExp | string,
    opts: {timeout?: number; since?: number} = {},
  ): Promise<RegExpMatchArray> {
    const deadline = Date.now() + (opts.timeout ?? 20_000)
    const re =
      typeof pattern === 'string' ? new RegExp(pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : pattern
    for (;;) {
      const m = this.screen.slice(opts.since ?? 0).match(re)
      if (m) return m
      if (this.done)
        throw new Error(`the CLI exited before ${re} appeared; the terminal showed:\n${this.screen}`)
      const left = deadline - Date.now()
      if (left <= 0)
        throw new Error(
          `${re} did not appear within ${opts.timeout ?? 20_000} ms; the terminal showed:\n${this.screen}`,
        )
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 250))
        this.waiters.push(() => {
          clearTimeout(t)
          resolve()
        })
      })
    }
  }

  /** Offset for `waitFor(…, {since})`: only what appears after now. */
  mark(): number {
    return this.screen.length
  }

  /** Types text into the terminal (use '\r' for Enter, '\u0003' for Ctrl-C). */
  type(text: string): void {
    this.child.stdin!.write(text)
  }

  /** Types slowly, a key at a time, as a person (some prompts read key events one by one). */
  async typeSlowly(text: string, delayMs = 15): Promise<void> {
    for (const ch of text) {
      this.type(ch)
      await new Promise((r) => setTimeout(r, delayMs))
    }
  }

  /** Closes the terminal: the CLI gets SIGHUP. */
  hangUp(): void {
    if (this.done) return
    this.child.stdin!.end()
    this.child.kill('SIGTERM')
  }
}

export function spawnPty(args: string[], opts: PtyOptions = {}): PtySession {
  return new PtySession(args, opts)
}

/** Runs to the end without typing anything. */
export async function runPty(args: string[], opts: PtyOptions = {}): Promise<PtyExit> {
  return spawnPty(args, opts).exited
}
