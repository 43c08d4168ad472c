// Where to connect: --server host[:port] (xmpps:// for direct TLS), else DNS SRV of the domain
// (RFC 6120 §3.2 and XEP-0368), else the domain itself on 5222.
import {promises as dns} from 'node:dns'
import {usageError} from '../errors.js'
import type {Endpoint} from './connection.js'

export function parseServer(spec: string): Endpoint {
  let s = spec.trim()
  let directTls = false
  const scheme = /^(xmpps?|tls|tcp):\/\//i.exec(s)
  if (scheme) {
    directTls = /^(xmpps|tls)$/i.test(scheme[1])
    s = s.slice(scheme[0].length)
  }
  let host = s
  let port: number | undefined
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(s)
  if (v6) {
    host = v6[1]
    port = v6[2] ? Number(v6[2]) : undefined
  } else if (/^[^:]+:\d+$/.test(s)) {
    const i = s.lastIndexOf(':')
    host = s.slice(0, i)
    port = Number(s.slice(i + 1))
  }
  if (!host || (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65535))) {
    throw usageError(
      `invalid --server ${JSON.stringify(spec)}`,
      'expected host, host:port, [ipv6]:port or xmpps://host:port',
    )
  }
  return {host, port: port ?? (directTls ? 5223 : 5222), directTls}
}

export function orderSrv(
  records: Array<{name: string; port: number; priority: number; weight: number}>,
): Array<{name: string; port: number; priority: number}> {
  // Priority ascending; inside one priority, weighted random order (RFC 2782).
  const byPrio = new Map<number, typeof records>()
  for (const r of records) byPrio.set(r.priority, [...(byPrio.get(r.priority) ?? []), r])
  const out: Array<{name: string; port: number; priority: number}> = []
  for (const prio of [...byPrio.keys()].sort((a, b) => a - b)) {
    const pool = [...byPrio.get(prio)!]
    while (pool.length) {
      const total = pool.reduce((n, r) => n + r.weight, 0)
      let pick = Math.random() * total
      let i = pool.findIndex((r) => (pick -= r.weight) < 0)
      if (i < 0) i = 0
      out.push(pool.splice(i, 1)[0])
    }
  }
  return out
}

export async function resolveEndpoints(domain: string): Promise<Endpoint[]> {
  const lookup = async (name: string) => dns.resolveSrv(name).catch(() => [])
  const [tlsRecs, tcpRecs] = await Promise.all([
    lookup(`_xmpps-client._tcp.${domain}`),
    lookup(`_xmpp-client._tcp.${domain}`),
  ])
  // A lone "." target means the service is decidedly not available there (RFC 2782).
  const usable = (rs: typeof tlsRecs) => rs.filter((r) => r.name && r.name !== '.')
  const tagged = [
    ...usable(tlsRecs).map((r) => ({...r, directTls: true})),
    ...usable(tcpRecs).map((r) => ({...r, directTls: false})),
  ]
  if (tagged.length === 0) return [{host: domain, port: 5222, directTls: false}]
  const ordered = orderSrv(tagged)
  return ordered.map((r) => ({
    host: r.name,
    port: r.port,
    directTls: (r as unknown as {directTls: boolean}).directTls,
  }))
}
