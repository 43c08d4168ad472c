#!/usr/bin/env node
// xmppadm benchmark (issue 5): start-up, login, one account creation as a whole process, bulk
// creation against the server's own tool and against a hand-written floor, and peak memory;
// (issue 12) policy check of a healthy server; and (issue 11, large.js) a large server: purge and
// export while a client pings.
// Starts its own Prosody 13 and ejabberd 24.12 (test/servers/harness.js) and stops them.
//
//   npm run bench                    # full run (~5 min on 2 cores), writes test/bench/RESULTS.md
//   node test/bench/run.js --quick   # fewer runs, no RESULTS.md unless --write
//   node test/bench/run.js --ref HEAD          # benchmark a commit (private build in a temp dir)
//   node test/bench/run.js --only startup,single
//   node test/bench/run.js --only large            # the large-server phase alone
//
// See test/bench/README.md for what is measured and how.
import {randomBytes} from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {spawn} from 'node:child_process'
import {fileURLToPath, pathToFileURL} from 'node:url'
import {parseArgs} from 'node:util'
import {pbkdf2} from 'node:crypto'
import {promisify} from 'node:util'
import {
  fmt,
  fmtMb,
  fmtMs,
  fmtRatio,
  haveGnuTime,
  hyperfine,
  loadAvg,
  measured,
  measuredOk,
  median,
  p90,
  processesMatching,
  q,
  qArgv,
  quietGate,
  run,
  runOk,
  sleep,
  table,
} from './lib.js'
import {phaseLarge, reportLarge} from './large.js'
import {buildOclifRoute} from './oclif-route.js'

const HERE = path.dirname(fileURLToPath(import.meta.url))
const REPO = path.resolve(HERE, '..', '..')
const PHASES = ['startup', 'login', 'single', 'bulk', 'memory', 'audit', 'large']

const {values: args} = parseArgs({
  options: {
    quick: {type: 'boolean', default: false},
    only: {type: 'string'},
    ref: {type: 'string'},
    write: {type: 'boolean'},
    'no-write': {type: 'boolean', default: false},
    window: {type: 'string', default: '32'},
    'bulk-lines': {type: 'string', default: '1000'},
    'memory-lines': {type: 'string', default: '10000'},
    'loop-count': {type: 'string'},
    'quiet-budget': {type: 'string', default: '150'},
    help: {type: 'boolean', short: 'h', default: false},
  },
})
if (args.help) {
  process.stdout.write(
    fs
      .readFileSync(fileURLToPath(import.meta.url), 'utf8')
      .split('\n')
      .slice(0, 12)
      .map((l) => l.replace(/^\/\/ ?/, ''))
      .join('\n') + '\n',
  )
  process.exit(0)
}
const QUICK = args.quick
const only = new Set(args.only ? args.only.split(',').map((s) => s.trim()) : PHASES)
for (const p of only)
  if (!PHASES.includes(p)) throw new Error(`--only: unknown phase ${p} (${PHASES.join(', ')})`)
const WRITE = args['no-write'] ? false : (args.write ?? (!QUICK && only.size === PHASES.length))
const WINDOW = Number(args.window)
const BULK_LINES = Number(args['bulk-lines'])
const MEMORY_LINES = Number(args['memory-lines'])
const CFG = {
  startup: QUICK ? {rounds: 1, runs: 8} : {rounds: 3, runs: 10},
  logins: QUICK ? 10 : 30,
  single: QUICK ? {rounds: 1, runs: 4} : {rounds: 3, runs: 5},
  audit: QUICK ? {rounds: 1, runs: 4} : {rounds: 3, runs: 5},
  bulkRounds: QUICK ? 1 : 3,
  loopCount: Number(args['loop-count'] ?? (QUICK ? 20 : 50)),
}
const TARGETS = {
  versionVsNode: 2.5, // --version within 2.5x of node -e 0
  singleVsEjabberdctl: 0.5, // one creation at most half of ejabberdctl register
  bulkVsFloor: 1.5, // bulk within 1.5x of the floor
  loopVsBulk: 10, // bulk at least 10x faster than the server-tool loop
  memory10k: 1.2, // RSS(10,000 lines) at most 1.2x RSS(1,000 lines)
  auditMs: 1500, // a whole policy check of a healthy local server in about a second
  liteGainMs: 20, // src/lite stays only while it saves more than this over oclif's standard route
}

const t0 = Date.now()
// before each measurement: wait (120 s budget per run) for other work on the machine to calm down
const gate = quietGate({budgetMs: Number(args['quiet-budget']) * 1000})
const log = (msg) =>
  process.stderr.write(`[bench +${((Date.now() - t0) / 1000).toFixed(0).padStart(3)}s] ${msg}\n`)
const OUT = path.join(HERE, 'out')
fs.mkdirSync(OUT, {recursive: true})
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'xmppadm-bench-'))
process.on('exit', () => fs.rmSync(TMP, {recursive: true, force: true}))

const results = {
  started: new Date().toISOString(),
  config: {quick: QUICK, window: WINDOW, bulkLines: BULK_LINES, memoryLines: MEMORY_LINES, ...CFG},
  errors: [],
  loadavg: {},
}
const created = {prosody: 2, 'ejabberd-24.12': 2} // admin + user, made by the harness

// ---------------------------------------------------------------------------------------------
// the build under test: a private copy, so that a concurrent `npm run build` (rm -rf dist) in the
// working tree cannot break a run half-way

async function validateBuild(root) {
  const check = path.join(TMP, 'import-all.mjs')
  fs.writeFileSync(
    check,
    `import {readdirSync} from 'node:fs'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'
const walk = (d) => readdirSync(d, {withFileTypes: true}).flatMap((e) =>
  e.isDirectory() ? walk(join(d, e.name)) : e.name.endsWith('.js') ? [join(d, e.name)] : [])
for (const f of walk(process.argv[2])) await import(pathToFileURL(f).href)
`,
  )
  await runOk('importing every module of dist/', process.execPath, [check, path.join(root, 'dist')], {
    cwd: root,
    timeoutMs: 60000,
  })
  await runOk('xmppadm --version', process.execPath, [path.join(root, 'bin/run.js'), '--version'], {
    cwd: root,
    timeoutMs: 30000,
  })
  await runOk('xmppadm --help', process.execPath, [path.join(root, 'bin/run.js'), '--help'], {
    cwd: root,
    timeoutMs: 30000,
  })
  await runOk(
    'xmppadm account create --help',
    process.execPath,
    [path.join(root, 'bin/run.js'), 'account', 'create', '--help'],
    {cwd: root, timeoutMs: 30000},
  )
  if (!fs.existsSync(path.join(root, 'dist/xmpp/session.js')))
    throw new Error('dist/xmpp/session.js is missing')
}

async function prepareBuild() {
  const root = path.join(TMP, 'xmppadm')
  const git = (a) => run('git', ['-C', REPO, ...a]).then((r) => r.stdout.trim())
  const head = await git(['rev-parse', '--short', 'HEAD'])
  if (args.ref) {
    const rev = await git(['rev-parse', '--short', args.ref])
    if (!rev) throw new Error(`--ref ${args.ref}: no such revision`)
    log(`building ${args.ref} (${rev}) in a temp dir`)
    fs.mkdirSync(root)
    await runOk('git archive', 'sh', ['-c', `git -C ${q(REPO)} archive ${q(rev)} | tar -x -C ${q(root)}`])
    fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(root, 'node_modules'))
    await runOk(
      'tsc',
      process.execPath,
      [path.join(REPO, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'],
      {cwd: root},
    )
    // Revisions with the lite bundle (bin/run.js loads dist/lite.js) need it built too, after the
    // manifest (its command table comes from there).
    await runOk('oclif manifest', path.join(REPO, 'node_modules/.bin/oclif'), ['manifest'], {cwd: root})
    const bundled = fs.existsSync(path.join(root, 'src/lite/bundle.mjs'))
    if (bundled) await runOk('esbuild bundle', process.execPath, ['src/lite/bundle.mjs'], {cwd: root})
    await validateBuild(root)
    return {
      root,
      source:
        `commit ${rev} (--ref ${args.ref}), built privately with ` +
        `tsc${bundled ? ' + esbuild bundle' : ''} + oclif manifest`,
    }
  }
  if (!fs.existsSync(path.join(REPO, 'dist'))) {
    log('dist/ is missing: npm run build')
    await runOk('npm run build', 'npm', ['run', 'build'], {cwd: REPO})
  }
  const dirty = (await git(['status', '--porcelain', '--', 'src', 'bin', 'package.json']))
    .split('\n')
    .filter(Boolean).length
  const newest = (dir) => {
    let m = 0
    const walk = (d) => {
      for (const e of fs.readdirSync(d, {withFileTypes: true})) {
        const p = path.join(d, e.name)
        if (e.isDirectory()) walk(p)
        else m = Math.max(m, fs.statSync(p).mtimeMs)
      }
    }
    walk(dir)
    return m
  }
  let lastErr
  for (let attempt = 1; attempt <= 12; attempt++) {
    try {
      fs.rmSync(root, {recursive: true, force: true})
      fs.mkdirSync(root)
      for (const f of ['bin', 'dist', 'package.json', 'oclif.manifest.json', 'server']) {
        if (fs.existsSync(path.join(REPO, f)))
          fs.cpSync(path.join(REPO, f), path.join(root, f), {recursive: true})
      }
      fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(root, 'node_modules'))
      await validateBuild(root)
      const stale = newest(path.join(REPO, 'src')) > newest(path.join(root, 'dist')) + 1000
      return {
        root,
        source:
          `working tree at ${head}` +
          (dirty ? ` with ${dirty} uncommitted change(s) in src/, bin/, package.json` : '') +
          ': its dist/ as built' +
          (stale ? ' (NOTE: src/ has files newer than dist/; run npm run build)' : ''),
      }
    } catch (error) {
      lastErr = error
      log(
        `the working tree's build is not usable yet (attempt ${attempt}/12; a build in progress?): ` +
          `${String(error.message).split('\n')[0]}`,
      )
      await sleep(5000)
    }
  }
  throw new Error(`no usable build in ${REPO}/dist: run npm run build.\n${lastErr?.message}`)
}

// ---------------------------------------------------------------------------------------------

async function machineInfo() {
  const cpu = os.cpus()
  const ver = async (cmd, a) => {
    try {
      const r = await run(cmd, a, {timeoutMs: 10000})
      return (r.stdout + r.stderr).trim().split('\n')[0]
    } catch {
      return 'n/a'
    }
  }
  const dpkg = async (pkg) => (await ver('dpkg-query', ['-W', '-f', '${Version}', pkg])) || 'n/a'
  return {
    cpu: `${cpu[0]?.model ?? '?'} x${cpu.length}`,
    memGb: +(os.totalmem() / 2 ** 30).toFixed(1),
    node: process.version,
    hyperfine: await ver('hyperfine', ['--version']),
    prosody: await dpkg('prosody'),
    ejabberd: await dpkg('ejabberd'),
    rssVia: haveGnuTime() ? 'GNU time -f %M' : 'VmHWM polling of /proc/PID/status',
  }
}

// ---------------------------------------------------------------------------------------------
// phase 1: start-up

async function phaseStartup(root) {
  log('start-up: hyperfine node -e 0 / xmppadm --version / --help')
  const bin = path.join(root, 'bin/run.js')
  const cmds = [
    {name: 'node -e 0', cmd: `${process.execPath} -e 0`},
    {name: 'xmppadm --version', cmd: `${process.execPath} ${bin} --version`},
    {name: 'xmppadm --help', cmd: `${process.execPath} ${bin} --help`},
  ]
  const hf = await hyperfine(cmds, {
    ...CFG.startup,
    warmup: 3,
    shell: false,
    cwd: root,
    outDir: OUT,
    tag: 'startup',
    beforeRound: (r) => gate(`startup round ${r + 1}`),
  })
  results.startup = hf.byName

  // What an operation loads before its first byte goes out, piece by piece (one process each).
  log('start-up: what account create loads, piece by piece')
  const script = (name, body) => {
    const f = path.join(root, `bench-${name}.mjs`)
    fs.writeFileSync(f, body)
    return `${process.execPath} ${f}`
  }
  const pw = path.join(TMP, 'dummy.pw')
  fs.writeFileSync(pw, 'dummy-password\n', {mode: 0o600})
  const oclifBin = await buildOclifRoute(root, REPO)
  const parts = [
    {name: 'node -e 0', cmd: `${process.execPath} -e 0`},
    {
      name: 'import dist/xmpp/session.js (TLS, SCRAM, XML)',
      cmd: script('session', "await import('./dist/xmpp/session.js')\n"),
    },
    {name: "import '@oclif/core'", cmd: script('oclif', "await import('@oclif/core')\n")},
    {
      name: "import '@oclif/core' + Config.load()",
      cmd: script(
        'config',
        "const {Config} = await import('@oclif/core')\nawait Config.load({root: import.meta.dirname " +
          "?? new URL('.', import.meta.url).pathname})\n",
      ),
    },
    {
      name: '... + load the account:create command class',
      cmd: script(
        'command',
        "const {Config} = await import('@oclif/core')\nconst c = await Config.load({root: new " +
          "URL('.', import.meta.url).pathname})\nawait c.findCommand('account:create').load()\n",
      ),
    },
    {
      name: 'xmppadm account create through oclif (XMPPADM_FULL_CLI=1), up to connect (refused)',
      cmd:
        `env XMPPADM_FULL_CLI=1 ${process.execPath} ${bin} account create nobody@localhost ` +
        `--user-password-file ${pw}`,
    },
    ...(fs.existsSync(path.join(root, 'dist/lite.js'))
      ? [
          {
            name: 'import dist/lite.js (every command, no oclif)',
            cmd: script('lite', "await import('./dist/lite.js')\n"),
          },
        ]
      : []),
    {
      name: 'xmppadm account create, up to connect (refused)',
      cmd: `${process.execPath} ${bin} account create nobody@localhost --user-password-file ${pw}`,
    },
    // oclif's own fast route, side by side (test/bench/oclif-route.js; src/lite/main.ts says why)
    {
      name:
        'xmppadm account create, standard oclif route (explicit commands + esbuild bundle with ' +
        '@oclif/core), up to connect (refused)',
      cmd: `${process.execPath} ${oclifBin} account create nobody@localhost --user-password-file ${pw}`,
    },
    {
      name: 'xmppadm commands, up to connect (refused)',
      cmd: `${process.execPath} ${bin} commands`,
    },
    {
      name: 'xmppadm commands, standard oclif route, up to connect (refused)',
      cmd: `${process.execPath} ${oclifBin} commands`,
    },
  ]
  const env = {
    ...process.env,
    XMPPADM_JID: 'admin@localhost',
    XMPPADM_SERVER: '127.0.0.1:1',
    XMPPADM_PASSWORD_FILE: pw,
    XDG_CONFIG_HOME: path.join(TMP, 'no-config'),
  }
  const hp = await hyperfine(parts, {
    rounds: 1,
    runs: QUICK ? 8 : 15,
    warmup: 2,
    shell: false,
    cwd: root,
    env,
    outDir: OUT,
    tag: 'startup-parts',
    ignoreFailure: true,
    beforeRound: () => gate('startup parts'),
  })
  results.startupParts = hp.byName
}

// ---------------------------------------------------------------------------------------------
// servers

async function startServers() {
  const harness = await import(pathToFileURL(path.join(REPO, 'test/servers/harness.js')).href)
  log('starting Prosody 13 and ejabberd 24.12 (harness)')
  const settled = await Promise.allSettled([harness.startProsody(), harness.startEjabberd24()])
  const bad = settled.filter((s) => s.status === 'rejected')
  if (bad.length) {
    await Promise.all(settled.map((s) => (s.status === 'fulfilled' ? s.value.stop().catch(() => {}) : null)))
    throw new Error(`starting the servers failed: ${bad.map((b) => b.reason?.message).join('\n')}`)
  }
  const [prosody, ejabberd] = settled.map((s) => s.value)
  for (const s of [prosody, ejabberd]) {
    s.pwFile = path.join(TMP, `${s.kind}.admin.pw`)
    fs.writeFileSync(s.pwFile, `${s.admin.password}\n`, {mode: 0o600})
    s.env = {
      ...process.env,
      XMPPADM_JID: s.admin.jid,
      XMPPADM_SERVER: `${s.host}:${s.port}`,
      XMPPADM_PASSWORD_FILE: s.pwFile,
      XMPPADM_CA_FILE: s.caFile,
    }
    for (const k of ['XMPPADM_PROFILE', 'XMPPADM_TO', 'XMPPADM_PASSWORD', 'XMPPADM_TIMEOUT']) delete s.env[k]
    s.env.XDG_CONFIG_HOME = path.join(TMP, 'no-config') // no profile of the user's can interfere
  }
  results.servers = {
    prosody: {port: prosody.port, startMs: prosody.startMs, xmppadmModule: prosody.xmppadmModule},
    ejabberd: {port: ejabberd.port, startMs: ejabberd.startMs},
  }
  return {prosody, ejabberd}
}

async function stopServers(servers) {
  const list = Object.values(servers)
  log('stopping the servers')
  await Promise.all(
    list.map((s) => s.stop().catch((e) => results.errors.push(`stop ${s.kind}: ${e.message}`))),
  )
  // leftovers: any process still running out of the instances' dirs
  let left = []
  for (let i = 0; i < 40; i++) {
    left = processesMatching(list.flatMap((s) => [s.dir, s.configFile]))
    if (!left.length) break
    await sleep(250)
  }
  results.leftovers = left.map((p) => `${p.pid} ${p.cmd.slice(0, 120)}`)
  if (left.length)
    results.errors.push(`leftover server processes after stop: ${results.leftovers.join('; ')}`)
}

// ---------------------------------------------------------------------------------------------
// phase 2: login in-process

async function phaseLogin(root, servers) {
  const {Session} = await import(pathToFileURL(path.join(root, 'dist/xmpp/session.js')).href)
  const pbkdf2Async = promisify(pbkdf2)
  results.login = {}
  for (const s of [servers.prosody, servers.ejabberd]) {
    log(`login: ${CFG.logins} x Session.open + close against ${s.kind}`)
    const ca = fs.readFileSync(s.caFile, 'utf8')
    const once = async () => {
      const a = performance.now()
      const session = await Session.open({
        jid: s.admin.jid,
        password: s.admin.password,
        endpoint: {host: s.host, port: s.port, directTls: false},
        ca,
        timeoutMs: 10000,
      })
      const ms = performance.now() - a
      const info = session.info
      session.close()
      return {ms, info}
    }
    for (let i = 0; i < 3; i++) await once() // warm-up: JIT, TLS context
    const times = []
    let info
    for (let i = 0; i < CFG.logins; i++) {
      const r = await once()
      times.push(r.ms)
      info = r.info
      await sleep(5)
    }
    // the same SCRAM key derivation alone, to see how much of a login it is
    const iterations = s.kind === 'prosody' ? 10000 : 4096
    const kdf = []
    for (let i = 0; i < 20; i++) {
      const a = performance.now()
      await pbkdf2Async('correct horse battery staple', randomBytes(16), iterations, 20, 'sha1')
      kdf.push(performance.now() - a)
    }
    results.login[s.kind] = {
      n: times.length,
      median: median(times),
      p90: p90(times),
      times,
      iterations,
      pbkdf2Median: median(kdf),
      mechanism: info?.mechanism,
      channelBinding: info?.channelBinding,
      tls: info?.tlsVersion,
    }
  }
}

// ---------------------------------------------------------------------------------------------
// phase 3: one account creation as a whole process

function counterCmd(counter, body) {
  // builtins only (no fork for the counter); `exec` so the measured process is the tool itself
  return `read n < ${q(counter)}; n=$((n+1)); echo $n > ${q(counter)}; exec ${body}`
}

/** One traced run (--debug) with arrival times of each line: round trips and where time goes. */
function traced(argv, env, cwd) {
  return new Promise((resolve, reject) => {
    const a = performance.now()
    const child = spawn(argv[0], argv.slice(1), {env, cwd, stdio: ['ignore', 'pipe', 'pipe']})
    const lines = []
    let buf = ''
    child.stderr.setEncoding('utf8').on('data', (d) => {
      buf += d
      for (let i; (i = buf.indexOf('\n')) >= 0; buf = buf.slice(i + 1))
        lines.push({t: performance.now() - a, text: buf.slice(0, i)})
    })
    child.once('error', reject)
    child.once('close', (code) => {
      const total = performance.now() - a
      const io = lines.filter((l) => /^(SEND|RECV) /.test(l.text))
      let turns = 0
      for (let i = 1; i < io.length; i++)
        if (io[i].text.startsWith('RECV') && io[i - 1].text.startsWith('SEND')) turns++
      resolve({
        code,
        totalMs: total,
        firstSendMs: io[0]?.t,
        lastRecvMs: io.at(-1)?.t,
        stanzasOut: io.filter((l) => l.text.startsWith('SEND')).length,
        stanzasIn: io.filter((l) => l.text.startsWith('RECV')).length,
        xmppRoundTrips: turns,
        lines: io.map((l) => `${l.t.toFixed(1).padStart(7)} ${l.text.slice(0, 110)}`),
      })
    })
  })
}

async function phaseSingle(root, servers) {
  const bin = path.join(root, 'bin/run.js')
  const userPw = path.join(TMP, 'user.pw')
  fs.writeFileSync(userPw, 'Bench-user-pw-1\n', {mode: 0o600})
  results.single = {}
  const counter = (name) => {
    const f = path.join(TMP, `counter-${name}`)
    fs.writeFileSync(f, '0\n')
    return f
  }
  const count = (f) => Number(fs.readFileSync(f, 'utf8').trim())
  const xmppadmCmd = (c, prefix) =>
    counterCmd(
      c,
      `${q(process.execPath)} ${q(bin)} account create ${prefix}$n@localhost --user-password-file ` +
        `${q(userPw)}`,
    )

  for (const s of [servers.ejabberd, servers.prosody]) {
    const ctl = qArgv(s.control.argv)
    const cx = counter(`${s.kind}-x`)
    const cmds = [{name: 'xmppadm account create', cmd: xmppadmCmd(cx, 'sx')}]
    const tools = []
    if (s.kind === 'prosody') {
      tools.push({
        name: 'prosodyctl shell user create',
        c: counter('p-shell'),
        body: (c) => counterCmd(c, `${ctl} shell user create ps$n@localhost Bench-user-pw-1`),
      })
      tools.push({
        name: 'prosodyctl register',
        c: counter('p-reg'),
        body: (c) => counterCmd(c, `${ctl} register pr$n localhost Bench-user-pw-1`),
      })
    } else {
      tools.push({
        name: 'ejabberdctl register',
        c: counter('e-reg'),
        body: (c) => counterCmd(c, `${ctl} register er$n localhost Bench-user-pw-1`),
      })
    }
    // the floor for one operation: node + the project's login + one add-user, nothing else
    const f1 = path.join(TMP, `one-line-${s.kind}.txt`)
    tools.push({
      name: 'floor.js (1 line)',
      c: counter(`${s.kind}-floor`),
      body: (c) =>
        counterCmd(
          c,
          `${q(process.execPath)} ${q(path.join(HERE, 'floor.js'))} --root ${q(root)} --window 1 ` +
            `--file ${q(f1)}`,
        ).replace('; exec ', `; echo sf$n@localhost,Bench-user-pw-1 > ${q(f1)}; exec `),
    })
    for (const t of tools) cmds.push({name: t.name, cmd: t.body(t.c)})
    log(`one creation, whole process, ${s.kind}: ${cmds.map((c) => c.name).join(' vs ')}`)
    const hf = await hyperfine(cmds, {
      ...CFG.single,
      warmup: 1,
      shell: true,
      env: s.env,
      cwd: root,
      outDir: OUT,
      tag: `single-${s.kind}`,
      beforeRound: (r) => gate(`single ${s.kind} round ${r + 1}`),
    })
    created[s.kind] += count(cx) + tools.reduce((n, t) => n + count(t.c), 0)
    const trace = await traced(
      [
        process.execPath,
        bin,
        'account',
        'create',
        `trace1@localhost`,
        '--user-password-file',
        userPw,
        '--debug',
      ],
      s.env,
      root,
    )
    if (trace.code !== 0) throw new Error(`traced account create on ${s.kind} exited ${trace.code}`)
    created[s.kind] += 1
    results.single[s.kind] = {hyperfine: hf.byName, trace}
  }
}

// ---------------------------------------------------------------------------------------------
// phase 4: bulk (and the 1,000-line half of phase 5)

function linesFile(name, n, prefix) {
  const f = path.join(TMP, `${name}.txt`)
  const out = fs.createWriteStream(f)
  let buf = ''
  for (let i = 0; i < n; i++) {
    buf += `${prefix}${i}@localhost,Pw-${prefix}-${i}\n`
    if (buf.length > 1 << 16) {
      out.write(buf)
      buf = ''
    }
  }
  out.end(buf)
  return new Promise((resolve, reject) => {
    out.once('finish', () => resolve(f))
    out.once('error', reject)
  })
}

async function xmppadmBulk(root, s, file, tag) {
  await gate(`xmppadm bulk ${tag}`)
  const r = await measuredOk(
    `xmppadm bulk ${tag}`,
    [
      process.execPath,
      path.join(root, 'bin/run.js'),
      'account',
      'create',
      '--from-file',
      file,
      '--concurrency',
      String(WINDOW),
    ],
    {env: s.env, cwd: root, tmpDir: TMP},
  )
  if (!/created (\d+), skipped 0, failed 0/.test(r.stderr + r.stdout))
    throw new Error(`xmppadm bulk ${tag}: unexpected output ${(r.stdout + r.stderr).slice(-500)}`)
  created[s.kind] += Number(/created (\d+)/.exec(r.stderr + r.stdout)[1])
  return {ms: r.ms, maxRssKb: r.maxRssKb, cpuMs: r.cpuMs}
}

async function floorBulk(root, s, file, tag, n) {
  await gate(`floor ${tag}`)
  const r = await measuredOk(
    `floor ${tag}`,
    [
      process.execPath,
      path.join(HERE, 'floor.js'),
      '--root',
      root,
      '--file',
      file,
      '--window',
      String(WINDOW),
    ],
    {env: s.env, cwd: root, tmpDir: TMP},
  )
  const inner = JSON.parse(r.stdout.trim().split('\n').at(-1))
  if (inner.ok !== n || inner.failed)
    throw new Error(`floor ${tag}: ${inner.ok} ok, ${inner.failed} failed: ${inner.errors?.join(' ')}`)
  created[s.kind] += inner.ok
  return {ms: r.ms, maxRssKb: r.maxRssKb, cpuMs: r.cpuMs, inner}
}

async function toolLoop(s, n) {
  const ctl = qArgv(s.control.argv)
  const body =
    s.kind === 'prosody'
      ? `${ctl} shell user create lp$i@localhost Bench-user-pw-1`
      : `${ctl} register lp$i localhost Bench-user-pw-1`
  const script = `i=0; while [ $i -lt ${n} ]; do i=$((i+1)); ${body} >/dev/null || exit 1; done`
  await gate(`${s.kind} tool loop`)
  const r = await measuredOk(`${s.kind} tool loop`, ['sh', '-c', script], {
    env: s.env,
    tmpDir: TMP,
    gnuTime: false,
  })
  created[s.kind] += n
  return {
    tool: s.kind === 'prosody' ? 'prosodyctl shell user create' : 'ejabberdctl register',
    n,
    ms: r.ms,
    perOpMs: r.ms / n,
  }
}

async function phaseBulk(root, servers) {
  results.bulk = {}
  for (const s of [servers.prosody, servers.ejabberd]) {
    const tag = s.kind === 'prosody' ? 'p' : 'e'
    const runs = {xmppadm: [], floor: []}
    for (let r = 1; r <= CFG.bulkRounds; r++) {
      log(
        `bulk ${BULK_LINES} on ${s.kind}, round ${r}/${CFG.bulkRounds}: xmppadm --concurrency ` +
          `${WINDOW} and the floor (window ${WINDOW})`,
      )
      const fx = await linesFile(`bulk-${tag}x${r}`, BULK_LINES, `b${tag}x${r}n`)
      const ff = await linesFile(`bulk-${tag}f${r}`, BULK_LINES, `b${tag}f${r}n`)
      // alternate the order between rounds
      const jobs = [
        async () => runs.xmppadm.push(await xmppadmBulk(root, s, fx, `${tag}${r}`)),
        async () => runs.floor.push(await floorBulk(root, s, ff, `${tag}${r}`, BULK_LINES)),
      ]
      if (r % 2 === 0) jobs.reverse()
      for (const j of jobs) await j()
    }
    log(`bulk on ${s.kind}: server tool, shell loop of ${CFG.loopCount}`)
    const loop = await toolLoop(s, CFG.loopCount)
    results.bulk[s.kind] = {
      runs,
      xmppadmMs: median(runs.xmppadm.map((x) => x.ms)),
      floorMs: median(runs.floor.map((x) => x.ms)),
      xmppadmRssKb: median(runs.xmppadm.map((x) => x.maxRssKb)),
      xmppadmCpuMs: median(runs.xmppadm.map((x) => x.cpuMs)),
      floorCpuMs: median(runs.floor.map((x) => x.cpuMs)),
      floorRssKb: median(runs.floor.map((x) => x.maxRssKb)),
      floorInner: {
        loginMs: median(runs.floor.map((x) => x.inner.loginMs)),
        opsMs: median(runs.floor.map((x) => x.inner.opsMs)),
        importMs: median(runs.floor.map((x) => x.inner.importMs)),
      },
      loop,
      loopExtrapolatedMs: loop.perOpMs * BULK_LINES,
    }
  }
}

// ---------------------------------------------------------------------------------------------
// phase 6: policy check of a healthy server (issue 12): its own Prosody 13 that keeps every promise
// (no archive, no PLAIN, federation on), probed on its STARTTLS, direct TLS and s2s ports

async function phaseAudit(root) {
  const harness = await import(pathToFileURL(path.join(REPO, 'test/servers/harness.js')).href)
  const {freePorts} = await import(pathToFileURL(path.join(REPO, 'test/servers/util.js')).href)
  const [s2sPort] = await freePorts(1)
  log('starting a Prosody 13 that keeps every promise')
  const s = await harness.startProsody({
    prosodyExtraConfig: [
      'modules_disabled = { "mam" }',
      `s2s_ports = { ${s2sPort} }`,
      'disable_sasl_mechanisms = { "PLAIN" }',
    ].join('\n'),
  })
  try {
    const pwFile = path.join(TMP, 'audit.admin.pw')
    fs.writeFileSync(pwFile, `${s.admin.password}\n`, {mode: 0o600})
    const env = {...process.env, XDG_CONFIG_HOME: path.join(TMP, 'no-config')}
    for (const k of ['XMPPADM_PROFILE', 'XMPPADM_SERVER', 'XMPPADM_PASSWORD', 'XMPPADM_TIMEOUT'])
      delete env[k]
    const argv = [
      process.execPath,
      path.join(root, 'bin/run.js'),
      ...['policy', 'check', '--jid', s.admin.jid, '--password-file', pwFile, '--ca-file', s.caFile],
      ...['--server', `${s.host}:${s.port}`, '--c2s', `${s.host}:${s.port}`],
      ...['--c2s', `xmpps://${s.host}:${s.directTlsPort}`, '--s2s', `${s.host}:${s2sPort}`],
    ]
    const check = await run(argv[0], [...argv.slice(1), '--json'], {env, cwd: root})
    const doc = JSON.parse(check.stdout)
    if (check.code !== 0)
      throw new Error(`policy check of the healthy Prosody exited ${check.code}: ${check.stdout}`)
    log('policy check, whole process (hyperfine)')
    const hf = await hyperfine([{name: 'xmppadm policy check', cmd: `${qArgv(argv)} --format nagios`}], {
      ...CFG.audit,
      warmup: 1,
      env,
      cwd: root,
      outDir: OUT,
      tag: 'audit',
      beforeRound: (r) => gate(`audit round ${r + 1}`),
    })
    // The checks alone (the run's own clock: from the admin login to the last answer).
    const inner = []
    for (let i = 0; i < (QUICK ? 3 : 9); i++) {
      const r = await run(argv[0], [...argv.slice(1), '--json'], {env, cwd: root})
      inner.push(JSON.parse(r.stdout).result.seconds * 1000)
    }
    results.audit = {
      hyperfine: hf.byName['xmppadm policy check'],
      checks: doc.result.checks.length,
      summary: doc.result.summary,
      innerMedian: median(inner),
      innerP90: p90(inner),
      innerN: inner.length,
    }
  } finally {
    await s.stop()
  }
}

// ---------------------------------------------------------------------------------------------
// phase 5: memory

async function phaseMemory(root, servers) {
  const s = servers.prosody
  results.memory = {server: s.kind}
  const small = []
  const smallRuns = results.bulk?.prosody?.runs.xmppadm ?? []
  small.push(...smallRuns.map((x) => x.maxRssKb))
  if (!small.length) {
    log(`memory: ${BULK_LINES} lines on ${s.kind}`)
    small.push(
      (await xmppadmBulk(root, s, await linesFile('mem-small', BULK_LINES, 'ms'), 'mem-small')).maxRssKb,
    )
  }
  log(`memory: ${MEMORY_LINES} lines on ${s.kind} (one xmppadm process)`)

  const big = await xmppadmBulk(root, s, await linesFile('mem-big', MEMORY_LINES, 'mb'), 'mem-big')
  // baseline: what an idle node process takes
  const idle = await measured([process.execPath, '-e', '0'], {tmpDir: TMP})
  results.memory = {
    server: s.kind,
    smallLines: BULK_LINES,
    smallRssKb: median(small),
    smallRuns: small,
    bigLines: MEMORY_LINES,
    bigRssKb: big.maxRssKb,
    bigMs: big.ms,
    nodeIdleRssKb: idle.maxRssKb,
  }
}

// ---------------------------------------------------------------------------------------------
// verification: every creation the bench counted is on the server

async function verifyAccounts(servers) {
  results.accounts = {}
  {
    const s = servers.ejabberd
    const r = await run(s.control.argv[0], [...s.control.argv.slice(1), 'registered_users', 'localhost'], {
      timeoutMs: 60000,
      cwd: '/',
    })
    if (r.code !== 0)
      throw new Error(`ejabberdctl registered_users exited ${r.code}: ${r.stderr.slice(0, 300)}`)
    const n = r.stdout.split('\n').filter((l) => /^[^\s@]+(@\S+)?$/.test(l.trim())).length
    results.accounts[s.kind] = {onServer: n, expected: created[s.kind]}
  }
  {
    const s = servers.prosody
    const dir = path.join(s.dir, 'data', 'localhost', 'accounts')
    const n = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.dat')).length : NaN
    results.accounts[s.kind] = {onServer: n, expected: created[s.kind]}
  }
  for (const [k, v] of Object.entries(results.accounts)) {
    if (v.onServer !== v.expected)
      results.errors.push(
        `${k}: ${v.onServer} accounts on the server, the bench counted ${v.expected} creations`,
      )
  }
}

// ---------------------------------------------------------------------------------------------
// report

function verdict(ok) {
  return ok === undefined ? 'n/a' : ok ? 'PASS' : 'MISS'
}

function report(build, machine) {
  const md = []
  const targets = []
  const R = results
  md.push('# xmppadm benchmark results', '')
  md.push(
    `Generated by \`npm run bench\` (test/bench/run.js) on ` +
      `${R.started.slice(0, 16).replace('T', ' ')} UTC, ` +
      `${fmt((R.finishedMs - Date.parse(R.started)) / 1000)} s in all.`,
  )
  md.push(`Build: ${build.source}.`)
  md.push(
    `Machine: ${machine.cpu}, ${machine.memGb} GB, Node ${machine.node}, ${machine.hyperfine}, ` +
      `Prosody ${machine.prosody}, ejabberd ${machine.ejabberd}. Peak RSS via ${machine.rssVia}.`,
  )
  const busy = gate.log.map((g) => g.busy).filter(Number.isFinite)
  md.push(
    `Load average (1 min) at the start of each phase: ${Object.entries(R.loadavg)
      .map(([k, v]) => `${k} ${v[0]}`)
      .join(', ')}. ` +
      'CPU busy (both cores, all processes, measured for 0.5 s just before each measurement while the ' +
      `bench's own servers were idle): median ${fmt(100 * median(busy))}%, ` +
      `max ${fmt(100 * Math.max(...busy))}% over ${busy.length} measurements, after waiting ` +
      `${fmt(gate.spentMs() / 1000)} s in all for quiet (budget ${args['quiet-budget']} s). ` +
      'Other work on this shared machine adds noise; compared commands run side by side, interleaved, ' +
      'and CPU times are given next to wall times.',
  )
  md.push(
    `Bulk runs use \`--concurrency ${WINDOW}\` and the floor the same window; times are ` +
      `medians${QUICK ? ' (QUICK run: few repetitions)' : ''}.`,
    '',
  )

  if (R.startup) {
    const s = R.startup
    const node = s['node -e 0']
    const rows = Object.entries(s).map(([name, v]) => [
      name,
      fmtMs(v.median),
      fmtMs(v.p90),
      fmtMs(v.cpuMs),
      fmtRatio(v.median / node.median),
      v.n,
    ])
    md.push(
      '## 1. Start-up (hyperfine, no shell)',
      '',
      table(['command', 'median', 'p90', 'CPU (user+sys)', 'vs node -e 0', 'runs'], rows),
      '',
    )
    const ratio = s['xmppadm --version'].median / node.median
    targets.push({
      name: '`xmppadm --version` within 2.5x of `node -e 0`',
      value: fmtRatio(ratio),
      target: `<= ${TARGETS.versionVsNode}x`,
      ok: ratio <= TARGETS.versionVsNode,
    })
  }
  if (R.startupParts) {
    const s = R.startupParts
    const node = s['node -e 0']
    const rows = Object.entries(s).map(([name, v]) => [
      name,
      fmtMs(v.median),
      fmtMs(v.cpuMs),
      `+${fmtMs(v.cpuMs - node.cpuMs)}`,
    ])
    md.push(
      'What one operation loads before its first byte (each line one process; the last one connects ' +
        'to a closed port and exits). CPU time (user+sys, mean) is the steadier measure on a shared machine:',
      '',
      table(['process', 'median wall', 'CPU', 'CPU over node -e 0'], rows),
      '',
    )
    // The lite path against oclif's own fast route (src/lite/main.ts keeps it only while it pays).
    const lite = s['xmppadm account create, up to connect (refused)']
    const std = Object.entries(s).find(([k]) => k.startsWith('xmppadm account create, standard oclif route'))
    if (lite && std) {
      const gain = std[1].cpuMs - lite.cpuMs
      targets.push({
        name: "lite path vs oclif's standard route (account create, CPU): src/lite stays if it saves more",
        value: `${fmtMs(gain)} CPU, ${fmtMs(std[1].median - lite.median)} wall`,
        target: `> ${TARGETS.liteGainMs} ms`,
        ok: gain > TARGETS.liteGainMs,
      })
    }
  }
  if (R.login) {
    const rows = Object.entries(R.login).map(([k, v]) => [
      k,
      `${v.mechanism}${v.channelBinding ? ` (${v.channelBinding})` : ''}, ${v.tls}`,
      v.iterations,
      v.n,
      fmtMs(v.median),
      fmtMs(v.p90),
      fmtMs(v.pbkdf2Median),
    ])
    md.push(
      '## 2. Login in-process (Session.open: TCP, STARTTLS, SCRAM, bind; then close)',
      '',
      table(
        ['server', 'mechanism, TLS', 'SCRAM iterations', 'logins', 'median', 'p90', 'PBKDF2 alone'],
        rows,
      ),
      '',
    )
  }
  if (R.single) {
    const rows = []
    for (const [k, v] of Object.entries(R.single)) {
      const x = v.hyperfine['xmppadm account create']
      for (const [name, t] of Object.entries(v.hyperfine)) {
        rows.push([
          k,
          name,
          fmtMs(t.median),
          fmtMs(t.p90),
          fmtMs(t.cpuMs),
          name === 'xmppadm account create' ? '' : fmtRatio(x.median / t.median),
          t.n,
        ])
      }
    }
    md.push(
      '## 3. One account creation as a whole process (hyperfine, unique name per run)',
      '',
      table(['server', 'command', 'median', 'p90', 'CPU', 'xmppadm / this', 'runs'], rows),
      '',
    )
    const tr = Object.entries(R.single).map(([k, v]) => [
      k,
      fmtMs(v.trace.firstSendMs),
      fmtMs(v.trace.lastRecvMs - v.trace.firstSendMs),
      fmtMs(v.trace.totalMs - v.trace.lastRecvMs),
      fmtMs(v.trace.totalMs),
      `${v.trace.xmppRoundTrips} + TCP + TLS`,
      `${v.trace.stanzasOut} / ${v.trace.stanzasIn}`,
    ])
    md.push(
      'Where the time of one `account create` goes (one `--debug` run, times from spawn):',
      '',
      table(
        [
          'server',
          'before first byte',
          'on the wire',
          'last answer to exit',
          'total',
          'round trips',
          'elements out / in',
        ],
        tr,
      ),
      '',
    )
    const e = R.single['ejabberd-24.12']
    if (e) {
      const ratio = e.hyperfine['xmppadm account create'].median / e.hyperfine['ejabberdctl register'].median
      targets.push({
        name: 'one creation (whole process) at most half of `ejabberdctl register`',
        value: fmtRatio(ratio),
        target: `<= ${TARGETS.singleVsEjabberdctl}x`,
        ok: ratio <= TARGETS.singleVsEjabberdctl,
      })
    }
  }
  if (R.bulk) {
    const rows = Object.entries(R.bulk).map(([k, v]) => [
      k,
      `${fmtMs(v.xmppadmMs)} (${fmt(v.xmppadmMs / BULK_LINES)} ms/op; CPU ${fmtMs(v.xmppadmCpuMs)})`,
      `${fmtMs(v.floorMs)} (login ${fmtMs(v.floorInner.loginMs)}, ops ${fmtMs(v.floorInner.opsMs)}; ` +
        `CPU ${fmtMs(v.floorCpuMs)})`,
      `${v.loop.tool}: ${fmtMs(v.loop.perOpMs)}/op over ${v.loop.n} -> ${fmtMs(v.loopExtrapolatedMs)}`,
      fmtRatio(v.xmppadmMs / v.floorMs),
      fmtRatio(v.loopExtrapolatedMs / v.xmppadmMs),
    ])
    md.push(`## 4. Bulk: ${BULK_LINES} account creations`, '')
    md.push(
      `xmppadm: one process, \`account create --from-file F --concurrency ${WINDOW}\`. Floor: ` +
        `test/bench/floor.js, one process, the project's Session login then the same add-user ` +
        `one-shot submits as prebuilt strings, ${WINDOW} in flight. Server tool: a shell loop of ` +
        `${CFG.loopCount} invocations, per-op time extrapolated to ${BULK_LINES}. Whole-process wall times.`,
      '',
    )
    md.push(
      table(
        [
          'server',
          'xmppadm',
          'floor',
          `server tool (extrapolated to ${BULK_LINES})`,
          'xmppadm / floor',
          'tool loop / xmppadm',
        ],
        rows,
      ),
      '',
    )
    for (const [k, v] of Object.entries(R.bulk)) {
      targets.push({
        name: `bulk within 1.5x of the floor (${k})`,
        value: fmtRatio(v.xmppadmMs / v.floorMs),
        target: `<= ${TARGETS.bulkVsFloor}x`,
        ok: v.xmppadmMs / v.floorMs <= TARGETS.bulkVsFloor,
      })
      targets.push({
        name: `bulk at least 10x faster than the server-tool loop (${k})`,
        value: fmtRatio(v.loopExtrapolatedMs / v.xmppadmMs),
        target: `>= ${TARGETS.loopVsBulk}x`,
        ok: v.loopExtrapolatedMs / v.xmppadmMs >= TARGETS.loopVsBulk,
      })
    }
  }
  if (R.memory) {
    const m = R.memory
    const rows = [
      [`xmppadm, ${m.smallLines} lines`, fmtMb(m.smallRssKb), `median of ${m.smallRuns.length}`],
      [
        `xmppadm, ${m.bigLines} lines`,
        fmtMb(m.bigRssKb),
        `${fmtMs(m.bigMs)} (${fmt(m.bigMs / m.bigLines)} ms/op)`,
      ],
      ['node -e 0', fmtMb(m.nodeIdleRssKb), 'baseline'],
    ]
    if (R.bulk?.prosody) rows.push([`floor, ${BULK_LINES} lines`, fmtMb(R.bulk.prosody.floorRssKb), ''])
    md.push(
      `## 5. Peak memory (max RSS), bulk creation on ${m.server}`,
      '',
      table(['process', 'max RSS', 'note'], rows),
      '',
    )
    const ratio = m.bigRssKb / m.smallRssKb
    targets.push({
      name: `memory flat: RSS(${m.bigLines} lines) <= 1.2x RSS(${m.smallLines})`,
      value: fmtRatio(ratio),
      target: `<= ${TARGETS.memory10k}x`,
      ok: ratio <= TARGETS.memory10k,
    })
  }
  if (R.audit) {
    const a = R.audit
    md.push(
      '## 6. policy check of a healthy Prosody 13 (STARTTLS, direct TLS and s2s ports; hyperfine)',
      '',
      table(
        ['what', 'median', 'p90', 'CPU', 'runs'],
        [
          [
            'whole process, --format nagios',
            fmtMs(a.hyperfine.median),
            fmtMs(a.hyperfine.p90),
            fmtMs(a.hyperfine.cpuMs),
            a.hyperfine.n,
          ],
          ['the checks alone (JSON seconds)', fmtMs(a.innerMedian), fmtMs(a.innerP90), '', a.innerN],
        ],
      ),
      '',
      `${a.checks} checks (${a.summary.pass} pass, ${a.summary['not-applicable']} not applicable), ` +
        'about 20 connections, all at once.',
      '',
    )
    targets.push({
      name: 'policy check of a healthy server, whole process',
      value: fmtMs(a.hyperfine.median),
      target: `<= ${fmtMs(TARGETS.auditMs)}`,
      ok: a.hyperfine.median <= TARGETS.auditMs,
    })
  }
  reportLarge(R, md, targets)
  md.push(
    '## Targets',
    '',
    table(
      ['target', 'measured', 'goal', 'result'],
      targets.map((t) => [t.name, t.value, t.target, verdict(t.ok)]),
    ),
    '',
  )
  if (R.accounts)
    md.push(
      `Check: accounts on the servers after the run: ${Object.entries(R.accounts)
        .map(([k, v]) => `${k} ${v.onServer} (bench counted ${v.expected})`)
        .join(', ')}.`,
    )
  if (R.leftovers)
    md.push(`Servers stopped; leftover processes: ${R.leftovers.length ? R.leftovers.join('; ') : 'none'}.`)
  if (R.errors.length) md.push('', '## Errors', '', ...R.errors.map((e) => `- ${e.split('\n')[0]}`))
  md.push(
    '',
    'Raw data of the last run: test/bench/out/ (hyperfine JSON exports, summary.json; not committed).',
    '',
  )
  return {md: md.join('\n'), targets}
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const machine = await machineInfo()
  if (!/hyperfine/.test(machine.hyperfine)) throw new Error('hyperfine is not installed: run npm run setup')
  const build = await prepareBuild()
  log(`build: ${build.source}`)
  results.build = build.source
  results.machine = machine
  const phase = async (name, fn) => {
    if (!only.has(name)) return
    results.loadavg[name] = loadAvg()
    try {
      await fn()
    } catch (error) {
      log(`phase ${name} FAILED: ${error.message}`)
      results.errors.push(`${name}: ${error.message}`)
    }
  }
  await phase('startup', () => phaseStartup(build.root))
  if (['login', 'single', 'bulk', 'memory'].some((p) => only.has(p))) {
    const servers = await startServers()
    try {
      await phase('login', () => phaseLogin(build.root, servers))
      await phase('single', () => phaseSingle(build.root, servers))
      await phase('bulk', () => phaseBulk(build.root, servers))
      await phase('memory', () => phaseMemory(build.root, servers))
      await verifyAccounts(servers).catch((e) => results.errors.push(`verify: ${e.message}`))
    } finally {
      await stopServers(servers)
    }
  }
  await phase('audit', () => phaseAudit(build.root))
  await phase('large', () => phaseLarge({root: build.root, repo: REPO, tmpDir: TMP, gate, log, results}))
  results.finishedMs = Date.now()
  const {md, targets} = report(build, machine)
  results.targets = targets
  results.quiet = gate.log
  fs.writeFileSync(path.join(OUT, 'summary.json'), JSON.stringify(results, null, 1))
  fs.writeFileSync(path.join(OUT, 'RESULTS.md'), md)
  if (WRITE) fs.writeFileSync(path.join(HERE, 'RESULTS.md'), md)
  process.stdout.write(`\n${md}\n`)
  log(
    `done in ${((Date.now() - t0) / 1000).toFixed(0)} ` +
      `s${WRITE ? '; wrote test/bench/RESULTS.md' : ' (RESULTS.md not written: use --write)'}`,
  )
  if (results.errors.length) process.exitCode = 1
}

main().catch((error) => {
  log(`FAILED: ${error.stack ?? error}`)
  process.exitCode = 1
})
