// The sections of a user export, and what an export through ejabberd's API (mod_adhoc_api) can
// hold: one list for both the export's "missing" sections and the note `capabilities` shows.
export const SECTIONS = [
  'account',
  'roster',
  'vcard',
  'private',
  'offline',
  'mam',
  'blocklist',
  'pep',
  'uploads',
  'last',
] as const
export type Section = (typeof SECTIONS)[number]

const NAMES: Record<Section, string> = {
  account: 'account facts',
  roster: 'roster',
  vcard: 'vCard',
  private: 'private XML',
  offline: 'offline messages',
  mam: 'archive',
  blocklist: 'blocklist',
  pep: 'PEP data',
  uploads: 'uploads',
  last: 'last activity',
}

/** Through ejabberd's API: sections exported, counted only (no contents), and not exported at all. */
export const API_EXPORT: Record<'exported' | 'counted' | 'missing', readonly Section[]> = {
  exported: ['roster', 'vcard', 'last'],
  counted: ['offline', 'mam'],
  missing: ['account', 'private', 'blocklist', 'pep', 'uploads'],
}

export const API_MISSING_REASON = 'ejabberd offers no remote command to read it'

const list = (sections: readonly Section[]) => {
  const names = sections.map((s) => NAMES[s])
  return names.length > 1 ? `${names.slice(0, -1).join(', ')} and ${names.at(-1)}` : (names[0] ?? '')
}

/** The "partial" note of an export through ejabberd's API. */
export const API_EXPORT_PARTIAL =
  `${list(API_EXPORT.exported)} only, with counts of ` +
  `${list(API_EXPORT.counted)}: ejabberd offers no remote access to ${list(API_EXPORT.missing)}, nor ` +
  `to message contents`
