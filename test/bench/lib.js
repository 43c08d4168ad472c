// Helpers for the benchmark (plain Node ESM, no dependencies): processes, timing, max RSS,
// hyperfine, statistics, shell quoting and Markdown tables.
import {spawn, spawnSync} from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

// ---------------------------------------------------------------------------------------------
// statistics

export function quantile(values, q) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b)
  if (!v.length) return NaN
  const pos = (v.length - 1) * q
  const lo = Math.floor(pos)
  const hi = Math.ceil(pos)
  return v[lo] + (v[hi] - v[lo]) * (pos - lo)
}
export const median = (v) => quantile(v, 0.5)
export const p90 = (v) => quantile(v, 0.9)
export const mean = (v) => (v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN)

/** "123" / "1.23" / "0.123": 3 significant digits, no exponent. */
export function fmt(x, digits = 3) {
  if (x === undefined || x === null || !Number.isFinite(x)) return 'n/a'
  if (Math.abs(x) >= 10 ** digits) return Math.round(x).toLocaleString('en-US')
  return Number(x.toPrecision(digits)).toString()
}
export const fmtMs = (ms) =>
  Number.isFinite(ms) ? (ms >= 10000 ? `${fmt(ms / 1000)} s` : `${fmt(ms)} ms`) : 'n/a'
export const fmtRatio = (r) => (Number.isFinite(r) ? `${fmt(r)}x` : 'n/a')
export const fmtMb = (kb) => (Number.isFinite(kb) ? `${fmt(kb / 1024)} MB` : 'n/a')

// ---------------------------------------------------------------------------------------------
// processes

/** POSIX shell quoting. */
export function q(s) {
  s = String(s)
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`
}
export const qArgv = (argv) => argv.map(q).join(' ')

/** Runs a command to completion; never throws on a non-zero exit. */
export function run(cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now()
    const child = spawn(cmd, args, {
      env: opts.env ?? process.env,
      cwd: opts.cwd,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d))
    if (opts.input !== undefined) child.stdin.end(opts.input)
    let timer
    if (opts.timeoutMs) timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs)
    child.once('error', (e) => {
      clearTimeout(timer)
      reject(e)
    })
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      resolve({code, signal, stdout, stderr, ms: performance.now() - t0})
    })
  })
}

export async function runOk(what, cmd, args, opts) {
  const r = await run(cmd, args, opts)
  if (r.code !== 0)
    throw new Error(
      `${what} failed (exit ${r.code ?? r.signal}): ${cmd} ` +
        `${args.join(' ')}\n${(r.stdout + r.stderr).trim().slice(-2000)}`,
    )
  return r
}

export const TIME_BIN = '/usr/bin/time'
export const haveGnuTime = () => {
  try {
    return spawnSync(TIME_BIN, ['-f', '%M', 'true'], {encoding: 'utf8'}).status === 0
  } catch {
    return false
  }
}

/**
 * Runs one process and measures its wall time (spawn to exit) and its peak RSS (KB): with GNU
 * time (`-f %M`, the kernel's maxrss of the child) when installed, else by polling VmHWM in
 * /proc/PID/status (a high-water mark, so the last reading before exit is the peak).
 */
export async function measured(argv, opts = {}) {
  const useTime = opts.gnuTime ?? haveGnuTime()
  const rssFile = useTime
    ? path.join(opts.tmpDir ?? '/tmp', `rss-${process.pid}-${Math.random().toString(36).slice(2)}`)
    : undefined
  const full = useTime ? [TIME_BIN, '-f', '%M %U %S', '-o', rssFile, ...argv] : argv
  const t0 = performance.now()
  const child = spawn(full[0], full.slice(1), {
    env: opts.env ?? process.env,
    cwd: opts.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d))
  child.stderr.setEncoding('utf8').on('data', (d) => {
    if (stderr.length < 1_000_000) stderr += d
  })
  let hwm = NaN
  let poll
  if (!useTime) {
    const read = () => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'))
        if (m) hwm = Math.max(Number.isFinite(hwm) ? hwm : 0, Number(m[1]))
      } catch {
        /* gone */
      }
    }
    poll = setInterval(read, 5)
    child.once('exit', read)
  }
  const {code, signal} = await new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (c, s) => resolve({code: c, signal: s}))
  })
  const ms = performance.now() - t0
  if (poll) clearInterval(poll)
  let maxRssKb = hwm
  let cpuMs = NaN
  if (rssFile) {
    try {
      const lines = fs.readFileSync(rssFile, 'utf8').trim().split('\n')
      const [rss, user, sys] = lines[lines.length - 1].split(' ').map(Number)
      maxRssKb = rss
      cpuMs = (user + sys) * 1000
    } catch {
      /* keep NaN */
    }
    fs.rmSync(rssFile, {force: true})
  }
  return {
    code,
    signal,
    ms,
    maxRssKb,
    cpuMs,
    stdout,
    stderr,
    rssVia: useTime ? 'GNU time %M' : 'VmHWM polling',
  }
}

export async function measuredOk(what, argv, opts) {
  const r = await measured(argv, opts)
  if (r.code !== 0)
    throw new Error(
      `${what} failed (exit ${r.code ?? r.signal}): ` +
        `${argv.join(' ')}\n${(r.stdout + r.stderr).trim().slice(-2000)}`,
    )
  return r
}

// ---------------------------------------------------------------------------------------------
// hyperfine

/**
 * Benchmarks commands with hyperfine in `rounds` separate invocations (all commands once per
 * round, so slow drifts of a shared machine hit every command alike) and pools the runs.
 * commands: [{name, cmd}]. Returns {byName: {name: {times: ms[], median, p90, cpuMs, user, system}}, files}.
 */
export async function hyperfine(
  commands,
  {
    rounds = 3,
    runs = 10,
    warmup = 2,
    shell = true,
    env,
    cwd,
    outDir,
    tag,
    beforeRound,
    ignoreFailure = false,
  },
) {
  const byName = Object.fromEntries(
    commands.map((c) => [c.name, {times: [], user: [], system: [], exitCodes: []}]),
  )
  const files = []
  for (let r = 0; r < rounds; r++) {
    await beforeRound?.(r)
    const file = path.join(outDir, `hyperfine-${tag}-round${r + 1}.json`)
    const args = ['--style', 'none', '--runs', String(runs), '--export-json', file]
    if (warmup && (r === 0 || warmup < 0)) args.push('--warmup', String(Math.abs(warmup)))
    if (!shell) args.push('-N')
    if (ignoreFailure) args.push('--ignore-failure')
    for (const c of commands) args.push('--command-name', c.name)
    args.push(...commands.map((c) => c.cmd))
    await runOk(`hyperfine (${tag})`, 'hyperfine', args, {env, cwd})
    files.push(file)
    const json = JSON.parse(fs.readFileSync(file, 'utf8'))
    for (const res of json.results) {
      const slot = byName[res.command]
      slot.times.push(...res.times.map((t) => t * 1000))
      slot.user.push(res.user * 1000)
      slot.system.push(res.system * 1000)
      slot.exitCodes.push(...(res.exit_codes ?? []))
    }
  }
  for (const s of Object.values(byName)) {
    s.median = median(s.times)
    s.p90 = p90(s.times)
    s.cpuMs = mean(s.user) + mean(s.system)
    s.n = s.times.length
  }
  return {byName, files}
}

// ---------------------------------------------------------------------------------------------
// Markdown

export function table(header, rows) {
  const all = [header, ...rows].map((r) => r.map((c) => String(c ?? '')))
  const w = header.map((_, i) => Math.max(3, ...all.map((r) => r[i].length)))
  const line = (r) => `| ${r.map((c, i) => c.padEnd(w[i])).join(' | ')} |`
  return [line(all[0]), `|${w.map((n) => '-'.repeat(n + 2)).join('|')}|`, ...all.slice(1).map(line)].join(
    '\n',
  )
}

// ---------------------------------------------------------------------------------------------
// machine state

function cpuTimes() {
  const [, ...f] = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/)
  const v = f.map(Number)
  const idle = v[3] + (v[4] ?? 0)
  return {idle, total: v.reduce((a, b) => a + b, 0)}
}

/** Fraction (0..1) of all CPUs busy over the next `ms`. */
export async function cpuBusy(ms = 500) {
  try {
    const a = cpuTimes()
    await sleep(ms)
    const b = cpuTimes()
    return b.total > a.total ? 1 - (b.idle - a.idle) / (b.total - a.total) : 0
  } catch {
    return NaN
  }
}

/**
 * Waits (within a shared budget) until the machine is quiet: less than `threshold` of all CPUs
 * busy over half a second. Returns {busy, waitedMs}. Other work on a shared machine is the main
 * source of noise; this keeps most measurements out of its peaks without making a run unbounded.
 */
export function quietGate({threshold = 0.35, budgetMs = 120000, perGateMs = 20000, stepMs = 1000} = {}) {
  let spent = 0
  const log = []
  const gate = async (label) => {
    const t0 = Date.now()
    let busy = await cpuBusy(500)
    while (
      Number.isFinite(busy) &&
      busy > threshold &&
      spent + (Date.now() - t0) < budgetMs &&
      Date.now() - t0 < perGateMs
    ) {
      await sleep(stepMs)
      busy = await cpuBusy(500)
    }
    const waitedMs = Date.now() - t0
    spent += Math.max(0, waitedMs - 500)
    log.push({label, busy, waitedMs})
    return {busy, waitedMs}
  }
  gate.log = log
  gate.spentMs = () => spent
  return gate
}

export function loadAvg() {
  try {
    return fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number)
  } catch {
    return []
  }
}

/** Processes whose command line contains one of the given strings (to find leftovers of ours). */
export function processesMatching(needles) {
  const out = []
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim()
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3)
      if (state === 'Z') continue
      if (needles.some((n) => n && cmd.includes(n))) out.push({pid: Number(pid), cmd})
    } catch {
      /* gone */
    }
  }
  return out
}
