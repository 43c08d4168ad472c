import {formRows, formValues} from '../protocol/dataform.js'
import {requireStrategy} from './catalogue.js'
import {type OpContext, invoke} from './context.js'
import {XMPPADM_NS, api, mod} from './nodes.js'

const asList = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : v ? [String(v)] : [])

export async function blockIps(
  ctx: OpContext,
  ranges: string[],
  opts: {expiresSec?: number; reason?: string},
) {
  await requireStrategy(ctx, 'block-ip')
  const resp = await invoke(ctx, mod('block-ip'), {
    FORM_TYPE: XMPPADM_NS,
    addresses: ranges,
    expires: opts.expiresSec ? String(opts.expiresSec) : undefined,
    reason: opts.reason,
  })
  const v = formValues(resp.form!)
  return {
    blocked: asList(v.blocked),
    sessionsClosed: Number(v['sessions-closed'] ?? 0),
    // Configured exemptions the new blocks cover (they stay reachable); undefined when the module
    // does not say (contract revision 1 has no such field).
    exempt: 'exempt' in v ? asList(v.exempt) : undefined,
  }
}

export async function listBlockedIps(ctx: OpContext) {
  await requireStrategy(ctx, 'block-ip-list')
  const resp = await invoke(ctx, mod('list-blocked-ips'), {FORM_TYPE: XMPPADM_NS})
  return formRows(resp.form!).map((r) => ({
    address: String(r.address ?? ''),
    expires: r.expires ? String(r.expires) : null,
    reason: r.reason ? String(r.reason) : null,
    created: r.created ? String(r.created) : null,
  }))
}

export async function unblockIps(ctx: OpContext, ranges: string[]) {
  const s = await requireStrategy(ctx, 'block-ip-remove')
  if (s.via === 'mod_xmppadm') {
    const resp = await invoke(ctx, mod('unblock-ip'), {FORM_TYPE: XMPPADM_NS, addresses: ranges})
    const v = formValues(resp.form!)
    return {removed: asList(v.removed), notFound: asList(v['not-found']), via: s.via}
  }
  const removed: string[] = []
  const notFound: string[] = []
  for (const r of ranges) {
    const resp = await invoke(ctx, api('unban_ip'), {address: r})
    const n = Number(formValues(resp.form!).unbanned ?? 0)
    ;(n > 0 ? removed : notFound).push(r)
  }
  return {removed, notFound, via: s.via, partial: s.partial}
}
