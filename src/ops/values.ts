// Parsing what operators type: durations and IP addresses/ranges. Refused before anything is sent.
import net from 'node:net'
import {dataError} from '../errors.js'

/**
 * Units as systemd reads them (systemd.time(7)), case-sensitive: "M" is a month, "m" a minute.
 * A month is a twelfth of a year of 365.25 days (30.44 days), as in systemd.
 */
const UNITS: Record<string, number> = {
  s: 1,
  sec: 1,
  second: 1,
  seconds: 1,
  m: 60,
  min: 60,
  minute: 60,
  minutes: 60,
  h: 3600,
  hr: 3600,
  hour: 3600,
  hours: 3600,
  d: 86400,
  day: 86400,
  days: 86400,
  w: 604800,
  week: 604800,
  weeks: 604800,
  M: 2629800,
  month: 2629800,
  months: 2629800,
  y: 31557600,
  year: 31557600,
  years: 31557600,
}

const UNIT_HELP =
  'units (case matters): s/sec, m/min, h/hour, d/day, w/week, M/month, y/year, long forms too (days, ' +
  'months); e.g. 90s, 30min, 12h, 7d, 2w, 1M, 1y, 1d12h'

/** "7d", "36h", "1h 30min", "1M" (a month), "2weeks": a positive whole number of seconds. */
export function parseDuration(input: string, what = 'duration'): number {
  const s = input.trim()
  const named = `${what} ${JSON.stringify(input)}`
  if (!/^(\d+ ?[A-Za-z]+ *)+$/.test(s))
    throw dataError(`${named} is not a duration`, `use a whole number with a unit; ${UNIT_HELP}`)
  let total = 0
  for (const [, n, unit] of s.matchAll(/(\d+) ?([A-Za-z]+)/g)) {
    if (!Object.hasOwn(UNITS, unit)) {
      const lower = unit.toLowerCase()
      const caseHint = Object.hasOwn(UNITS, lower) ? ` (did you mean "${lower}"?)` : ''
      throw dataError(`${named}: unknown unit "${unit}"${caseHint}`, UNIT_HELP)
    }
    total += Number(n) * UNITS[unit]
  }
  if (!Number.isSafeInteger(total) || total > 100 * 365 * 86400)
    throw dataError(`${named} is too long (at most 100 years)`)
  if (!(total > 0)) throw dataError(`${named} must be more than zero`)
  return total
}

/** Seconds in the units parseDuration reads back: 604800 is "7d", 129600 "1d12h", 90 "1m30s". */
export function formatDuration(seconds: number): string {
  const parts: string[] = []
  let rest = Math.max(0, Math.round(seconds))
  for (const [unit, size] of [
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    if (rest >= size) parts.push(`${Math.floor(rest / size)}${unit}`)
    rest %= size
  }
  return parts.join('') || '0s'
}

/** An address or CIDR range, normalised to "address/prefix". */
export function parseIpRange(input: string): string {
  const s = input.trim()
  const slash = s.indexOf('/')
  const addr = slash < 0 ? s : s.slice(0, slash)
  if (addr.includes('%'))
    throw dataError(`${JSON.stringify(input)}: a zone id (%…) names an interface, not an address`)
  const family = net.isIP(addr)
  if (!family) throw dataError(`${JSON.stringify(input)} is not an IPv4 or IPv6 address or range`)
  const max = family === 4 ? 32 : 128
  let prefix = max
  if (slash >= 0) {
    const p = s.slice(slash + 1)
    if (!/^\d{1,3}$/.test(p) || Number(p) > max)
      throw dataError(`${JSON.stringify(input)}: the prefix length must be 0 to ${max}`)
    prefix = Number(p)
  }
  const blockList = new net.SocketAddress({address: addr, family: family === 4 ? 'ipv4' : 'ipv6'})
  return `${blockList.address}/${prefix}`
}
