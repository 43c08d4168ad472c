// Every xmppadm command extends this: the connection flags, --json, one error-to-exit-code path,
// and the admin session (opened on demand, closed at the end).
import {X509Certificate} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {Command, Errors, Flags, type Interfaces} from '@oclif/core'
import {resolvePassword} from './config/credentials.js'
import {type Profile, loadProfile} from './config/profile.js'
import {ExitCode, XmppadmError, configError, usageError} from './errors.js'
import {Spinner} from './output/spinner.js'
import {Ui} from './output/ui.js'
import {redact, redactValue} from './secrets.js'
import {describeParseError, flagSource} from './usage.js'
import type {Session} from './xmpp/session.js'

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<
  (typeof BaseCommand)['baseFlags'] & T['flags']
>
export type BaseArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>

const CONNECTION = 'CONNECTION'
const OUTPUT = 'OUTPUT'

export abstract class BaseCommand<T extends typeof Command> extends Command {
  static override enableJsonFlag = true

  static override baseFlags = {
    profile: Flags.string({
      char: 'p',
      summary: 'Profile to use: $XDG_CONFIG_HOME/xmppadm/NAME.conf (default: "default" if it exists).',
      env: 'XMPPADM_PROFILE',
      helpGroup: CONNECTION,
    }),
    jid: Flags.string({
      char: 'j',
      summary: 'Admin account JID to log in as.',
      env: 'XMPPADM_JID',
      helpGroup: CONNECTION,
    }),
    server: Flags.string({
      char: 's',
      summary: 'Connect to host[:port] (STARTTLS) or xmpps://host[:port] (direct TLS) instead of DNS SRV.',
      env: 'XMPPADM_SERVER',
      helpGroup: CONNECTION,
    }),
    to: Flags.string({
      summary: "JID that offers the commands (default: the admin JID's domain), e.g. sess-man@example.org.",
      env: 'XMPPADM_TO',
      helpGroup: CONNECTION,
    }),
    'password-file': Flags.string({
      summary: 'Read the admin password from this file (first line), or - for stdin.',
      env: 'XMPPADM_PASSWORD_FILE',
      helpGroup: CONNECTION,
    }),
    'ca-file': Flags.string({
      summary: 'Trust only the CA certificates in this PEM file (for a private CA).',
      env: 'XMPPADM_CA_FILE',
      helpGroup: CONNECTION,
    }),
    insecure: Flags.boolean({
      summary: 'Do not verify the server certificate (prints a warning every time).',
      helpGroup: CONNECTION,
    }),
    'allow-plain': Flags.boolean({
      summary: 'Allow SASL PLAIN (over TLS) when the server offers no SCRAM.',
      helpGroup: CONNECTION,
    }),
    timeout: Flags.integer({
      summary: 'Seconds to wait for connect, login and each answer.',
      env: 'XMPPADM_TIMEOUT',
      min: 1,
      max: 3600,
      helpGroup: CONNECTION,
    }),
    debug: Flags.boolean({
      summary: 'Trace the XML stream on stderr (passwords and SASL data redacted).',
      helpGroup: OUTPUT,
    }),
    quiet: Flags.boolean({
      char: 'q',
      summary:
        'No messages: no progress, summaries or lines saying what was done. What you asked to see (lists, tables, exports, dry runs) still prints, and so do errors.',
      helpGroup: OUTPUT,
    }),
    'no-color': Flags.boolean({
      summary: 'No colour (also: NO_COLOR set, or stderr not a terminal).',
      helpGroup: OUTPUT,
    }),
    'no-input': Flags.boolean({
      summary: 'Never prompt; a missing input is an error (also when CI is set or stdin is not a terminal).',
      helpGroup: OUTPUT,
    }),
  }

  protected flags!: BaseFlags<T>
  protected args!: BaseArgs<T>
  protected ui!: Ui
  private session?: Session
  private profileCache?: Profile | null
  protected readonly abort = new AbortController()
  /** Set by commands that stop by themselves on abort (no forced exit after 5 s). */
  protected graceful = false

  public override async init(): Promise<void> {
    await super.init()
    // Until flags are parsed, errors still need a Ui.
    this.ui = new Ui({json: this.jsonEnabled(), quiet: false, noColor: false, noInput: false})
    const {args, argv, flags} = await this.parse({
      flags: this.ctor.flags,
      baseFlags: (super.ctor as typeof BaseCommand).baseFlags,
      enableJsonFlag: this.ctor.enableJsonFlag,
      args: this.ctor.args,
      strict: this.ctor.strict,
    }).catch((error: unknown) => {
      // oclif's messages lose the flag or argument on the way: say which, and what is wrong.
      throw (
        describeParseError(error, {
          id: this.id,
          argv: this.argv,
          flags: {...(super.ctor as typeof BaseCommand).baseFlags, ...this.ctor.flags},
          args: this.ctor.args,
        }) ?? error
      )
    })
    this.flags = flags as BaseFlags<T>
    this.args = args as BaseArgs<T>
    // For the test that keeps the lite parser (src/lite) identical to oclif's: print and stop.
    if (process.env.XMPPADM_PARSE_ONLY) {
      process.stderr.write(`${JSON.stringify({via: this.config ? 'oclif' : 'lite', args, argv, flags})}\n`)
      this.exit(0)
    }
    this.ui = new Ui({
      json: this.jsonEnabled(),
      quiet: Boolean(this.flags.quiet),
      noColor: Boolean(this.flags['no-color']),
      noInput: Boolean(this.flags['no-input']),
    })
    // First Ctrl-C: stop taking new work and cancel open command sessions; the command finishes
    // what is in flight and reports. If it has not ended in 5 s, or on a second Ctrl-C: exit 130.
    const interrupt = (signal: NodeJS.Signals) => {
      if (this.abort.signal.aborted) process.exit(130)
      this.abort.abort()
      if (!this.ui.settings.json)
        process.stderr.write(`\n${signal}: stopping after the work in flight (again to quit now)\n`)
      // Bulk commands finish in-flight items and write their failed-lines file however long it takes.
      if (!this.graceful) setTimeout(() => process.exit(130), 5000).unref()
    }
    process.on('SIGINT', interrupt)
    process.on('SIGTERM', interrupt)
  }

  protected get profile(): Profile | undefined {
    if (this.profileCache === undefined) {
      const name = this.flags.profile
      this.profileCache = (name ? loadProfile(name) : loadProfile('default', true)) ?? null
    }
    return this.profileCache ?? undefined
  }

  protected get timeoutMs(): number {
    return (this.flags.timeout ?? this.profile?.timeout ?? 10) * 1000
  }

  /** The admin session, opened on first use. */
  protected async connect(): Promise<Session> {
    if (this.session) return this.session
    const options = await this.connectionSettings()
    const {Session} = await import('./xmpp/session.js')
    const spinner = this.spinner()
    const serverSpec = this.flags.server ?? this.profile?.server
    spinner.start(`connecting to ${serverSpec ?? options.jid.split('@').pop()} as ${options.jid}`)
    try {
      this.session = await Session.open(options)
    } finally {
      spinner.stop()
    }
    if (this.session.info.mechanism === 'PLAIN')
      this.ui.warn(
        'logged in with SASL PLAIN (--allow-plain): the password was sent to the server as is, inside TLS',
        true,
      )
    return this.session
  }

  /** What a connection needs (JID, password, CA, endpoint, timeout…), resolved once. */
  protected connectionSettings(): Promise<import('./xmpp/session.js').SessionOptions> {
    this.settingsCache ??= this.resolveConnectionSettings().then((o) => (this.sessionOptions = o))
    return this.settingsCache
  }

  private settingsCache?: Promise<import('./xmpp/session.js').SessionOptions>

  private async resolveConnectionSettings(): Promise<import('./xmpp/session.js').SessionOptions> {
    const profile = this.profile
    const jid = this.flags.jid ?? profile?.jid
    if (!jid) throw configError('no admin JID', 'pass --jid, set XMPPADM_JID, or put jid = ... in a profile')
    const insecure = Boolean(this.flags.insecure || profile?.insecure)
    if (insecure)
      this.ui.warn(
        '--insecure: the server certificate is NOT verified; anyone on the path can read and change this session',
        true,
      )
    const caFile = this.flags['ca-file'] ?? profile?.caFile
    const ca = caFile ? readCaFile(caFile) : undefined
    // Checked before a password prompt: a typo here should not cost typing the password first.
    const serverSpec = this.flags.server ?? profile?.server
    const {parseServer} = await import('./xmpp/endpoints.js')
    const endpoint = serverSpec
      ? parseServer(
          serverSpec,
          this.flags.server === undefined
            ? `${profile!.path}: server`
            : flagSource('server', this.argv, BaseCommand.baseFlags.server),
        )
      : undefined
    const password = await resolvePassword({
      passwordFile: this.flags['password-file'],
      envPassword: process.env.XMPPADM_PASSWORD,
      profilePasswordFile: profile?.passwordFile,
      profilePasswordCommand: profile?.passwordCommand,
      profilePassword: profile?.password,
      prompt: this.ui.interactive
        ? async () => (await import('./output/prompts.js')).promptPassword(`Password for ${jid}`)
        : undefined,
    })
    const trace = this.flags.debug
      ? (dir: 'in' | 'out', text: string) =>
          process.stderr.write(`${dir === 'in' ? 'RECV' : 'SEND'} ${text}\n`)
      : undefined
    return {
      jid,
      password,
      endpoint,
      ca,
      insecure,
      allowPlain: Boolean(this.flags['allow-plain'] || profile?.allowPlain),
      timeoutMs: this.timeoutMs,
      trace,
      localAddress: process.env.XMPPADM_BIND_ADDRESS || undefined,
    }
  }

  private sessionOptions?: import('./xmpp/session.js').SessionOptions
  private reconnecting?: Promise<Session>

  /**
   * A new session after the old one was lost (server restart, network): bounded retries with
   * exponential backoff. Concurrent callers share one attempt. Throws the last error when the
   * retries are used up.
   */
  protected async reconnect(retries: number, failed: Session): Promise<Session> {
    if (this.reconnecting) return this.reconnecting
    // Another job already replaced the session that failed: use the new one.
    if (this.session && this.session !== failed) return this.session
    const attempt = async (): Promise<Session> => {
      const {Session} = await import('./xmpp/session.js')
      this.session?.close()
      this.session = undefined
      let last: unknown
      for (let i = 0; i < retries && !this.abort.signal.aborted; i++) {
        const delay = Math.min(500 * 2 ** i, 8000)
        this.ui.info(`connection lost; reconnecting in ${delay / 1000} s (attempt ${i + 1} of ${retries})`)
        await new Promise((r) => setTimeout(r, delay))
        try {
          this.session = await Session.open(this.sessionOptions!)
          this.ui.info('reconnected')
          return this.session
        } catch (error) {
          last = error
        }
      }
      throw last ?? new XmppadmError('tempFail', 'interrupted', 'interrupted while reconnecting')
    }
    this.reconnecting = attempt().finally(() => {
      this.reconnecting = undefined
    })
    return this.reconnecting
  }

  /** A spinner for a wait; silent unless a person watches stderr (no --json, no --quiet). */
  protected spinner(): Spinner {
    return new Spinner(
      Boolean(process.stderr.isTTY) &&
        !this.ui.settings.quiet &&
        !this.ui.settings.json &&
        process.env.TERM !== 'dumb',
    )
  }

  /** The JID that offers the admin commands. */
  protected async target(): Promise<string> {
    const to = this.flags.to ?? this.profile?.to
    if (to) return to
    return (await this.connect()).domain
  }

  /** Session, target and what the server offers: what every operation needs. */
  protected async opContext() {
    const session = await this.connect()
    const to = await this.target()
    const {discover} = await import('./ops/context.js')
    const spinner = this.spinner()
    spinner.start(`asking ${to} what it offers`)
    try {
      return await discover(session, to, this.abort.signal)
    } finally {
      spinner.stop()
    }
  }

  /**
   * Destructive work: a person confirms on a terminal; a script must say --yes; --dry-run needs neither.
   */
  protected async confirmDestructive(what: string, opts: {yes?: boolean; dryRun?: boolean}): Promise<void> {
    if (opts.dryRun || opts.yes) return
    if (!this.ui.interactive)
      throw usageError(
        `refusing to ${what} without --yes (no prompts: not on a terminal, or --no-input or CI set)`,
        'add --yes, or --dry-run to see what would happen',
      )
    await this.confirmOnTerminal(`Really ${what}?`)
  }

  /** On a terminal, a person must say yes (a "no" ends the command: exit 64, nothing done). */
  protected async confirmOnTerminal(question: string): Promise<void> {
    if (!this.ui.interactive) return
    const {confirm} = await import('./output/prompts.js')
    if (!(await confirm(question)))
      throw new XmppadmError('usage', 'declined', 'nothing done: not confirmed (declined at the prompt)')
  }

  protected override async finally(err: Error | undefined): Promise<void> {
    if (!err && this.outcome) process.exitCode = this.outcome.exitCode
    this.session?.close()
    await super.finally(err)
  }

  /** Set by a command that finished but not fully (partly done): exit code and JSON "error". */
  public outcome?: XmppadmError

  protected override toSuccessJson(result: unknown): unknown {
    const e = this.outcome
    return redactValue({
      ok: !e,
      result,
      ...(e ? {error: {code: e.exitCode, reason: e.reason, message: e.message, hint: e.hint}} : {}),
      warnings: this.ui?.warnings.length ? this.ui.warnings : undefined,
    })
  }

  protected override toErrorJson(err: unknown): unknown {
    return errorEnvelope(normaliseError(err), this.ui?.warnings)
  }

  protected override async catch(err: Interfaces.CommandError): Promise<never> {
    if (err instanceof Errors.ExitError) throw err
    const e = normaliseError(err)
    if (this.jsonEnabled()) this.logJson(this.toErrorJson(e))
    else
      (this.ui ?? new Ui({json: false, quiet: false, noColor: false, noInput: true})).error(e.message, e.hint)
    if (e.exitCode === ExitCode.internal && process.env.XMPPADM_DEBUG_STACK)
      process.stderr.write(`${redact(String((err as Error).stack))}\n`)
    this.exit(e.exitCode)
  }
}

/**
 * The PEM certificates of a --ca-file. A file with none would make every server look untrusted
 * ("not issued by a trusted CA"), pointing at the server instead of the file: refuse it here.
 */
function readCaFile(path: string): string {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    throw new XmppadmError(
      'noInput',
      'no-input',
      `cannot read CA file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    )
  }
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? []
  if (!blocks.length)
    throw configError(
      `CA file ${path} holds no certificate`,
      'it must hold PEM certificates ("-----BEGIN CERTIFICATE-----"): the CA that signed the server certificate',
    )
  blocks.forEach((pem, i) => {
    try {
      new X509Certificate(pem)
    } catch (error) {
      throw configError(`CA file ${path}: certificate ${i + 1} is damaged (${(error as Error).message})`)
    }
  })
  return text
}

/** The --json document of a failure (redacted). */
export function errorEnvelope(e: XmppadmError, warnings?: string[]): unknown {
  return redactValue({
    ok: false,
    error: {
      code: e.exitCode,
      reason: e.reason,
      message: e.message,
      hint: e.hint,
      ...(e.details ? {details: e.details} : {}),
    },
    warnings: warnings?.length ? warnings : undefined,
  })
}

/** Any thrown value as an XmppadmError: oclif parse errors become usage errors, the rest internal. */
export function normaliseError(err: unknown): XmppadmError {
  if (err instanceof XmppadmError) return err
  const anyErr = err as {oclif?: {exit?: number}; message?: string; code?: string; name?: string}
  const parse = describeParseError(err)
  if (parse) return parse
  if (anyErr?.oclif?.exit !== undefined) {
    const first = String(anyErr.message ?? 'invalid usage').split('\n')[0]
    return usageError(first, 'see --help')
  }
  if (anyErr?.name === 'ExitPromptError' || anyErr?.name === 'AbortPromptError') {
    return new XmppadmError('tempFail', 'interrupted', 'interrupted at a prompt')
  }
  return new XmppadmError(
    'internal',
    'internal',
    `internal error: ${String(anyErr?.message ?? err).split('\n')[0]}`,
  )
}
