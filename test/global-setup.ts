// vitest globalSetup of the "integration" project (vitest.config.ts): starts Prosody 13,
// Prosody 0.12, ejabberd 24.12 and ejabberd 26.07 once, writes their descriptors (JSON, without functions) to
// a
// private temp file and exports its path as XMPPADM_TEST_SERVERS for the test workers
// (read it with loadServers() from test/servers/servers.js). Stops them at teardown.
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {startAll, describe} from './servers/harness.js'
import {SERVERS_ENV} from './servers/servers.js'

export default async function setup(): Promise<() => Promise<void>> {
  const t0 = Date.now()
  const servers = await startAll()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xmppadm-servers-'))
  const file = path.join(dir, 'servers.json')
  const json: Record<string, unknown> = {}
  for (const [k, s] of Object.entries(servers)) json[k] = describe(s)
  fs.writeFileSync(file, JSON.stringify(json, null, 2) + '\n', {mode: 0o600})
  process.env[SERVERS_ENV] = file
  const took = ((Date.now() - t0) / 1000).toFixed(1)
  const ports = Object.values(servers)
    .map((s) => `${s.kind} 127.0.0.1:${s.port} (${(s.startMs / 1000).toFixed(1)} s)`)
    .join(', ')
  console.log(`[xmppadm] test servers up in ${took} s: ${ports}`)
  for (const p of [servers.prosody, servers.prosody012]) {
    if (p.xmppadmModule === 'failed') {
      console.warn(`[xmppadm] note: ${p.kind} could not load mod_xmppadm (see ${p.logFile})`)
    }
  }

  return async () => {
    const t1 = Date.now()
    try {
      await Promise.all(Object.values(servers).map((s) => s.stop()))
    } finally {
      fs.rmSync(dir, {recursive: true, force: true})
      delete process.env[SERVERS_ENV]
    }
    console.log(`[xmppadm] test servers stopped in ${((Date.now() - t1) / 1000).toFixed(1)} s`)
  }
}
