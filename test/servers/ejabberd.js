// Private ejabberd instances for tests, loopback only:
//   - 24.12: the host's package (bookworm-backports), run with a copy of ejabberdctl whose
//     INSTALLUSER is emptied so that it runs as the current user (root included);
//   - 26.07: trixie-backports inside the debootstrap chroot built by install.sh, run as the
//     chroot's ejabberd user with the stock ejabberdctl.
import {spawn} from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import {randomBytes} from 'node:crypto'
import {acquireSharedPki} from './pki.js'
import {
  LOOPBACK,
  REPO_ROOT,
  freePorts,
  keepServers,
  makeTempDir,
  pidAlive,
  randomHex,
  randomPassword,
  registerLive,
  removeDir,
  run,
  tail,
  unregisterLive,
  waitFor,
  waitPidGone,
  xmppAnswers,
} from './util.js'

/** @typedef {import('./harness.js').StartOptions} StartOptions */
/** @typedef {import('./harness.js').RunningServer} RunningServer */

const DOMAIN = 'localhost'
const UPLOAD_DOMAIN = `upload.${DOMAIN}`
/** A second virtual host with an admin of its own (admin of that host only) and a user. */
const SECOND_DOMAIN = 'second.localhost'
const SECOND_UPLOAD_DOMAIN = `upload.${SECOND_DOMAIN}`
const HOST_EJABBERDCTL = '/usr/sbin/ejabberdctl'
const CTL_PATH = '/usr/sbin:/usr/bin:/sbin:/bin'
/** mod_xmppadm's sources (installed with `ejabberdctl module_install`, as an operator would). */
export const EJABBERD_MODULE_DIR = path.join(REPO_ROOT, 'server', 'ejabberd')

/** Cache dir of install.sh. */
export function testCacheDir() {
  return process.env.XMPPADM_TEST_CACHE || '/var/cache/xmppadm-test'
}
/** Root of the ejabberd 26.07 chroot. */
export function ejabberd26Root() {
  return path.join(testCacheDir(), 'ejabberd-26.07')
}
const CHROOT_MARKER = '.xmppadm-chroot-ready'

/**
 * @param {{version: 24 | 26, c2sPort: number, httpPort: number, certFile: string, caFile: string,
 *          uploadDir: string, sqlite: string | null, xmppadmModule: boolean, adhocApi: boolean,
 *          jidInUrl?: 'sha1' | 'node'}} o
 */
function ejabberdYml(o) {
  const adhocApi = o.adhocApi
  // With mod_xmppadm, mod_http_upload keeps a deleted account's files (rm_on_unregister: false):
  // removing them is then mod_xmppadm's job, which the tests check.
  return `### Written by xmppadm's test harness (test/servers/ejabberd.js). Loopback only.
hosts:
  - ${DOMAIN}
  - ${SECOND_DOMAIN}
${
  o.sqlite
    ? `
## everything in SQLite (the tables are made by ejabberd's update_sql_schema)
default_db: sql
sql_type: sqlite
sql_database: "${o.sqlite}"
`
    : ''
}
loglevel: info
log_rotate_count: 1
hide_sensitive_log_data: false

certfiles:
  - "${o.certFile}"
## the test CA (so that ejabberd can validate its own certificate chain)
ca_file: "${o.caFile}"

define_macro:
  'TLS_CIPHERS': "HIGH:!aNULL:!eNULL:!3DES:@STRENGTH"
  'TLS_OPTIONS':
    - "no_sslv3"
    - "no_tlsv1"
    - "no_tlsv1_1"
    - "cipher_server_preference"
    - "no_compression"

c2s_ciphers: 'TLS_CIPHERS'
c2s_protocol_options: 'TLS_OPTIONS'

listen:
  -
    port: ${o.c2sPort}
    ip: "${LOOPBACK}"
    module: ejabberd_c2s
    max_stanza_size: 262144
    shaper: c2s_shaper
    access: c2s
    starttls_required: true
    protocol_options: 'TLS_OPTIONS'
  -
    port: ${o.httpPort}
    ip: "${LOOPBACK}"
    module: ejabberd_http
    tls: false
    request_handlers:
      /upload: mod_http_upload
      /api: mod_http_api
      /bosh: mod_bosh

## no federation: no s2s listener, no outgoing s2s
s2s_access: none

auth_method: internal
auth_password_format: scram
## in-band registration from loopback is not rate limited (default: 1 per IP per 600 s)
registration_timeout: infinity

acl:
  admin:
    user:
      - "admin@${DOMAIN}"
  local:
    user_regexp: ""
  loopback:
    ip:
      - 127.0.0.0/8
      - ::1/128

access_rules:
  local:
    allow: local
  c2s:
    deny: blocked
    allow: all
  announce:
    allow: admin
  configure:
    allow: admin
  register:
    allow: all
  trusted_network:
    allow: loopback
  pubsub_createnode:
    allow: local

api_permissions:
  "console commands":
    from: ejabberd_ctl
    who: all
    what: "*"
  "http api":
    from: mod_http_api
    who:
      access:
        allow:
          - acl: admin
    what:
      - "*"
      - "!stop"
      - "!start"
${
  adhocApi
    ? `  "adhoc commands":
    from: mod_adhoc_api
    who: admin
    what: "*"
`
    : ''
}
shaper:
  normal:
    rate: 3000
    burst_size: 20000
  fast: 200000

shaper_rules:
  max_user_sessions: 10
  max_user_offline_messages:
    5000: admin
    100: all
  c2s_shaper:
    none: admin
    normal: all

## second.localhost has an admin of its own, admin of that host only. A host's acl replaces the
## global acl of the same name there: the global admin is listed again to stay admin everywhere.
host_config:
  ${SECOND_DOMAIN}:
    acl:
      admin:
        user:
          - "boss@${SECOND_DOMAIN}"
          - "admin@${DOMAIN}"
      local:
        user_regexp: ""
      loopback:
        ip:
          - 127.0.0.0/8
          - ::1/128

modules:
  mod_adhoc: {}
${adhocApi ? '  mod_adhoc_api: {}\n' : ''}  mod_admin_extra: {}
  mod_announce:
    access: announce
  mod_blocking: {}
  mod_bosh: {}
  mod_caps: {}
  mod_configure: {}
  mod_disco: {}
  mod_fail2ban:
    c2s_auth_ban_lifetime: 1h
    c2s_max_auth_failures: 20
  mod_http_api: {}
  mod_http_upload:
    ## one docroot for every host (as ejabberd's default "@HOME@/upload"); a put_url per host
    ## (mod_http_upload names its process after it)
    put_url: "http://${LOOPBACK}:${o.httpPort}/upload/@HOST@"
    docroot: "${o.uploadDir}"
    max_size: 10485760
    thumbnail: false
    rm_on_unregister: ${o.xmppadmModule ? 'false' : 'true'}
${o.jidInUrl ? `    jid_in_url: ${o.jidInUrl}\n` : ''}  mod_last: {}
  mod_mam:
    default: always
  mod_offline:
    access_max_user_messages: max_user_offline_messages
  mod_ping: {}
  mod_privacy: {}
  mod_private: {}
  mod_pubsub:
    access_createnode: pubsub_createnode
    plugins:
      - flat
      - pep
  mod_register:
    access: register
    ip_access: trusted_network
  mod_roster:
    versioning: true
  mod_stats: {}
  mod_vcard:
    search: false
  mod_version:
    show_os: false
`
}

/** @param {{node: string, distPort: number, pidFile: string, distInterface: string}} o */
function ejabberdctlCfg(o) {
  return `# Written by xmppadm's test harness. Sourced by ejabberdctl.
ERLANG_NODE=${o.node}
# fixed distribution port: no epmd is started; ctl clients connect to this port
ERL_DIST_PORT=${o.distPort}
ERL_OPTIONS="-env ERL_CRASH_DUMP_BYTES 0 -kernel inet_dist_use_interface {${o.distInterface.replace(/\./g, ',')}}"
EJABBERD_PID_PATH=${o.pidFile}
EJABBERD_BYPASS_WARNINGS=true
`
}

/**
 * @typedef {object} Flavor
 * @property {'ejabberd-24.12' | 'ejabberd-26.07'} kind
 * @property {24 | 26} version
 * @property {string} hostDir     instance dir as seen from the host
 * @property {string} innerDir    the same dir as seen by ejabberd (inside the chroot for 26)
 * @property {string[]} ctlArgv   command prefix that runs ejabberdctl for this instance
 * @property {{uid: number, gid: number} | null} owner  chown the instance to this user
 * @property {string | null} chroot
 */

/** @returns {Flavor} */
function flavor24() {
  if (!fs.existsSync(HOST_EJABBERDCTL)) {
    throw new Error(
      `ejabberd 24.12 is not installed (${HOST_EJABBERDCTL} missing): run \`npm run setup\` ` +
        '(as root: it runs test/servers/install.sh)',
    )
  }
  const dir = makeTempDir('xmppadm-ejabberd24')
  const ctl = path.join(dir, 'ejabberdctl')
  const src = fs.readFileSync(HOST_EJABBERDCTL, 'utf8')
  const patched = src.replace(/^INSTALLUSER=.*$/m, 'INSTALLUSER=')
  if (patched === src && !/^INSTALLUSER=$/m.test(src)) {
    throw new Error(`${HOST_EJABBERDCTL} has no INSTALLUSER= line to patch`)
  }
  fs.writeFileSync(ctl, patched, {mode: 0o755})
  return {
    kind: 'ejabberd-24.12',
    version: 24,
    hostDir: dir,
    innerDir: dir,
    ctlArgv: [
      '/usr/bin/env',
      '-i',
      `HOME=${dir}/home`,
      `PATH=${CTL_PATH}`,
      'LANG=C.UTF-8',
      ctl,
      '--config-dir',
      `${dir}/etc`,
      '--spool',
      `${dir}/spool`,
      '--logs',
      `${dir}/logs`,
    ],
    owner: null,
    chroot: null,
  }
}

/** @returns {Flavor} */
function flavor26() {
  const root = ejabberd26Root()
  if (
    !fs.existsSync(path.join(root, CHROOT_MARKER)) ||
    !fs.existsSync(path.join(root, 'usr/sbin/ejabberdctl'))
  ) {
    const how = process.env.CI
      ? 'The CI job must run `sudo bash test/servers/install.sh` (or `npm run setup`) before the tests.'
      : 'Run `npm run setup` (as root; it runs test/servers/install.sh, ~35 s the first time).'
    throw new Error(`ejabberd 26.07 chroot not found at ${root} (no ${CHROOT_MARKER} marker). ${how}`)
  }
  if (process.getuid?.() !== 0) {
    throw new Error('ejabberd 26.07 runs in a chroot: the test harness must run as root')
  }
  const pw = fs
    .readFileSync(path.join(root, 'etc/passwd'), 'utf8')
    .split('\n')
    .find((l) => l.startsWith('ejabberd:'))
  if (!pw)
    throw new Error(
      `no ejabberd user in ${root}/etc/passwd: rebuild with XMPPADM_REBUILD_CHROOT=1 bash ` +
        `test/servers/install.sh`,
    )
  const [, , uid, gid] = pw.split(':')
  const name = `xmppadm-${randomHex(6)}`
  const innerDir = `/srv/${name}`
  const hostDir = path.join(root, 'srv', name)
  fs.mkdirSync(hostDir, {mode: 0o750})
  return {
    kind: 'ejabberd-26.07',
    version: 26,
    hostDir,
    innerDir,
    ctlArgv: [
      'chroot',
      `--userspec=${uid}:${gid}`,
      root,
      '/usr/bin/env',
      '-i',
      `HOME=${innerDir}/home`,
      `PATH=${CTL_PATH}`,
      'LANG=C.UTF-8',
      '/usr/sbin/ejabberdctl',
      '--config-dir',
      `${innerDir}/etc`,
      '--spool',
      `${innerDir}/spool`,
      '--logs',
      `${innerDir}/logs`,
    ],
    owner: {uid: Number(uid), gid: Number(gid)},
    chroot: root,
  }
}

class PortInUse extends Error {}

/**
 * @param {() => Flavor} makeFlavor
 * @param {StartOptions} opts
 * @returns {Promise<RunningServer>}
 */
async function startEjabberd(makeFlavor, opts) {
  for (let i = 1; ; i++) {
    try {
      return await startOnce(makeFlavor, opts)
    } catch (err) {
      if (i >= 3 || !(err instanceof PortInUse)) throw err
    }
  }
}

/**
 * @param {() => Flavor} makeFlavor
 * @param {StartOptions} opts
 * @returns {Promise<RunningServer>}
 */
async function startOnce(makeFlavor, opts) {
  const t0 = Date.now()
  const fl = makeFlavor()
  const {hostDir, innerDir} = fl
  const H = (/** @type {string} */ p) => path.join(hostDir, p)
  const I = (/** @type {string} */ p) => path.posix.join(innerDir, p)

  /** @type {Awaited<ReturnType<typeof acquireSharedPki>> | null} */
  let shared = null
  /** @type {number | null} */
  let vmPid = null
  /** @type {Promise<void> | null} */
  let stopping = null
  const inst = {
    name: `${fl.kind} ${hostDir}`,
    pids: () => (vmPid ? [vmPid] : readPid()),
    dirs: [hostDir],
    stop: () => (stopping ??= doStop()),
  }
  const pidFileHost = H('run/ejabberd.pid')
  const readPid = () => {
    try {
      const n = Number(fs.readFileSync(pidFileHost, 'utf8').trim())
      return n > 0 ? [n] : []
    } catch {
      return []
    }
  }
  const ctl = (/** @type {string[]} */ args, timeoutMs = 60000) =>
    run(fl.ctlArgv[0], [...fl.ctlArgv.slice(1), ...args], {timeoutMs, cwd: '/'})
  async function doStop() {
    const pids = vmPid ? [vmPid] : readPid()
    if (pids.some(pidAlive)) {
      await ctl(['stop'], 30000).catch(() => {})
      await Promise.all(pids.map((p) => waitPidGone(p, 15000)))
    }
    unregisterLive(inst)
    if (!keepServers()) removeDir(hostDir)
    shared?.release()
  }
  registerLive(inst)

  const logFile = H('logs/ejabberd.log')
  const startLog = H('logs/ctl-start.log')
  const logs = () =>
    ['logs/ejabberd.log', 'logs/error.log', 'logs/crash.log', 'logs/ctl-start.log']
      .map((f) => {
        const t = tail(H(f), 30)
        return t ? `--- ${H(f)}:\n${t}` : ''
      })
      .filter(Boolean)
      .join('\n')
  const portClash = () => /eaddrinuse|address already in use|already in use/i.test(logs())

  try {
    let pki = opts.pki
    if (!pki) {
      shared = await acquireSharedPki()
      pki = shared.pki
      inst.dirs.push(pki.dir)
    }
    const [c2sPort, httpPort, freeDistPort] = await freePorts(3)
    const distPort = opts.distPort ?? freeDistPort
    const withModule = opts.xmppadmModule ?? true
    const sqlite = opts.sqlite ? I('spool/ejabberd.db') : null
    for (const d of ['etc', 'spool', 'logs', 'run', 'home', 'upload']) fs.mkdirSync(H(d), {mode: 0o750})
    fs.copyFileSync(pki.bundleFile, H('etc/cert.pem'))
    fs.chmodSync(H('etc/cert.pem'), 0o600)
    fs.copyFileSync(pki.caFile, H('etc/ca.pem'))
    fs.writeFileSync(
      H('etc/ejabberd.yml'),
      ejabberdYml({
        version: fl.version,
        c2sPort,
        httpPort,
        certFile: I('etc/cert.pem'),
        caFile: I('etc/ca.pem'),
        uploadDir: I('upload'),
        sqlite,
        xmppadmModule: withModule,
        // 26.07's API over ad-hoc (mod_adhoc_api), unless a test needs ejabberd without it
        adhocApi: fl.version >= 26 && (opts.adhocApi ?? true),
        jidInUrl: opts.ejabberdJidInUrl,
      }),
    )
    const node = opts.erlangNode ?? `xmppadm${fl.version}_${randomHex(5)}@localhost`
    fs.writeFileSync(
      H('etc/ejabberdctl.cfg'),
      ejabberdctlCfg({
        node,
        distPort,
        pidFile: I('run/ejabberd.pid'),
        distInterface: opts.distInterface ?? LOOPBACK,
      }),
    )
    // Erlang resolver config (ejabberdctl points ERL_INETRC here; without it every call prints an error
    // report)
    fs.writeFileSync(H('etc/inetrc'), '{lookup, [file, native]}.\n{host, {127,0,0,1}, ["localhost"]}.\n')
    // Our own Erlang cookie (the server and every ctl call read it from $HOME).
    const cookie = opts.cookie ?? randomBytes(15).toString('hex').toUpperCase()
    fs.writeFileSync(H('home/.erlang.cookie'), cookie, {mode: 0o400})
    if (fl.owner) chownTree(hostDir, fl.owner.uid, fl.owner.gid)

    // `ejabberdctl start` detaches the VM, which keeps the stderr it got open: give it a file.
    const out = fs.openSync(startLog, 'a')
    if (fl.owner) fs.fchownSync(out, fl.owner.uid, fl.owner.gid)
    const starter = spawn(fl.ctlArgv[0], [...fl.ctlArgv.slice(1), 'start'], {
      stdio: ['ignore', out, out],
      cwd: '/',
    })
    fs.closeSync(out)
    const startCode = await new Promise((resolve) => {
      starter.once('exit', (code) => resolve(code))
      starter.once('error', (e) => resolve(e.message))
    })
    if (startCode !== 0) throw new Error(`ejabberdctl start failed (${startCode})`)

    const failed = () => {
      const pids = readPid()
      if (pids.length && !pids.some(pidAlive)) return 'the ejabberd VM exited'
      if (portClash()) return 'a port is already in use'
      if (
        /Failed to start ejabberd application|Invalid value of option|init terminating in do_boot/i.test(
          logs(),
        )
      )
        return 'ejabberd failed to start'
      return null
    }
    const timeoutMs = opts.startTimeoutMs ?? 60000
    const debug = (/** @type {string} */ m) =>
      process.env.XMPPADM_HARNESS_DEBUG &&
      console.error(`[harness] ${fl.kind}: ${m} at ${Date.now() - t0} ms`)
    // Ready = c2s answers a stream header AND `ejabberdctl status` exits 0. Both are polled at the
    // same time (status from when the VM has written its pid file) to overlap the ctl VM boots.
    /** @type {string | null} */
    let abandon = null
    const failedOr = () => abandon ?? failed()
    const c2sReady = waitFor(
      `${fl.kind} c2s on ${LOOPBACK}:${c2sPort}`,
      () => xmppAnswers(c2sPort, DOMAIN, 1000),
      {
        timeoutMs,
        intervalMs: 50,
        failed: failedOr,
      },
    ).then(() => debug('c2s answers'))
    const statusReady = waitFor(`${fl.kind} VM pid file`, async () => readPid().length > 0, {
      timeoutMs,
      intervalMs: 50,
      failed: failedOr,
    })
      .then(() =>
        waitFor(`${fl.kind} \`ejabberdctl status\``, async () => (await ctl(['status'], 30000)).code === 0, {
          timeoutMs,
          intervalMs: 100,
          failed: failedOr,
        }),
      )
      .then(() => debug('status ok'))
    try {
      await Promise.all([c2sReady, statusReady])
    } catch (err) {
      abandon = 'abandoned'
      await Promise.allSettled([c2sReady, statusReady])
      throw err
    }
    vmPid = readPid()[0] ?? null
    if (!vmPid) throw new Error(`no pid in ${pidFileHost}`)
    if (withModule) {
      await installModule(fl, ctl, opts.ejabberdModuleOptions)
      debug('mod_xmppadm installed')
    }

    const register = async (/** @type {string} */ localpart, /** @type {string} */ password) => {
      const r = await ctl(['register', localpart, DOMAIN, password], 60000)
      if (r.code !== 0) {
        throw new Error(
          `ejabberdctl register ${localpart}@${DOMAIN} failed (exit ${r.code}): ` +
            `${(r.stdout + r.stderr).trim()}`,
        )
      }
    }
    const admin = {jid: `admin@${DOMAIN}`, password: randomPassword()}
    const user = {jid: `user@${DOMAIN}`, password: randomPassword()}
    const second = {
      domain: SECOND_DOMAIN,
      uploadDomain: SECOND_UPLOAD_DOMAIN,
      admin: {jid: `boss@${SECOND_DOMAIN}`, password: randomPassword()},
      user: {jid: `user@${SECOND_DOMAIN}`, password: randomPassword()},
    }
    const registerOn = async (/** @type {{jid: string, password: string}} */ account) => {
      const [localpart, domain] = account.jid.split('@')
      const r = await ctl(['register', localpart, domain, account.password], 60000)
      if (r.code !== 0) {
        throw new Error(
          `ejabberdctl register ${account.jid} failed (exit ${r.code}): ${(r.stdout + r.stderr).trim()}`,
        )
      }
    }
    await Promise.all([admin, user, second.admin, second.user].map(registerOn))

    return {
      kind: fl.kind,
      host: LOOPBACK,
      port: c2sPort,
      domain: DOMAIN,
      caFile: pki.caFile,
      otherCaFile: pki.otherCaFile,
      admin,
      user,
      dir: hostDir,
      logFile,
      httpPort,
      uploadDomain: UPLOAD_DOMAIN,
      second,
      configFile: H('etc/ejabberd.yml'),
      pid: vmPid,
      erlangNode: node,
      distPort,
      chroot: fl.chroot ?? undefined,
      innerDir: fl.chroot ? innerDir : undefined,
      control: {argv: fl.ctlArgv},
      cookie,
      distInterface: opts.distInterface ?? LOOPBACK,
      xmppadmModule: withModule ? 'enabled' : 'absent',
      db: sqlite ? 'sqlite' : 'mnesia',
      startMs: Date.now() - t0,
      register,
      stop: inst.stop,
    }
  } catch (err) {
    const clash = portClash()
    const msg = `${/** @type {Error} */ (err).message}\n${logs()}`
    await inst.stop().catch(() => {})
    throw clash ? new PortInUse(msg) : new Error(msg)
  }
}

/**
 * Installs mod_xmppadm with exactly the steps README.md gives operators: its sources under
 * $CONTRIB_MODULES_PATH/sources/ (default ~/.ejabberd-modules of the user ejabberd runs as),
 * owned by that user (module_install compiles into them), then `ejabberdctl module_install`.
 * @param {Flavor} fl
 * @param {(args: string[], timeoutMs?: number) =>
 *          Promise<{code: number | null, stdout: string, stderr: string}>} ctl
 * @param {Record<string, unknown>} [options]  mod_xmppadm's options, written into its conf/ file
 */
async function installModule(fl, ctl, options) {
  const modules = path.join(fl.hostDir, 'home', '.ejabberd-modules')
  const dest = path.join(modules, 'sources', 'xmppadm', 'mod_xmppadm')
  fs.mkdirSync(path.dirname(dest), {recursive: true})
  fs.cpSync(EJABBERD_MODULE_DIR, dest, {
    recursive: true,
    filter: (src) => !/[/\\](ebin|README\.md)$/.test(src),
  })
  // Options go where an operator would put them for a contributed module: its conf/ file.
  if (options && Object.keys(options).length)
    fs.writeFileSync(
      path.join(dest, 'conf', 'mod_xmppadm.yml'),
      `modules:\n  mod_xmppadm:\n${Object.entries(options)
        .map(([k, v]) => `    ${k}: ${JSON.stringify(v)}\n`)
        .join('')}`,
    )
  if (fl.owner) chownTree(modules, fl.owner.uid, fl.owner.gid)
  const r = await ctl(['module_install', 'mod_xmppadm'], 120000)
  const out = (r.stdout + r.stderr).trim()
  if (r.code !== 0 || !/installed and started/.test(out)) {
    throw new Error(`ejabberdctl module_install mod_xmppadm failed (exit ${r.code}): ${out}`)
  }
}

/**
 * @param {string} dir
 * @param {number} uid
 * @param {number} gid
 */
function chownTree(dir, uid, gid) {
  fs.chownSync(dir, uid, gid)
  for (const e of fs.readdirSync(dir, {withFileTypes: true})) {
    const p = path.join(dir, e.name)
    if (e.isDirectory()) chownTree(p, uid, gid)
    else fs.lchownSync(p, uid, gid)
  }
}

/**
 * Starts a private ejabberd 24.12 (host package).
 * @param {StartOptions} [opts]
 */
export function startEjabberd24(opts = {}) {
  return startEjabberd(flavor24, opts)
}

/**
 * Starts a private ejabberd 26.07 (chroot built by install.sh).
 * @param {StartOptions} [opts]
 */
export function startEjabberd26(opts = {}) {
  return startEjabberd(flavor26, opts)
}
