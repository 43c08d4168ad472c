import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.js'
import {XmppadmError, exitCodeName} from '../../errors.js'
import {debugLogOff, debugLogStatus} from '../../ops/debug-log.js'
import {loadPolicy} from '../../ops/policy.js'
import {purgeOffline, purgeUploads} from '../../ops/purge.js'
import {formatDuration} from '../../ops/values.js'

interface RuleResult {
  rule: string
  status: 'done' | 'unavailable' | 'failed' | 'unchanged'
  count?: number | null
  bytes?: number | null
  message?: string
  code?: number
}

export default class PolicyApply extends BaseCommand<typeof PolicyApply> {
  static override summary =
    'Apply a retention policy file: purge offline messages and uploads past their age, make sure debug logging is off.'
  static override description = `The policy file has one rule a line:
  offline = 7d      # delete offline messages older than 7 days
  uploads = 14d     # delete uploaded files older than 14 days
  debug_log = off   # switch debug logging off (and wipe its log) if it is on
Every rule runs even if another fails. Exit 0 when all rules were applied, 2 when some were (the JSON result says which), otherwise the code of the failure. A rule the server cannot do fails with exit 69, unless --skip-unavailable.`
  static override args = {
    file: Args.string({description: 'Policy file (- for stdin)', ignoreStdin: true, required: true}),
  }
  static override flags = {
    'dry-run': Flags.boolean({
      char: 'n',
      summary: 'Count what the purges would delete; change nothing.',
      default: false,
    }),
    'skip-unavailable': Flags.boolean({
      summary: 'A rule this server cannot do is skipped with a warning, not a failure.',
    }),
  }
  static override examples = [
    {
      description: 'Hourly from cron, silent unless something fails',
      command: '0 * * * * xmppadm --profile prod policy apply /etc/xmppadm/retention.policy --quiet',
    },
  ]

  async run() {
    const policy = loadPolicy(this.args.file)
    const ctx = await this.opContext()
    const results: RuleResult[] = []
    const attempt = async (rule: string, fn: () => Promise<Omit<RuleResult, 'rule'>>) => {
      try {
        const r = {rule, ...(await fn())}
        results.push(r)
        this.ui.out(
          `${rule}: ${r.status}${r.count !== undefined && r.count !== null ? ` (${r.count}${r.bytes !== undefined && r.bytes !== null ? `, ${r.bytes} bytes` : ''})` : ''}`,
        )
      } catch (error) {
        const e =
          error instanceof XmppadmError ? error : new XmppadmError('internal', 'internal', String(error))
        const skipped = e.exitCode === 69 && this.flags['skip-unavailable']
        results.push({
          rule,
          status: e.exitCode === 69 ? 'unavailable' : 'failed',
          message: e.message,
          code: e.exitCode,
        })
        if (skipped) this.ui.warn(`${rule}: skipped: ${e.message}`)
        else this.ui.error(`${rule}: ${e.message}`, e.hint)
      }
    }
    const dry = this.flags['dry-run']
    if (policy.offlineSec !== undefined) {
      await attempt(`offline older than ${formatDuration(policy.offlineSec)}`, async () => {
        const r = await purgeOffline(ctx, policy.offlineSec!, dry)
        for (const n of r.notes) this.ui.warn(n)
        return {status: 'done', count: r.count}
      })
    }
    if (policy.uploadsSec !== undefined) {
      await attempt(`uploads older than ${formatDuration(policy.uploadsSec)}`, async () => {
        const r = await purgeUploads(ctx, policy.uploadsSec!, dry)
        return {status: 'done', count: r.count, bytes: r.bytes}
      })
    }
    if (policy.debugLog) {
      await attempt('debug logging off', async () => {
        const state = await debugLogStatus(ctx)
        if (!state.active) return {status: 'unchanged'}
        if (!dry) await debugLogOff(ctx)
        return {status: 'done'}
      })
    }
    const failed = results.filter(
      (r) => r.status === 'failed' || (r.status === 'unavailable' && !this.flags['skip-unavailable']),
    )
    if (failed.length) {
      const applied = results.length - failed.length
      if (applied === 0 && failed.every((f) => f.code === failed[0].code)) {
        this.outcome = new XmppadmError(
          exitCodeName(failed[0].code!),
          'policy-failed',
          `no rule could be applied: ${failed[0].message}`,
        )
      } else {
        this.outcome = new XmppadmError(
          'partial',
          'partial',
          `${failed.length} of ${results.length} rules failed`,
        )
      }
    }
    return {file: this.args.file, dryRun: dry, rules: results}
  }
}
