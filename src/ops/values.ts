// Parsing what operators type: durations and IP addresses/ranges. Refused before anything is sent.
import net from 'node:net'
import {dataError} from '../errors.js'

const UNIT: Record<string, number> = {s: 1, m: 60, h: 3600, d: 86400, w: 604800}

/** "7d", "36h", "1h30m", "90s", "2w": a positive whole number of seconds. */
export function parseDuration(input: string, what = 'duration'): number {
  const s = input.trim().toLowerCase()
  if (!/^(\d+[smhdw])+$/.test(s)) {
    throw dataError(
      `${what} ${JSON.stringify(input)} is not a duration`,
      'use a positive number with a unit: 90s, 30m, 12h, 7d, 2w, or combined like 1d12h',
    )
  }
  let total = 0
  for (const [, n, u] of s.matchAll(/(\d+)([smhdw])/g)) total += Number(n) * UNIT[u]
  if (!Number.isSafeInteger(total) || total > 100 * 365 * 86400)
    throw dataError(`${what} ${JSON.stringify(input)} is too long (at most 100 years)`)
  if (!(total > 0)) throw dataError(`${what} ${JSON.stringify(input)} must be more than zero`)
  return total
}

export function formatDuration(seconds: number): string {
  const parts: string[] = []
  let rest = seconds
  for (const [u, n] of [
    ['w', 604800],
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    if (rest >= n) {
      parts.push(`${Math.floor(rest / n)}${u}`)
      rest %= n
    }
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
