import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.js'
import {bulkEnv, checkSource} from '../../bulk/bulk-run.js'
import {parseArguments} from '../../bulk/lines.js'
import {blockArguments, blockFromFile, blockSettings, checkedRange} from '../../bulk/plans/block-ip.js'
import {bulkFlags} from '../../cli/flags.js'
import {blockIp} from '../../ops/block-ip.js'
import {BROADEST_IPV4, BROADEST_IPV6} from '../../ops/block-safety.js'
import {ready} from '../../ops/operation.js'

export default class BlockIp extends BaseCommand<typeof BlockIp> {
  static override summary = 'Block client connections from IP addresses or ranges (IPv4 and IPv6).'
  static override description =
    'A new client connection from a blocked address is refused and live sessions from it are ended at ' +
    'once. Blocks last until removed, or for --expires. Every address given as an argument is checked ' +
    'before anything is sent.\n' +
    `Safe by default: a range broader than /${BROADEST_IPV4} (IPv4) or /${BROADEST_IPV6} (IPv6), ` +
    'including IPv4-mapped forms such as ::ffff:0:0/96, is refused unless --allow-broad; a range that ' +
    'covers the address this connection comes from (which would lock you out) is refused unless ' +
    '--include-own-address. With either flag, a terminal still asks first. Addresses the server exempts ' +
    '(xmppadm_block_exempt on Prosody, block_exempt on ejabberd; loopback by default) stay reachable ' +
    'whatever is blocked: the way back in after a mistake (README "Recovering from a block"); the ' +
    'command warns when a new block covers one.\n' +
    'Bulk: --from-file FILE (or - for stdin, blocked as lines arrive), one address or range a line (# ' +
    'comments and blank lines skipped), streamed, in batches of up to 500 a command with several in ' +
    'flight (--concurrency); a bad or refused line fails on its own, and failed and unattempted lines go ' +
    'to the --failed-file. From a file on a terminal, the ranges the flags allow are confirmed once ' +
    'before the run.\n' +
    'Needs mod_xmppadm (Prosody or ejabberd; on an ejabberd cluster a block holds on every node): see ' +
    '"xmppadm capabilities". See also: block-ip list, block-ip remove.'
  static override strict = false
  static override args = {
    address: Args.string({
      description: 'Addresses or CIDR ranges, e.g. 203.0.113.7 198.51.100.0/24 2001:db8::/32',
      ignoreStdin: true,
    }),
  }
  static override flags = {
    expires: Flags.string({summary: 'Lift the block after this long: 30min, 12h, 7d, 2w, 1M…'}),
    reason: Flags.string({summary: 'Why (kept with the block, shown by block-ip list).'}),
    'allow-broad': Flags.boolean({
      summary:
        `Allow ranges broader than /${BROADEST_IPV4} (IPv4) or /${BROADEST_IPV6} (IPv6); asks first on a ` +
        'terminal.',
    }),
    'include-own-address': Flags.boolean({
      summary:
        "Allow a range that covers this connection's own address (locks you out); asks first on a terminal.",
    }),
    ...bulkFlags,
  }
  static override examples = [
    {
      description: 'Block a range for a day during an incident',
      command: '<%= config.bin %> block-ip 198.51.100.0/24 --expires 1d --reason "credential stuffing"',
    },
    {
      description: 'Block a list of addresses for good',
      command: '<%= config.bin %> block-ip --from-file bad-ips.txt --json',
    },
  ]

  async run() {
    const {flags, argList: args} = this
    checkSource(args, flags['from-file'], 'address', 'name addresses or ranges, or use --from-file')
    const s = blockSettings(flags)
    // Checked before connecting: every address, and every range too broad for the flags.
    const ranges = parseArguments(args, (a) => checkedRange(a, s))
    const block = await ready(await this.opContext(), blockIp)
    const connector = await this.connect()
    const own = connector.localAddress
    if (!flags['from-file']) return blockArguments(this.ui, block, ranges, s, own)
    return blockFromFile(bulkEnv(this, connector, args, flags), block, s, own)
  }
}
