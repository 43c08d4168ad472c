// Certificates for hostile servers: the harness's throw-away PKI (test/servers/pki.js: a test CA and
// a good certificate for localhost), plus bad ones signed by the same CA or by nobody.
import {execFileSync} from 'node:child_process'
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {createPki} from '../servers/harness.js'

export interface KeyPair {
  cert: string
  key: string
}

export interface HostilePki {
  dir: string
  /** The CA that clients are told to trust (--ca-file). */
  caFile: string
  /** localhost, signed by the CA, valid. */
  good: KeyPair
  /** Signed by the CA, valid, but for other.example (not localhost). */
  wrongName: KeyPair
  /** localhost, signed by the CA, expired. */
  expired: KeyPair
  /** localhost, self-signed (not issued by the CA). */
  selfSigned: KeyPair
  /** localhost, signed by the CA, valid for 5 more days (expires soon). */
  expiring: KeyPair
}

const CURVE = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']

export async function createHostilePki(): Promise<HostilePki> {
  const dir = mkdtempSync(join(tmpdir(), 'xmppadm-hostile-pki-'))
  const pki = await createPki(dir)
  const f = (n: string) => join(dir, n)
  const ossl = (args: string[]) =>
    execFileSync('openssl', args, {cwd: dir, stdio: ['ignore', 'pipe', 'pipe']})
  const ext = (san: string) => {
    const path = f(`${san.replace(/\W/g, '_')}.ext`)
    writeFileSync(
      path,
      'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n' +
        `extendedKeyUsage=serverAuth\nsubjectAltName=${san}\n`,
    )
    return path
  }
  const signed = (name: string, cn: string, san: string, days: string): KeyPair => {
    ossl([
      'req',
      '-new',
      ...CURVE,
      '-nodes',
      '-subj',
      `/CN=${cn}`,
      '-keyout',
      f(`${name}.key`),
      '-out',
      f(`${name}.csr`),
    ])
    ossl([
      'x509',
      '-req',
      '-in',
      f(`${name}.csr`),
      '-CA',
      pki.caFile,
      '-CAkey',
      f('ca.key'),
      '-set_serial',
      `0x${Date.now().toString(16)}${name.length}`,
      '-days',
      days,
      '-sha256',
      '-extfile',
      ext(san),
      '-out',
      f(`${name}.crt`),
    ])
    return {cert: readFileSync(f(`${name}.crt`), 'utf8'), key: readFileSync(f(`${name}.key`), 'utf8')}
  }
  const wrongName = signed('wrong-name', 'other.example', 'DNS:other.example', '30')
  // -days -1: notAfter is a day before notBefore (now): expired from the start.
  const expired = signed('expired', 'localhost', 'DNS:localhost', '-1')
  const expiring = signed('expiring', 'localhost', 'DNS:localhost', '5')
  ossl([
    'req',
    '-x509',
    '-new',
    ...CURVE,
    '-nodes',
    '-days',
    '30',
    '-sha256',
    '-subj',
    '/CN=localhost',
    '-addext',
    'subjectAltName=DNS:localhost',
    '-keyout',
    f('self.key'),
    '-out',
    f('self.crt'),
  ])
  return {
    dir,
    caFile: pki.caFile,
    good: {cert: readFileSync(pki.certFile, 'utf8'), key: readFileSync(pki.keyFile, 'utf8')},
    wrongName,
    expired,
    expiring,
    selfSigned: {cert: readFileSync(f('self.crt'), 'utf8'), key: readFileSync(f('self.key'), 'utf8')},
  }
}
