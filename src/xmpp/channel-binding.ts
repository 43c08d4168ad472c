// Channel-binding data for SCRAM-*-PLUS: tls-exporter (RFC 9266) on TLS 1.3, tls-server-end-point
// (RFC 5929) otherwise. The end-point hash follows the certificate's signature hash, with MD5/SHA-1
// raised to SHA-256.
import {createHash} from 'node:crypto'
import type {TLSSocket} from 'node:tls'
import type {ChannelBinding} from './sasl/scram.js'

const SIG_HASH: Record<string, string> = {
  '1.2.840.113549.1.1.11': 'sha256', // sha256WithRSAEncryption
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.10045.4.3.2': 'sha256', // ecdsa-with-SHA256
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
}

/** Reads a DER TLV header at `pos`: returns the content start and length. */
function tlv(der: Buffer, pos: number): {tag: number; start: number; len: number} {
  const tag = der[pos]
  let len = der[pos + 1]
  let start = pos + 2
  if (len & 0x80) {
    const n = len & 0x7f
    len = 0
    for (let i = 0; i < n; i++) len = len * 256 + der[pos + 2 + i]
    start += n
  }
  return {tag, start, len}
}

function decodeOid(bytes: Buffer): string {
  const parts = [Math.floor(bytes[0] / 40), bytes[0] % 40]
  let v = 0
  for (const b of bytes.subarray(1)) {
    v = v * 128 + (b & 0x7f)
    if (!(b & 0x80)) {
      parts.push(v)
      v = 0
    }
  }
  return parts.join('.')
}

/** The hash for tls-server-end-point: from Certificate.signatureAlgorithm. */
export function certificateBindingHash(der: Buffer): string {
  try {
    const cert = tlv(der, 0)
    const tbs = tlv(der, cert.start)
    const algSeq = tlv(der, tbs.start + tbs.len)
    const oid = tlv(der, algSeq.start)
    if (oid.tag !== 0x06) return 'sha256'
    return SIG_HASH[decodeOid(der.subarray(oid.start, oid.start + oid.len))] ?? 'sha256'
  } catch {
    return 'sha256'
  }
}

/**
 * Picks a binding type the server supports (XEP-0440 list when advertised) and computes it.
 * Returns undefined when no binding is possible on this connection.
 */
export function channelBinding(
  socket: TLSSocket,
  advertised: string[] | undefined,
): ChannelBinding | undefined {
  const isTls13 = socket.getProtocol() === 'TLSv1.3'
  const candidates = isTls13 ? ['tls-exporter', 'tls-server-end-point'] : ['tls-server-end-point']
  const type = candidates.find((t) => !advertised || advertised.includes(t))
  if (type === 'tls-exporter') {
    return {type, data: socket.exportKeyingMaterial(32, 'EXPORTER-Channel-Binding', Buffer.alloc(0))}
  }
  if (type === 'tls-server-end-point') {
    const der = socket.getPeerX509Certificate()?.raw
    if (!der) return undefined
    return {type, data: createHash(certificateBindingHash(der)).update(der).digest()}
  }
  return undefined
}
