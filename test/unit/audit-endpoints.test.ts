// Issue 12: which ports policy check probes when none are given: what the domain announces in DNS
// SRV (RFC 6120 client and server records, XEP-0368 direct TLS ones), answered here by a scripted
// DNS server on loopback that this process's resolver is pointed at.
import {promises as dns} from 'node:dns'
import dgram from 'node:dgram'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {auditEndpoints, parseProbeEndpoint} from '../../src/audit/endpoints.js'
import {resolveEndpoints} from '../../src/xmpp/endpoints.js'

type Srv = {priority: number; weight: number; port: number; target: string}

/** The records the scripted server knows; any other name is NXDOMAIN. */
const ZONE: Record<string, Srv[]> = {
  '_xmpp-client._tcp.example.test': [
    {priority: 10, weight: 0, port: 5222, target: 'xmpp.example.test'},
    // The same port announced twice (a second record for one host) is probed once.
    {priority: 20, weight: 0, port: 5222, target: 'xmpp.example.test'},
  ],
  '_xmpps-client._tcp.example.test': [{priority: 5, weight: 0, port: 5223, target: 'xmpp.example.test'}],
  '_xmpp-server._tcp.example.test': [{priority: 0, weight: 0, port: 5269, target: 's2s.example.test'}],
  // "." says: decidedly no such service (RFC 2782).
  '_xmpp-client._tcp.nothing.test': [{priority: 0, weight: 0, port: 0, target: '.'}],
  '_xmpp-server._tcp.nothing.test': [{priority: 0, weight: 0, port: 0, target: '.'}],
}

const name = (n: string): Buffer =>
  Buffer.concat([
    ...n
      .split('.')
      .filter(Boolean)
      .map((label) => Buffer.concat([Buffer.from([label.length]), Buffer.from(label, 'ascii')])),
    Buffer.from([0]),
  ])

/** One answer to one question (RFC 1035 §4.1): the question echoed, SRV records after it. */
function answer(query: Buffer): Buffer {
  let at = 12
  const labels: string[] = []
  while (query[at] !== 0) {
    labels.push(query.subarray(at + 1, at + 1 + query[at]).toString('ascii'))
    at += query[at] + 1
  }
  const question = query.subarray(12, at + 5)
  const qtype = query.readUInt16BE(at + 1)
  const records = qtype === 33 ? (ZONE[labels.join('.').toLowerCase()] ?? []) : []
  const known = labels.join('.').toLowerCase() in ZONE
  const header = Buffer.alloc(12)
  header.writeUInt16BE(query.readUInt16BE(0), 0)
  // QR, RD copied, RA; rcode 3 (NXDOMAIN) for names not in the zone.
  header.writeUInt16BE(0x8180 | ((query[2] & 0x01) << 8) | (known ? 0 : 3), 2)
  header.writeUInt16BE(1, 4)
  header.writeUInt16BE(records.length, 6)
  const answers = records.map((r) => {
    const target = r.target === '.' ? Buffer.from([0]) : name(r.target)
    const rdata = Buffer.alloc(6)
    rdata.writeUInt16BE(r.priority, 0)
    rdata.writeUInt16BE(r.weight, 2)
    rdata.writeUInt16BE(r.port, 4)
    const fixed = Buffer.alloc(12)
    fixed.writeUInt16BE(0xc00c, 0) // the name: a pointer to the question's
    fixed.writeUInt16BE(33, 2)
    fixed.writeUInt16BE(1, 4)
    fixed.writeUInt32BE(60, 6)
    fixed.writeUInt16BE(rdata.length + target.length, 10)
    return Buffer.concat([fixed, rdata, target])
  })
  return Buffer.concat([header, question, ...answers])
}

let server: dgram.Socket
let before: string[]
beforeAll(async () => {
  server = dgram.createSocket('udp4')
  server.on('message', (msg, peer) => server.send(answer(msg), peer.port, peer.address))
  await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve))
  before = dns.getServers()
  dns.setServers([`127.0.0.1:${server.address().port}`])
})
afterAll(() => {
  dns.setServers(before)
  server?.close()
})

describe('policy check: the ports a domain announces', () => {
  it('every client record (direct TLS and STARTTLS) once, and the server-to-server record', async () => {
    const e = await auditEndpoints('example.test', {})
    expect(e.c2s).toEqual([
      {host: 'xmpp.example.test', port: 5223, directTls: true, kind: 'c2s', announced: true},
      {host: 'xmpp.example.test', port: 5222, directTls: false, kind: 'c2s', announced: true},
    ])
    expect(e.s2s).toEqual([
      {host: 's2s.example.test', port: 5269, directTls: false, kind: 's2s', announced: true},
    ])
  })

  it('nothing announced ("." or no records): the domain on 5222 and 5269, as guesses', async () => {
    for (const domain of ['nothing.test', 'unknown.test']) {
      const e = await auditEndpoints(domain, {})
      expect(e).toEqual({
        c2s: [{host: domain, port: 5222, directTls: false, kind: 'c2s', announced: false}],
        s2s: [{host: domain, port: 5269, directTls: false, kind: 's2s', announced: false}],
      })
    }
  })

  it('--c2s and --s2s, or --server, replace what DNS says', async () => {
    const c2s = [parseProbeEndpoint('xmpps://10.0.0.1', 'c2s', '--c2s')]
    const s2s = [parseProbeEndpoint('10.0.0.2', 's2s', '--s2s')]
    expect(await auditEndpoints('example.test', {c2s, s2s})).toEqual({
      c2s: [{host: '10.0.0.1', port: 5223, directTls: true, kind: 'c2s', announced: true}],
      s2s: [{host: '10.0.0.2', port: 5269, directTls: false, kind: 's2s', announced: true}],
    })
    const server = {host: '10.0.0.3', port: 5333, directTls: false}
    expect((await auditEndpoints('example.test', {server})).c2s).toEqual([
      {...server, kind: 'c2s', announced: true},
    ])
    expect(parseProbeEndpoint('xmpps://10.0.0.2', 's2s', '--s2s').port).toBe(5270)
    expect(parseProbeEndpoint('10.0.0.2:6000', 's2s', '--s2s').port).toBe(6000)
  })

  it('a DNS server that does not answer: the guesses after its timeout, not a hang', async () => {
    const silent = dgram.createSocket('udp4')
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve))
    const servers = dns.getServers()
    dns.setServers([`127.0.0.1:${silent.address().port}`])
    try {
      const started = performance.now()
      const e = await auditEndpoints('example.test', {})
      expect(e.c2s).toEqual([
        {host: 'example.test', port: 5222, directTls: false, kind: 'c2s', announced: false},
      ])
      expect(e.s2s[0]).toMatchObject({port: 5269, announced: false})
      // Only a bound that catches a hang (c-ares alone would wait ~24 s).
      expect(performance.now() - started).toBeLessThan(15_000)
    } finally {
      dns.setServers(servers)
      silent.close()
    }
  }, 30_000)

  it('a login goes where the same records say (one SRV lookup for both)', async () => {
    expect(await resolveEndpoints('example.test')).toEqual([
      {host: 'xmpp.example.test', port: 5223, directTls: true},
      {host: 'xmpp.example.test', port: 5222, directTls: false},
      {host: 'xmpp.example.test', port: 5222, directTls: false},
    ])
    expect(await resolveEndpoints('nothing.test')).toEqual([
      {host: 'nothing.test', port: 5222, directTls: false},
    ])
  })
})
