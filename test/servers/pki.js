// Throw-away PKI for the test servers: a test CA, a server certificate for localhost signed by
// it, and a second, unrelated CA that must NOT verify the server. Made with the openssl CLI.
import * as fs from 'node:fs'
import * as path from 'node:path'
import * as tls from 'node:tls'
import {makeTempDir, randomHex, removeDir, keepServers, runOk, LOOPBACK} from './util.js'

/**
 * @typedef {object} Pki
 * @property {string} dir          directory holding every file below
 * @property {string} caFile       PEM of the test CA that signed the server certificate
 * @property {string} otherCaFile  PEM of an unrelated CA (verification against it must fail)
 * @property {string} certFile     server certificate (PEM), SAN DNS:localhost, DNS:second.localhost,
 *                                IP:127.0.0.1
 * @property {string} keyFile      its private key (PEM, EC P-256, unencrypted)
 * @property {string} bundleFile   server certificate + key in one PEM (ejabberd certfiles)
 */

const CURVE = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']

/**
 * Generates a new PKI into `dir` (created if needed).
 * @param {string} [dir]
 * @returns {Promise<Pki>}
 */
export async function createPki(dir = makeTempDir('xmppadm-pki')) {
  fs.mkdirSync(dir, {recursive: true, mode: 0o700})
  const f = (/** @type {string} */ n) => path.join(dir, n)
  const tag = randomHex(4)
  const ossl = (/** @type {string} */ what, /** @type {string[]} */ args) =>
    runOk(`openssl (${what})`, 'openssl', args, {cwd: dir, timeoutMs: 30000})

  const makeCa = (/** @type {string} */ name, /** @type {string} */ cn) =>
    ossl(`${name} CA`, [
      'req',
      '-x509',
      '-new',
      ...CURVE,
      '-nodes',
      '-days',
      '30',
      '-sha256',
      '-subj',
      `/O=xmppadm tests/CN=${cn}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE,pathlen:0',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
      '-addext',
      'subjectKeyIdentifier=hash',
      '-keyout',
      f(`${name}.key`),
      '-out',
      f(`${name}.pem`),
    ])

  await Promise.all([
    makeCa('ca', `xmppadm test CA ${tag}`),
    makeCa('other-ca', `xmppadm unrelated CA ${tag}`),
    ossl('server key+csr', [
      'req',
      '-new',
      ...CURVE,
      '-nodes',
      '-subj',
      '/CN=localhost',
      '-keyout',
      f('server.key'),
      '-out',
      f('server.csr'),
    ]),
  ])
  fs.writeFileSync(
    f('server.ext'),
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=serverAuth',
      'subjectAltName=DNS:localhost,DNS:second.localhost,IP:127.0.0.1',
      'subjectKeyIdentifier=hash',
      'authorityKeyIdentifier=keyid,issuer',
      '',
    ].join('\n'),
  )
  await ossl('sign server cert', [
    'x509',
    '-req',
    '-in',
    f('server.csr'),
    '-CA',
    f('ca.pem'),
    '-CAkey',
    f('ca.key'),
    '-set_serial',
    `0x${randomHex(12)}`,
    '-days',
    '30',
    '-sha256',
    '-extfile',
    f('server.ext'),
    '-out',
    f('server.crt'),
  ])
  fs.writeFileSync(
    f('server-bundle.pem'),
    fs.readFileSync(f('server.crt'), 'utf8') + fs.readFileSync(f('server.key'), 'utf8'),
    {mode: 0o600},
  )
  for (const n of ['ca.key', 'other-ca.key', 'server.key']) fs.chmodSync(f(n), 0o600)
  for (const n of ['ca.pem', 'other-ca.pem', 'server.crt']) fs.chmodSync(f(n), 0o644)
  fs.chmodSync(dir, 0o755) // the CA must be readable by anyone (tests, other users)
  /** @type {Pki} */
  const pki = {
    dir,
    caFile: f('ca.pem'),
    otherCaFile: f('other-ca.pem'),
    certFile: f('server.crt'),
    keyFile: f('server.key'),
    bundleFile: f('server-bundle.pem'),
  }
  await selfCheck(pki)
  return pki
}

/**
 * Checks with Node's own TLS stack that the server certificate verifies against caFile for
 * servername 'localhost' and does not verify against otherCaFile.
 * @param {Pki} pki
 */
async function selfCheck(pki) {
  const server = tls.createServer({
    cert: fs.readFileSync(pki.certFile),
    key: fs.readFileSync(pki.keyFile),
    minVersion: 'TLSv1.2',
  })
  server.on('secureConnection', (s) => s.end())
  server.on('tlsClientError', () => {})
  await new Promise((r) => server.listen(0, LOOPBACK, () => r(undefined)))
  const addr = /** @type {net.AddressInfo} */ (server.address())
  const attempt = (/** @type {string} */ caFile) =>
    new Promise((resolve) => {
      const s = tls.connect({
        host: LOOPBACK,
        port: addr.port,
        servername: 'localhost',
        ca: fs.readFileSync(caFile),
        rejectUnauthorized: false,
        minVersion: 'TLSv1.2',
      })
      s.once('secureConnect', () => {
        const r = {authorized: s.authorized, error: s.authorizationError}
        s.destroy()
        resolve(r)
      })
      s.once('error', (e) => resolve({authorized: false, error: e}))
    })
  try {
    const good = /** @type {{authorized: boolean, error: unknown}} */ (await attempt(pki.caFile))
    if (!good.authorized)
      throw new Error(`test PKI: server cert does not verify against its CA: ${good.error}`)
    const bad = /** @type {{authorized: boolean, error: unknown}} */ (await attempt(pki.otherCaFile))
    if (bad.authorized)
      throw new Error('test PKI: server cert unexpectedly verifies against the unrelated CA')
  } finally {
    await new Promise((r) => server.close(() => r(undefined)))
  }
}

// One PKI per process (test run), shared by every server started without an explicit pki;
// removed when the last server using it stops.
/** @type {Promise<Pki> | null} */
let shared = null
let users = 0

/**
 * @returns {Promise<{pki: Pki, release: () => void}>}
 */
export async function acquireSharedPki() {
  users++
  if (!shared) shared = createPki()
  let pki
  try {
    pki = await shared
  } catch (err) {
    users--
    shared = null
    throw err
  }
  let released = false
  return {
    pki,
    release() {
      if (released) return
      released = true
      users--
      if (users === 0) {
        shared = null
        if (!keepServers()) removeDir(pki.dir)
      }
    },
  }
}
