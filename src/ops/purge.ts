import {XmppadmError} from '../errors.js'
import {formValues} from '../protocol/dataform.js'
import {requireStrategy} from './catalogue.js'
import {type OpContext, invoke} from './context.js'
import {XMPPADM_NS, api, mod} from './nodes.js'

export interface PurgeResult {
  dryRun: boolean
  olderThanSeconds: number
  /** Items deleted (or that would be); null where the server does not say. */
  count: number | null
  bytes?: number | null
  users?: number | null
  via: string
  notes: string[]
}

export async function purgeOffline(ctx: OpContext, seconds: number, dryRun: boolean): Promise<PurgeResult> {
  if (!(seconds > 0)) throw new XmppadmError('data', 'invalid-data', 'the age must be more than zero') // ejabberd deletes EVERYTHING for days < 0
  const s = await requireStrategy(ctx, 'purge-offline')
  if (s.via === 'mod_xmppadm') {
    // Paged (contract revision 3): follow the cursor, summing the counts
    let count = 0
    let users = 0
    let after: string | undefined
    for (;;) {
      const resp = await invoke(ctx, mod('purge-offline'), {
        FORM_TYPE: XMPPADM_NS,
        'older-than': String(seconds),
        'dry-run': dryRun ? '1' : '0',
        ...(after ? {after} : {}),
      })
      const v = formValues(resp.form!)
      count += Number(v.count ?? 0)
      users += Number(v.users ?? 0)
      if (v.more !== true || !v.next) break
      after = String(v.next)
    }
    return {dryRun, olderThanSeconds: seconds, count, users, via: s.via, notes: []}
  }
  // ejabberd counts whole days. Rounding up deletes less than asked, never more.
  const days = Math.ceil(seconds / 86400)
  const notes = [
    `ejabberd purges by whole days: messages older than ${days} day(s), on every virtual host of the server`,
  ]
  if (seconds % 86400) notes.push(`${seconds} s rounded up to ${days} day(s)`)
  if (dryRun)
    return {
      dryRun,
      olderThanSeconds: days * 86400,
      count: null,
      via: s.via,
      notes: [...notes, 'ejabberd cannot count what it would delete: nothing was done'],
    }
  await invoke(ctx, api('delete_old_messages'), {days: String(days)})
  return {dryRun, olderThanSeconds: days * 86400, count: null, via: s.via, notes}
}

export async function purgeUploads(ctx: OpContext, seconds: number, dryRun: boolean): Promise<PurgeResult> {
  if (!(seconds > 0)) throw new XmppadmError('data', 'invalid-data', 'the age must be more than zero')
  const s = await requireStrategy(ctx, 'purge-uploads')
  // Paged (contract revision 3): follow the cursor, summing the counts
  let count = 0
  let bytes = 0
  let after: string | undefined
  for (;;) {
    const resp = await invoke(ctx, mod('purge-uploads'), {
      FORM_TYPE: XMPPADM_NS,
      'older-than': String(seconds),
      'dry-run': dryRun ? '1' : '0',
      ...(after ? {after} : {}),
    })
    const v = formValues(resp.form!)
    count += Number(v.count ?? 0)
    bytes += Number(v.bytes ?? 0)
    if (v.more !== true || !v.next) break
    after = String(v.next)
  }
  return {dryRun, olderThanSeconds: seconds, count, bytes, via: s.via, notes: []}
}
