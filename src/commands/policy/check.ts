import {Args, Flags} from '@oclif/core'
import type {HostAudit} from '../../audit/hosts.js'
import type {AuditReport} from '../../audit/index.js'
import {BaseCommand} from '../../base-command.js'
import {hostsFlags} from '../../cli/flags.js'
import type {HostOutcome} from '../../cli/hosts.js'
import {Settled, normaliseError} from '../../cli/outcome.js'
import {ExitCode, usageError} from '../../errors.js'
import {redact} from '../../secrets.js'

export default class PolicyCheck extends BaseCommand<typeof PolicyCheck> {
  static override summary =
    'Audit a live server against the promises of a policy file: TLS, passwords, archive, registration, ' +
    'retention, debug logging.'
  static override description =
    'From outside (as anyone on the network) and, logged in as the admin, from inside: TLS versions and ' +
    'certificates on the client ports (DNS SRV, --server or --c2s) and the server-to-server port where ' +
    'one is reachable, STARTTLS required, the SASL mechanisms offered after TLS, the SCRAM iteration ' +
    'count and whether passwords are stored as salted hashes (two real SCRAM logins; PLAIN is never ' +
    "sent), in-band registration (an unauthenticated sign-up with the admin's existing name: nothing is " +
    "created), XEP-0313 as an account sees it and what every account's archive holds (mod_xmppadm; " +
    "without it, the admin's own only), the oldest offline messages " +
    "and uploads (the purges' dry-run counts: mod_xmppadm), debug logging, the README's operations " +
    '(block-ip, export-user, account delete), and what the server publishes (XEP-0157, XEP-0504).\n' +
    'Each check says pass, warn, fail, cannot tell (and why) or not applicable, with the evidence.\n' +
    'The policy file is the one policy apply reads; its optional audit lines (defaults in brackets): ' +
    'tls_min = 1.2|1.3 [1.2], plain = forbidden|allowed [forbidden], scram_min_iterations = N [4096], ' +
    'channel_binding = required|optional [optional], archive = none|allowed [none], ' +
    'archive_scan_seconds = N [20] (how long the walk over the archives may take), registration = ' +
    'closed|open [closed], cert_warn_days = N [14], contacts = abuse, security… [none]; offline and ' +
    'uploads give the ages [7d, 14d]. Without a file: those defaults.\n' +
    'Exit 0 when no promise is broken, 83 when one is; when the admin login failed and nothing is broken, ' +
    "the login's code. --format nagios prints one line and exits 0 OK, 1 WARNING, 2 CRITICAL or " +
    '3 UNKNOWN.\n' +
    'With --all-hosts (or --hosts), every virtual host the account administers, a few at a time: each ' +
    "host's ports probed with its own name (the stream's to, the TLS server name, its DNS SRV records), " +
    'registration tried with the name of an account listed on that host, the inside checks on that host; ' +
    "the SCRAM logins and whether XEP-0313 is offered are the admin account's, on its own domain. One " +
    "table with a host column; in --json one element per host; the exit is the worst host's (83 if any " +
    'host breaks a promise); --format nagios gives the worst state and names each host with its own.'
  static override args = {
    file: Args.string({
      description: 'Policy file (- for stdin); default: the promises listed above',
      ignoreStdin: true,
    }),
  }
  static override flags = {
    format: Flags.string({
      summary:
        'table (a terminal; tab-separated when piped) or nagios (one line; exit 0/1/2/3 as check ' +
        'plugins do).',
      options: ['table', 'nagios'],
      default: 'table',
    }),
    c2s: Flags.string({
      summary:
        'A client endpoint to probe, host[:port] (STARTTLS) or xmpps://host[:port] (direct TLS); repeat for ' +
        'more (default: DNS SRV, or --server).',
      multiple: true,
    }),
    s2s: Flags.string({
      summary:
        'A server-to-server endpoint to probe, host[:port] or xmpps://host[:port]; repeat for more ' +
        '(default: DNS SRV, else the domain on 5269).',
      multiple: true,
    }),
    ...hostsFlags,
  }
  static override examples = [
    '<%= config.bin %> --profile prod policy check /etc/xmppadm/privacy.policy',
    {
      description: 'As an Icinga/Nagios check, every hour',
      command:
        '<%= config.bin %> --profile monitor policy check /etc/xmppadm/privacy.policy ' +
        '--format nagios --no-input',
    },
    {
      description: 'Every domain of a multi-domain service, one monitoring line',
      command:
        '<%= config.bin %> --profile monitor policy check /etc/xmppadm/privacy.policy ' +
        '--all-hosts --format nagios --no-input',
    },
  ]

  async run() {
    const nagios = this.flags.format === 'nagios'
    if (nagios && this.jsonEnabled()) throw usageError('--format nagios and --json cannot be used together')
    const [{readPolicyFile}, audit] = await Promise.all([
      import('../../ops/policy.js'),
      import('../../audit/index.js'),
    ])
    const file = this.args.file ? readPolicyFile(this.args.file) : undefined
    const given = (kind: 'c2s' | 's2s') =>
      this.flags[kind]?.map((spec) => audit.parseProbeEndpoint(spec, kind, `--${kind}`))
    const [c2s, s2s] = [given('c2s'), given('s2s')]
    const {session: conn} = await this.connectionSettings()
    const hosts = await this.targetHosts()
    if (hosts) {
      const {auditHosts} = await import('../../audit/hosts.js')
      const started = performance.now()
      const req = {file, path: this.args.file, conn, c2s, s2s}
      const audits = await auditHosts(hosts, req, this.connect(), this.interrupts.signal)
      return this.reportAudits(audits, (performance.now() - started) / 1000, nagios)
    }
    const admin = this.opContext()
    const report = await audit.audit({file, path: this.args.file, conn, c2s, s2s, admin})
    if (nagios) {
      this.ui.data(report.nagios)
      process.exitCode = report.nagiosCode
    } else if (!this.jsonEnabled()) {
      const {renderTable} = await import('../../output/table.js')
      const plain = !process.stdout.isTTY
      const widths = plain ? undefined : audit.tableWidths(process.stdout.columns ?? 120)
      const rows = audit.tableRows(report.result.checks, report.result.settings, report.result.ages, plain)
      this.ui.data(
        await renderTable(['promise', 'check', 'evidence', 'verdict'], rows, this.ui.color, widths),
      )
      this.ui.info(report.summaryLine)
      if (report.error) this.ui.error(report.error.message, report.error.hint)
    }
    return new Settled(report.result, nagios ? undefined : report.error)
  }

  /** The report of several hosts: one table (a host column), one plugin line, or the per-host array. */
  private async reportAudits(audits: HostAudit[], seconds: number, nagios: boolean) {
    const [audit, {settleHosts}] = await Promise.all([
      import('../../audit/index.js'),
      import('../../cli/hosts.js'),
    ])
    const outcomes: Array<HostOutcome<AuditReport['result']>> = audits.map(({host, report, error}) => {
      const e = report?.error ?? error
      const code = e?.exitCode ?? ExitCode.ok
      return {
        host,
        ok: !e,
        code,
        text: report ? report.summaryText : `error: ${error!.message}`,
        ...(report ? {result: report.result} : {}),
        ...(e
          ? {error: {code, reason: e.reason, message: e.message, ...(e.hint ? {hint: e.hint} : {})}}
          : {}),
      }
    })
    const settled = settleHosts(outcomes, {file: this.args.file ?? null})
    if (nagios) {
      const {line, state} = audit.nagiosHostsLine(
        audits.map((a) => ({host: a.host, results: a.report?.result.checks, error: a.error?.message})),
        seconds,
      )
      this.ui.data(line)
      process.exitCode = audit.NAGIOS[state]
      return new Settled(settled.result)
    }
    if (!this.jsonEnabled()) {
      const {renderTable} = await import('../../output/table.js')
      const plain = !process.stdout.isTTY
      const hostWidth = Math.min(30, Math.max(6, ...audits.map((a) => a.host.length + 2)))
      const widths = plain
        ? undefined
        : [hostWidth, ...audit.tableWidths((process.stdout.columns ?? 120) - hostWidth - 1)]
      const rows = audits.flatMap(({host, report}) =>
        report
          ? audit
              .tableRows(report.result.checks, report.result.settings, report.result.ages, plain)
              .map((row) => [host, ...row])
          : [],
      )
      this.ui.data(
        await renderTable(['host', 'promise', 'check', 'evidence', 'verdict'], rows, this.ui.color, widths),
      )
      for (const o of outcomes) this.ui.info(`${o.host}: ${o.text}`)
      for (const o of outcomes) if (o.error) this.ui.error(`${o.host}: ${o.error.message}`, o.error.hint)
    }
    return settled
  }

  /** With --format nagios, a failure is still one line on stdout, and UNKNOWN (3). */
  protected override async catch(err: Parameters<BaseCommand<typeof PolicyCheck>['catch']>[0]) {
    const argv = this.argv
    const nagios =
      this.flags?.format === 'nagios' ||
      argv.some((a, i) => a === '--format=nagios' || (a === '--format' && argv[i + 1] === 'nagios'))
    if (!nagios || (err as {oclif?: {exit?: number}}).oclif?.exit === 0) return super.catch(err)
    const {nagiosUnknown, NAGIOS} = await import('../../audit/report.js')
    process.stdout.write(`${nagiosUnknown(redact(normaliseError(err).message))}\n`)
    return this.exit(NAGIOS.UNKNOWN)
  }
}
