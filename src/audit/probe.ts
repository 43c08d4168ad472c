// Probes: connections that see the server as anyone on the network does. Each opens a stream,
// gets TLS up with the settings it is given (one TLS version, or the usual ones) and hands back
// what the server offered. They verify certificates themselves (to report on them), so a probe
// never sends a password unless the certificate verified (sasl.ts).
import {randomBytes} from 'node:crypto'
import type tls from 'node:tls'
import {type Element, xml} from '@xmpp/xml'
import {Connection, type Endpoint, NS_TLS} from '../xmpp/connection.js'
import type {TraceSink} from '../xmpp/trace.js'

export type StreamKind = 'c2s' | 's2s'

export interface ProbeEndpoint extends Endpoint {
  kind: StreamKind
  /** Announced by DNS SRV (or given on the command line), rather than a default guess. */
  announced: boolean
}

export interface ProbeOptions {
  domain: string
  /** PEM of the CAs to trust (--ca-file); default: the system store. */
  ca?: string
  timeoutMs: number
  localAddress?: string
  trace?: TraceSink
  /** --insecure: a login may go to a server whose certificate does not verify. */
  insecure?: boolean
}

export function describeEndpoint(e: ProbeEndpoint): string {
  const host = e.host.includes(':') ? `[${e.host}]` : e.host
  return `${e.kind} ${host}:${e.port} (${e.directTls ? 'direct TLS' : 'STARTTLS'})`
}

/** Where a probe stopped: reaching the port, the XML stream, STARTTLS, or the TLS handshake. */
export type Phase = 'connect' | 'stream' | 'starttls' | 'tls'

/** A failure on the wire as the transport reports it: a stable reason and details (tlsCode…). */
export interface WireFailure {
  message: string
  reason: string
  details?: Record<string, unknown>
}

export class ProbeFailure extends Error {
  constructor(
    readonly phase: Phase,
    override readonly cause: WireFailure,
  ) {
    super(cause.message)
  }

  /** The OpenSSL or socket code behind a TLS failure (ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION …). */
  get code(): string | undefined {
    return (this.cause.details?.tlsCode as string | undefined) ?? undefined
  }
}

export interface TlsStream {
  conn: Connection
  socket: tls.TLSSocket
  /** The stream features before TLS (STARTTLS endpoints only). */
  before?: Element
}

const asError = (e: unknown): WireFailure =>
  typeof (e as WireFailure)?.reason === 'string'
    ? (e as WireFailure)
    : {message: String((e as Error)?.message ?? e), reason: 'internal'}

/**
 * TCP, then for STARTTLS a stream and <starttls/>, then the TLS handshake with `tlsOptions` over
 * the defaults (which verify nothing here: the caller reads socket.authorized).
 */
export async function openTls(
  endpoint: ProbeEndpoint,
  opts: ProbeOptions,
  tlsOptions: tls.ConnectionOptions = {},
): Promise<TlsStream> {
  const conn = new Connection({
    endpoint,
    tls: {ca: opts.ca, insecure: false, servername: opts.domain},
    timeoutMs: opts.timeoutMs,
    localAddress: opts.localAddress,
    trace: opts.trace,
    streamNs: endpoint.kind === 's2s' ? 'jabber:server' : 'jabber:client',
    tlsOverrides: {rejectUnauthorized: false, ...tlsOptions},
  })
  const fail = (phase: Phase, e: unknown) => {
    conn.close()
    return new ProbeFailure(phase, asError(e))
  }
  try {
    await conn.connect()
  } catch (error) {
    // Direct TLS shakes hands inside connect(): a local address means the TCP part had worked.
    throw fail(endpoint.directTls && conn.localAddress ? 'tls' : 'connect', error)
  }
  let before: Element | undefined
  if (!endpoint.directTls) {
    try {
      before = await conn.openStream(opts.domain)
    } catch (error) {
      throw fail('stream', error)
    }
    if (!before.getChild('starttls', NS_TLS))
      throw fail('starttls', {
        message: `${conn.where} does not offer STARTTLS`,
        reason: 'no-starttls',
        details: {features: featureNames(before)},
      })
    try {
      await conn.startTls()
    } catch (error) {
      const e = asError(error)
      throw fail(e.reason.startsWith('starttls') ? 'starttls' : 'tls', e)
    }
  }
  return {conn, socket: conn.tlsSocket!, before}
}

/** The names of the stream features offered, with their namespace's tail: "starttls", "mechanisms"… */
export function featureNames(features: Element): string[] {
  return features.getChildElements().map((c) => c.name)
}

/** Sends an IQ on a stream that is not logged in (in-band registration) and waits for its answer. */
export async function preAuthIq(conn: Connection, type: 'get' | 'set', payload: Element): Promise<Element> {
  const id = `probe${randomBytes(6).toString('hex')}`
  conn.send(xml('iq', {type, id}, payload))
  for (;;) {
    const el = await conn.read('an answer to an unauthenticated IQ')
    if (el.name === 'iq' && el.attrs.id === id) return el
  }
}
