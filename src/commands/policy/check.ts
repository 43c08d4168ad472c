import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.js'
import {XmppadmError, exitCodeName, usageError} from '../../errors.js'

const FORMATS = ['table', 'nagios'] as const

export default class PolicyCheck extends BaseCommand<typeof PolicyCheck> {
  static override summary =
    'Audit a live server against the promises of a policy file: TLS, passwords, archive, registration, retention, debug logging.'
  static override description = `From outside (as anyone on the network) and, logged in as the admin, from inside: TLS versions and certificates on the client ports (DNS SRV, --server or --c2s) and the server-to-server port where one is reachable, STARTTLS required, the SASL mechanisms offered after TLS, the SCRAM iteration count and whether passwords are stored as salted hashes (two real SCRAM logins; PLAIN is never sent), in-band registration (an unauthenticated sign-up with the admin's existing name: nothing is created), XEP-0313 as an account sees it and what its archive holds, the oldest offline messages and uploads (the purges' dry-run counts: mod_xmppadm), debug logging, the README's operations (block-ip, export-user, account delete), and what the server publishes (XEP-0157, XEP-0504).
Each check says pass, warn, fail, cannot tell (and why) or not applicable, with the evidence.
The policy file is the one policy apply reads; its optional audit lines (defaults in brackets): tls_min = 1.2|1.3 [1.2], plain = forbidden|allowed [forbidden], scram_min_iterations = N [4096], channel_binding = required|optional [optional], archive = none|allowed [none], registration = closed|open [closed], cert_warn_days = N [14], contacts = abuse, security… [none]; offline and uploads give the ages [7d, 14d]. Without a file: those defaults.
Exit 0 when no promise is broken, 83 when one is; when the admin login failed and nothing is broken, the login's code. --format nagios prints one line and exits 0 OK, 1 WARNING, 2 CRITICAL or 3 UNKNOWN.`
  static override args = {
    file: Args.string({
      description: 'Policy file (- for stdin); default: the promises listed above',
      ignoreStdin: true,
    }),
  }
  static override flags = {
    format: Flags.string({
      summary:
        'table (a terminal; tab-separated when piped) or nagios (one line; exit 0/1/2/3 as check plugins do).',
      options: [...FORMATS],
      default: 'table',
    }),
    c2s: Flags.string({
      summary:
        'A client endpoint to probe, host[:port] (STARTTLS) or xmpps://host[:port] (direct TLS); repeat for more (default: DNS SRV, or --server).',
      multiple: true,
    }),
    s2s: Flags.string({
      summary:
        'A server-to-server endpoint to probe, host[:port] or xmpps://host[:port]; repeat for more (default: DNS SRV, else the domain on 5269).',
      multiple: true,
    }),
  }
  static override examples = [
    '<%= config.bin %> --profile prod policy check /etc/xmppadm/privacy.policy',
    {
      description: 'As an Icinga/Nagios check, every hour',
      command:
        '<%= config.bin %> --profile monitor policy check /etc/xmppadm/privacy.policy --format nagios --no-input',
    },
  ]

  async run() {
    const nagios = this.flags.format === 'nagios'
    if (nagios && this.jsonEnabled()) throw usageError('--format nagios and --json cannot be used together')
    const [{readPolicyFile}, audit, {parseJid}] = await Promise.all([
      import('../../ops/policy.js'),
      import('../../audit/index.js'),
      import('../../xmpp/jid.js'),
    ])
    const file = this.args.file ? readPolicyFile(this.args.file) : undefined
    const settings = {...audit.DEFAULT_AUDIT, ...file?.audit}
    const ages = {
      offline: file?.rules.offline?.olderThanSeconds ?? audit.DEFAULT_RETENTION.offline,
      uploads: file?.rules.uploads?.olderThanSeconds ?? audit.DEFAULT_RETENTION.uploads,
    }
    const given = (kind: 'c2s' | 's2s') =>
      this.flags[kind]?.map((spec) => audit.parseProbeEndpoint(spec, kind, `--${kind}`))
    const c2s = given('c2s')
    const s2s = given('s2s')
    const conn = await this.connectionSettings()
    const domain = parseJid(conn.jid, 'admin JID').domain
    const started = performance.now()
    const admin = this.opContext()
    const endpoints = await audit.auditEndpoints(domain, {c2s, s2s, server: conn.endpoint})
    const results = await audit.runAudit({
      settings,
      ages,
      endpoints,
      probe: {
        domain,
        ca: conn.ca,
        timeoutMs: conn.timeoutMs,
        localAddress: conn.localAddress,
        trace: conn.trace,
        insecure: conn.insecure,
      },
      credentials: {username: parseJid(conn.jid).local!, password: conn.password},
      admin,
    })
    const seconds = (performance.now() - started) / 1000
    const summary = audit.summarise(results)
    const broken = audit.brokenPromises(results)
    if (nagios) {
      this.ui.data(audit.nagiosLine(domain, results, seconds))
      process.exitCode = audit.NAGIOS[audit.nagiosState(results)]
    } else if (!this.jsonEnabled()) {
      const plain = !process.stdout.isTTY
      const {renderTable} = await import('../../output/table.js')
      const table = await renderTable(
        ['promise', 'check', 'evidence', 'verdict'],
        audit.tableRows(results, settings, ages, plain),
        this.ui.color,
        plain ? undefined : audit.tableWidths(process.stdout.columns ?? 120),
      )
      this.ui.data(table)
      this.ui.info(
        `${domain}: ${broken.length ? `${broken.length} promise(s) broken: ${broken.join(', ')}` : 'no promise broken'}` +
          ` (${summary.pass} passed, ${summary.warn} warning(s), ${summary['cannot-tell']} cannot tell; ${seconds.toFixed(2)} s)`,
      )
    }
    const adminFailure = await admin.then(
      () => undefined,
      (error: unknown) => error,
    )
    if (!nagios) {
      if (broken.length)
        this.outcome = new XmppadmError(
          'broken',
          'promise-broken',
          `${broken.length} promise(s) broken: ${broken.join(', ')}`,
        )
      else if (adminFailure instanceof XmppadmError)
        this.outcome = new XmppadmError(
          exitCodeName(adminFailure.exitCode),
          adminFailure.reason,
          `the checks that need the admin login could not run: ${adminFailure.message}`,
          {hint: adminFailure.hint},
        )
      if (this.outcome && !this.jsonEnabled()) this.ui.error(this.outcome.message, this.outcome.hint)
    }
    return {
      domain,
      file: this.args.file ?? null,
      settings,
      ages,
      endpoints,
      promises: audit.promiseVerdicts(results, settings, ages),
      checks: results,
      summary,
      broken,
      seconds: Math.round(seconds * 1000) / 1000,
    }
  }

  /** With --format nagios, a failure is still one line on stdout, and UNKNOWN (3). */
  protected override async catch(
    err: Parameters<BaseCommand<typeof PolicyCheck>['catch']>[0],
  ): Promise<never> {
    const nagios =
      this.flags?.format === 'nagios' ||
      this.argv.some((a, i) => a === '--format=nagios' || (a === '--format' && this.argv[i + 1] === 'nagios'))
    if (!nagios || (err as {oclif?: {exit?: number}}).oclif?.exit === 0) return super.catch(err)
    const {normaliseError} = await import('../../base-command.js')
    const e = normaliseError(err)
    const {redact} = await import('../../secrets.js')
    process.stdout.write(`XMPP POLICY UNKNOWN - ${redact(e.message).replace(/\|/g, '/')}\n`)
    return this.exit(3)
  }
}
