import {BaseCommand} from '../base-command.js'
import {purgeOffline} from '../ops/purge.js'
import {parseDuration} from '../ops/values.js'
import {hostsFlags, purgeFlags} from '../cli/flags.js'
import type {OpContext} from '../ops/context.js'

export default class PurgeOffline extends BaseCommand<typeof PurgeOffline> {
  static override summary = 'Delete offline messages older than an age.'
  static override description =
    'Deletes stored offline messages older than --older-than and keeps newer ones. Safe to run from cron ' +
    'as often as you like; it only deletes what is past the age, so it needs no confirmation.\n' +
    'mod_xmppadm (Prosody or ejabberd): exact age, this virtual host, count reported, --dry-run counts. ' +
    'ejabberd 25.03+ without the module: api-commands/delete_old_messages (whole days, rounded up; all ' +
    'virtual hosts; no count; no dry run). A zero or negative age is refused before anything is sent: ' +
    'ejabberd would delete every message.'
  static override flags = {...purgeFlags, ...hostsFlags}
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
    const dry = this.flags['dry-run']
    const purge = async (ctx: OpContext, warn: (msg: string) => void) => {
      const r = await purgeOffline(ctx, seconds, dry)
      for (const n of r.notes) warn(n)
      const users = r.users !== undefined && r.users !== null ? ` of ${r.users} user(s)` : ''
      const text =
        r.count === null
          ? r.dryRun
            ? 'cannot tell how many would be deleted (the server cannot count); nothing done'
            : 'purged (the server does not say how many)'
          : `${r.dryRun ? 'would delete' : 'deleted'} ${r.count} offline message(s)${users}`
      return {result: r, text}
    }
    const hosts = await this.targetHosts()
    // A dry run's answer is the data asked for; a real run's line is a message (--quiet: none).
    if (hosts) return this.reportHosts(hosts, purge, {data: dry})
    const {result, text} = await purge(await this.opContext(), (n) => this.ui.warn(n))
    if (dry) this.ui.data(text)
    else this.ui.out(text)
    return result
  }
}
