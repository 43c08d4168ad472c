// Issue 6, ejabberd side: the Erlang VM is SIGKILLed while `account create --from-file` works
// through its file, then started again (same config, same Mnesia data) as an init system would.
// The run reconnects by itself and, in the end, every account exists exactly once.
import {openSync, closeSync, readFileSync, writeFileSync} from 'node:fs'
import {spawn} from 'node:child_process'
import {join} from 'node:path'
import {execa} from 'execa'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {BIN, expectNoStack, scratch, secretFile} from '../helpers/cli.js'
import {type RunningServer, startEjabberd24} from '../servers/harness.js'
import {runControl} from '../servers/servers.js'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
let server: RunningServer

const pidFile = () => join(server.dir, 'run', 'ejabberd.pid')
const vmPid = () => Number(readFileSync(pidFile(), 'utf8').trim())

async function registeredUsers(): Promise<string[]> {
  const r = await runControl(server, ['registered_users', 'localhost'])
  return r.stdout.split('\n').map((s) => s.trim()).filter(Boolean)
}

async function restart(): Promise<void> {
  // Like the harness: the detached VM keeps the stderr it got, so give it a file.
  const out = openSync(join(server.dir, 'restart.log'), 'a')
  const [cmd, ...pre] = server.control.argv
  const starter = spawn(cmd, [...pre, 'start'], {stdio: ['ignore', out, out], cwd: '/'})
  closeSync(out)
  await new Promise((resolve) => starter.once('exit', resolve))
  const deadline = Date.now() + 60_000
  while ((await runControl(server, ['status'], 10_000)).code !== 0) {
    if (Date.now() > deadline) throw new Error('ejabberd did not come back')
    await sleep(250)
  }
}

beforeAll(async () => {
  server = await startEjabberd24()
})

afterAll(async () => {
  await runControl(server, ['stop'], 30_000).catch(() => undefined)
  await sleep(3000)
  await server?.stop()
})

describe('ejabberd 24.12 is SIGKILLed during account create --from-file', () => {
  it('restarted: the run reconnects and finishes by itself, every account created exactly once', async () => {
    const COUNT = 800
    const prefix = `ek${Date.now().toString(36)}`
    const lines = Array.from({length: COUNT}, (_, i) => `${prefix}${i}@localhost,Pw-${prefix}-${i}-x`)
    const file = join(scratch, `${prefix}.txt`)
    writeFileSync(file, `${lines.join('\n')}\n`, {mode: 0o600})
    const run = execa('node', [BIN, 'account', 'create', '--from-file', file, '--concurrency', '8', '--timeout', '10'], {
      reject: false,
      timeout: 200_000,
      env: {
        XDG_CONFIG_HOME: join(scratch, 'config'),
        NO_COLOR: '1',
        CI: 'true',
        XMPPADM_JID: server.admin.jid,
        XMPPADM_SERVER: `${server.host}:${server.port}`,
        XMPPADM_PASSWORD_FILE: secretFile(`${server.admin.password}\n`),
        XMPPADM_CA_FILE: server.caFile,
      },
    })
    // ejabberd creates ~100-150 accounts a second here: kill it well inside the run.
    await sleep(1500)
    expect(run.exitCode, 'the run ended before the kill').toBe(null)
    process.kill(vmPid(), 'SIGKILL')
    await sleep(1000)
    await restart()
    const r = await run

    expect(r.exitCode, r.stderr.slice(-2000)).toBe(0)
    expectNoStack({exitCode: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr})
    expect(r.stderr).toMatch(/connection lost; reconnecting/)
    expect(r.stderr).toMatch(new RegExp(`created ${COUNT}, skipped 0, failed 0`))
    const users = (await registeredUsers()).filter((u) => u.startsWith(prefix))
    expect(users).toHaveLength(COUNT)
    expect(new Set(users).size).toBe(COUNT)
  }, 300_000)
})
