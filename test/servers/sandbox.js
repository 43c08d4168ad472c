#!/usr/bin/env node
// `npm run sandbox`: one private Prosody 13 on 127.0.0.1 (the same harness the tests use) with
// admin@localhost, plus an xmppadm profile "sandbox" pointing at it. Runs until Ctrl-C.
import * as fs from 'node:fs'
import * as path from 'node:path'
import {startProsody} from './prosody.js'
import {REPO_ROOT, tail} from './util.js'

const SANDBOX = path.join(REPO_ROOT, '.sandbox')
const PROFILE_DIR = path.join(SANDBOX, 'xmppadm')
const PASSWORD_FILE = path.join(SANDBOX, 'admin.password')
const CA_FILE = path.join(SANDBOX, 'ca.pem')
const PROFILE_FILE = path.join(PROFILE_DIR, 'sandbox.conf')

async function main() {
  fs.mkdirSync(PROFILE_DIR, {recursive: true, mode: 0o700})
  process.stdout.write('starting Prosody… ')
  const server = await startProsody()
  console.log(`up in ${(server.startMs / 1000).toFixed(1)} s`)

  let stopping = false
  const shutdown = async (/** @type {string} */ why) => {
    if (stopping) return
    stopping = true
    console.log(`\n${why}: stopping Prosody…`)
    try {
      await server.stop()
      console.log('stopped.')
      process.exit(0)
    } catch (err) {
      console.error(err)
      process.exit(1)
    }
  }
  process.on('SIGINT', () => void shutdown('SIGINT'))
  process.on('SIGTERM', () => void shutdown('SIGTERM'))
  process.on('SIGHUP', () => void shutdown('SIGHUP'))

  // The harness made admin@localhost with a random password; hand it to the CLI via files.
  fs.rmSync(PASSWORD_FILE, {force: true})
  fs.writeFileSync(PASSWORD_FILE, `${server.admin.password}\n`, {mode: 0o600})
  fs.chmodSync(PASSWORD_FILE, 0o600)
  fs.copyFileSync(server.caFile, CA_FILE)
  fs.writeFileSync(
    PROFILE_FILE,
    [
      '# xmppadm profile',
      `jid = ${server.admin.jid}`,
      `server = ${server.host}:${server.port}`,
      `password_file = ${PASSWORD_FILE}`,
      `ca_file = ${CA_FILE}`,
      '',
    ].join('\n'),
    {mode: 0o600},
  )

  const rel = (/** @type {string} */ p) => path.relative(process.cwd(), p) || '.'
  console.log(`
Prosody ${server.domain} is listening on ${server.host}:${server.port} (STARTTLS, test CA ${rel(CA_FILE)})
  admin:    ${server.admin.jid}   password in ${rel(PASSWORD_FILE)}
  user:     ${server.user.jid}    password ${server.user.password}
  uploads:  ${server.uploadDomain} on http://${server.host}:${server.httpPort}/
  log:      ${server.logFile}
  mod_xmppadm: ${server.xmppadmModule}${server.xmppadmModule === 'failed' ? ' (see the log)' : ''}
  profile:  ${rel(PROFILE_FILE)}

Use it from the repository root:
  export XDG_CONFIG_HOME=$PWD/.sandbox
  ./bin/run.js --profile sandbox commands

More accounts: ${server.control.argv.join(' ')} register NAME localhost PASSWORD
Press Ctrl-C to stop the server.`)

  // Stay alive until a signal arrives; notice if Prosody dies on its own.
  const timer = setInterval(() => {
    try {
      process.kill(server.pid, 0)
    } catch {
      clearInterval(timer)
      console.error(
        `\nProsody (pid ${server.pid}) exited on its own. Last log lines:\n${tail(server.logFile, 30)}`,
      )
      void shutdown('prosody exited')
    }
  }, 1000)
}

main().catch((err) => {
  console.error(`sandbox: ${err instanceof Error ? err.message : err}`)
  process.exit(1)
})
