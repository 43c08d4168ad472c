// Real-server test harness: private Prosody 13, Prosody 0.12, ejabberd 24.12 and ejabberd 26.07
// instances on 127.0.0.1, on free ports picked at run time. See test/servers/README.md.
import {startProsody, startProsody012, prosody012Root} from './prosody.js'
import {startEjabberd24, startEjabberd26, ejabberd26Root, testCacheDir} from './ejabberd.js'
import {createPki} from './pki.js'
import {stopAllLive} from './util.js'

/**
 * @typedef {'prosody' | 'prosody-0.12' | 'ejabberd-24.12' | 'ejabberd-26.07'} ServerKind
 *
 * @typedef {object} StartOptions
 * @property {import('./pki.js').Pki} [pki]   use this PKI instead of the per-run shared one
 * @property {number} [startTimeoutMs]        default 30 s (Prosody) / 60 s (ejabberd)
 * @property {boolean} [xmppadmModule]        Prosody: load mod_xmppadm or not (default: if the file exists)
 * @property {string} [prosodyExtraConfig]    Prosody: Lua appended to the global section
 * @property {string} [prosodyPluginDir]      Prosody: plugin_paths entry (default <repo>/server/prosody)
 * @property {boolean} [sqlite]               ejabberd: default_db sql on SQLite (default Mnesia)
 * @property {boolean} [adhocApi]             ejabberd 26.07: load mod_adhoc_api (default true)
 * @property {'sha1' | 'node'} [ejabberdJidInUrl]  ejabberd: mod_http_upload's jid_in_url (default sha1)
 * @property {string} [erlangNode]            ejabberd: node name (default: random @localhost)
 * @property {number} [distPort]              ejabberd: distribution port (default: a free one)
 * @property {string} [distInterface]         ejabberd: distribution interface (default 127.0.0.1)
 * @property {string} [cookie]                ejabberd: Erlang cookie (default: random)
 * @property {boolean} [prosodyUploads]       Prosody: serve upload.localhost (http_file_share; default on)
 * @property {string[]} [prosodyModules]      Prosody: more modules_enabled (e.g. server_contact_info)
 * @property {(dataDir: string) => unknown} [prosodySeed]  Prosody: writes store files into data_path before
 *                                            the start
 * @property {Record<string, unknown>} [ejabberdModuleOptions]  ejabberd: mod_xmppadm's options (its conf/
 *                                            file)
 *
 * @typedef {object} Account
 * @property {string} jid
 * @property {string} password
 *
 * @typedef {object} ServerDescriptor  what survives JSON (see servers.js loadServers())
 * @property {ServerKind} kind
 * @property {'127.0.0.1'} host
 * @property {number} port              c2s port (STARTTLS required, TLS 1.2+)
 * @property {'localhost'} domain
 * @property {string} caFile            PEM of the test CA that signed the server certificate
 * @property {string} otherCaFile       PEM of an unrelated CA (verification must fail with it)
 * @property {Account} admin            admin@localhost (server admin / operator)
 * @property {Account} user             user@localhost (normal account)
 * @property {string} dir               temp dir of the instance (host path)
 * @property {string} logFile           main log file
 * @property {number} [httpPort]        plain-HTTP port on 127.0.0.1 (uploads; ejabberd: also /api)
 * @property {string} [uploadDomain]    'upload.localhost'
 * @property {{domain: string, admin: Account, user: Account, uploadDomain?: string}} [second]
 *                                      the second virtual host 'second.localhost': boss@ (its admin
 *                                      only), user@
 * @property {string} configFile        the server's config file (host path)
 * @property {number} pid               server process (Prosody) / Erlang VM (ejabberd)
 * @property {{argv: string[]}} control command prefix running prosodyctl / ejabberdctl for this instance
 * @property {string} [erlangNode]      ejabberd: Erlang node name
 * @property {number} [distPort]        ejabberd: Erlang distribution port
 * @property {string} [chroot]          ejabberd 26.07: chroot root
 * @property {string} [innerDir]        ejabberd 26.07: `dir` as seen inside the chroot
 * @property {'absent' | 'enabled' | 'failed'} [xmppadmModule]  state of mod_xmppadm
 * @property {string} [cookie]          ejabberd: Erlang cookie
 * @property {string} [distInterface]   ejabberd: distribution interface
 * @property {'mnesia' | 'sqlite'} [db] ejabberd: storage
 * @property {string[]} [xmppadmModuleErrors]  Prosody: log lines about mod_xmppadm failing
 * @property {number} startMs           how long the start took
 *
 * @typedef {ServerDescriptor & {
 *   register(localpart: string, password: string): Promise<void>,
 *   stop(): Promise<void>,
 * }} RunningServer
 */

export {
  startProsody,
  startProsody012,
  startEjabberd24,
  startEjabberd26,
  createPki,
  ejabberd26Root,
  prosody012Root,
  testCacheDir,
}

/**
 * Starts all the servers in parallel (sharing one test PKI). The ejabberd servers get mod_xmppadm
 * (installed as an operator would); 26.07 keeps its data in SQLite, 24.12 in Mnesia.
 * If one fails, the others are stopped and the error is thrown.
 * @param {StartOptions} [opts]
 * @returns {Promise<{prosody: RunningServer, ejabberd24: RunningServer, ejabberd26: RunningServer,
 *                    prosody012: RunningServer}>}
 */
export async function startAll(opts = {}) {
  const results = await Promise.allSettled([
    startProsody(opts),
    startEjabberd24(opts),
    startEjabberd26({sqlite: true, ...opts}),
    startProsody012(opts),
  ])
  const failures = results.filter((r) => r.status === 'rejected')
  if (failures.length) {
    await Promise.all(
      results.map((r) => (r.status === 'fulfilled' ? r.value.stop().catch(() => {}) : undefined)),
    )
    const msgs = failures.map((f) => String(/** @type {PromiseRejectedResult} */ (f).reason?.message ?? f))
    throw new Error(`starting the test servers failed:\n${msgs.join('\n\n')}`)
  }
  const [prosody, ejabberd24, ejabberd26, prosody012] = results.map(
    (r) => /** @type {PromiseFulfilledResult<RunningServer>} */ (r).value,
  )
  return {prosody, ejabberd24, ejabberd26, prosody012}
}

/**
 * Stops the given servers (or, without argument, every server this process started).
 * @param {{[k: string]: RunningServer} | RunningServer[]} [servers]
 */
export async function stopAll(servers) {
  if (!servers) return stopAllLive()
  await Promise.all(Object.values(servers).map((s) => s.stop()))
}

/**
 * The JSON-safe part of a running server (drops the functions).
 * @param {RunningServer} s
 * @returns {ServerDescriptor}
 */
export function describe(s) {
  const {register: _r, stop: _s, ...rest} = s
  return JSON.parse(JSON.stringify(rest))
}
