// The erasure receipt: after an account is deleted, ask the server what it still holds about the
// user, section by section (the export's sections), and say so: erased, something left, something
// kept on purpose (named), or not all of it could be checked (named).
import {XmppadmError} from '../errors.js'
import {formRows, formValues} from '../protocol/dataform.js'
import {XmppError} from '../xmpp/errors.js'
import {checkAccount, checkHost, splitJid, userStatsFinds} from './accounts.js'
import {type OpContext, invoke} from './context.js'
import {SECTIONS, type Section} from './export-coverage.js'
import {XMPPADM_NS, admin, api, mod} from './nodes.js'
import {type Operation, type Via, pickStrategy} from './operation.js'
import {ADHOC_API, EJABBERD_MODULE_HINT, prosodyModuleHint} from './server-module.js'

export interface StoredData {
  /** Items per section the server reported (sections it cannot report are absent). */
  counts: Partial<Record<Section, number>>
  /** What the server keeps about the user on purpose: "name: what and why". */
  kept: string[]
}

const asList = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : v ? [String(v)] : [])

/** An API command's "Error NNN" whose text says there is nothing (ejabberd's get_vcard). */
const apiSaysNone = (error: unknown, what: RegExp) =>
  error instanceof XmppError && error.condition?.startsWith('api-') && what.test(error.message)

/** The module's #stored-data (also the archive audit's count per account). */
export async function moduleStoredData(ctx: OpContext, jid: string): Promise<StoredData> {
  const resp = await invoke(ctx, mod('stored-data'), {FORM_TYPE: XMPPADM_NS, accountjid: jid})
  const counts: Partial<Record<Section, number>> = {}
  for (const row of formRows(resp.form!)) {
    const section = String(row.section) as Section
    if (SECTIONS.includes(section)) counts[section] = Number(row.count ?? 0)
  }
  return {counts, kept: asList(formValues(resp.form!).kept)}
}

export const storedDataOp: Operation<string, StoredData> = {
  id: 'erasure-receipt',
  summary: 'tell what it still holds about a deleted user',
  check: checkHost,
  strategies: [
    {
      nodes: [mod('stored-data')],
      via: 'mod_xmppadm',
      run: moduleStoredData,
    },
    {
      nodes: [api('check_account'), api('get_roster'), api('get_offline_count'), api('get_last')],
      via: 'ejabberd API',
      partial: 'private XML, blocklist, PEP data and uploads cannot be checked',
      async run(ctx, jid) {
        const who = splitJid(jid)
        const value = async (cmd: string, field: string) =>
          formValues((await invoke(ctx, api(cmd), who)).form!)[field]
        const counts: Partial<Record<Section, number>> = {
          account: (await checkAccount(ctx, jid)) ? 1 : 0,
          roster: asList(await value('get_roster', 'contacts')).filter((l) => l.trim()).length,
          offline: Number(await value('get_offline_count', 'value')),
          last: /NOT FOUND$/.test(String(await value('get_last', 'last_activity'))) ? 0 : 1,
        }
        if (ctx.nodes.has(api('get_mam_count'))) counts.mam = Number(await value('get_mam_count', 'value'))
        if (ctx.nodes.has(api('get_vcard'))) {
          try {
            await invoke(ctx, api('get_vcard'), {...who, name: 'FN'})
            counts.vcard = 1
          } catch (error) {
            if (apiSaysNone(error, /error_no_vcard_found/)) counts.vcard = 0
            else if (apiSaysNone(error, /error_no_value_found_in_vcard/)) counts.vcard = 1
            else throw error
          }
        }
        return {counts, kept: []}
      },
    },
    {
      nodes: [admin('user-stats')],
      via: 'XEP-0133',
      partial: 'only whether the account exists',
      families: ['prosody'],
      run: async (ctx, jid) => ({counts: {account: (await userStatsFinds(ctx, jid)) ? 1 : 0}, kept: []}),
    },
  ],
  enable: {
    prosody: prosodyModuleHint,
    ejabberd: `${EJABBERD_MODULE_HINT}; or, for part of it, ${ADHOC_API}`,
    other: `a server offering ${mod('stored-data')}`,
  },
}

/**
 * erased: the server reports nothing left and keeps nothing; kept: nothing left but what it keeps
 * on purpose (named); unverified: nothing left in what it can report, but not every section
 * could be checked (named); left: it still reports data of the user.
 */
export type Verdict = 'erased' | 'kept' | 'unverified' | 'left'

export interface ErasureReceipt {
  jid: string
  verdict: Verdict
  /** Sections that still hold items, with how many. */
  left: Partial<Record<Section, number>>
  kept: string[]
  /** Sections this server could not be asked about. */
  unchecked: Section[]
  /** How it was checked (absent: it could not be). */
  via?: Via
}

/** The words of a receipt for a person: one line. */
export function describeReceipt(r: ErasureReceipt): string {
  const left = Object.entries(r.left)
    .map(([s, n]) => `${s} ${n}`)
    .join(', ')
  switch (r.verdict) {
    case 'erased':
      return `erased ${r.jid}: the server reports nothing left (${SECTIONS.join(', ')} checked)`
    case 'kept':
      return `erased ${r.jid}, except what the server keeps on purpose: ${r.kept.join('; ')}`
    case 'unverified':
      if (!r.via) return `${r.jid}: this server offers no way to ask what it still holds about a user`
      return (
        `${r.jid}: nothing left that the server can report; not checked: ` +
        `${r.unchecked.join(', ')}${r.kept.length ? `; kept on purpose: ${r.kept.join('; ')}` : ''}`
      )
    case 'left':
      return `deleted ${r.jid}, but the server still holds: ${left}`
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/**
 * Asks the server what it still holds about `jid` (deleted, or never there) and judges it. Data
 * still reported is asked about again for a few seconds: a server may finish a removal in the
 * background (ejabberd's mod_pubsub removes a user's PEP nodes in a process of its own).
 */
export async function erasureReceipt(ctx: OpContext, jid: string, settleMs = 3000): Promise<ErasureReceipt> {
  const strategy = pickStrategy(ctx, storedDataOp)
  if (!strategy) return {jid, verdict: 'unverified', left: {}, kept: [], unchecked: [...SECTIONS]}
  storedDataOp.check?.(ctx, jid)
  let data = await strategy.run(ctx, jid)
  const leftOf = (d: StoredData) =>
    Object.fromEntries(Object.entries(d.counts).filter(([, n]) => n > 0)) as Partial<Record<Section, number>>
  for (let waited = 0, step = 250; Object.keys(leftOf(data)).length && waited < settleMs; waited += step) {
    await sleep(step)
    data = await strategy.run(ctx, jid)
  }
  const left = leftOf(data)
  const unchecked = SECTIONS.filter((s) => data.counts[s] === undefined)
  const verdict: Verdict = Object.keys(left).length
    ? 'left'
    : unchecked.length
      ? 'unverified'
      : data.kept.length
        ? 'kept'
        : 'erased'
  return {jid, verdict, left, kept: data.kept, unchecked, via: strategy.via}
}

/** A receipt that finds the user's data still there fails the line that deleted it (exit 2). */
export function incompleteErasure(r: ErasureReceipt): XmppadmError {
  return new XmppadmError('partial', 'erasure-incomplete', describeReceipt(r), {
    hint:
      'the account is deleted, but the server still reports this data: run the deletion again, ' +
      'or check the server',
  })
}
