// A command response as readable text (stdout) and as its JSON shape.
import type {Element} from '@xmpp/xml'
import type {CommandResponse} from '../protocol/adhoc.js'
import {formToJson} from '../protocol/dataform.js'
import {isRoster, rosterItems} from '../protocol/roster.js'
import {plainTables, renderTable} from './table.js'

/** What the response carries besides notes and fields: next to its form, or inside it (a roster). */
const payloadOf = (resp: CommandResponse): Element[] => [...resp.payload, ...(resp.form?.payload ?? [])]

export function commandResponseJson(resp: CommandResponse) {
  const payload = payloadOf(resp)
  const rosters = payload.filter(isRoster)
  return {
    node: resp.node,
    status: resp.status,
    sessionid: resp.sessionid,
    notes: resp.notes,
    form: resp.form ? formToJson(resp.form) : undefined,
    payload: payload.length ? payload.map((p) => p.toString()) : undefined,
    roster: rosters.length ? rosters.flatMap(rosterItems) : undefined,
  }
}

/** A cell: several values joined with ", " (--json has them one by one). */
const show = (v: unknown): string =>
  v === null || v === undefined ? '' : Array.isArray(v) ? v.join(', ') : String(v)

export async function renderCommandResponse(resp: CommandResponse, color: boolean): Promise<string> {
  const lines: string[] = []
  for (const n of resp.notes) lines.push(`${n.type}: ${n.text}`)
  const form = resp.form
  if (form) {
    if (form.title) lines.push(form.title)
    for (const i of form.instructions) lines.push(i)
    const fields = form.fields.filter((f) => f.type !== 'hidden' && f.var !== 'FORM_TYPE')
    if (fields.length) {
      // Tab-separated, a field with several values is one line per value, the field repeated, so
      // that `cut -f2` and awk see each value whole; on a terminal they share one cell.
      const rows = fields
        .filter((f) => f.type !== 'fixed' || f.values.some(Boolean))
        .flatMap((f) => {
          const name = f.label ?? f.var ?? ''
          if (f.type === 'fixed') return [[name, f.values.join(' ')]]
          return plainTables() && f.values.length > 1
            ? f.values.map((v) => [name, v])
            : [[name, show(f.values)]]
        })
      lines.push(await renderTable(['field', 'value'], rows, color))
    }
    if (form.reported) {
      const cols = form.reported
      const rows = form.items.map((item) => cols.map((c) => show(item.find((f) => f.var === c.var)?.values)))
      lines.push(
        await renderTable(
          cols.map((c) => c.label ?? c.var ?? ''),
          rows,
          color,
        ),
      )
    }
  }
  for (const p of payloadOf(resp)) lines.push(isRoster(p) ? await renderRoster(p, color) : p.toString())
  if (!lines.length) lines.push(`${resp.node}: ${resp.status}`)
  return lines.join('\n')
}

/** A roster as a table: one row a contact. */
function renderRoster(query: Element, color: boolean): Promise<string> {
  const rows = rosterItems(query).map((i) => [
    i.jid,
    i.name ?? '',
    i.subscription,
    i.ask ?? '',
    i.groups.join(', '),
  ])
  return renderTable(['jid', 'name', 'subscription', 'ask', 'groups'], rows, color)
}
