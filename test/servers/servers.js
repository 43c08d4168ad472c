// For test files: the servers started once by test/global-setup.ts.
// The global setup writes their descriptors (JSON, no functions) to a file and puts its path in
// the environment variable XMPPADM_TEST_SERVERS, which vitest passes on to the test workers.
import * as fs from 'node:fs'
import * as path from 'node:path'
import {randomHex, run} from './util.js'

/** @typedef {import('./harness.js').ServerDescriptor} ServerDescriptor */
/**
 * @typedef {{prosody: ServerDescriptor, ejabberd24: ServerDescriptor, ejabberd26: ServerDescriptor,
 *            prosody012: ServerDescriptor}} Servers
 */

export const SERVERS_ENV = 'XMPPADM_TEST_SERVERS'

/**
 * Descriptors of the running test servers. Throws (never skips) if they are not there.
 * @returns {Servers}
 */
export function loadServers() {
  const file = process.env[SERVERS_ENV]
  if (!file) {
    throw new Error(
      `${SERVERS_ENV} is not set: the test servers are started by test/global-setup.ts; ` +
        'run the integration tests through vitest (npx vitest run test/integration) with vitest.config.ts',
    )
  }
  /** @type {Servers} */
  const servers = JSON.parse(fs.readFileSync(file, 'utf8'))
  for (const k of /** @type {const} */ (['prosody', 'ejabberd24', 'ejabberd26', 'prosody012'])) {
    if (!servers[k]?.port) throw new Error(`${file}: no ${k} server in it`)
  }
  return servers
}

/** Prosody 13 and the two ejabberds as a list, for `describe.each` (0.12: `loadServers().prosody012`). */
export function serverList() {
  const s = loadServers()
  return [s.prosody, s.ejabberd24, s.ejabberd26]
}

/**
 * Runs prosodyctl / ejabberdctl of that instance with these arguments.
 * @param {ServerDescriptor} server
 * @param {string[]} args
 * @param {number} [timeoutMs]
 */
export function runControl(server, args, timeoutMs = 60000) {
  const [cmd, ...pre] = server.control.argv
  return run(cmd, [...pre, ...args], {timeoutMs, cwd: '/'})
}

/**
 * Creates an account out of band (prosodyctl register / ejabberdctl register).
 * @param {ServerDescriptor} server
 * @param {string} localpart
 * @param {string} password
 */
export async function registerAccount(server, localpart, password) {
  const r = await runControl(server, ['register', localpart, server.domain, password])
  if (r.code !== 0) {
    throw new Error(
      `${server.kind}: registering ${localpart}@${server.domain} failed (exit ${r.code}): ` +
        `${(r.stdout + r.stderr).trim()}`,
    )
  }
}

/**
 * Evaluates Erlang expressions inside an ejabberd node (for tests that must see or change what
 * the server stores, e.g. make an offline message old). A hidden node connects with the
 * server's cookie to its fixed distribution port (no epmd) and runs erl_eval there. The value of
 * the last expression is printed: a binary as it is, anything else with ~w.
 * @param {ServerDescriptor} server
 * @param {string} code  Erlang expressions, comma-separated, ending with a dot
 * @param {number} [timeoutMs]
 * @returns {Promise<string>}
 */
export async function evalErlang(server, code, timeoutMs = 30000) {
  if (!server.erlangNode || !server.distPort || !server.cookie)
    throw new Error(`${server.kind}: not an ejabberd node`)
  const host = server.erlangNode.split('@')[1]
  const long = host.includes('.')
  const boot =
    `{ok,T,_}=erl_scan:string(os:getenv("XMPPADM_EVAL")),{ok,E}=erl_parse:parse_exprs(T),` +
    `case rpc:call('${server.erlangNode}',erl_eval,exprs,[E,[]]) of ` +
    `{value,V,_} when is_binary(V)->io:put_chars(V),halt(0);` +
    `{value,V,_}->io:format("~w",[V]),halt(0);` +
    `Err->io:format(standard_error,"~p~n",[Err]),halt(1) end.`
  const args = [
    long ? '-name' : '-sname',
    `xmppadm_eval_${randomHex(4)}@${long ? '127.0.0.1' : 'localhost'}`,
    '-hidden',
    '-noinput',
    '-dist_listen',
    'false',
    '-erl_epmd_port',
    String(server.distPort),
    '-start_epmd',
    'false',
    '-setcookie',
    server.cookie,
    '-eval',
    boot,
  ]
  const [cmd, pre] = server.chroot ? ['chroot', [server.chroot, '/usr/bin/erl']] : ['erl', []]
  const r = await run(cmd, [...pre, ...args], {
    timeoutMs,
    cwd: '/',
    env: {PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/tmp', XMPPADM_EVAL: code},
  })
  if (r.code !== 0) throw new Error(`${server.kind}: evaluating Erlang failed (exit ${r.code}): ${r.stderr}`)
  return r.stdout
}

/** The prosody-migrator of each Prosody kind (0.12's is unpacked by install.sh, its paths repointed). */
function migratorScript(/** @type {string} */ kind) {
  const cache = process.env.XMPPADM_TEST_CACHE || '/var/cache/xmppadm-test'
  return kind === 'prosody-0.12'
    ? path.join(cache, 'prosody-0.12', 'usr', 'bin', 'prosody-migrator')
    : process.env.XMPPADM_PROSODY_MIGRATOR_BIN || '/usr/bin/prosody-migrator'
}

/**
 * What Prosody's migrator moves from a XEP-0227 file. mod_storage_xep0227 reads no offline
 * messages, and its archive store ("archive-archive") fails the host-wide pass the migrator makes
 * before the users (no host file), which ends the run; --keep-going, meant for that, is ignored
 * (13's argument parser names it keep_going, the migrator looks for keep-going).
 */
const MIGRATED_STORES = ['accounts', 'roster', 'vcard', 'private', 'pep-pubsub']

/**
 * Imports a XEP-0227 file with the server's own importer, as an operator would on the server:
 * ejabberd `ejabberdctl import_piefxis FILE` (the file readable by the user ejabberd runs as);
 * Prosody `prosody-migrator` from a mod_storage_xep0227 store into the running server's internal
 * storage, with the file as `LOCAL@DOMAIN.xml` in the migrator's data directory. The migrator
 * takes its data directory from the CFG_DATADIR line of its script (/var/lib/prosody in the
 * package): here a copy of it points that at a directory of this import.
 * @param {ServerDescriptor} server
 * @param {string} file  the XEP-0227 file (host path)
 * @param {string} local  the account's local part (the name Prosody's migrator takes it from)
 */
export async function importWithServerTool(server, file, local) {
  const id = randomHex(4)
  if (server.kind.startsWith('ejabberd')) {
    const owner = fs.statSync(server.dir)
    const dest = path.join(server.dir, `import-${id}.xml`)
    fs.copyFileSync(file, dest)
    fs.chownSync(dest, owner.uid, owner.gid)
    fs.chmodSync(dest, 0o600)
    const inner = server.innerDir ? path.join(server.innerDir, path.basename(dest)) : dest
    return runControl(server, ['import_piefxis', inner], 120000)
  }
  const dir = path.join(server.dir, `import-${id}`)
  fs.mkdirSync(dir, {mode: 0o700})
  fs.copyFileSync(file, path.join(dir, `${local}@${server.domain}.xml`))
  const script = fs
    .readFileSync(migratorScript(server.kind), 'utf8')
    .replace(/^CFG_DATADIR=.*$/m, `CFG_DATADIR=${JSON.stringify(dir)};`)
  fs.writeFileSync(path.join(dir, 'prosody-migrator'), script)
  const lua = (/** @type {string} */ s) => JSON.stringify(s)
  fs.writeFileSync(
    path.join(dir, 'migrator.cfg.lua'),
    `input {\n  type = "xep0227";\n  hosts = { [${lua(server.domain)}] = { ` +
      `${MIGRATED_STORES.map(lua).join(', ')} } };\n}\n` +
      `output {\n  type = "internal";\n  path = ${lua(path.join(server.dir, 'data'))};\n}\n`,
  )
  // --root: the test servers run as root and so does their data (the migrator would switch to the
  // prosody user, as on a packaged server, where that user owns the data directory)
  const args = [path.join(dir, 'prosody-migrator'), '--root', '--config', path.join(dir, 'migrator.cfg.lua')]
  return run('lua5.4', args, {timeoutMs: 60000, cwd: dir})
}
