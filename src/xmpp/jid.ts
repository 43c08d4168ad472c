import {dataError} from '../errors.js'

export interface Jid {
  local?: string
  domain: string
  resource?: string
}

// RFC 7622 forbids these in a localpart; control characters are refused in every part.
const LOCAL_FORBIDDEN = /["&'/:<>@\s]/u
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\ufffe\uffff]/u
// Format characters (bidi overrides, zero-width spaces and joiners) make one name look like another.
const FORMAT = /\p{Cf}/u
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/
// RFC 8265 §3.3.1 width mapping: fullwidth and halfwidth forms to their ordinary equivalents.
const widthMap = (s: string) => s.replace(/[\uFF01-\uFFEF]/g, (c) => c.normalize('NFKC'))
const MAX_PART_BYTES = 1023

function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8')
}

/** Parse and normalise a JID; throws a data error naming what is wrong. */
export function parseJid(input: string, what = 'JID'): Jid {
  const raw = input.trim()
  if (!raw) throw dataError(`${what} is empty`)
  if (CONTROL.test(raw)) throw dataError(`${what} ${JSON.stringify(input)} contains control characters`)
  if (LONE_SURROGATE.test(raw))
    throw dataError(`${what} ${JSON.stringify(input)} is not valid Unicode (unpaired surrogate)`)
  const slash = raw.indexOf('/')
  const bare = slash === -1 ? raw : raw.slice(0, slash)
  const resource = slash === -1 ? undefined : raw.slice(slash + 1)
  const at = bare.lastIndexOf('@')
  const local = at === -1 ? undefined : bare.slice(0, at)
  let domain = at === -1 ? bare : bare.slice(at + 1)
  if (domain.endsWith('.')) domain = domain.slice(0, -1)
  domain = domain.toLowerCase().normalize('NFC')
  if (!domain) throw dataError(`${what} ${JSON.stringify(input)} has no domain`)
  if (
    !/^(\[[0-9a-f:.]+\]|[^\s@/\\:*?"<>|]+)$/iu.test(domain) ||
    domain.includes('..') ||
    domain.startsWith('.')
  ) {
    throw dataError(`${what} ${JSON.stringify(input)} has an invalid domain`)
  }
  if (local !== undefined) {
    if (!local) throw dataError(`${what} ${JSON.stringify(input)} has an empty localpart`)
    if (FORMAT.test(local))
      throw dataError(
        `${what} ${JSON.stringify(input)}: the localpart contains invisible formatting characters`,
      )
    if (LOCAL_FORBIDDEN.test(local))
      throw dataError(
        `${what} ${JSON.stringify(input)}: the localpart may not contain spaces or any of " & ' / : < > @`,
      )
  }
  if (resource !== undefined && !resource)
    throw dataError(`${what} ${JSON.stringify(input)} has an empty resource`)
  for (const [part, value] of [
    ['localpart', local],
    ['domain', domain],
    ['resource', resource],
  ] as const) {
    if (value !== undefined && byteLength(value) > MAX_PART_BYTES)
      throw dataError(`${what}: the ${part} is longer than ${MAX_PART_BYTES} bytes`)
  }
  // Localparts compare case-insensitively (PRECIS UsernameCaseMapped); servers store them lowercased.
  if (FORMAT.test(domain))
    throw dataError(`${what} ${JSON.stringify(input)}: the domain contains invisible formatting characters`)
  return {
    local: local === undefined ? undefined : widthMap(local).toLowerCase().normalize('NFC'),
    domain: widthMap(domain),
    resource: resource?.normalize('NFC'),
  }
}

export function bareJid(j: Jid): string {
  return j.local ? `${j.local}@${j.domain}` : j.domain
}

export function jidToString(j: Jid): string {
  return j.resource ? `${bareJid(j)}/${j.resource}` : bareJid(j)
}

/** An account JID: must have a localpart and no resource. */
export function parseAccountJid(input: string, defaultDomain?: string): string {
  const withDomain = !input.includes('@') && defaultDomain ? `${input}@${defaultDomain}` : input
  const j = parseJid(withDomain, 'account JID')
  if (!j.local)
    throw dataError(`account JID ${JSON.stringify(input)} has no localpart (expected user@domain)`)
  if (j.resource !== undefined)
    throw dataError(`account JID ${JSON.stringify(input)} must not have a resource`)
  return bareJid(j)
}
