import {BaseCommand} from '../base-command.js'
import {purgeUploads} from '../ops/purge.js'
import {parseDuration} from '../ops/values.js'
import {hostsFlags, purgeFlags} from '../cli/flags.js'
import type {OpContext} from '../ops/context.js'

export default class PurgeUploads extends BaseCommand<typeof PurgeUploads> {
  static override summary = 'Delete uploaded files (HTTP upload) older than an age, with their records.'
  static override description =
    'Deletes files shared through HTTP File Upload (XEP-0363) that are older than --older-than, from ' +
    "disk and from the server's records, and reports how many and how many bytes. Needs mod_xmppadm " +
    "(Prosody, or ejabberd: the files under mod_http_upload's document root, aged by their " +
    'modification time); stock ejabberd has no remote command for it: see "xmppadm capabilities".'
  static override flags = {...purgeFlags, ...hostsFlags}
  static override examples = [
    {
      description: 'The 14-day promise, daily from cron',
      command: '<%= config.bin %> --profile prod purge-uploads --older-than 14d --quiet',
    },
  ]

  async run() {
    const seconds = parseDuration(this.flags['older-than'], '--older-than')
    const dry = this.flags['dry-run']
    const purge = async (ctx: OpContext) => {
      const r = await purgeUploads(ctx, seconds, dry)
      return {
        result: r,
        text: `${r.dryRun ? 'would delete' : 'deleted'} ${r.count} file(s), ${r.bytes} bytes`,
      }
    }
    const hosts = await this.targetHosts()
    if (hosts) return this.reportHosts(hosts, purge, {data: dry})
    const {result, text} = await purge(await this.opContext())
    if (dry) this.ui.data(text)
    else this.ui.out(text)
    return result
  }
}
