import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.js'
import {hostsFlags} from '../../cli/flags.js'
import {Settled} from '../../cli/outcome.js'
import {ExitCode, XmppadmError, exitCodeName, knownError} from '../../errors.js'
import type {OpContext} from '../../ops/context.js'
import {debugLogOff, debugLogStatus} from '../../ops/debug-log.js'
import {type Policy, type Rule, type RuleKey, loadPolicy} from '../../ops/policy.js'
import {purgeOffline, purgeUploads} from '../../ops/purge.js'

type Status = 'done' | 'would-apply' | 'cannot-tell' | 'unchanged' | 'unavailable' | 'failed'

/** A purge stopped by Ctrl-C between its pages: the rule is partly applied. */
const stopped = (what: string, dry: boolean) =>
  new XmppadmError(
    'partial',
    'interrupted',
    `stopped (interrupted) after ${dry ? 'counting' : 'deleting'} ${what}: run it again to do the rest`,
  )

interface RuleResult {
  /** The rule's stable key: offline, uploads, debug_log. */
  rule: RuleKey
  /** Its value as written in the file. */
  value: string
  olderThanSeconds?: number
  status: Status
  count?: number | null
  bytes?: number | null
  message?: string
  code?: number
}

/** What a rule did (or, in a dry run, would do), in words after "offline = 7d: ". */
type Outcome = Pick<RuleResult, 'status' | 'count' | 'bytes'> & {text: string}

/** Where a run's lines go: printed as they come on one host, collected per host on several. */
interface Report {
  say(text: string): void
  warn(text: string): void
  error(text: string, hint?: string): void
}

export default class PolicyApply extends BaseCommand<typeof PolicyApply> {
  static override summary =
    'Apply a retention policy file: purge offline messages and uploads past their age, make sure ' +
    'debug logging is off.'
  static override description =
    'The policy file has one rule a line:\n' +
    '  offline = 7d      # delete offline messages older than 7 days\n' +
    '  uploads = 14d     # delete uploaded files older than 14 days\n' +
    '  debug_log = off   # switch debug logging off (and wipe its log) if it is on\n' +
    'Each rule at most once (a repeated rule is an error naming both lines); durations as for ' +
    '--older-than (1M is a month, 1m a minute). Every rule runs even if another fails. Exit 0 when all ' +
    'rules were applied, 2 when some were (the JSON result says which), otherwise the code of the ' +
    'failure. A rule the server cannot do fails with exit 69, unless --skip-unavailable; when that skips ' +
    'every rule, nothing is enforced and the exit is 82.\n' +
    'With --all-hosts (or --hosts), every rule on every host, concurrently: one crontab line for a ' +
    "multi-domain service; the exit is the worst host's.\n" +
    '--dry-run says what each rule would do: "would delete N", or "cannot tell" where the server cannot ' +
    'count (ejabberd); nothing changes.'
  static override args = {
    file: Args.string({description: 'Policy file (- for stdin)', ignoreStdin: true, required: true}),
  }
  static override flags = {
    'dry-run': Flags.boolean({
      char: 'n',
      summary: 'Say what each rule would do (counts where the server can tell); change nothing.',
      default: false,
    }),
    'skip-unavailable': Flags.boolean({
      summary:
        'A rule this server cannot do is skipped with a warning, not a failure (exit 82 if every ' +
        'rule is skipped).',
    }),
    ...hostsFlags,
  }
  static override examples = [
    {
      description: 'Hourly from cron, silent unless something fails',
      command: '0 * * * * xmppadm --profile prod policy apply /etc/xmppadm/retention.policy --quiet',
    },
    {
      description: 'The same for every domain the account administers, from one crontab line',
      command:
        '0 * * * * xmppadm --profile prod policy apply /etc/xmppadm/retention.policy --all-hosts --quiet',
    },
  ]

  async run() {
    const policy = loadPolicy(this.args.file)
    const dry = this.flags['dry-run']
    const hosts = await this.targetHosts()
    if (hosts) {
      const result = await this.reportHosts(
        hosts,
        async (ctx, warn) => {
          const lines: string[] = []
          const settled = await this.apply(ctx, policy, {
            say: (text) => lines.push(text),
            warn,
            error: (text) => lines.push(`${text} (failed)`),
          })
          return {result: settled.result, text: lines.join('; '), error: settled.error}
        },
        {data: dry},
      )
      return new Settled({file: this.args.file, dryRun: dry, ...result.result}, result.error)
    }
    // A dry run's answer is the data asked for; a real run's lines are messages (--quiet: none).
    return this.apply(await this.opContext(), policy, {
      say: (text) => (dry ? this.ui.data(text) : this.ui.out(text)),
      warn: (text) => this.ui.warn(text),
      error: (text, hint) => this.ui.error(text, hint),
    })
  }

  /** Every rule on one host, each whatever the others did; the lines go to `report`. */
  private async apply(ctx: OpContext, policy: Policy, report: Report) {
    const dry = this.flags['dry-run']
    const skip = this.flags['skip-unavailable']
    const results: RuleResult[] = []
    const attempt = async (rule: Rule | undefined, fn: (rule: Rule) => Promise<Outcome>) => {
      if (!rule) return
      const base = {
        rule: rule.key,
        value: rule.value,
        ...(rule.olderThanSeconds === undefined ? {} : {olderThanSeconds: rule.olderThanSeconds}),
      }
      const name = `${rule.key} = ${rule.value}`
      if (this.interrupts.signal.aborted) {
        results.push({
          ...base,
          status: 'failed',
          message: 'not attempted (interrupted)',
          code: ExitCode.partial,
        })
        return
      }
      try {
        // a purge ends its page in flight after a Ctrl-C: no forced exit meanwhile
        const {text, ...outcome} = await this.interrupts.finishing(() => fn(rule))
        results.push({...base, ...outcome})
        report.say(`${name}: ${text}`)
      } catch (error) {
        const e = knownError(error) ?? new XmppadmError('internal', 'internal', String(error))
        results.push({
          ...base,
          status: e.exitCode === ExitCode.unavailable ? 'unavailable' : 'failed',
          message: e.message,
          code: e.exitCode,
        })
        if (e.exitCode === ExitCode.unavailable && skip) report.warn(`${name}: skipped: ${e.message}`)
        else report.error(`${name}: ${e.message}`, e.hint)
      }
    }
    await attempt(policy.offline, async (rule) => {
      const r = await purgeOffline(ctx, {seconds: rule.olderThanSeconds!, dryRun: dry})
      for (const n of r.notes) report.warn(n)
      if (r.interrupted) throw stopped(`${r.count} offline message(s)`, dry)
      if (r.count === null)
        return dry
          ? {
              status: 'cannot-tell',
              count: null,
              text: 'cannot tell how many would go (the server cannot count)',
            }
          : {status: 'done', count: null, text: 'done (the server does not say how many)'}
      return {
        status: dry ? 'would-apply' : 'done',
        count: r.count,
        text: `${dry ? 'would delete' : 'deleted'} ${r.count} offline message(s)`,
      }
    })
    await attempt(policy.uploads, async (rule) => {
      const r = await purgeUploads(ctx, {seconds: rule.olderThanSeconds!, dryRun: dry})
      if (r.interrupted) throw stopped(`${r.count} file(s), ${r.bytes} bytes`, dry)
      return {
        status: dry ? 'would-apply' : 'done',
        count: r.count,
        bytes: r.bytes,
        text: `${dry ? 'would delete' : 'deleted'} ${r.count} file(s), ${r.bytes} bytes`,
      }
    })
    await attempt(policy.debug_log, async () => {
      const state = await debugLogStatus(ctx)
      if (!state.active) return {status: 'unchanged', text: 'already off'}
      if (dry) return {status: 'would-apply', text: 'would switch debug logging off'}
      await debugLogOff(ctx)
      return {status: 'done', text: 'switched debug logging off'}
    })
    return new Settled({file: this.args.file, dryRun: dry, rules: results}, this.judge(results, report))
  }

  /** The run's exit: 0, 2 (partly), the shared failure's code, or 82 when every rule was skipped. */
  private judge(results: RuleResult[], report: Report): XmppadmError | undefined {
    const skip = this.flags['skip-unavailable']
    if (skip && results.every((r) => r.status === 'unavailable')) {
      const e = new XmppadmError(
        'nothingApplied',
        'nothing-applied',
        `nothing was applied: this server can do none of the ${results.length} rule(s), all skipped`,
        {hint: 'see what would enable them: xmppadm capabilities'},
      )
      report.error(e.message, e.hint)
      return e
    }
    const failed = results.filter((r) => r.status === 'failed' || (r.status === 'unavailable' && !skip))
    if (!failed.length) return undefined
    if (failed.length === results.length && failed.every((f) => f.code === failed[0].code))
      return new XmppadmError(
        exitCodeName(failed[0].code!),
        'policy-failed',
        `no rule could be applied: ${failed[0].message}`,
      )
    return new XmppadmError('partial', 'partial', `${failed.length} of ${results.length} rules failed`)
  }
}
