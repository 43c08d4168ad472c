// A private Prosody instance for tests: own config, data and log in a temp dir, loopback only.
// Two versions: 13 (installed from bookworm-backports) and 0.12 (bookworm main's package, unpacked
// by install.sh into the test cache).
import {spawn} from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import {acquireSharedPki} from './pki.js'
import {
  REPO_ROOT,
  LOOPBACK,
  freePorts,
  keepServers,
  makeTempDir,
  randomPassword,
  registerLive,
  removeDir,
  runOk,
  tail,
  unregisterLive,
  waitFor,
  waitPidGone,
  xmppAnswers,
} from './util.js'

/** @typedef {import('./harness.js').StartOptions} StartOptions */
/** @typedef {import('./harness.js').RunningServer} RunningServer */

const DOMAIN = 'localhost'
const UPLOAD_DOMAIN = 'upload.localhost'
/** A second virtual host with an admin of its own (admin of that host only) and a user. */
const SECOND_DOMAIN = 'second.localhost'
const SECOND_UPLOAD_DOMAIN = 'upload.second.localhost'

/** Where install.sh unpacks bookworm main's Prosody 0.12. */
export function prosody012Root() {
  return path.join(process.env.XMPPADM_TEST_CACHE || '/var/cache/xmppadm-test', 'prosody-0.12')
}

/**
 * The Prosody versions the harness runs: descriptor kind, the launch scripts, and what their
 * config needs to differ in.
 * @type {Record<'prosody' | 'prosody-0.12',
 *                {prosody: () => string, prosodyctl: () => string, noModules: string[]}>}
 */
const FLAVOURS = {
  prosody: {
    prosody: () => process.env.XMPPADM_PROSODY_BIN || 'prosody',
    prosodyctl: () => process.env.XMPPADM_PROSODYCTL_BIN || 'prosodyctl',
    noModules: [],
  },
  'prosody-0.12': {
    prosody: () => path.join(prosody012Root(), 'usr', 'bin', 'prosody'),
    prosodyctl: () => path.join(prosody012Root(), 'usr', 'bin', 'prosodyctl'),
    noModules: ['account_activity'], // new in 13
  },
}

/** Where the project's own Prosody modules live (mod_xmppadm/). */
export const PROSODY_PLUGIN_DIR = path.join(REPO_ROOT, 'server', 'prosody')

/** @param {string} dir */
function xmppadmModulePresent(dir) {
  return (
    fs.existsSync(path.join(dir, 'mod_xmppadm.lua')) ||
    fs.existsSync(path.join(dir, 'mod_xmppadm', 'mod_xmppadm.lua'))
  )
}

const lua = (/** @type {string} */ s) => JSON.stringify(s) // a valid Lua string literal for paths/passwords

/**
 * @param {{dir: string, c2sPort: number, directTlsPort: number, httpPort: number, certFile: string,
 *          keyFile: string, pluginDir: string, withXmppadm: boolean, extraConfig?: string,
 *          noModules: string[], uploads: boolean, extraModules?: string[]}} o
 */
function configText(o) {
  const allModules = [
    'roster',
    'saslauth',
    'tls',
    'disco',
    'private',
    'blocklist',
    'carbons',
    'pep',
    'vcard4',
    'vcard_legacy',
    'version',
    'uptime',
    'time',
    'ping',
    'lastactivity',
    'offline',
    'mam',
    'register',
    'admin_adhoc',
    'admin_shell',
    'announce',
    'account_activity',
    'cron',
    'http',
    // http_file_share runs on the upload.localhost component only (see below): loaded on the
    // VirtualHost too, both would serve the same URL and localhost's slots would not work
  ]
  const modules = [...allModules.filter((m) => !o.noModules.includes(m)), ...(o.extraModules ?? [])]
  if (o.withXmppadm) modules.push('xmppadm')
  return `-- Written by xmppadm's test harness (test/servers/prosody.js). Loopback only.
local base = ${lua(o.dir)}

run_as_root = true            -- the harness may run as root; never setuid
data_path = base .. "/data"
pidfile = base .. "/prosody.pid"
admin_socket = base .. "/data/prosody.sock"
certificates = base .. "/certs"

admins = { "admin@${DOMAIN}" }

interfaces = { "${LOOPBACK}" }
local_interfaces = { "${LOOPBACK}" }
c2s_ports = { ${o.c2sPort} }
c2s_interfaces = { "${LOOPBACK}" }
c2s_direct_tls_ports = { ${o.directTlsPort} }
s2s_ports = { }
s2s_direct_tls_ports = { }
component_ports = { }
http_ports = { ${o.httpPort} }
http_interfaces = { "${LOOPBACK}" }
https_ports = { }
modules_disabled = { "s2s" }

c2s_require_encryption = true
ssl = {
  certificate = ${lua(o.certFile)};
  key = ${lua(o.keyFile)};
  protocol = "tlsv1_2+";
}

authentication = "internal_hashed"
storage = "internal"
allow_registration = false

log = {
  { levels = { min = "info" }, to = "file", filename = base .. "/prosody.log" };
}

plugin_paths = { ${lua(o.pluginDir)} }
modules_enabled = {
${modules.map((m) => `  ${lua(m)};`).join('\n')}
}

-- HTTP (http_file_share): plain http on loopback; URLs point at 127.0.0.1 directly.
http_default_host = "${UPLOAD_DOMAIN}"
http_external_url = "http://${LOOPBACK}:${o.httpPort}/"
http_file_share_size_limit = 10 * 1024 * 1024
${o.extraConfig ?? ''}

VirtualHost "${DOMAIN}"
${
  o.uploads
    ? `
Component "${UPLOAD_DOMAIN}" "http_file_share"
`
    : ''
}
-- A second domain whose own admin administers it alone (global admins: every host).
VirtualHost "${SECOND_DOMAIN}"
admins = { "boss@${SECOND_DOMAIN}" }
${
  o.uploads
    ? `
-- Served on the same HTTP host as ${UPLOAD_DOMAIN} (URLs point at 127.0.0.1), under a path of its own.
Component "${SECOND_UPLOAD_DOMAIN}" "http_file_share"
http_host = "${UPLOAD_DOMAIN}"
http_paths = { file_share = "/second/file_share" }
`
    : ''
}`
}

/**
 * Starts a private Prosody 13.
 * @param {StartOptions} [opts]
 * @returns {Promise<RunningServer>}
 */
export function startProsody(opts = {}) {
  return startProsodyKind('prosody', opts)
}

/**
 * Starts a private Prosody 0.12 (unpacked by install.sh into the test cache).
 * @param {StartOptions} [opts]
 * @returns {Promise<RunningServer>}
 */
export function startProsody012(opts = {}) {
  return startProsodyKind('prosody-0.12', opts)
}

/**
 * @param {keyof typeof FLAVOURS} kind
 * @param {StartOptions} opts
 * @returns {Promise<RunningServer>}
 */
async function startProsodyKind(kind, opts) {
  const flavour = FLAVOURS[kind]
  if (!fs.existsSync(flavour.prosody()) && kind !== 'prosody') {
    throw new Error(`${flavour.prosody()} is missing: run test/servers/install.sh (npm run setup) as root`)
  }
  const attempts = 3
  /** @type {StartOptions} */
  let o = opts
  /** @type {string[]} */
  let fallbackErrors = []
  for (let i = 1; ; i++) {
    try {
      const server = await startOnce(kind, o)
      if (fallbackErrors.length) {
        server.xmppadmModule = 'failed'
        server.xmppadmModuleErrors = fallbackErrors
      }
      return server
    } catch (err) {
      if (err instanceof PortInUse && i < attempts) continue
      // mod_xmppadm is work in progress: if Prosody does not even start with it (auto-detected,
      // not forced), start without it and report it as failed instead of failing every test.
      const auto =
        o.xmppadmModule === undefined && xmppadmModulePresent(o.prosodyPluginDir ?? PROSODY_PLUGIN_DIR)
      if (auto && i < attempts) {
        const msg = /** @type {Error} */ (err).message
        fallbackErrors = [`Prosody did not start with mod_xmppadm enabled; started without it. ${msg}`]
        console.warn(`[xmppadm test harness] ${fallbackErrors[0].split('\n')[0]}`)
        o = {...o, xmppadmModule: false}
        continue
      }
      throw err
    }
  }
}

class PortInUse extends Error {}

/**
 * @param {keyof typeof FLAVOURS} kind
 * @param {StartOptions} opts
 * @returns {Promise<RunningServer>}
 */
async function startOnce(kind, opts) {
  const t0 = Date.now()
  const flavour = FLAVOURS[kind]
  const PROSODY = flavour.prosody()
  const PROSODYCTL = flavour.prosodyctl()
  const dir = makeTempDir(kind === 'prosody' ? 'xmppadm-prosody' : 'xmppadm-prosody012')
  fs.mkdirSync(path.join(dir, 'data'), {mode: 0o750})
  fs.mkdirSync(path.join(dir, 'certs'), {mode: 0o750}) // (empty) keeps certmanager quiet
  const shared = opts.pki ? null : await acquireSharedPki()
  const pki = opts.pki ?? /** @type {NonNullable<typeof shared>} */ (shared).pki
  const [c2sPort, httpPort, directTlsPort] = await freePorts(3)
  const configFile = path.join(dir, 'prosody.cfg.lua')
  const logFile = path.join(dir, 'prosody.log')
  const consoleFile = path.join(dir, 'console.log')
  const pluginDir = opts.prosodyPluginDir ?? PROSODY_PLUGIN_DIR
  const withXmppadm = opts.xmppadmModule ?? xmppadmModulePresent(pluginDir)
  fs.writeFileSync(
    configFile,
    configText({
      dir,
      c2sPort,
      directTlsPort,
      httpPort,
      certFile: pki.certFile,
      keyFile: pki.keyFile,
      pluginDir,
      withXmppadm,
      extraConfig: opts.prosodyExtraConfig,
      noModules: flavour.noModules,
      uploads: opts.prosodyUploads ?? true,
      extraModules: opts.prosodyModules,
    }),
  )

  const ctlEnv = {...process.env}
  const control = {argv: [PROSODYCTL, '--config', configFile]}
  const registerOn = async (
    /** @type {string} */ domain,
    /** @type {string} */ localpart,
    /** @type {string} */ password,
  ) => {
    await runOk(
      `prosodyctl register ${localpart} ${domain}`,
      PROSODYCTL,
      ['--config', configFile, 'register', localpart, domain, password],
      {env: ctlEnv, timeoutMs: 30000},
    )
  }
  const register = (/** @type {string} */ localpart, /** @type {string} */ password) =>
    registerOn(DOMAIN, localpart, password)

  const admin = {jid: `admin@${DOMAIN}`, password: randomPassword()}
  const user = {jid: `user@${DOMAIN}`, password: randomPassword()}
  const second = {
    domain: SECOND_DOMAIN,
    uploadDomain: SECOND_UPLOAD_DOMAIN,
    admin: {jid: `boss@${SECOND_DOMAIN}`, password: randomPassword()},
    user: {jid: `user@${SECOND_DOMAIN}`, password: randomPassword()},
  }
  // Data a test or the bench writes straight into the store files, before the server reads them.
  if (opts.prosodySeed) await opts.prosodySeed(path.join(dir, 'data'))
  // Accounts can be created before the server runs (internal storage files).
  const accounts = Promise.all([
    register('admin', admin.password),
    register('user', user.password),
    registerOn(SECOND_DOMAIN, 'boss', second.admin.password),
    registerOn(SECOND_DOMAIN, 'user', second.user.password),
  ])
  accounts.catch(() => {})

  const out = fs.openSync(consoleFile, 'a')
  const child = spawn(PROSODY, ['--config', configFile, '-F'], {
    cwd: dir,
    stdio: ['ignore', out, out],
    env: {...process.env},
  })
  fs.closeSync(out)
  /** @type {string | null} */
  let exited = null
  const exitPromise = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      exited = `prosody exited (${code ?? signal})`
      resolve(undefined)
    })
    child.once('error', (err) => {
      exited = `could not run ${PROSODY}: ${err.message}`
      resolve(undefined)
    })
  })

  /** @type {Promise<void> | null} */
  let stopping = null
  const inst = {
    name: `prosody ${dir}`,
    pids: () => (exited || !child.pid ? [] : [child.pid]),
    dirs: shared ? [dir, pki.dir] : [dir],
    stop: () => (stopping ??= doStop()),
  }
  async function doStop() {
    if (!exited && child.pid) {
      child.kill('SIGTERM')
      await Promise.race([exitPromise, waitPidGone(child.pid, 15000)])
    }
    unregisterLive(inst)
    if (!keepServers()) removeDir(dir)
    shared?.release()
  }
  registerLive(inst)

  try {
    const portClash = () => /Failed to open server port/.test(tail(logFile, 200))
    await waitFor(`prosody on ${LOOPBACK}:${c2sPort}`, () => xmppAnswers(c2sPort, DOMAIN, 1000), {
      timeoutMs: opts.startTimeoutMs ?? 30000,
      failed: () => exited ?? (portClash() ? 'a port is already in use' : null),
    })
    await accounts
  } catch (err) {
    const clash = /Failed to open server port/.test(tail(logFile, 200))
    const detail = `\n--- ${logFile}:\n${tail(logFile)}\n--- ${consoleFile}:\n${tail(consoleFile)}`
    await inst.stop().catch(() => {})
    const msg = `${/** @type {Error} */ (err).message}${detail}`
    throw clash ? new PortInUse(msg) : new Error(msg)
  }

  const log = tail(logFile, 400)
  /** @type {'absent' | 'enabled' | 'failed'} */
  let xmppadmModule = withXmppadm ? 'enabled' : 'absent'
  const modErrors = log
    .split('\n')
    .filter((l) => /\berror\b/i.test(l) && /mod_xmppadm|'xmppadm'|"xmppadm"|module xmppadm/i.test(l))
  if (withXmppadm && modErrors.length) xmppadmModule = 'failed'

  return {
    kind,
    host: LOOPBACK,
    port: c2sPort,
    directTlsPort,
    domain: DOMAIN,
    caFile: pki.caFile,
    otherCaFile: pki.otherCaFile,
    admin,
    user,
    dir,
    logFile,
    httpPort,
    uploadDomain: UPLOAD_DOMAIN,
    second: opts.prosodyUploads === false ? {...second, uploadDomain: undefined} : second,
    configFile,
    pid: /** @type {number} */ (child.pid),
    control,
    xmppadmModule,
    xmppadmModuleErrors: modErrors,
    startMs: Date.now() - t0,
    register,
    stop: inst.stop,
  }
}
