// Types for harness.js.
import type {ServerDescriptor} from './servers.js'
export type {ServerDescriptor, ServerKind, Account, SecondHost, Servers} from './servers.js'

export interface Pki {
  dir: string
  caFile: string
  otherCaFile: string
  certFile: string
  keyFile: string
  bundleFile: string
}

export interface StartOptions {
  /** use this PKI instead of the per-run shared one */
  pki?: Pki
  /** default 30 s (Prosody) / 60 s (ejabberd) */
  startTimeoutMs?: number
  /** Prosody: force loading mod_xmppadm on/off (default: if server/prosody/mod_xmppadm/ exists);
   * ejabberd: install server/ejabberd with module_install (default true) */
  xmppadmModule?: boolean
  /** ejabberd 26.07: load mod_adhoc_api, its API over ad-hoc commands (default true) */
  adhocApi?: boolean
  /** ejabberd: keep everything in SQLite (default_db: sql) instead of Mnesia */
  sqlite?: boolean
  /** ejabberd: mod_http_upload's jid_in_url (default sha1: user directories named by the JID's SHA-1) */
  ejabberdJidInUrl?: 'sha1' | 'node'
  /** ejabberd: Erlang node name (e.g. ejc1@127.0.0.2 for a cluster), distribution port and the
   * interface it listens on (default 127.0.0.1), cookie (default: random) */
  erlangNode?: string
  distPort?: number
  distInterface?: string
  cookie?: string
  /** Prosody: Lua appended to the global section of the config */
  prosodyExtraConfig?: string
  /** Prosody: plugin_paths entry (default <repo>/server/prosody) */
  prosodyPluginDir?: string
  /** Prosody: the upload.localhost http_file_share component (default true) */
  prosodyUploads?: boolean
  /** Prosody: modules added to modules_enabled (e.g. server_contact_info) */
  prosodyModules?: string[]
  /** Prosody: writes store files into data_path before the start */
  prosodySeed?: (dataDir: string) => unknown
  /** ejabberd: mod_xmppadm's options (its conf/ file) */
  ejabberdModuleOptions?: Record<string, unknown>
}

export interface RunningServer extends ServerDescriptor {
  register(localpart: string, password: string): Promise<void>
  stop(): Promise<void>
}

export declare function startProsody(opts?: StartOptions): Promise<RunningServer>
export declare function startProsody012(opts?: StartOptions): Promise<RunningServer>
export declare function startEjabberd24(opts?: StartOptions): Promise<RunningServer>
export declare function startEjabberd26(opts?: StartOptions): Promise<RunningServer>
export declare function startAll(opts?: StartOptions): Promise<{
  prosody: RunningServer
  ejabberd24: RunningServer
  ejabberd26: RunningServer
  prosody012: RunningServer
}>
export declare function stopAll(servers?: Record<string, RunningServer> | RunningServer[]): Promise<void>
export declare function describe(s: RunningServer): ServerDescriptor
export declare function createPki(dir?: string): Promise<Pki>
export declare function ejabberd26Root(): string
export declare function prosody012Root(): string
export declare function testCacheDir(): string
