// Every flag that more than one command takes, defined once: the connection and output flags of
// every command (BaseCommand.baseFlags), the bulk flags, the purge flags. argv.ts reads the
// global ones to let them come before the command.
import {Flags} from '@oclif/core'

const CONNECTION = 'CONNECTION'
const OUTPUT = 'OUTPUT'
const BULK = 'BULK'
const HOSTS = 'HOSTS'

export const globalFlags = {
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
  'source-address': Flags.string({
    summary:
      "Connect from this local address (one of this machine's, e.g. on a host with several): what the " +
      'server sees, and what block-ip protects.',
    env: 'XMPPADM_SOURCE_ADDRESS',
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
    summary:
      'Trace the XML stream on stderr (passwords and SASL data redacted); an internal error shows its ' +
      'stack.',
    helpGroup: OUTPUT,
  }),
  quiet: Flags.boolean({
    char: 'q',
    summary:
      'No messages: no progress, summaries or lines saying what was done. What you asked to see (lists, ' +
      'tables, exports, dry runs) still prints, and so do errors.',
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

export const bulkFlags = {
  retries: Flags.integer({
    summary:
      'Reconnect this many times (with backoff) when the connection is lost during a run; 0 stops at ' +
      'once.',
    default: 5,
    min: 0,
    max: 100,
    helpGroup: BULK,
  }),
  'from-file': Flags.string({
    summary: 'Read items from this file, one a line (- for stdin).',
    helpGroup: BULK,
  }),
  concurrency: Flags.integer({
    summary: 'Commands in flight at once on the connection.',
    default: 8,
    min: 1,
    max: 256,
    helpGroup: BULK,
  }),
  'failed-file': Flags.string({
    summary: 'Write failed and unattempted lines here for a re-run (default: FROM-FILE.failed).',
    helpGroup: BULK,
  }),
}

export const purgeFlags = {
  'older-than': Flags.string({
    summary:
      'Delete what is older than this: 90min, 36h, 7d, 2w, 1M (a month; m is a minute), 1y (must be ' +
      'more than zero).',
    required: true,
  }),
  'dry-run': Flags.boolean({
    char: 'n',
    summary: 'Count what would be deleted (printed even with --quiet); delete nothing.',
    default: false,
  }),
}

/** The flags of the operations that make sense per virtual host (src/cli/hosts.ts). */
export const hostsFlags = {
  'all-hosts': Flags.boolean({
    summary:
      'Run on every virtual host this account administers, as the server module lists them (asked on ' +
      "--to, default the account's domain): concurrently on one connection, one report, the worst " +
      "host's exit code.",
    exclusive: ['hosts'],
    helpGroup: HOSTS,
  }),
  hosts: Flags.string({
    summary:
      'Run on these virtual hosts (comma-separated) as --all-hosts does: for a server without the ' +
      'xmppadm server module, which alone can list them, or to pick some.',
    exclusive: ['all-hosts'],
    helpGroup: HOSTS,
  }),
}
