import {BaseCommand} from '../base-command.js'
import {purgeOffline} from '../ops/purge.js'
import {parseDuration} from '../ops/values.js'
import {purgeFlags} from '../cli/flags.js'

export default class PurgeOffline extends BaseCommand<typeof PurgeOffline> {
  static override summary = 'Delete offline messages older than an age.'
  static override description =
    'Deletes stored offline messages older than --older-than and keeps newer ones. Safe to run from cron ' +
    'as often as you like; it only deletes what is past the age, so it needs no confirmation.\n' +
    'mod_xmppadm (Prosody or ejabberd): exact age, this virtual host, count reported, --dry-run counts. ' +
    'ejabberd 25.03+ without the module: api-commands/delete_old_messages (whole days, rounded up; all ' +
    'virtual hosts; no count; no dry run). A zero or negative age is refused before anything is sent: ' +
    'ejabberd would delete every message.'
  static override flags = purgeFlags
  static override examples = [
    {
      description: 'The 7-day promise, hourly from cron',
      command: '<%= config.bin %> --profile prod purge-offline --older-than 7d --quiet',
    },
    {
      description: 'How many would go?',
      command: '<%= config.bin %> purge-offline --older-than 7d --dry-run --json',
    },
  ]

  async run() {
    const seconds = parseDuration(this.flags['older-than'], '--older-than')
    const ctx = await this.opContext()
    const r = await purgeOffline(ctx, seconds, this.flags['dry-run'])
    for (const n of r.notes) this.ui.warn(n)
    const users = r.users !== undefined && r.users !== null ? ` of ${r.users} user(s)` : ''
    const line =
      r.count === null
        ? r.dryRun
          ? 'cannot tell how many would be deleted (the server cannot count); nothing done'
          : 'purged (the server does not say how many)'
        : `${r.dryRun ? 'would delete' : 'deleted'} ${r.count} offline message(s)${users}`
    // A dry run's answer is the data asked for; a real run's line is a message (--quiet: none).
    if (r.dryRun) this.ui.data(line)
    else this.ui.out(line)
    return r
  }
}
