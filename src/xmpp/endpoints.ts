// Where to connect: --server host[:port] (xmpps:// for direct TLS), else DNS SRV of the domain
// (RFC 6120 §3.2 and XEP-0368), else the domain itself on 5222.
import {promises as dns} from 'node:dns'
import net from 'node:net'
import {usageError} from '../errors.js'
import type {Endpoint} from './connection.js'

/** `source` names where the spec came from in errors: "--server", "XMPPADM_SERVER", a profile line. */
export function parseServer(spec: string, source = '--server'): Endpoint {
  let s = spec.trim()
  let directTls = false
  const scheme = /^(xmpps?|tls|tcp):\/\//i.exec(s)
  if (scheme) {
    directTls = /^(xmpps|tls)$/i.test(scheme[1])
    s = s.slice(scheme[0].length)
  }
  const bad = (why: string) =>
    usageError(
      `${source} ${JSON.stringify(spec)}: ${why}`,
      'expected host, host:port, [ipv6]:port or xmpps://host:port',
    )
  let host = s
  let port: string | undefined
  const v6 = /^\[([^\]]+)\](?::([^:]*))?$/.exec(s)
  if (v6) [host, port] = [v6[1], v6[2]]
  else if (s.includes(':') && !net.isIPv6(s)) {
    // One colon separates host and port; more than one without brackets is a malformed IPv6 address.
    const i = s.lastIndexOf(':')
    if (s.indexOf(':') !== i) throw bad('an IPv6 address with a port needs brackets: [2001:db8::1]:5222')
    ;[host, port] = [s.slice(0, i), s.slice(i + 1)]
  }
  if (!host || /[\s/]/.test(host)) throw bad('no host name')
  if (port !== undefined && !(/^\d{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65535))
    throw bad(`the port ${JSON.stringify(port)} is not a number from 1 to 65535`)
  return {host, port: port !== undefined ? Number(port) : directTls ? 5223 : 5222, directTls}
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

/** RFC 6120's SRV services (STARTTLS) and XEP-0368's (direct TLS), for clients and for servers. */
const SRV_SERVICES = {
  client: {directTls: '_xmpps-client._tcp', starttls: '_xmpp-client._tcp'},
  server: {directTls: '_xmpps-server._tcp', starttls: '_xmpp-server._tcp'},
}

/**
 * The endpoints a domain announces in DNS SRV for a service, direct TLS and STARTTLS records in
 * one RFC 2782 order (empty when none: the caller picks its fall-back). A failed lookup counts
 * as no records.
 */
export async function srvEndpoints(domain: string, service: 'client' | 'server'): Promise<Endpoint[]> {
  // A DNS server that does not answer costs 6 s (2 s, then 4 s), not c-ares' default of ~24 s:
  // a monitoring check must end in time. Same servers as the default resolver.
  const resolver = new dns.Resolver({timeout: 2000, tries: 2})
  resolver.setServers(dns.getServers())
  const lookup = async (name: string) => resolver.resolveSrv(`${name}.${domain}`).catch(() => [])
  const names = SRV_SERVICES[service]
  const [tlsRecs, tcpRecs] = await Promise.all([lookup(names.directTls), lookup(names.starttls)])
  // A lone "." target means the service is decidedly not available there (RFC 2782).
  const usable = (rs: typeof tlsRecs) => rs.filter((r) => r.name && r.name !== '.')
  const tagged = [
    ...usable(tlsRecs).map((r) => ({...r, directTls: true})),
    ...usable(tcpRecs).map((r) => ({...r, directTls: false})),
  ]
  return orderSrv(tagged).map((r) => ({
    host: r.name,
    port: r.port,
    directTls: (r as unknown as {directTls: boolean}).directTls,
  }))
}

export async function resolveEndpoints(domain: string): Promise<Endpoint[]> {
  const announced = await srvEndpoints(domain, 'client')
  return announced.length ? announced : [{host: domain, port: 5222, directTls: false}]
}
