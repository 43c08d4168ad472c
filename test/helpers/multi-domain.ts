// Helpers for the multi-domain tests (issue 15): the test servers' second virtual host
// second.localhost, whose admin boss@ administers that host alone, seen as a server of its own.
import {readdirSync, statSync} from 'node:fs'
import {join} from 'node:path'
import type {ServerDescriptor} from '../servers/servers.js'

/**
 * The second virtual host as a descriptor of its own: its domain, upload service, admin
 * (boss@second.localhost) and user, on the same process, ports and files. Every helper that takes
 * a server (cliOn, RawClient.login, newAccount, prosodyUpload, prosodyOfflineCount…) then acts
 * on that host and logs in as its accounts.
 */
export function secondHost(server: ServerDescriptor): ServerDescriptor {
  const second = server.second
  if (!second) throw new Error(`${server.kind}: the test server has no second virtual host`)
  return {
    ...server,
    domain: second.domain as ServerDescriptor['domain'],
    uploadDomain: second.uploadDomain,
    admin: second.admin,
    user: second.user,
  }
}

/** Files under `dir` (recursively) whose name matches `name`, with their permission bits. */
export function filesNamed(dir: string, name: RegExp): Array<{path: string; mode: number}> {
  const found: Array<{path: string; mode: number}> = []
  for (const entry of readdirSync(dir, {recursive: true, encoding: 'utf8'})) {
    const path = join(dir, entry)
    const st = statSync(path)
    if (st.isFile() && name.test(entry)) found.push({path, mode: st.mode & 0o777})
  }
  return found.sort((a, b) => a.path.localeCompare(b.path))
}
