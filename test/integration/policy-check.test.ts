// Issue 12: policy check against real servers. The shared test servers as configured (TLS 1.2+
// only, SCRAM storage) pass the TLS and SASL checks, and every promise of the README's table gets a
// verdict and evidence. Dedicated instances (started here) keep every promise (Prosody), lack
// mod_xmppadm (Prosody 13: the checks that need it say so), or break the promises on purpose
// (Prosody and ejabberd 24.12: archives with messages, none of them the admin's, open registration,
// passwords kept as is, an old offline message, an old upload, debug logging left on), and each
// broken promise is caught with its evidence and the exit code. Hostile servers for what no real
// server can be made to do: policy-check-hostile.test.ts.
import {readFileSync, readdirSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {execa} from 'execa'
import {BIN, type CliResult, cliOn, expectNoStack, scratch, secretFile} from '../helpers/cli.js'
import {
  WITH_MODULE,
  eventually,
  isProsody,
  prosodyLua,
  prosodyOfflineCount,
  sendMessages,
} from '../helpers/mission.js'
import {backdateOffline, backdateUpload, offlineBodies, uploadFile} from '../helpers/stores.js'
import {type RunningServer, startEjabberd24, startProsody} from '../servers/harness.js'
import type {ServerDescriptor} from '../servers/servers.js'
import {freePorts} from '../servers/util.js'

const DAY = 86_400
/** The README's promise table, as policy check names the promises. */
const PROMISES = [
  'tls',
  'passwords',
  'archive',
  'registration',
  'offline',
  'uploads',
  'debug-log',
  'block-ip',
  'export',
  'erasure',
  'published',
]
const VERDICTS = ['pass', 'warn', 'fail', 'cannot-tell', 'not-applicable']

type Row = {promise: string; check: string; target: string; verdict: string; evidence: string; hint?: string}

async function check(
  server: ServerDescriptor,
  args: string[] = [],
  file?: string,
  env?: Record<string, string>,
): Promise<CliResult> {
  const r = await cliOn(server, ['policy', 'check', ...(file ? [secretFile(file)] : []), ...args], {env})
  expectNoStack(r)
  return r
}
const rows = (r: CliResult): Row[] => r.json.result.checks
const one = (r: CliResult, name: string, target?: string): Row => {
  const found = rows(r).filter((c) => c.check === name && (!target || c.target.startsWith(target)))
  expect(found, `${name} in ${JSON.stringify(rows(r), null, 1)}`).toHaveLength(1)
  return found[0]
}

/** Every promise of the README's table has a verdict and words, and every check its evidence. */
function expectEveryPromiseReported(r: CliResult): void {
  const {promises, checks} = r.json.result
  expect(promises.map((p: {promise: string}) => p.promise)).toEqual(PROMISES)
  for (const p of promises) {
    expect(VERDICTS).toContain(p.verdict)
    expect(p.text.length).toBeGreaterThan(10)
  }
  for (const c of checks as Row[]) {
    expect(VERDICTS).toContain(c.verdict)
    expect(c.evidence.length, JSON.stringify(c)).toBeGreaterThan(2)
    expect(c.target.length).toBeGreaterThan(2)
  }
}

describe.each(WITH_MODULE)('policy check on the shared %s as configured', (kind, server) => {
  it('TLS, SASL pass; PLAIN offered and the archive are caught; every promise reported', async () => {
    const r = await check(server, ['--json'])
    expect(r.exitCode, r.stderr).toBe(83)
    expect(r.json).toMatchObject({ok: false, error: {code: 83, reason: 'promise-broken'}})
    expectEveryPromiseReported(r)
    const c2s = `c2s ${server.host}:${server.port} (STARTTLS)`
    for (const name of ['tls-versions', 'certificate', 'starttls-required'])
      expect(one(r, name, c2s).verdict, name).toBe('pass')
    expect(one(r, 'tls-versions', c2s).evidence).toBe(
      'TLS 1.0 refused, TLS 1.1 refused, TLS 1.2 accepted, TLS 1.3 accepted',
    )
    expect(one(r, 'certificate', c2s).evidence).toMatch(
      /^verifies for localhost \(for localhost, (second\.localhost, )?IP Address:127\.0\.0\.1, issued by xmppadm test CA \w+, valid until \d{4}-\d\d-\d\d\): \d+ day\(s\) left$/,
    )
    for (const name of ['scram-offered', 'scram-iterations', 'scram-salt'])
      expect(one(r, name, c2s).verdict, name).toBe('pass')
    // Prosody 0.12 offers no SCRAM-*-PLUS (no channel binding over TLS 1.3): a warning.
    expect(one(r, 'channel-binding', c2s)).toMatchObject(
      kind === 'prosody-0.12'
        ? {verdict: 'warn', evidence: 'no SCRAM-*-PLUS mechanism: a login is not bound to its TLS session'}
        : {verdict: 'pass', evidence: expect.stringMatching(/^SCRAM-SHA-1-PLUS offered; binding types: /)},
    )
    expect(one(r, 'scram-iterations', c2s).evidence).toBe(
      `${kind === 'prosody-0.12' ? 'SCRAM-SHA-1' : 'SCRAM-SHA-1-PLUS'}: ` +
        `${isProsody(kind) ? 10000 : 4096} iterations (at least 4096)`,
    )
    // Both families offer PLAIN inside TLS by default: the promise "no PLAIN" is broken.
    expect(one(r, 'plain', c2s)).toMatchObject({verdict: 'fail'})
    expect(one(r, 'plain', c2s).evidence).toMatch(
      /^PLAIN offered \(mechanisms: .*SCRAM-SHA-1.*\): the server receives/,
    )
    // mod_mam is loaded on all of them.
    expect(one(r, 'archive-offered')).toMatchObject({target: 'admin@localhost', verdict: 'fail'})
    expect(one(r, 'archive-offered').evidence).toMatch(/^the account is offered XEP-0313 \(urn:xmpp:mam:2\)/)
    // Registration: closed on Prosody; ejabberd's test config lets loopback register.
    expect(one(r, 'registration').verdict).toBe(isProsody(kind) ? 'pass' : 'fail')
    expect(r.json.result.broken).toEqual(
      isProsody(kind) ? ['passwords', 'archive'] : ['passwords', 'archive', 'registration'],
    )
  })
})

describe('a Prosody that keeps every promise', () => {
  let server: RunningServer
  let endpoints: string[]
  beforeAll(async () => {
    const [s2sPort] = await freePorts(1)
    server = await startProsody({
      prosodyModules: ['server_contact_info'],
      prosodyExtraConfig: [
        'modules_disabled = { "mam" }',
        `s2s_ports = { ${s2sPort} }`,
        'disable_sasl_mechanisms = { "PLAIN" }',
        'contact_info = { abuse = { "mailto:abuse@localhost" }; security = { "xmpp:security@localhost" } }',
      ].join('\n'),
    })
    endpoints = [
      ...['--c2s', `127.0.0.1:${server.port}`, '--c2s', `xmpps://127.0.0.1:${server.directTlsPort}`],
      ...['--s2s', `127.0.0.1:${s2sPort}`],
    ]
  })
  afterAll(() => server?.stop())

  it('every check passes on the STARTTLS, direct TLS and s2s ports; exit 0', async () => {
    const r = await check(server, [...endpoints, '--json'])
    expect(r.exitCode, r.stdout).toBe(0)
    expect(r.json.ok).toBe(true)
    expectEveryPromiseReported(r)
    const verdicts = rows(r).map((c) => `${c.check} ${c.target}: ${c.verdict}`)
    expect(verdicts.filter((v) => !v.endsWith(': pass'))).toEqual(['xep-0504 localhost: not-applicable'])
    for (const target of ['c2s 127.0.0.1', 's2s 127.0.0.1'])
      expect(verdicts.filter((v) => v.startsWith(`tls-versions ${target}`))).not.toHaveLength(0)
    expect(one(r, 'tls-versions', 'c2s 127.0.0.1:' + server.directTlsPort + ' (direct TLS)').verdict).toBe(
      'pass',
    )
    expect(one(r, 'starttls-required', 's2s').evidence).toMatch(
      /^before TLS the stream offers only starttls \(required\)/,
    )
    expect(one(r, 'plain', `c2s 127.0.0.1:${server.port}`).evidence).toMatch(/^PLAIN not offered/)
    expect(one(r, 'registration').evidence).toMatch(
      /^closed: a registration request gets service-unavailable/,
    )
    expect(one(r, 'archive-offered').evidence).toBe('the account is offered no XEP-0313 archive')
    // The module walks every account's archive store, whether or not XEP-0313 is offered.
    expect(one(r, 'archive-contents')).toMatchObject({
      target: 'localhost',
      evidence: "no account's archive holds messages (2 accounts)",
    })
    expect(one(r, 'offline-age').evidence).toBe('older than 7d: 0 offline message(s)')
    expect(one(r, 'xep-0157').evidence).toBe(
      'contact addresses (XEP-0157): abuse: mailto:abuse@localhost; security: xmpp:security@localhost',
    )
    expect(r.json.result.broken).toEqual([])
    // Timing is measured by the benchmark; this only catches a hang.
    expect(r.json.result.seconds).toBeLessThan(10)
  })

  it('a table on stdout (tab-separated off a terminal): promise, check, evidence, verdict', async () => {
    const r = await check(server, endpoints)
    expect(r.exitCode).toBe(0)
    const lines = r.stdout.trim().split('\n')
    expect(lines[0]).toBe('promise\tcheck\tevidence\tverdict')
    expect(lines).toContain(
      'no message archive\tarchive-offered: admin@localhost\t' +
        'the account is offered no XEP-0313 archive\tpass',
    )
    expect(lines.slice(1).every((l) => l.split('\t').length === 4)).toBe(true)
    expect(r.stderr).toMatch(
      /^localhost: no promise broken \(\d+ passed, 0 warning\(s\), 0 cannot tell; \d+\.\d\d s\)$/m,
    )
  })

  it('--format nagios: OK, exit 0, one line; closer to the end than cert_warn_days: WARNING', async () => {
    const ok = await check(server, [...endpoints, '--format', 'nagios'])
    expect(ok.exitCode).toBe(0)
    expect(ok.stdout).toMatch(
      /^XMPP POLICY OK - localhost: every promise kept \(\d+ checks passed\) \| pass=\d+ warn=0 fail=0 cannot_tell=0 time=\d+\.\d\ds$/,
    )
    expect(ok.stderr).toBe('')
    // The test certificate is valid for 30 days.
    const warn = await check(server, [...endpoints, '--format', 'nagios'], 'cert_warn_days = 45\n')
    expect(warn.exitCode).toBe(1)
    expect(warn.stdout).toMatch(
      /^XMPP POLICY WARNING - localhost: warning: tls: verifies for localhost .*: \d+ day\(s\) left, f/,
    )
  })

  it('--all-hosts: every host keeps every promise, or the one that breaks one is named', async () => {
    const all = await check(server, [...endpoints, '--all-hosts', '--json'])
    expect(all.exitCode, all.stdout).toBe(0)
    const hosts = all.json.result.hosts
    expect(hosts.map((h: any) => [h.host, h.ok, h.code])).toEqual([
      ['localhost', true, 0],
      ['second.localhost', true, 0],
    ])
    const second = hosts[1].result.checks as Row[]
    expect(second.filter((c) => !['pass', 'not-applicable'].includes(c.verdict))).toEqual([])
    expect(second.find((c) => c.check === 'certificate')!.evidence).toMatch(
      /^verifies for second\.localhost /,
    )
    expect(second.find((c) => c.check === 'offline-age')).toMatchObject({target: 'second.localhost'})
    const ok = await check(server, [...endpoints, '--all-hosts', '--format', 'nagios'])
    expect(ok.exitCode).toBe(0)
    expect(ok.stdout).toMatch(
      /^XMPP POLICY OK - 2 host\(s\): localhost OK: every promise kept \(\d+ checks passed\); second\.localhost OK: every promise kept \(\d+ checks passed\) \| pass=\d+ warn=0 fail=0 /,
    )

    // debug logging left on for good on second.localhost alone: that host breaks a promise
    const on = await cliOn(server, ['--to', 'second.localhost', 'debug-log', 'on'])
    expect(on.exitCode, on.stderr).toBe(0)
    try {
      const r = await check(server, [...endpoints, '--all-hosts', '--json'])
      expect(r.exitCode, r.stdout).toBe(83)
      expect(r.json.error).toMatchObject({
        code: 83,
        message: '1 of 2 hosts did not succeed: second.localhost (83)',
      })
      expect(r.json.result.hosts[1].result.broken).toEqual(['debug-log'])
      expect(r.json.result.hosts[0].result.broken).toEqual([])
      const nagios = await check(server, [...endpoints, '--all-hosts', '--format', 'nagios'])
      expect(nagios.exitCode).toBe(2)
      expect(nagios.stdout).toMatch(
        /^XMPP POLICY CRITICAL - 2 host\(s\): localhost OK: every promise kept \(\d+ checks passed\); second\.localhost CRITICAL: 1 promise\(s\) broken: debug-log: on, with no end set \(second\.localhost\) \| /,
      )
    } finally {
      expect((await cliOn(server, ['--to', 'second.localhost', 'debug-log', 'off'])).exitCode).toBe(0)
    }
  })

  it('--format nagios: UNKNOWN, exit 3, when only the admin login fails, or nothing can run', async () => {
    const wrong = await check(server, [...endpoints, '--format', 'nagios'], undefined, {
      XMPPADM_PASSWORD_FILE: secretFile('not-the-password\n'),
    })
    expect(wrong.exitCode, wrong.stdout).toBe(3)
    expect(wrong.stdout).toMatch(
      /^XMPP POLICY UNKNOWN - localhost: cannot tell: passwords: the SCRAM login as the admin did not succeed \(not-authorized\) .*archive: no admin session: login as admin@localhost failed: wrong JID or password .*\| pass=\d+ warn=0 fail=0 cannot_tell=\d+ time=/,
    )
    // Without --format nagios: the outside checks still report, and the login's exit code (79).
    const plainRun = await check(server, [...endpoints, '--json'], undefined, {
      XMPPADM_PASSWORD_FILE: secretFile('not-the-password\n'),
    })
    expect(plainRun.exitCode).toBe(79)
    expect(plainRun.json).toMatchObject({ok: false, error: {code: 79, reason: 'auth-failed'}})
    expect(one(plainRun, 'tls-versions', `c2s 127.0.0.1:${server.port}`).verdict).toBe('pass')
    for (const [args, message, env] of [
      [[secretFile('tls_min = 1.1\n')], /tls_min: expected "1\.2" or "1\.3"$/],
      [['/nonexistent.policy'], /^cannot read policy \/nonexistent\.policy: ENOENT$/],
      [[], /^--format nagios and --json cannot be used together$/, {XMPPADM_CONTENT_TYPE: 'json'}],
    ] as const) {
      const r = await check(server, [...args, '--format', 'nagios'], undefined, env)
      expect(r.exitCode, r.stdout).toBe(3)
      const [line, ...rest] = r.stdout.split('\n')
      expect(rest).toEqual([])
      expect(line.replace(/^XMPP POLICY UNKNOWN - /, '')).toMatch(message)
    }
  })

  it('tls_min = 1.3: TLS 1.2 accepted is a broken promise; nagios CRITICAL, exit 2', async () => {
    const r = await check(server, ['--json'], 'tls_min = 1.3\n')
    expect(r.exitCode).toBe(83)
    expect(one(r, 'tls-versions', 'c2s')).toMatchObject({
      verdict: 'fail',
      evidence: 'TLS 1.0 refused, TLS 1.1 refused, TLS 1.2 accepted, TLS 1.3 accepted',
    })
    expect(r.json.result.promises[0]).toMatchObject({
      promise: 'tls',
      text: 'only TLS 1.3 or newer, client to server and server to server',
      verdict: 'fail',
    })
    const n = await check(server, ['--format', 'nagios'], 'tls_min = 1.3\n')
    expect(n.exitCode).toBe(2)
    expect(n.stdout).toMatch(
      /^XMPP POLICY CRITICAL - localhost: 1 promise\(s\) broken: tls: TLS 1\.0 refused, .* \| pass=/,
    )
  })

  it("the README's Nagios and Icinga 2 command lines work as written (paths, JID filled in)", async () => {
    const readme = readFileSync('README.md', 'utf8')
    const policy = secretFile('offline = 7d\nuploads = 14d\ndebug_log = off\n')
    const password = secretFile(`${server.admin.password}\n`)
    const fill = (arg: string) =>
      arg
        .replace('$ARG1$', server.admin.jid)
        .replace('$xmpp_admin_jid$', server.admin.jid)
        .replace(/^\/etc\/(nagios|icinga2)\/xmppadm\.password$/, password)
        .replace(/^(\$xmpp_password_file\$)$/, password)
        .replace(/^(\/etc\/xmppadm\/privacy\.policy|\$xmpp_policy_file\$)$/, policy)
    const nagios = /command_line\s+(.*)$/m.exec(readme)![1].split(/\s+/).map(fill)
    // Icinga 2 appends the arguments after the command array.
    const icingaCommand = [.../command = \[ (.*) \]$/m.exec(readme)![1].matchAll(/"([^"]*)"/g)].map(
      (m) => m[1],
    )
    const icingaArgs = [...readme.matchAll(/^\s+"(--[\w-]+)" = "(\$\w+\$)"$/gm)].flatMap((m) => [m[1], m[2]])
    const icinga = [...icingaCommand, ...icingaArgs].map(fill)
    for (const argv of [nagios, icinga]) {
      expect(argv[0]).toBe('/usr/local/bin/xmppadm')
      const r = await execa('node', [BIN, ...argv.slice(1)], {
        reject: false,
        env: {
          XMPPADM_SERVER: `127.0.0.1:${server.port}`,
          XMPPADM_CA_FILE: server.caFile,
          XDG_CONFIG_HOME: scratch,
        },
      })
      expect(r.stdout, `${argv.join(' ')}\n${r.stderr}`).toMatch(/^XMPP POLICY OK - localhost: /)
      expect(r.exitCode).toBe(0)
    }
  })

  it('contact addresses the file requires but the server does not publish: caught', async () => {
    const r = await check(server, ['--json'], 'contacts = abuse, support\n')
    expect(r.exitCode).toBe(83)
    expect(one(r, 'xep-0157')).toMatchObject({
      verdict: 'fail',
      evidence:
        'no support address published (XEP-0157); ' +
        'published: abuse: mailto:abuse@localhost; security: xmpp:security@localhost',
    })
  })

  // Last: it leaves an archive behind, which the other tests here would see.
  it('an archive left in the store after mod_mam was unloaded: caught, though XEP-0313 is gone', async () => {
    const archive = `require"core.storagemanager".open("localhost","archive","archive")`
    await prosodyLua(
      server,
      `return tostring(assert(${archive}:append("user",nil,require"util.stanza".message(` +
        `{to="carol@localhost",type="chat"},"left behind"),os.time()-86400,"carol@localhost")))`,
    )
    const r = await check(server, ['--json'])
    expect(r.exitCode, r.stdout).toBe(83)
    expect(one(r, 'archive-offered')).toMatchObject({
      verdict: 'pass',
      evidence: 'the account is offered no XEP-0313 archive',
    })
    expect(one(r, 'archive-contents')).toMatchObject({
      target: 'localhost',
      verdict: 'fail',
      evidence: '1 of 2 accounts holds archived messages (user@localhost: 1)',
    })
    expect(r.json.result.broken).toEqual(['archive'])
  })
})

describe('a Prosody 13 without mod_xmppadm: the checks that need the module say so', () => {
  let server: RunningServer
  beforeAll(async () => {
    server = await startProsody({xmppadmModule: false})
  })
  afterAll(() => server?.stop())

  it('retention and debug logging cannot tell, blocking and export broken, naming the module', async () => {
    const r = await check(server, ['--json'])
    expect(r.exitCode, r.stderr).toBe(83)
    expectEveryPromiseReported(r)
    const install = /^install mod_xmppadm: .*add "xmppadm" to modules_enabled/
    for (const [name, what] of [
      ['offline-age', 'purge old offline messages'],
      ['uploads-age', 'purge old uploaded files'],
      ['debug-log', 'switch debug logging'],
    ]) {
      expect(one(r, name)).toMatchObject({
        verdict: 'cannot-tell',
        evidence: expect.stringMatching(new RegExp(`^Prosody 13\\S* offers no way to ${what}$`)),
      })
      expect(one(r, name).hint, name).toMatch(install)
    }
    const operation = (promise: string) =>
      rows(r).find((c) => c.check === 'operation' && c.promise === promise)
    expect(operation('block-ip')).toMatchObject({
      verdict: 'fail',
      evidence: 'not available: block-ip, block-ip-list, block-ip-remove',
    })
    expect(operation('export')).toMatchObject({verdict: 'fail', evidence: 'not available: export-user'})
    for (const promise of ['block-ip', 'export']) expect(operation(promise)?.hint, promise).toMatch(install)
    // The archives: only the admin's own can be counted (XEP-0313), the others need the module.
    expect(one(r, 'archive-contents')).toMatchObject({
      target: 'admin@localhost',
      verdict: 'cannot-tell',
      evidence:
        "its own archive holds 0 message(s); the other accounts' archives cannot be looked into without " +
        'urn:xmppadm:admin:1#list-accounts and urn:xmppadm:admin:1#stored-data',
    })
    expect(one(r, 'archive-contents').hint).toMatch(install)
    // Deletion has XEP-0133; the outside checks need no module at all.
    expect(operation('erasure')?.evidence).toMatch(/^account-delete via XEP-0133 /)
    for (const name of ['tls-versions', 'certificate', 'scram-iterations', 'registration'])
      expect(one(r, name, 'c2s').verdict, name).toBe('pass')
    expect(r.json.result.broken).toEqual(['passwords', 'archive', 'block-ip', 'export'])
  })
})

/**
 * Breaks what can be broken on a running server: an old offline message (archived too, in accounts
 * other than the admin's), an old upload, debug logging left on.
 */
async function breakPromises(server: RunningServer): Promise<void> {
  await server.register('carol', 'carol-Pw-5d1e')
  // Archived by the sender and, for mod_mam, the recipient: two accounts, neither the admin.
  await sendMessages(server, server.user, 'carol@localhost', ['an old offline message'])
  await eventually('the offline message', async () =>
    isProsody(server.kind)
      ? (await prosodyOfflineCount(server, 'carol')) === 1
      : (await offlineBodies(server, 'carol')).length === 1,
  )
  expect(await backdateOffline(server, 'carol', [8 * DAY])).toBe(1)
  await backdateUpload(server, await uploadFile(server, server.user, 'old.txt', 'an old upload'), 15 * DAY)
  const on = await cliOn(server, ['debug-log', 'on'])
  expect(on.exitCode, on.stderr).toBe(0)
}

describe.each([
  [
    'Prosody 13',
    () =>
      startProsody({
        // Prosody's own upload expiry (a week by default) would delete the old upload first.
        prosodyExtraConfig:
          'allow_registration = true\nauthentication = "internal_plain"\n' +
          'http_file_share_expires_after = "never"',
      }),
  ],
  ['ejabberd 24.12', () => startEjabberd24()],
] as const)('a %s that breaks its promises', (name, start) => {
  let server: RunningServer
  beforeAll(async () => {
    server = await start()
    await breakPromises(server)
  })
  afterAll(() => server?.stop())

  it('each broken promise is caught with its evidence; exit 83; the audit creates no account', async () => {
    const r = await check(server, ['--json'])
    expect(r.exitCode, r.stderr).toBe(83)
    expectEveryPromiseReported(r)
    expect(one(r, 'archive-offered').verdict).toBe('fail')
    // Every account's archive, counted in the store: the user's (and carol's), not the admin's.
    const contents = one(r, 'archive-contents')
    expect(contents).toMatchObject({target: 'localhost', verdict: 'fail'})
    expect(contents.evidence).toMatch(/^[12] of 3 accounts holds? archived messages \(.*\)$/)
    expect(contents.evidence).toMatch(/[(\s]user@localhost: 1[,)]/)
    expect(contents.evidence).not.toMatch(/admin@localhost/)
    expect(one(r, 'registration')).toMatchObject({verdict: 'fail'})
    expect(one(r, 'registration').evidence).toMatch(
      /^open to anyone: an unauthenticated sign-up with an existing name got conflict/,
    )
    expect(one(r, 'offline-age')).toMatchObject({
      verdict: 'fail',
      evidence: 'older than 7d: 1 offline message(s)',
    })
    expect(one(r, 'offline-age').hint).toMatch(/policy apply/)
    expect(one(r, 'uploads-age')).toMatchObject({verdict: 'fail'})
    expect(one(r, 'uploads-age').evidence).toMatch(/^older than 14d: 1 uploaded file\(s\), 13 bytes$/)
    expect(one(r, 'debug-log')).toMatchObject({verdict: 'fail', evidence: 'on, with no end set'})
    const prosody = name.startsWith('Prosody')
    // Prosody's internal_plain keeps passwords as they are: a new salt at each login.
    expect(one(r, 'scram-salt').verdict).toBe(prosody ? 'fail' : 'pass')
    expect(r.json.result.broken).toEqual([
      'passwords',
      'archive',
      'registration',
      'offline',
      'uploads',
      'debug-log',
    ])
    // The registration probe asked for an existing name: no account was created.
    if (prosody)
      expect(readdirSync(join(server.dir, 'data', 'localhost', 'accounts')).sort()).toEqual([
        'admin.dat',
        'carol.dat',
        'user.dat',
      ])
    else {
      const users = await cliOn(server, [
        'command',
        'run',
        'http://jabber.org/protocol/admin#get-registered-users-num',
        '--json',
      ])
      expect(users.json.result.form.values).toMatchObject({registeredusersnum: '3'})
    }
  })

  it('--format nagios: CRITICAL, exit 2, one line naming the broken promises', async () => {
    const r = await check(server, ['--format', 'nagios'])
    expect(r.exitCode).toBe(2)
    expect(r.stdout.split('\n').filter(Boolean)).toHaveLength(1)
    expect(r.stdout).toMatch(
      /^XMPP POLICY CRITICAL - localhost: 6 promise\(s\) broken: passwords: .*; archive: .*; registration: .*; offline: older than 7d: 1 offline message\(s\) \(localhost\); uploads: .*; debug-log: on, with no end set \(localhost\) \| pass=\d+ warn=0 fail=\d+ cannot_tell=\d+ time=/,
    )
  })

  it('policy apply with the same file puts retention, debug logging right; next check agrees', async () => {
    const file =
      'offline = 7d\nuploads = 14d\ndebug_log = off\n' +
      'registration = open\narchive = allowed\nplain = allowed\n'
    const apply = await cliOn(server, ['policy', 'apply', secretFile(file), '--json'])
    expect(apply.exitCode, apply.stdout).toBe(0)
    const r = await check(server, ['--json'], file)
    for (const name of ['offline-age', 'uploads-age', 'debug-log', 'registration', 'archive-offered'])
      expect(one(r, name).verdict, name).toBe('pass')
    expect(one(r, 'registration').evidence).toMatch(/, which the policy allows$/)
    expect(r.exitCode).toBe(name.startsWith('Prosody') ? 83 : 0)
  })
})
