// What a block must not do by mistake: shut out everyone (0.0.0.0/0 for 0.0.0.0/24), or the very
// connection issuing it, which then cannot undo it. Ranges are compared as 128-bit numbers with
// IPv4 mapped into ::ffff:0:0/96, as servers match IPv4 clients seen on IPv6 sockets.
import net from 'node:net'
import {XmppadmError} from '../errors.js'

/** Ranges broader than these prefixes are refused unless --allow-broad. */
export const BROADEST_IPV4 = 8
export const BROADEST_IPV6 = 32

const MAPPED = 0xffffn << 32n

function v4ToInt(address: string): bigint {
  return address.split('.').reduce((n, part) => (n << 8n) | BigInt(Number(part)), 0n)
}

function v6ToInt(address: string): bigint {
  let s = address
  // A dotted IPv4 tail (::ffff:10.0.0.1) is the last two 16-bit groups.
  if (s.includes('.')) {
    const i = s.lastIndexOf(':')
    const v4 = v4ToInt(s.slice(i + 1))
    s = `${s.slice(0, i + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`
  }
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined]
  const first = head ? head.split(':') : []
  const last = tail ? tail.split(':') : []
  const groups =
    tail === undefined ? first : [...first, ...Array(8 - first.length - last.length).fill('0'), ...last]
  return groups.reduce((n, g) => (n << 16n) | BigInt(Number.parseInt(g, 16)), 0n)
}

/** An address (IPv4, IPv6 or IPv4-mapped IPv6) as a 128-bit number; undefined if it is none. */
export function addressToInt(address: string): bigint | undefined {
  const plain = address.replace(/%.*$/, '')
  if (net.isIPv4(plain)) return MAPPED | v4ToInt(plain)
  if (net.isIPv6(plain)) return v6ToInt(plain)
  return undefined
}

interface Range128 {
  network: bigint
  prefix: number
}

/** A normalised "address/prefix" (parseIpRange's output) in the 128-bit space. */
function toRange(cidr: string): Range128 {
  const [address, prefix] = cidr.split('/')
  const network = addressToInt(address)!
  return {network, prefix: Number(prefix) + (net.isIPv4(address) ? 96 : 0)}
}

function contains(range: Range128, value: bigint): boolean {
  const shift = BigInt(128 - range.prefix)
  return value >> shift === range.network >> shift
}

/** Whether the range holds the address. */
export function rangeCovers(cidr: string, address: string): boolean {
  const value = addressToInt(address)
  return value !== undefined && contains(toRange(cidr), value)
}

/** Why a range is too broad to block without --allow-broad ("it covers …"), or undefined. */
export function tooBroad(cidr: string): string | undefined {
  const range = toRange(cidr)
  if (range.prefix >= 96 && range.network >> 32n === 0xffffn) {
    const v4 = range.prefix - 96
    if (v4 >= BROADEST_IPV4) return undefined
    return v4 === 0
      ? 'it covers every IPv4 address'
      : `it covers ${2 ** (32 - v4)} IPv4 addresses, more than a /${BROADEST_IPV4}`
  }
  if (range.prefix === 0) return 'it covers every address, IPv6 and IPv4'
  // Holding all of ::ffff:0:0/96 means holding every IPv4 client too.
  if (range.prefix <= 96 && contains(range, MAPPED))
    return 'it covers every IPv4 address (as IPv4-mapped IPv6, ::ffff:0:0/96)'
  if (range.prefix < BROADEST_IPV6) return `it is broader than a /${BROADEST_IPV6} (IPv6)`
  return undefined
}

export interface SafetyOptions {
  /** The address this connection comes from, as the server sees it (absent NAT). */
  ownAddress?: string
  allowBroad: boolean
  includeOwnAddress: boolean
}

export interface Risk {
  range: string
  broad?: string
  own?: string
}

/** What is risky about blocking this range (what the flags must allow), or undefined. */
export function blockRisk(cidr: string, o: Pick<SafetyOptions, 'ownAddress'>): Risk | undefined {
  const broad = tooBroad(cidr)
  const own =
    o.ownAddress && rangeCovers(cidr, o.ownAddress)
      ? o.ownAddress.replace(/^::ffff:(?=\d+\.)/, '')
      : undefined
  return broad || own ? {range: cidr, broad, own} : undefined
}

/** Refuses a risky range the flags do not allow (exit 65, before anything is sent). */
export function checkBlock(cidr: string, o: SafetyOptions): Risk | undefined {
  const risk = blockRisk(cidr, o)
  if (!risk) return undefined
  if (risk.broad && !o.allowBroad)
    throw new XmppadmError('data', 'too-broad', `refusing to block ${cidr}: ${risk.broad}`, {
      hint: 'check the prefix length; to block it anyway, add --allow-broad',
    })
  if (risk.own && !o.includeOwnAddress)
    throw new XmppadmError(
      'data',
      'own-address',
      `refusing to block ${cidr}: it covers ${risk.own}, the address this connection comes from (the ` +
        `block would lock you out)`,
      {
        hint:
          'to block it anyway, add --include-own-address; README "Recovering from a block" says ' +
          'how to get back in',
      },
    )
  return risk
}

/** The confirmation question for ranges the flags allowed (at most five named). */
export function riskQuestion(risks: Risk[]): string {
  const named = risks.slice(0, 5).map(describeRisk).join('; ')
  const more = risks.length > 5 ? ` and ${risks.length - 5} more` : ''
  const own = risks.some((r) => r.own) ? ', this connection included' : ''
  return `Block ${named}${more}? Every client it covers is shut out${own}.`
}

/** A risk in words, for the confirmation prompt. */
export function describeRisk(risk: Risk): string {
  const why = [risk.broad, risk.own ? `it covers ${risk.own}, this connection's own address` : undefined]
  return `${risk.range} (${why.filter(Boolean).join('; ')})`
}
