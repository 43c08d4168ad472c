import {BaseCommand} from '../base-command.js'
import {pagedStop, runPaged, settlePaged, walked} from '../cli/paged.js'
import {purgeUploads} from '../ops/purge.js'
import type {PageProgress} from '../ops/pages.js'
import {parseDuration} from '../ops/values.js'
import {hostsFlags, purgeFlags} from '../cli/flags.js'
import type {OpContext} from '../ops/context.js'

export default class PurgeUploads extends BaseCommand<typeof PurgeUploads> {
  static override summary = 'Delete uploaded files (HTTP upload) older than an age, with their records.'
  static override description =
    'Deletes files shared through HTTP File Upload (XEP-0363) that are older than --older-than, from ' +
    "disk and from the server's records, and reports how many and how many bytes. Needs mod_xmppadm " +
    "(Prosody, or ejabberd: the files under mod_http_upload's document root, aged by their " +
    'modification time); stock ejabberd has no remote command for it: see "xmppadm capabilities".\n' +
    'Paged like purge-offline: a progress bar on a terminal; Ctrl-C stops after the page in flight ' +
    '(exit 2) and a new run does the rest. ' +
    'With --all-hosts, every host follows its own pages at once, on one progress bar.'
  static override flags = {...purgeFlags, ...hostsFlags}
  static override examples = [
    {
      description: 'The 14-day promise, daily from cron',
      command: '<%= config.bin %> --profile prod purge-uploads --older-than 14d --quiet',
    },
  ]

  async run() {
    const seconds = parseDuration(this.flags['older-than'], '--older-than')
    const dryRun = this.flags['dry-run']
    const note = (p: PageProgress) => `records, ${p.counts.count} file(s) ${dryRun ? 'to delete' : 'deleted'}`
    const purge = async (ctx: OpContext, _warn: unknown, onPage: (p: PageProgress) => void) => {
      const r = await purgeUploads(ctx, {seconds, dryRun, onPage})
      return {
        result: r,
        text: `${r.dryRun ? 'would delete' : 'deleted'} ${r.count} file(s), ${r.bytes} bytes`,
        error: pagedStop(r, walked(r, 'records')),
      }
    }
    const hosts = await this.targetHosts()
    // A dry run's answer is the data asked for; a real run's line is a message (--quiet: none).
    if (hosts) return this.reportHosts(hosts, purge, {data: dryRun, paged: {label: 'purge-uploads ', note}})
    const ctx = await this.opContext()
    const {result, text} = await runPaged(this, 'purge-uploads ', note, (onPage) => purge(ctx, null, onPage))
    if (dryRun) this.ui.data(text)
    else this.ui.out(text)
    return settlePaged(this, result, walked(result, 'records'))
  }
}
