import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.js'
import {fromArray, readLines} from '../../bulk/lines.js'
import {usageError} from '../../errors.js'
import {blockIps} from '../../ops/block-ip.js'
import {requireStrategy} from '../../ops/catalogue.js'
import {parseDuration, parseIpRange} from '../../ops/values.js'

export default class BlockIp extends BaseCommand<typeof BlockIp> {
  static override summary = 'Block client connections from IP addresses or ranges (IPv4 and IPv6).'
  static override description = `A new client connection from a blocked address is refused and live sessions from it are ended at once. Blocks last until removed, or for --expires. Every address is checked before anything is sent.
Needs mod_xmppadm (Prosody). ejabberd has no command to ban an address: see "xmppadm capabilities". See also: block-ip list, block-ip remove.`
  static override strict = false
  static override args = {address: Args.string({description: 'Addresses or CIDR ranges, e.g. 203.0.113.7 198.51.100.0/24 2001:db8::/32', ignoreStdin: true})}
  static override flags = {
    expires: Flags.string({summary: 'Lift the block after this long: 30m, 12h, 7d, 2w…'}),
    reason: Flags.string({summary: 'Why (kept with the block, shown by block-ip list).'}),
    'from-file': Flags.string({summary: 'Read addresses from this file, one a line (- for stdin).'}),
  }
  static override examples = [
    {description: 'Block a range for a day during an incident', command: '<%= config.bin %> block-ip 198.51.100.0/24 --expires 1d --reason "credential stuffing"'},
    {description: 'Block a list of addresses for good', command: '<%= config.bin %> block-ip --from-file bad-ips.txt --json'},
  ]

  async run() {
    const {argv, flags} = await this.parse(BlockIp)
    const inputs: string[] = []
    for await (const l of flags['from-file'] ? readLines(flags['from-file']) : fromArray(argv as string[])) inputs.push(l.text)
    if (!inputs.length) throw usageError('no address given', 'name addresses or ranges, or use --from-file')
    const ranges = inputs.map(parseIpRange)
    const expiresSec = flags.expires ? parseDuration(flags.expires, '--expires') : undefined
    const ctx = await this.opContext()
    await requireStrategy(ctx, 'block-ip')
    const out = await blockIps(ctx, ranges, {expiresSec, reason: flags.reason})
    for (const b of out.blocked) this.ui.out(`blocked ${b}${expiresSec ? ` for ${flags.expires}` : ''}`)
    if (out.sessionsClosed) this.ui.info(`${out.sessionsClosed} live session(s) from blocked addresses ended`)
    return {blocked: out.blocked, expiresInSeconds: expiresSec ?? null, reason: flags.reason ?? null, sessionsClosed: out.sessionsClosed}
  }
}
