import {BaseCommand} from '../base-command.js'
import {pagedStop, runPaged, settlePaged, walked} from '../cli/paged.js'
import {type PurgeResult, purgeOffline} from '../ops/purge.js'
import type {PageProgress} from '../ops/pages.js'
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
    'ejabberd would delete every message.\n' +
    'The module purges in pages of about a second each, so no answer waits long, however many users ' +
    'there are; a terminal shows the progress (users walked of all, rate, time left). Ctrl-C stops ' +
    'after the page in flight and says what was deleted (exit 2); run it again to purge the rest. ' +
    'With --all-hosts, every host follows its own pages at once, on one progress bar.'
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
    const dryRun = this.flags['dry-run']
    const done = dryRun ? 'to delete' : 'deleted'
    const note = (p: PageProgress) => `users, ${p.counts.count} message(s) ${done}`
    const purge = async (ctx: OpContext, warn: (msg: string) => void, onPage: (p: PageProgress) => void) => {
      const r = await purgeOffline(ctx, {seconds, dryRun, onPage})
      for (const n of r.notes) warn(n)
      return {result: r, text: describe(r), error: pagedStop(r, walked(r, 'users'))}
    }
    const hosts = await this.targetHosts()
    // A dry run's answer is the data asked for; a real run's line is a message (--quiet: none).
    if (hosts) return this.reportHosts(hosts, purge, {data: dryRun, paged: {label: 'purge-offline ', note}})
    const ctx = await this.opContext()
    const notes: string[] = [] // said once the progress bar is gone
    const {result, text} = await runPaged(this, 'purge-offline ', note, (onPage) =>
      purge(ctx, (n) => notes.push(n), onPage),
    )
    for (const n of notes) this.ui.warn(n)
    if (dryRun) this.ui.data(text)
    else this.ui.out(text)
    return settlePaged(this, result, walked(result, 'users'))
  }
}

/** One run's line: "deleted 12 offline message(s) of 3 user(s)". */
function describe(r: PurgeResult): string {
  const users = r.users !== undefined && r.users !== null ? ` of ${r.users} user(s)` : ''
  return r.count === null
    ? r.dryRun
      ? 'cannot tell how many would be deleted (the server cannot count); nothing done'
      : 'purged (the server does not say how many)'
    : `${r.dryRun ? 'would delete' : 'deleted'} ${r.count} offline message(s)${users}`
}
