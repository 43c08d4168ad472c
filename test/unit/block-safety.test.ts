// Issue 16: a block must not shut out everyone by a typo (0.0.0.0/0 for 0.0.0.0/24), nor the very
// connection issuing it, in any spelling of the range: IPv4, IPv6, IPv4-mapped IPv6.
import {describe, expect, it} from 'vitest'
import {XmppadmError} from '../../src/errors.js'
import {addressToInt, blockRisk, checkBlock, rangeCovers, tooBroad} from '../../src/ops/block-safety.js'
import {parseIpRange} from '../../src/ops/values.js'

const range = (s: string) => parseIpRange(s)
const allow = {allowBroad: false, includeOwnAddress: false}

describe('too broad: shorter than /8 (IPv4) or /32 (IPv6), or covering all of IPv4 in IPv6 form', () => {
  it.each([
    ['0.0.0.0/0', /every IPv4 address/],
    ['1.0.0.0/7', /33554432 IPv4 addresses/],
    ['::/0', /every address, IPv6 and IPv4/],
    ['::ffff:0:0/96', /every IPv4 address/],
    ['::ffff:0.0.0.0/97', /2147483648 IPv4 addresses/],
    ['::/64', /every IPv4 address \(as IPv4-mapped IPv6/],
    ['::/80', /every IPv4 address/],
    ['2000::/3', /broader than a \/32/],
    ['2001:db8::/31', /broader than a \/32/],
  ])('%s', (input, why) => {
    expect(tooBroad(range(input))).toMatch(why)
  })

  it.each(['10.0.0.0/8', '203.0.113.0/24', '::ffff:10.0.0.0/104', '2001:db8::/32', '::/96', 'fe80::1'])(
    '%s is not',
    (input) => {
      expect(tooBroad(range(input))).toBeUndefined()
    },
  )
})

describe("a range covering this connection's own address", () => {
  it.each([
    ['127.0.0.0/8', '127.0.0.1', true],
    ['127.0.0.0/8', '::ffff:127.0.0.1', true], // a dual-stack socket names an IPv4 source so
    ['::ffff:127.0.0.0/104', '127.0.0.1', true],
    ['::ffff:127.0.0.1', '127.0.0.1', true],
    ['127.0.0.2/32', '127.0.0.1', false],
    ['::1', '::1', true],
    ['::/127', '::1', true],
    ['2001:db8::/32', '2001:db8:0:1::5', true],
    ['2001:db8::/32', '127.0.0.1', false],
    ['10.0.0.0/8', '::1', false],
  ] as const)('%s covers %s: %s', (cidr, own, covers) => {
    expect(rangeCovers(range(cidr), own)).toBe(covers)
  })

  it('addresses as 128-bit numbers: IPv4 mapped into ::ffff:0:0/96', () => {
    expect(addressToInt('127.0.0.1')).toBe(addressToInt('::ffff:7f00:1'))
    expect(addressToInt('::')).toBe(0n)
    expect(addressToInt('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff')).toBe((1n << 128n) - 1n)
    expect(addressToInt('fe80::1%eth0')).toBe(addressToInt('fe80::1'))
    expect(addressToInt('not an address')).toBeUndefined()
  })
})

describe('checkBlock: refused (65) unless the flag allows it; what the flags allowed is returned', () => {
  const refused = (cidr: string, o = allow, own?: string) => {
    try {
      checkBlock(range(cidr), {...o, ownAddress: own})
    } catch (error) {
      expect(error).toBeInstanceOf(XmppadmError)
      return error as XmppadmError
    }
    throw new Error(`${cidr} was not refused`)
  }

  it('a broad range: too-broad, naming the range and --allow-broad', () => {
    const e = refused('0.0.0.0/0')
    expect(e.exitCode).toBe(65)
    expect(e.reason).toBe('too-broad')
    expect(e.message).toBe('refusing to block 0.0.0.0/0: it covers every IPv4 address')
    expect(e.hint).toMatch(/--allow-broad/)
    expect(checkBlock(range('0.0.0.0/0'), {...allow, allowBroad: true})).toMatchObject({range: '0.0.0.0/0'})
  })

  it('the own address: own-address, naming it and --include-own-address', () => {
    const e = refused('127.0.0.0/24', allow, '::ffff:127.0.0.1')
    expect(e.reason).toBe('own-address')
    expect(e.message).toMatch(
      /^refusing to block 127\.0\.0\.0\/24: it covers 127\.0\.0\.1, the address this connection/,
    )
    expect(e.hint).toMatch(/--include-own-address/)
    expect(
      checkBlock(range('127.0.0.0/24'), {...allow, includeOwnAddress: true, ownAddress: '127.0.0.1'}),
    ).toEqual({range: '127.0.0.0/24', broad: undefined, own: '127.0.0.1'})
  })

  it('both: each flag allows only its own part', () => {
    expect(refused('0.0.0.0/0', {...allow, includeOwnAddress: true}, '127.0.0.1').reason).toBe('too-broad')
    expect(refused('0.0.0.0/0', {...allow, allowBroad: true}, '127.0.0.1').reason).toBe('own-address')
    expect(blockRisk(range('0.0.0.0/0'), {ownAddress: '127.0.0.1'})).toMatchObject({
      broad: expect.any(String),
      own: '127.0.0.1',
    })
  })

  it('an ordinary range: nothing to allow', () => {
    expect(checkBlock(range('198.51.100.0/24'), {...allow, ownAddress: '127.0.0.1'})).toBeUndefined()
  })
})
