import {Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.js'
import {Settled} from '../../cli/outcome.js'
import {XmppadmError} from '../../errors.js'
import {type AccountRow, accountList, inactiveSince} from '../../ops/account-list.js'
import {ready} from '../../ops/operation.js'
import {parseDuration} from '../../ops/values.js'
import {spinnerFor} from '../../output/spinner.js'
import {plainTables} from '../../output/table.js'

/** What a person reads for a row's last activity and creation time. */
const LAST: Record<AccountRow['activity'], (r: AccountRow) => string> = {
  online: () => 'online now',
  seen: (r) => r.lastActivity ?? 'not known',
  never: () => 'never',
  unknown: () => 'not known',
}
const cells = (r: AccountRow) => [r.jid, LAST[r.activity](r), r.created ?? 'not known']
const HEAD = ['jid', 'last activity', 'created']

export default class AccountList extends BaseCommand<typeof AccountList> {
  static override summary = 'List the accounts with their last activity; find the inactive ones.'
  static override description =
    'Streams every account of the virtual host, a page at a time (a server may hold 100,000), with its ' +
    'last login or logout, "online now", "never" (no login on record since it was made) or "not known" ' +
    'where the server keeps no record that would tell, and when it was made, where the server knows.\n' +
    '--inactive-since 180d keeps the accounts last active before then, and those that never logged in and ' +
    'were made before then; accounts whose activity is not known are left out (and counted on stderr): ' +
    'the list is meant to feed `account delete`. --never-logged-in keeps those that never did.\n' +
    'Off a terminal each account is one line "jid<TAB>last activity<TAB>created" after a "# " header, so ' +
    'the output feeds `account delete --from-file -` and `account disable --from-file -` as it is. ' +
    '--json: result.accounts with lastActivity and created as ISO 8601 or null, and activity (online, ' +
    'seen, never, unknown).\n' +
    'Where the times come from: mod_xmppadm (Prosody: mod_account_activity where loaded, otherwise its ' +
    'own notes since it was loaded; ejabberd: mod_last, which notes a logout after presence and the ' +
    'registration); ejabberd without the module: its API (mod_adhoc_api, one request per account) or, ' +
    'without mod_adhoc_api, XEP-0133 get-user-lastlogin (local time read as UTC; an account that never ' +
    'logged in shows its registration as its last login, so --never-logged-in finds none). Prosody ' +
    'without the module cannot ' +
    'list accounts.'
  static override flags = {
    'inactive-since': Flags.string({
      summary: 'Only accounts not active for this long: 90d, 26w, 1y (see purge-offline for units).',
    }),
    'never-logged-in': Flags.boolean({
      summary: 'Only accounts that never logged in (as far as the server knows).',
    }),
    'page-size': Flags.integer({
      // the module walks the host's whole account list for each page: the fewer pages, the cheaper
      summary: 'Accounts asked for a request.',
      default: 500,
      min: 1,
      max: 500,
    }),
    concurrency: Flags.integer({
      summary: 'Look-ups in flight where the server needs one request an account.',
      default: 8,
      min: 1,
      max: 64,
    }),
  }
  static override examples = [
    {description: 'Every account', command: '<%= config.bin %> account list'},
    {
      description: 'Delete the accounts inactive for two years (look at the list first)',
      command:
        '<%= config.bin %> account list --inactive-since 2y > stale.txt && ' +
        '<%= config.bin %> account delete --from-file stale.txt --yes',
    },
    {
      description: 'Accounts that never logged in, as JSON',
      command: '<%= config.bin %> account list --never-logged-in --json',
    },
  ]

  async run() {
    const {flags, ui} = this
    const since = flags['inactive-since']
    const cutoff = since ? Date.now() - parseDuration(since, '--inactive-since') * 1000 : undefined
    const ctx = await this.opContext()
    const list = await ready(ctx, accountList)
    if (list.strategy.partial) ui.info(`${list.strategy.via}: ${list.strategy.partial}`)
    const plain = plainTables()
    const json = ui.settings.json
    const accounts: AccountRow[] = []
    const counts = {walked: 0, listed: 0, notKnown: 0}
    let total: number | undefined
    let neverUnknown = false
    let width = 0
    const show = (r: AccountRow) => {
      if (json) return void accounts.push(r)
      if (plain) {
        if (counts.listed === 1) ui.data(`# ${HEAD.join('\t')}`)
        return ui.data(cells(r).join('\t'))
      }
      // a terminal: columns as wide as the first page's longest JID
      if (counts.listed === 1) ui.data(HEAD.map((h, i) => (i < 2 ? h.padEnd(i ? 20 : width) : h)).join('  '))
      const [jid, last, created] = cells(r)
      ui.data(`${jid.padEnd(width)}  ${last.padEnd(20)}  ${created}`)
    }
    const keep = (r: AccountRow): boolean | undefined => {
      if (flags['never-logged-in'] && r.activity !== 'never')
        return r.activity === 'unknown' ? undefined : false
      if (cutoff !== undefined) return inactiveSince(r, cutoff)
      return true
    }
    const spinner = spinnerFor(ui)
    const progress = ui.live && !process.stdout.isTTY
    let stopped = false
    for await (const page of await list.run({pageSize: flags['page-size'], concurrency: flags.concurrency})) {
      total = page.total ?? total
      neverUnknown ||= Boolean(page.neverUnknown)
      width ||= Math.max(24, ...page.rows.map((r) => r.jid.length))
      for (const row of page.rows) {
        counts.walked++
        const k = keep(row)
        if (k === undefined) counts.notKnown++
        if (!k) continue
        counts.listed++
        show(row)
      }
      if (progress) spinner.start(`listing accounts: ${counts.walked}${total ? ` of ${total}` : ''}`)
      // Ctrl-C: what is listed stays listed; the rest is not asked for.
      if (this.interrupts.signal.aborted) {
        stopped = true
        break
      }
    }
    spinner.stop()
    if (flags['never-logged-in'] && neverUnknown)
      ui.warn(
        `${list.strategy.via} gives an account that never logged in the time it was registered: ` +
          '--never-logged-in cannot find such accounts here (mod_xmppadm or mod_adhoc_api can)',
      )
    const filtered = cutoff !== undefined || flags['never-logged-in']
    if (filtered && counts.notKnown)
      ui.warn(
        `${counts.notKnown} account(s) left out: the server cannot tell ` +
          (flags['never-logged-in'] ? 'whether they ever logged in' : 'when they were last active'),
      )
    ui.info(
      `${counts.listed} account(s)${filtered ? ` of ${counts.walked}` : ''} listed` +
        (stopped ? ` (stopped: interrupted after ${counts.walked} of ${total ?? '?'})` : ''),
    )
    const result = {
      accounts,
      via: list.strategy.via,
      filter: {
        inactiveSince: cutoff === undefined ? null : new Date(cutoff).toISOString(),
        neverLoggedIn: flags['never-logged-in'],
      },
      summary: {
        listed: counts.listed,
        walked: counts.walked,
        total: total ?? null,
        notKnown: counts.notKnown,
      },
    }
    // Interrupted: what was listed is the result, and the exit status says it is not all (130).
    return new Settled(
      result,
      stopped
        ? new XmppadmError('interrupted', 'interrupted', 'interrupted: the list is incomplete')
        : undefined,
    )
  }
}
