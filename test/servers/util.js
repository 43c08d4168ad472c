// Small helpers shared by the server harness (plain Node ESM, no dependencies).
import {spawn} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import * as fs from 'node:fs'
import * as net from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'
import {fileURLToPath} from 'node:url'

/** Absolute path of the repository root. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')

export const LOOPBACK = '127.0.0.1'

/** True when XMPPADM_KEEP_SERVERS=1: temp dirs are left in place after stop(). */
export function keepServers() {
  return process.env.XMPPADM_KEEP_SERVERS === '1'
}

/** @param {number} [bytes] */
export function randomHex(bytes = 6) {
  return randomBytes(bytes).toString('hex')
}

/** A password with no characters that need quoting anywhere. */
export function randomPassword() {
  return randomBytes(18).toString('base64url')
}

/** @param {number} ms */
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

/**
 * Makes a fresh private temp dir.
 * @param {string} prefix
 */
export function makeTempDir(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`))
}

/**
 * Finds `count` distinct free TCP ports on 127.0.0.1 (bind port 0, keep all open until every
 * port is known so that they differ, then release them).
 * @param {number} count
 * @returns {Promise<number[]>}
 */
export async function freePorts(count) {
  /** @type {net.Server[]} */
  const servers = []
  try {
    const ports = []
    for (let i = 0; i < count; i++) {
      const srv = net.createServer()
      servers.push(srv)
      await new Promise((resolve, reject) => {
        srv.once('error', reject)
        srv.listen({host: LOOPBACK, port: 0, exclusive: true}, () => resolve(undefined))
      })
      const addr = srv.address()
      if (!addr || typeof addr === 'string') throw new Error('could not read the bound port')
      ports.push(addr.port)
    }
    return ports
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(() => r(undefined)))))
  }
}

/**
 * Runs a command to completion and collects its output. Never rejects on a non-zero exit.
 * @param {string} cmd
 * @param {string[]} args
 * @param {{env?: NodeJS.ProcessEnv, cwd?: string, timeoutMs?: number, input?: string}} [opts]
 * @returns {Promise<{code: number | null, signal: NodeJS.Signals | null, stdout: string, stderr: string}>}
 */
export function run(cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      env: opts.env ?? process.env,
      cwd: opts.cwd,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout?.setEncoding('utf8').on('data', (d) => (stdout += d))
    child.stderr?.setEncoding('utf8').on('data', (d) => (stderr += d))
    if (opts.input !== undefined) child.stdin?.end(opts.input)
    /** @type {NodeJS.Timeout | undefined} */
    let timer
    if (opts.timeoutMs) {
      timer = setTimeout(() => {
        stderr += `\n[harness] timed out after ${opts.timeoutMs} ms, killing pid ${child.pid}`
        child.kill('SIGKILL')
      }, opts.timeoutMs)
    }
    child.once('error', (err) => {
      if (timer) clearTimeout(timer)
      reject(err)
    })
    child.once('close', (code, signal) => {
      if (timer) clearTimeout(timer)
      resolve({code, signal, stdout, stderr})
    })
  })
}

/**
 * Like run() but throws with the output when the exit code is not 0.
 * @param {string} what  description for the error message
 * @param {string} cmd
 * @param {string[]} args
 * @param {Parameters<typeof run>[2]} [opts]
 */
export async function runOk(what, cmd, args, opts) {
  const r = await run(cmd, args, opts)
  if (r.code !== 0) {
    throw new Error(
      `${what} failed (exit ${r.code ?? r.signal}): ${cmd} ` +
        `${args.join(' ')}\n${(r.stdout + r.stderr).trim()}`,
    )
  }
  return r
}

const STREAM_HEADER = (/** @type {string} */ domain) =>
  `<?xml version='1.0'?><stream:stream to='${domain}' xmlns='jabber:client' ` +
  `xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>`

/**
 * One attempt: does the port answer an XMPP stream header with stream features?
 * @param {number} port
 * @param {string} domain
 * @param {number} timeoutMs
 * @returns {Promise<boolean>}
 */
export function xmppAnswers(port, domain, timeoutMs = 1000) {
  return new Promise((resolve) => {
    let buf = ''
    let done = false
    const sock = net.connect({host: LOOPBACK, port})
    const finish = (/** @type {boolean} */ ok) => {
      if (done) return
      done = true
      clearTimeout(timer)
      sock.destroy()
      resolve(ok)
    }
    const timer = setTimeout(() => finish(false), timeoutMs)
    sock.setEncoding('utf8')
    sock.once('connect', () => sock.write(STREAM_HEADER(domain)))
    sock.on('data', (d) => {
      buf += d
      if (/<(stream:)?features[\s>/]/.test(buf)) finish(true)
    })
    sock.once('error', () => finish(false))
    sock.once('close', () => finish(false))
  })
}

/**
 * Polls until `check()` resolves true, `failed()` returns an error string, or the deadline passes.
 * @param {string} what
 * @param {() => Promise<boolean>} check
 * @param {{timeoutMs: number, intervalMs?: number, failed?: () => string | undefined | null}} opts
 */
export async function waitFor(what, check, opts) {
  const deadline = Date.now() + opts.timeoutMs
  for (;;) {
    const why = opts.failed?.()
    if (why) throw new Error(`${what}: ${why}`)
    if (await check()) return
    if (Date.now() > deadline) throw new Error(`${what}: timed out after ${opts.timeoutMs} ms`)
    await sleep(opts.intervalMs ?? 50)
  }
}

/**
 * Is the process there (and not a zombie waiting to be reaped)?
 * @param {number} pid
 */
export function pidAlive(pid) {
  try {
    process.kill(pid, 0)
  } catch (err) {
    return /** @type {NodeJS.ErrnoException} */ (err).code === 'EPERM'
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3)
    return state !== 'Z' && state !== 'X'
  } catch {
    return true // no /proc: trust kill(0)
  }
}

/**
 * Waits for a pid to exit; after `graceMs` sends SIGTERM, after another 5 s SIGKILL (by pid only).
 * @param {number} pid
 * @param {number} graceMs
 */
export async function waitPidGone(pid, graceMs = 15000) {
  const t0 = Date.now()
  let termed = false
  let killed = false
  while (pidAlive(pid)) {
    const dt = Date.now() - t0
    if (!termed && dt > graceMs) {
      termed = true
      try {
        process.kill(pid, 'SIGTERM')
      } catch {
        /* gone */
      }
    } else if (!killed && dt > graceMs + 5000) {
      killed = true
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        /* gone */
      }
    } else if (dt > graceMs + 10000) {
      throw new Error(`process ${pid} did not exit even after SIGKILL`)
    }
    await sleep(50)
  }
}

/** Synchronous sleep (only for the process 'exit' path). @param {number} ms */
function sleepSync(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}

/**
 * Last lines of a file, for error messages.
 * @param {string} file
 * @param {number} lines
 */
export function tail(file, lines = 25) {
  try {
    const text = fs.readFileSync(file, 'utf8').trimEnd().split('\n')
    return text.slice(-lines).join('\n')
  } catch {
    return ''
  }
}

/** @param {string} dir */
export function removeDir(dir) {
  try {
    fs.rmSync(dir, {recursive: true, force: true, maxRetries: 3})
  } catch {
    /* best effort */
  }
}

// ---------------------------------------------------------------------------------------------
// Registry of running instances, so that an exiting/interrupted process does not leave servers
// behind. stop() of each instance removes it from the registry.

/**
 * @typedef {object} LiveInstance
 * @property {string} name
 * @property {() => number[]} pids       processes to TERM/KILL when the process exits abruptly
 * @property {string[]} dirs             dirs to remove then (unless XMPPADM_KEEP_SERVERS=1)
 * @property {() => Promise<void>} stop  the graceful stop
 */

/** @type {Set<LiveInstance>} */
const live = new Set()
let hooksInstalled = false

/** @param {LiveInstance} inst */
export function registerLive(inst) {
  live.add(inst)
  installExitHooks()
}

/** @param {LiveInstance} inst */
export function unregisterLive(inst) {
  live.delete(inst)
}

/** Gracefully stops every server this process started and has not stopped yet. */
export async function stopAllLive() {
  /** @type {unknown[]} */
  const errors = []
  await Promise.all([...live].map((i) => i.stop().catch((/** @type {unknown} */ e) => errors.push(e))))
  if (errors.length) throw new AggregateError(errors, 'some servers failed to stop cleanly')
}

function installExitHooks() {
  if (hooksInstalled) return
  hooksInstalled = true
  process.on('exit', () => {
    if (live.size === 0) return
    const pids = [...live].flatMap((i) => i.pids()).filter((p) => p > 0 && pidAlive(p))
    for (const p of pids) {
      try {
        process.kill(p, 'SIGTERM')
      } catch {
        /* gone */
      }
    }
    const deadline = Date.now() + 6000
    while (pids.some(pidAlive) && Date.now() < deadline) sleepSync(50)
    for (const p of pids.filter(pidAlive)) {
      try {
        process.kill(p, 'SIGKILL')
      } catch {
        /* gone */
      }
    }
    if (!keepServers()) for (const i of live) i.dirs.forEach(removeDir)
  })
  for (const sig of /** @type {const} */ (['SIGINT', 'SIGTERM', 'SIGHUP'])) {
    const handler = async () => {
      const alone = process.listenerCount(sig) === 1
      if (live.size) {
        process.stderr.write(`\n[xmppadm test servers] ${sig}: stopping ${live.size} server(s)…\n`)
        const cap = sleep(25000)
        await Promise.race([stopAllLive().catch((e) => console.error(e)), cap])
      }
      if (alone) {
        process.off(sig, handler)
        process.exit(sig === 'SIGINT' ? 130 : sig === 'SIGTERM' ? 143 : 129)
      }
    }
    process.on(sig, handler)
  }
}
