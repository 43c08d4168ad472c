import {BaseCommand} from '../base-command.js'
import {runPaged, settlePaged, walked} from '../cli/paged.js'
import {purgeUploads} from '../ops/purge.js'
import {parseDuration} from '../ops/values.js'
import {purgeFlags} from '../cli/flags.js'

export default class PurgeUploads extends BaseCommand<typeof PurgeUploads> {
  static override summary = 'Delete uploaded files (HTTP upload) older than an age, with their records.'
  static override description =
    'Deletes files shared through HTTP File Upload (XEP-0363) that are older than --older-than, from ' +
    "disk and from the server's records, and reports how many and how many bytes. Needs mod_xmppadm " +
    "(Prosody, or ejabberd: the files under mod_http_upload's document root, aged by their " +
    'modification time); stock ejabberd has no remote command for it: see "xmppadm capabilities".\n' +
    'Paged like purge-offline: a progress bar on a terminal; Ctrl-C stops after the page in flight ' +
    '(exit 2) and a new run does the rest.'
  static override flags = purgeFlags
  static override examples = [
    {
      description: 'The 14-day promise, daily from cron',
      command: '<%= config.bin %> --profile prod purge-uploads --older-than 14d --quiet',
    },
  ]

  async run() {
    const seconds = parseDuration(this.flags['older-than'], '--older-than')
    const dryRun = this.flags['dry-run']
    const ctx = await this.opContext()
    const r = await runPaged(
      this,
      'purge-uploads ',
      (p) => `records, ${p.counts.count} file(s) ${dryRun ? 'to delete' : 'deleted'}`,
      (onPage) => purgeUploads(ctx, {seconds, dryRun, onPage}),
    )
    const line = `${r.dryRun ? 'would delete' : 'deleted'} ${r.count} file(s), ${r.bytes} bytes`
    if (r.dryRun) this.ui.data(line)
    else this.ui.out(line)
    return settlePaged(this, r, walked(r, 'records'))
  }
}
