// For test files: the servers started once by test/global-setup.ts.
// The global setup writes their descriptors (JSON, no functions) to a file and puts its path in
// the environment variable XMPPADM_TEST_SERVERS, which vitest passes on to the test workers.
import * as fs from 'node:fs'
import {run} from './util.js'

/** @typedef {import('./harness.js').ServerDescriptor} ServerDescriptor */
/** @typedef {{prosody: ServerDescriptor, ejabberd24: ServerDescriptor, ejabberd26: ServerDescriptor, prosody012: ServerDescriptor}} Servers */

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

/** Prosody 13 and the two ejabberds as a list, e.g. for `describe.each` (Prosody 0.12: `loadServers().prosody012`). */
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
      `${server.kind}: registering ${localpart}@${server.domain} failed (exit ${r.code}): ${(r.stdout + r.stderr).trim()}`,
    )
  }
}
