// SCRAM (RFC 5802 / RFC 7677) client on node:crypto. PBKDF2 runs natively, so a login costs a few
// milliseconds instead of the ~1 s that @xmpp/client's WebCrypto loop takes.
import {createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual} from 'node:crypto'
import {promisify} from 'node:util'
import {XmppError} from '../errors.js'

const pbkdf2Async = promisify(pbkdf2)

export type ScramHash = 'sha1' | 'sha256' | 'sha512'
export const SCRAM_HASH_LEN: Record<ScramHash, number> = {sha1: 20, sha256: 32, sha512: 64}

/** Fewer iterations make an intercepted exchange cheap to brute-force; more is a CPU trap. */
export const MIN_ITERATIONS = 4096
export const MAX_ITERATIONS = 10_000_000

export interface ChannelBinding {
  /** 'tls-exporter' | 'tls-server-end-point' */
  type: string
  data: Buffer
}

export interface ScramOptions {
  hash: ScramHash
  username: string
  password: string
  /** Set for a -PLUS mechanism: the binding is sent and checked by the server. */
  binding?: ChannelBinding
  /** True when we could bind but the server offered no -PLUS: send 'y' so a stripped list is detected. */
  clientSupportsBinding: boolean
  nonce?: string
}

function saslName(name: string): string {
  return name.replace(/=/g, '=3D').replace(/,/g, '=2C')
}

// RFC 4013 SASLprep, the parts that matter for real passwords: non-ASCII spaces become spaces,
// "mapped to nothing" characters go, then NFKC.
export function saslPrep(s: string): string {
  return (
    s
      .replace(/[\u00a0\u1680\u2000-\u200b\u202f\u205f\u3000]/g, ' ')
      // The class lists single code points that combine or join; that is the point of removing them.
      // eslint-disable-next-line no-misleading-character-class
      .replace(/[\u00ad\u034f\u1806\u180b-\u180d\u200c\u200d\u2060\ufe00-\ufe0f\ufeff]/g, '')
      .normalize('NFKC')
  )
}

function parseAttributes(msg: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const part of msg.split(',')) {
    const eq = part.indexOf('=')
    if (eq === 1) out.set(part[0], part.slice(2))
  }
  return out
}

function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.alloc(a.length)
  for (let i = 0; i < a.length; i++) out[i] = a[i] ^ b[i]
  return out
}

const authFail = (message: string) => new XmppError('sasl', 'sasl-scram', message, {condition: 'scram'})

export class ScramClient {
  private readonly opts: ScramOptions
  private readonly nonce: string
  private readonly gs2Header: string
  private clientFirstBare = ''
  private serverSignature?: Buffer

  constructor(opts: ScramOptions) {
    this.opts = opts
    this.nonce = opts.nonce ?? randomBytes(24).toString('base64url')
    if (opts.binding) this.gs2Header = `p=${opts.binding.type},,`
    else this.gs2Header = opts.clientSupportsBinding ? 'y,,' : 'n,,'
  }

  initial(): Buffer {
    this.clientFirstBare = `n=${saslName(saslPrep(this.opts.username))},r=${this.nonce}`
    return Buffer.from(this.gs2Header + this.clientFirstBare)
  }

  async respond(challenge: Buffer): Promise<Buffer> {
    const serverFirst = challenge.toString('utf8')
    const attrs = parseAttributes(serverFirst)
    if (attrs.has('e')) throw authFail(`server refused the login: ${attrs.get('e')}`)
    const nonce = attrs.get('r')
    const saltB64 = attrs.get('s')
    const iterations = Number(attrs.get('i'))
    if (!nonce || !saltB64 || !Number.isInteger(iterations))
      throw authFail('malformed SCRAM challenge from the server')
    if (!nonce.startsWith(this.nonce) || nonce.length === this.nonce.length)
      throw authFail('SCRAM challenge carries a nonce that is not ours (possible attack)')
    if (iterations < MIN_ITERATIONS)
      throw authFail(
        `server asks for only ${iterations} SCRAM iterations (at least ${MIN_ITERATIONS} are required)`,
      )
    if (iterations > MAX_ITERATIONS)
      throw authFail(`server asks for ${iterations} SCRAM iterations, more than ${MAX_ITERATIONS}`)
    const {hash} = this.opts
    const salted = await pbkdf2Async(
      saslPrep(this.opts.password),
      Buffer.from(saltB64, 'base64'),
      iterations,
      SCRAM_HASH_LEN[hash],
      hash,
    )
    const clientKey = createHmac(hash, salted).update('Client Key').digest()
    const storedKey = createHash(hash).update(clientKey).digest()
    const cbInput = Buffer.concat([Buffer.from(this.gs2Header), this.opts.binding?.data ?? Buffer.alloc(0)])
    const finalWithoutProof = `c=${cbInput.toString('base64')},r=${nonce}`
    const authMessage = `${this.clientFirstBare},${serverFirst},${finalWithoutProof}`
    const clientSignature = createHmac(hash, storedKey).update(authMessage).digest()
    const proof = xor(clientKey, clientSignature)
    const serverKey = createHmac(hash, salted).update('Server Key').digest()
    this.serverSignature = createHmac(hash, serverKey).update(authMessage).digest()
    return Buffer.from(`${finalWithoutProof},p=${proof.toString('base64')}`)
  }

  /** Checks the server's final message; a missing or wrong signature means we talked to an impostor. */
  verify(serverFinal: Buffer | undefined): void {
    const attrs = parseAttributes((serverFinal ?? Buffer.alloc(0)).toString('utf8'))
    if (attrs.has('e')) throw authFail(`server refused the login: ${attrs.get('e')}`)
    const v = attrs.get('v')
    if (!v || !this.serverSignature)
      throw authFail('server did not prove that it knows the password (no SCRAM server signature)')
    const got = Buffer.from(v, 'base64')
    if (got.length !== this.serverSignature.length || !timingSafeEqual(got, this.serverSignature)) {
      throw authFail('SCRAM server signature does not verify: the server is not who it claims to be')
    }
  }
}
