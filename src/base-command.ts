// Every xmppadm command extends this: the oclif life cycle (parse, run, catch, finally), where text
// goes (Ui), Ctrl-C, the admin session on demand, and the --json envelope. What a command does
// lives in the command; how it connects, in src/connect/.
import {Command, Errors, type Interfaces} from '@oclif/core'
import {globalFlags} from './cli/flags.js'
import type {HostOutcome, HostWork} from './cli/hosts.js'
import {Interrupts} from './cli/interrupts.js'
import {Settled, errorEnvelope, normaliseError, successEnvelope} from './cli/outcome.js'
import type {Connector} from './connect/connector.js'
import type {ConnectionSettings} from './connect/options.js'
import {ExitCode} from './errors.js'
import type {OpContext} from './ops/context.js'
import type {PageProgress} from './ops/pages.js'
import {spinnerFor} from './output/spinner.js'
import {Ui} from './output/ui.js'
import {redact} from './secrets.js'
import {describeParseError} from './usage.js'

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<
  (typeof BaseCommand)['baseFlags'] & T['flags']
>
export type BaseArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>

export abstract class BaseCommand<T extends typeof Command> extends Command {
  static override enableJsonFlag = true
  static override baseFlags = globalFlags

  protected flags!: BaseFlags<T>
  protected args!: BaseArgs<T>
  /** Every argument given (a command with `strict = false` takes any number). */
  protected argList: string[] = []
  // Until flags are parsed, errors still need a Ui.
  ui = new Ui({json: false, quiet: false, noColor: false, noInput: true})
  readonly interrupts = new Interrupts()
  private connection?: Promise<Connector>
  private settings?: Promise<ConnectionSettings>

  public override async init(): Promise<void> {
    await super.init()
    this.ui = new Ui({json: this.jsonEnabled(), quiet: false, noColor: false, noInput: false})
    const input = parseInput(this.ctor)
    const {args, argv, flags} = await this.parse(input).catch((error: unknown) => {
      // oclif's messages lose the flag or argument on the way: say which, and what is wrong.
      const flagDefs = {...input.baseFlags, ...input.flags}
      throw (
        describeParseError(error, {id: this.id, argv: this.argv, flags: flagDefs, args: input.args}) ?? error
      )
    })
    this.flags = flags as BaseFlags<T>
    this.args = args as BaseArgs<T>
    this.argList = argv as string[]
    this.ui = new Ui({
      json: this.jsonEnabled(),
      quiet: Boolean(this.flags.quiet),
      noColor: Boolean(this.flags['no-color']),
      noInput: Boolean(this.flags['no-input']),
    })
    this.interrupts.install(this.ui)
  }

  /** The admin session: connected on first use (options resolved once), closed at the end. */
  protected connect(): Promise<Connector> {
    this.connection ??= (async () => {
      const {Connector} = await import('./connect/connector.js')
      return Connector.open(await this.connectionSettings(), this.ui, this.interrupts.signal)
    })()
    return this.connection
  }

  /** What a connection needs (JID, password, CA, endpoint, timeout…), resolved once. */
  protected connectionSettings(): Promise<ConnectionSettings> {
    this.settings ??= (async () => {
      const {resolveConnection} = await import('./connect/options.js')
      return resolveConnection(this.flags, {argv: this.argv, flags: BaseCommand.baseFlags}, this.ui)
    })()
    return this.settings
  }

  /** The session, the JID offering the commands and what it offers: what every operation needs. */
  protected async opContext(): Promise<OpContext> {
    const connector = await this.connect()
    const {discover} = await import('./ops/context.js')
    const spinner = spinnerFor(this.ui)
    spinner.start(`asking ${connector.to} what it offers`)
    try {
      const {to, admin} = connector
      return await discover(connector, {to, admin, signal: this.interrupts.signal})
    } finally {
      spinner.stop()
    }
  }

  /**
   * The hosts of --all-hosts / --hosts (src/cli/hosts.ts), or undefined for the usual single host
   * (--to, default the account's domain).
   */
  protected async targetHosts(): Promise<string[] | undefined> {
    const flags = this.flags as {'all-hosts'?: boolean; hosts?: string}
    if (!flags['all-hosts'] && flags.hosts === undefined) return undefined
    const {targetHosts} = await import('./cli/hosts.js')
    return targetHosts(flags, () => this.connect(), this.interrupts.signal)
  }

  /**
   * Runs `work` on each host and reports once: a table naming each host's result (`data`: what was
   * asked to see, else a message --quiet silences), every failure on stderr, and in --json the
   * per-host array; the exit is the worst host's.
   */
  protected async reportHosts<R>(
    hosts: string[],
    work: (
      ctx: OpContext,
      warn: (msg: string) => void,
      onPage: (p: PageProgress) => void,
    ) => Promise<HostWork<R>>,
    o: {
      data: boolean
      render?: (outcomes: Array<HostOutcome<R>>, color: boolean) => Promise<string>
      /** Paged work (src/cli/paged.ts): one progress bar for all hosts, each ending its page on Ctrl-C. */
      paged?: {label: string; note: (p: PageProgress) => string}
    },
  ) {
    const {hostsTable, runOnHosts, settleHosts} = await import('./cli/hosts.js')
    const connector = await this.connect()
    const run = (onPage: (host: string) => (p: PageProgress) => void) =>
      runOnHosts(connector, hosts, this.interrupts.signal, (ctx, warn) => work(ctx, warn, onPage(ctx.to)))
    let outcomes: Array<HostOutcome<R>>
    if (o.paged) {
      const {runPagedMany} = await import('./cli/paged.js')
      outcomes = await runPagedMany(this, o.paged.label, o.paged.note, run)
    } else outcomes = await run(() => () => {})
    for (const x of outcomes) for (const w of x.warnings ?? []) this.ui.warn(`${x.host}: ${w}`)
    if (!this.jsonEnabled()) {
      const table = await (o.render ?? hostsTable)(outcomes, this.ui.color)
      if (o.data) this.ui.data(table)
      else this.ui.out(table)
      for (const x of outcomes) if (x.error) this.ui.error(`${x.host}: ${x.error.message}`, x.error.hint)
    }
    return settleHosts(outcomes)
  }

  /** A run that returned Settled with an error (partly done) exits with that error's code. */
  public override async _run<R>(): Promise<R> {
    const returned = await super._run<R>()
    if (returned instanceof Settled && returned.error) process.exitCode = returned.error.exitCode
    return returned
  }

  protected override async finally(err: Error | undefined): Promise<void> {
    await this.connection?.then((c) => c.close()).catch(() => undefined)
    await super.finally(err)
  }

  protected override toSuccessJson(result: unknown): unknown {
    return successEnvelope(result, this.ui.warnings)
  }

  protected override toErrorJson(err: unknown): unknown {
    return errorEnvelope(normaliseError(err), this.ui.warnings)
  }

  protected override async catch(err: Interfaces.CommandError): Promise<never> {
    if (err instanceof Errors.ExitError) throw err
    const e = normaliseError(err)
    if (this.jsonEnabled()) this.logJson(this.toErrorJson(e))
    else this.ui.error(e.message, e.hint)
    // A bug: --debug shows where.
    if (e.exitCode === ExitCode.internal && this.flags?.debug)
      process.stderr.write(`${redact(String((err as Error).stack))}\n`)
    this.exit(e.exitCode)
  }
}

/** What init() hands the parser for a command class (also what the lite-parity test parses with). */
export function parseInput(ctor: typeof Command) {
  const {flags, args, strict, enableJsonFlag} = ctor
  return {flags: flags ?? {}, args: args ?? {}, strict, enableJsonFlag, baseFlags: globalFlags}
}
