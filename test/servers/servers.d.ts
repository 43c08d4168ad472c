// Types for servers.js (plain JS so that it also runs under bare node).
export type ServerKind = 'prosody' | 'prosody-0.12' | 'ejabberd-24.12' | 'ejabberd-26.07'

export interface Account {
  jid: string
  password: string
}

/** The second virtual host of a server: an admin of that host only, and a normal user. */
export interface SecondHost {
  /** 'second.localhost' */
  domain: string
  /** boss@second.localhost: admin of second.localhost only (not of localhost) */
  admin: Account
  /** user@second.localhost, a normal account */
  user: Account
  /** its upload service, 'upload.second.localhost' (absent without uploads) */
  uploadDomain?: string
}

/** JSON-safe description of a running test server (see test/servers/README.md). */
export interface ServerDescriptor {
  kind: ServerKind
  host: '127.0.0.1'
  /** c2s port: STARTTLS required, TLS 1.2+ */
  port: number
  domain: 'localhost'
  /** PEM of the test CA that signed the server certificate */
  caFile: string
  /** PEM of an unrelated CA: verification against it must fail */
  otherCaFile: string
  /** admin@localhost, server admin */
  admin: Account
  /** user@localhost, a normal account */
  user: Account
  /** temp dir of the instance (host path) */
  dir: string
  /** main log file */
  logFile: string
  /** plain-HTTP port on 127.0.0.1 (uploads; ejabberd also /api) */
  httpPort?: number
  /** Prosody: a direct-TLS (XEP-0368) c2s port */
  directTlsPort?: number
  /** 'upload.localhost' */
  uploadDomain?: string
  /** the second virtual host (Prosody; ejabberd once its module runs there) */
  second?: SecondHost
  /** the server's config file (host path) */
  configFile: string
  /** server process (Prosody) or Erlang VM (ejabberd) */
  pid: number
  /** command prefix that runs prosodyctl / ejabberdctl against this instance */
  control: {argv: string[]}
  /** ejabberd: Erlang node name and distribution port, its cookie and the interface it listens on */
  erlangNode?: string
  distPort?: number
  cookie?: string
  distInterface?: string
  /** ejabberd: where it keeps its data */
  db?: 'mnesia' | 'sqlite'
  /** ejabberd 26.07: the chroot, and `dir` as seen inside it */
  chroot?: string
  innerDir?: string
  /** whether mod_xmppadm was enabled and loaded (Prosody: server/prosody/mod_xmppadm/;
   * ejabberd: server/ejabberd, installed with ejabberdctl module_install) */
  xmppadmModule?: 'absent' | 'enabled' | 'failed'
  xmppadmModuleErrors?: string[]
  /** milliseconds the start took */
  startMs: number
}

export interface Servers {
  prosody: ServerDescriptor
  ejabberd24: ServerDescriptor
  ejabberd26: ServerDescriptor
  /** Prosody 0.12 (bookworm main), with mod_xmppadm like `prosody` */
  prosody012: ServerDescriptor
}

export declare const SERVERS_ENV: 'XMPPADM_TEST_SERVERS'
export declare function loadServers(): Servers
export declare function serverList(): ServerDescriptor[]
export declare function runControl(
  server: ServerDescriptor,
  args: string[],
  timeoutMs?: number,
): Promise<{code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string}>
export declare function evalErlang(
  server: ServerDescriptor,
  code: string,
  timeoutMs?: number,
): Promise<string>
export declare function registerAccount(
  server: ServerDescriptor,
  localpart: string,
  password: string,
): Promise<void>
export declare function importWithServerTool(
  server: ServerDescriptor,
  file: string,
  local: string,
): Promise<{code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string}>
