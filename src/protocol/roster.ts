// RFC 6121 rosters (jabber:iq:roster) as data: what a roster <query/> holds, item by item.
import type {Element} from '@xmpp/xml'

export const NS_ROSTER = 'jabber:iq:roster'

export interface RosterItem {
  jid: string
  name: string | null
  subscription: string
  /** "subscribe" while our subscription request is pending; absent otherwise. */
  ask?: string
  groups: string[]
}

export const isRoster = (el: Element) => el.name === 'query' && el.attrs.xmlns === NS_ROSTER

export function rosterItems(query: Element): RosterItem[] {
  return query.getChildren('item').map((i) => ({
    jid: String(i.attrs.jid ?? ''),
    name: i.attrs.name ?? null,
    subscription: i.attrs.subscription ?? 'none',
    ...(i.attrs.ask ? {ask: String(i.attrs.ask)} : {}),
    groups: i.getChildren('group').map((g) => g.getText()),
  }))
}
