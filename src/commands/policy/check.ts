import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.js'
import {Settled, normaliseError} from '../../cli/outcome.js'
import {usageError} from '../../errors.js'
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
    "the login's code. --format nagios prints one line and exits 0 OK, 1 WARNING, 2 CRITICAL or 3 UNKNOWN."
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
  }
  static override examples = [
    '<%= config.bin %> --profile prod policy check /etc/xmppadm/privacy.policy',
    {
      description: 'As an Icinga/Nagios check, every hour',
      command:
        '<%= config.bin %> --profile monitor policy check /etc/xmppadm/privacy.policy ' +
        '--format nagios --no-input',
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
