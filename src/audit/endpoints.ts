// Which ports an audit looks at: the client and server-to-server endpoints a domain announces in
// DNS SRV (RFC 6120 §3.2, XEP-0368 for direct TLS), or those given on the command line; without
// either, the standard ports of the domain itself (5222, and 5269 for federation).
import net from 'node:net'
import type {Endpoint} from '../xmpp/connection.js'
import {parseServer, srvEndpoints} from '../xmpp/endpoints.js'
import type {ProbeEndpoint, StreamKind} from './probe.js'

/** A --c2s/--s2s value: host[:port] (STARTTLS) or xmpps://host[:port]; s2s ports default to 5269/5270. */
export function parseProbeEndpoint(spec: string, kind: StreamKind, source: string): ProbeEndpoint {
  const e = parseServer(spec, source)
  const hostPart = spec.trim().replace(/^\w+:\/\//, '')
  const portGiven = !net.isIPv6(hostPart) && /:\d+$/.test(hostPart)
  const port = kind === 's2s' && !portGiven ? (e.directTls ? 5270 : 5269) : e.port
  return {...e, port, kind, announced: true}
}

/** What the domain announces in DNS SRV for this kind of stream, every record (each is probed). */
async function announced(domain: string, kind: StreamKind): Promise<ProbeEndpoint[]> {
  const endpoints = await srvEndpoints(domain, kind === 'c2s' ? 'client' : 'server')
  const seen = new Set<string>()
  return endpoints
    .filter((e) => {
      const key = `${e.host}:${e.port}:${e.directTls}`
      return !seen.has(key) && Boolean(seen.add(key))
    })
    .map((e) => ({...e, kind, announced: true}))
}

export interface AuditEndpoints {
  c2s: ProbeEndpoint[]
  s2s: ProbeEndpoint[]
}

/**
 * Client endpoints: the --c2s list, else --server, else SRV, else the domain on 5222.
 * Server-to-server endpoints: the --s2s list, else SRV, else the domain on 5269 (not announced:
 * a closed port there means no federation, not a failure).
 */
export async function auditEndpoints(
  domain: string,
  given: {c2s?: ProbeEndpoint[]; server?: Endpoint; s2s?: ProbeEndpoint[]},
): Promise<AuditEndpoints> {
  const guess = (kind: StreamKind, port: number): ProbeEndpoint[] => [
    {host: domain, port, directTls: false, kind, announced: false},
  ]
  // Both lookups at once: a DNS server that does not answer costs its time once.
  const [c2s, s2s] = await Promise.all([
    given.c2s?.length
      ? given.c2s
      : given.server
        ? [{...given.server, kind: 'c2s' as const, announced: true}]
        : announced(domain, 'c2s').then((l) => (l.length ? l : guess('c2s', 5222))),
    given.s2s?.length ? given.s2s : announced(domain, 's2s').then((l) => (l.length ? l : guess('s2s', 5269))),
  ])
  return {c2s, s2s}
}
