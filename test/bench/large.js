// Bench phase "large" (issue 11): a large server. Builds a store of 20,000 accounts and 100,000
// offline messages (and users with 50,000 and 5,000 archived messages) fast, straight into the
// servers' storage (Prosody: its internal storage files before it starts; ejabberd: Erlang
// evaluated in its node), then measures while a client pings the server every 20 ms:
//   - the pings idle, then during `xmppadm purge-offline` (worst and 99th percentile);
//   - the purge: duration, throughput, the CLI's peak RSS, and that it deleted exactly the old
//     messages and kept the fresh ones;
//   - `xmppadm export-user` of the 50,000-message archive (duration, file size, peak RSS) next to
//     the 5,000-message one (memory flat in the archive's size), with the pings meanwhile.
import * as fs from 'node:fs'
import * as path from 'node:path'
import {pathToFileURL} from 'node:url'
import {fmt, fmtMb, fmtMs, fmtRatio, measured, quantile, sleep, table} from './lib.js'

export const LARGE = {
  accounts: 20_000,
  oldPerUser: 4, // purged
  freshPerUser: 1, // kept: 5 messages a user, 100,000 in all
  archive: 50_000,
  smallArchive: 5_000,
  pingEveryMs: 20,
  idleMs: 5_000,
}
export const LARGE_TARGETS = {worstPingMs: 100, exportRss: 1.2}

/**
 * Pings the server every `everyMs` through its own logged-in session; `mark(label)` starts a new
 * series. Returns {series, stop()}.
 */
async function pinger(root, s, everyMs) {
  const {Session} = await import(pathToFileURL(path.join(root, 'dist/xmpp/session.js')).href)
  const {xml} = await import(pathToFileURL(path.join(root, 'node_modules/@xmpp/xml/index.js')).href)
  const session = await Session.open({
    jid: s.user.jid,
    password: s.user.password,
    endpoint: {host: s.host, port: s.port, directTls: false},
    ca: fs.readFileSync(s.caFile, 'utf8'),
    timeoutMs: 120_000,
  })
  const series = {}
  let current = 'warm-up'
  let stopped = false
  const lost = []
  const loop = (async () => {
    while (!stopped) {
      const a = performance.now()
      const label = current
      try {
        await session.iq('get', s.domain, xml('ping', {xmlns: 'urn:xmpp:ping'}), 'ping')
        ;(series[label] ??= []).push(performance.now() - a)
      } catch (error) {
        lost.push(`${label}: ${error.message}`)
      }
      await sleep(everyMs)
    }
  })()
  return {
    series,
    lost,
    mark: (label) => (current = label),
    stop: async () => {
      stopped = true
      await loop
      session.close()
    },
  }
}

const pingStats = (v = []) => ({
  n: v.length,
  worst: v.length ? Math.max(...v) : NaN,
  p99: quantile(v, 0.99),
  median: quantile(v, 0.5),
  over100: v.filter((x) => x > 100).length,
})

async function cli(root, s, args, tmpDir) {
  const r = await measured([process.execPath, path.join(root, 'bin/run.js'), ...args], {
    env: s.env,
    cwd: root,
    tmpDir,
  })
  if (r.code !== 0)
    throw new Error(`xmppadm ${args.join(' ')}: exit ${r.code}: ${(r.stdout + r.stderr).slice(-800)}`)
  return {...r, json: args.includes('--json') ? JSON.parse(r.stdout).result : undefined}
}

/**
 * One server: idle pings, the purge with pings, and (Prosody) the exports with pings.
 * `counts()` reads what is left in the store: {old, fresh}.
 */
async function measureServer({root, s, tmpDir, gate, log, build, counts, exports}) {
  const out = {kind: s.kind, build}
  const ping = await pinger(root, s, LARGE.pingEveryMs)
  try {
    await sleep(1000)
    await gate(`${s.kind} idle pings`)
    ping.mark('idle')
    await sleep(LARGE.idleMs)
    ping.mark('between')
    await gate(`${s.kind} purge`)
    log(`large: purge-offline on ${s.kind} (${LARGE.accounts} users)`)
    ping.mark('purge')
    const purge = await cli(root, s, ['purge-offline', '--older-than', '1d', '--json'], tmpDir)
    ping.mark('between')
    const left = await counts()
    out.purge = {
      ms: purge.ms,
      cpuMs: purge.cpuMs,
      rssKb: purge.maxRssKb,
      count: purge.json.count,
      users: purge.json.users,
      expected: LARGE.accounts * LARGE.oldPerUser,
      left,
    }
    if (exports) {
      out.exports = []
      for (const [user, n] of exports) {
        await gate(`${s.kind} export ${n}`)
        log(`large: export-user of ${n} archived messages on ${s.kind}`)
        const file = path.join(tmpDir, `${user}.xml`)
        fs.rmSync(file, {force: true})
        ping.mark(`export ${n}`)
        const r = await cli(root, s, ['export-user', `${user}@${s.domain}`, '-o', file, '--json'], tmpDir)
        ping.mark('between')
        out.exports.push({
          messages: n,
          counted: r.json.counts.mam,
          ms: r.ms,
          cpuMs: r.cpuMs,
          rssKb: r.maxRssKb,
          bytes: fs.statSync(file).size,
        })
        fs.rmSync(file, {force: true})
      }
    }
  } finally {
    await ping.stop()
  }
  out.pings = Object.fromEntries(Object.entries(ping.series).map(([k, v]) => [k, pingStats(v)]))
  out.lostPings = ping.lost
  return out
}

/** The phase: Prosody 13, then ejabberd 24.12, each started for it and stopped after. */
export async function phaseLarge({root, repo, tmpDir, gate, log, results}) {
  const harness = await import(pathToFileURL(path.join(repo, 'test/servers/harness.js')).href)
  const {seedProsodyStore, countOffline} = await import(
    pathToFileURL(path.join(repo, 'test/servers/prosody-store.js')).href
  )
  const {seedEjabberdStore, countEjabberdOffline} = await import(
    pathToFileURL(path.join(repo, 'test/servers/ejabberd-store.js')).href
  )
  results.large = {config: LARGE, servers: []}
  const withEnv = (s) => {
    const pwFile = path.join(tmpDir, `${s.kind}-large.pw`)
    fs.writeFileSync(pwFile, `${s.admin.password}\n`, {mode: 0o600})
    s.env = {
      ...process.env,
      XMPPADM_JID: s.admin.jid,
      XMPPADM_SERVER: `${s.host}:${s.port}`,
      XMPPADM_PASSWORD_FILE: pwFile,
      XMPPADM_CA_FILE: s.caFile,
      XDG_CONFIG_HOME: path.join(tmpDir, 'no-config'),
    }
    for (const k of ['XMPPADM_PROFILE', 'XMPPADM_TO', 'XMPPADM_PASSWORD', 'XMPPADM_TIMEOUT']) delete s.env[k]
    return s
  }

  {
    log(`large: building a Prosody 13 store (${LARGE.accounts} accounts, offline messages, archives)`)
    let seed
    const t0 = performance.now()
    const s = withEnv(
      await harness.startProsody({
        prosodySeed: (dataDir) => {
          seed = seedProsodyStore({
            dataDir,
            accounts: LARGE.accounts,
            oldPerUser: LARGE.oldPerUser,
            freshPerUser: LARGE.freshPerUser,
            mam: [
              {user: 'bulk00001', count: LARGE.archive},
              {user: 'bulk00002', count: LARGE.smallArchive},
            ],
          })
        },
      }),
    )
    const build = {
      accounts: LARGE.accounts,
      offline: seed.offline,
      archive: seed.mam,
      writeMs: seed.ms,
      startMs: s.startMs - seed.ms, // the harness's start includes writing the store
      totalMs: performance.now() - t0,
    }
    try {
      results.large.servers.push(
        await measureServer({
          root,
          s,
          tmpDir,
          gate,
          log,
          build,
          counts: async () => countOffline(path.join(s.dir, 'data')),
          exports: [
            ['bulk00002', LARGE.smallArchive],
            ['bulk00001', LARGE.archive],
          ],
        }),
      )
    } finally {
      await s.stop()
    }
  }
  {
    const t0 = performance.now()
    const s = withEnv(await harness.startEjabberd24())
    log(`large: building an ejabberd 24.12 store (${LARGE.accounts} accounts, offline messages; Mnesia)`)
    const seed = await seedEjabberdStore(s, {
      accounts: LARGE.accounts,
      oldPerUser: LARGE.oldPerUser,
      freshPerUser: LARGE.freshPerUser,
    })
    const build = {
      accounts: LARGE.accounts,
      offline: seed.offline,
      archive: 0,
      writeMs: seed.ms,
      startMs: s.startMs,
      totalMs: performance.now() - t0,
    }
    try {
      results.large.servers.push(
        await measureServer({root, s, tmpDir, gate, log, build, counts: () => countEjabberdOffline(s)}),
      )
    } finally {
      await s.stop()
    }
  }
}

/** RESULTS.md section 7 and its targets. */
export function reportLarge(R, md, targets) {
  const L = R.large
  if (!L) return
  md.push(
    '## 7. Large server: purge and export while a client pings',
    '',
    [
      `Store built by the bench: ${fmt(L.config.accounts)} accounts with`,
      `${L.config.oldPerUser + L.config.freshPerUser} offline messages each (${L.config.oldPerUser} two days`,
      `old, ${L.config.freshPerUser} a minute old); on Prosody also two users with ${fmt(L.config.archive)}`,
      `and ${fmt(L.config.smallArchive)} archived messages. Prosody: written straight into its internal`,
      'storage files before it starts; ejabberd: written into Mnesia (accounts) and through',
      "mod_offline's backend by Erlang evaluated in the running node. A client pings the server every",
      `${L.config.pingEveryMs} ms meanwhile; \`purge-offline --older-than 1d\` and \`export-user\` run with`,
      'the default timeout (10 s per answer).',
    ].join(' '),
    '',
  )
  md.push(
    table(
      [
        'server',
        'store',
        'built in',
        'purge',
        'throughput',
        'deleted / expected',
        'left old / fresh',
        'CLI max RSS',
      ],
      L.servers.map((x) => [
        x.kind,
        `${fmt(x.build.accounts)} accounts, ${fmt(x.build.offline)} offline` +
          (x.build.archive ? `, ${fmt(x.build.archive)} archived` : ''),
        `${fmtMs(x.build.totalMs)} (writing ${fmtMs(x.build.writeMs)}, start ${fmtMs(x.build.startMs)})`,
        fmtMs(x.purge.ms),
        `${fmt(x.purge.count / (x.purge.ms / 1000))} msg/s, ` +
          `${fmt(L.config.accounts / (x.purge.ms / 1000))} users/s`,
        `${fmt(x.purge.count)} / ${fmt(x.purge.expected)}`,
        `${fmt(x.purge.left.old)} / ${fmt(x.purge.left.fresh)}`,
        fmtMb(x.purge.rssKb),
      ]),
    ),
    '',
    'Ping round trips of the concurrent client (ms):',
    '',
  )
  const rows = []
  for (const x of L.servers) {
    for (const [label, p] of Object.entries(x.pings)) {
      if (label === 'between' || label === 'warm-up') continue
      rows.push([x.kind, label, p.n, fmt(p.median), fmt(p.p99), fmt(p.worst), p.over100])
    }
  }
  md.push(table(['server', 'while', 'pings', 'median', 'p99', 'worst', 'over 100 ms'], rows), '')
  const exp = L.servers.filter((x) => x.exports)
  if (exp.length) {
    md.push(
      'Exports (`export-user USER -o FILE`, XEP-0227, one process):',
      '',
      table(
        ['server', 'archived messages', 'exported', 'file', 'duration', 'CPU', 'max RSS'],
        exp.flatMap((x) =>
          x.exports.map((e) => [
            x.kind,
            fmt(e.messages),
            fmt(e.counted),
            fmtMb(e.bytes / 1024),
            fmtMs(e.ms),
            fmtMs(e.cpuMs),
            fmtMb(e.rssKb),
          ]),
        ),
      ),
      '',
    )
  }
  for (const x of L.servers) {
    const worst = x.pings.purge?.worst
    targets.push({
      name:
        `worst ping during the ${fmt(L.config.accounts)}-account purge ` +
        `under ${LARGE_TARGETS.worstPingMs} ms (${x.kind})`,
      value: fmtMs(worst),
      target: `< ${LARGE_TARGETS.worstPingMs} ms`,
      ok: worst < LARGE_TARGETS.worstPingMs,
    })
    targets.push({
      name: `purge deleted exactly the old messages and kept the fresh ones (${x.kind})`,
      value:
        `${fmt(x.purge.count)} deleted, ` +
        `${fmt(x.purge.left.old)} old and ${fmt(x.purge.left.fresh)} fresh left`,
      target: `${fmt(x.purge.expected)}, 0, ${fmt(L.config.accounts * L.config.freshPerUser)}`,
      ok:
        x.purge.count === x.purge.expected &&
        x.purge.left.old === 0 &&
        x.purge.left.fresh === L.config.accounts * L.config.freshPerUser,
    })
    if (x.exports) {
      const [small, big] = x.exports
      const ratio = big.rssKb / small.rssKb
      targets.push({
        name:
          `export memory flat: RSS(${fmt(big.messages)} messages) <= ` +
          `${LARGE_TARGETS.exportRss}x RSS(${fmt(small.messages)}) (${x.kind})`,
        value: fmtRatio(ratio),
        target: `<= ${LARGE_TARGETS.exportRss}x`,
        ok: ratio <= LARGE_TARGETS.exportRss && big.counted === big.messages,
      })
    }
  }
}
