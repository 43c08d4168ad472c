// Issue 4, operator experience on a real terminal: prompts, confirmation, progress and colour,
// through a pseudo-terminal (test/helpers/pty.ts drives `script` from util-linux), against Prosody.
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {loadServers, registerAccount} from '../servers/servers.js'
import {cliOn, serverEnv, uniqueUser} from '../helpers/cli.js'
import {hasEscapes, ptyScratch, removePtyScratch, runPty, spawnPty} from '../helpers/pty.js'
import {canLogIn, prosodyUsers} from '../helpers/ux.js'

const server = loadServers().prosody
afterAll(removePtyScratch)
const DEL = 'http://jabber.org/protocol/admin#delete-user'
const CHPW = 'http://jabber.org/protocol/admin#change-user-password'
const STACK = /\n\s+at .+:\d+:\d+/

/** Connection settings without any password source: the CLI has to ask. */
const noPasswordEnv = () => ({...serverEnv(server), XMPPADM_PASSWORD_FILE: undefined})
let files = 0
const outFile = () => join(ptyScratch, `stdout-${++files}`)

async function newAccount(prefix: string): Promise<{local: string; jid: string; password: string}> {
  const local = uniqueUser(prefix)
  const password = `pw-${local}-Secret`
  await registerAccount(server, local, password)
  return {local, jid: `${local}@${server.domain}`, password}
}

const exists = async (local: string) =>
  (await prosodyUsers(server, local)).includes(`${local}@${server.domain}`)

describe('on a terminal (pty)', () => {
  it('asks for the admin password when there is no password source, hides it, and logs in', async () => {
    const out = outFile()
    const t = spawnPty(['commands'], {env: noPasswordEnv(), stdoutFile: out})
    await t.waitFor(/Password for admin@localhost/)
    const before = t.mark()
    await t.typeSlowly(server.admin.password, 5)
    await t.waitFor(/\*{8,}/, {since: before}) // the mask shows, key by key
    t.type('\r')
    const r = await t.exited
    expect(r.exitCode, r.screen).toBe(0)
    expect(r.raw).not.toContain(server.admin.password)
    expect(r.screen).toMatch(/\d+ commands on localhost/)
    expect(readFileSync(out, 'utf8')).toContain('http://jabber.org/protocol/admin#delete-user')
  })

  it('a wrong password typed at the prompt: exit 79, one message, the password not shown', async () => {
    const t = spawnPty(['commands'], {env: noPasswordEnv()})
    await t.waitFor(/Password for admin@localhost/)
    t.type('not-the-Password-42\r')
    const r = await t.exited
    expect(r.exitCode, r.screen).toBe(79)
    expect(r.raw).not.toContain('not-the-Password-42')
    expect(r.screen).not.toMatch(STACK)
  })

  it('command run asks for a missing required field (delete-user: typing a JID) and runs it', async () => {
    const a = await newAccount('uxdelfield')
    const t = spawnPty(['command', 'run', DEL], {env: serverEnv(server), stdoutFile: outFile()})
    await t.waitFor(/Jabber ID\(s\) to delete/)
    await t.typeSlowly(a.jid, 5)
    t.type('\r')
    const r = await t.exited
    expect(r.exitCode, r.screen).toBe(0)
    expect(await exists(a.local)).toBe(false)
  })

  it('command run asks for a required password field hidden (change-user-password)', async () => {
    const a = await newAccount('uxchpw')
    const fresh = `new-${a.local}-Pw9`
    const t = spawnPty(['command', 'run', CHPW, '--field', `accountjid=${a.jid}`], {
      env: serverEnv(server),
      stdoutFile: outFile(),
    })
    await t.waitFor(/password for this account/i)
    await t.typeSlowly(fresh, 5)
    t.type('\r')
    const r = await t.exited
    expect(r.exitCode, r.screen).toBe(0)
    expect(r.raw).not.toContain(fresh)
    expect(r.screen).toMatch(/\*{6,}/)
    expect(await canLogIn(server, a.jid, fresh)).toBe(true)
  })

  it('account delete asks first: "n" deletes nothing (exit 64, not confirmed); "y" deletes', async () => {
    const a = await newAccount('uxconfirm')
    const no = spawnPty(['account', 'delete', a.jid], {env: serverEnv(server), stdoutFile: outFile()})
    await no.waitFor(/Really delete .*\?/)
    no.type('n')
    await no.waitFor(/\(y\/N\) n/)
    no.type('\r')
    const declined = await no.exited
    expect(declined.exitCode, declined.screen).toBe(64)
    expect(declined.screen).toMatch(/not confirmed/)
    expect(await exists(a.local)).toBe(true)

    const out = outFile()
    const yes = spawnPty(['account', 'delete', a.jid], {env: serverEnv(server), stdoutFile: out})
    await yes.waitFor(/Really delete .*\?/)
    yes.type('y')
    yes.type('\r')
    const done = await yes.exited
    expect(done.exitCode, done.screen).toBe(0)
    expect(readFileSync(out, 'utf8')).toContain(`deleted ${a.jid}`)
    expect(await exists(a.local)).toBe(false)
  })

  it('Ctrl-C at the confirmation deletes nothing and ends without a stack trace', async () => {
    const a = await newAccount('uxctrlc')
    const t = spawnPty(['account', 'delete', a.jid], {env: serverEnv(server)})
    await t.waitFor(/Really delete .*\?/)
    t.type('\u0003')
    const r = await t.exited
    expect(r.exitCode, r.screen).not.toBe(0)
    expect(r.screen).not.toMatch(STACK)
    expect(await exists(a.local)).toBe(true)
  })

  it('account create asks for the new password (one JID): typed, or empty for a generated one', async () => {
    const local = uniqueUser('uxnewpw')
    const jid = `${local}@${server.domain}`
    const pw = `typed-${local}-Pw`
    const t = spawnPty(['account', 'create', jid], {env: serverEnv(server), stdoutFile: outFile()})
    await t.waitFor(/Password for .*empty: generate/)
    await t.typeSlowly(pw, 5)
    t.type('\r')
    const r = await t.exited
    expect(r.exitCode, r.screen).toBe(0)
    expect(r.raw).not.toContain(pw)
    expect(await canLogIn(server, jid, pw)).toBe(true)

    const local2 = uniqueUser('uxgenpw')
    const jid2 = `${local2}@${server.domain}`
    const out = outFile()
    const g = spawnPty(['account', 'create', jid2], {env: serverEnv(server), stdoutFile: out})
    await g.waitFor(/Password for .*empty: generate/)
    g.type('\r')
    const r2 = await g.exited
    expect(r2.exitCode, r2.screen).toBe(0)
    const printed = readFileSync(out, 'utf8').trim()
    const generated = printed.split(/\s+/).pop()!
    expect(generated.length).toBeGreaterThanOrEqual(24)
    expect(r2.raw, 'the generated password goes to stdout only').not.toContain(generated)
    expect(await canLogIn(server, jid2, generated)).toBe(true)
  })

  it('a bulk create from a file shows done/total, percentage, rate, time left, then a summary', async () => {
    const prefix = uniqueUser('uxprog')
    const file = join(ptyScratch, `${prefix}.txt`)
    writeFileSync(
      file,
      Array.from({length: 300}, (_, i) => `${prefix}n${i}@${server.domain},pw-${prefix}-${i}`).join('\n') +
        '\n',
    )
    const out = outFile()
    const r = await runPty(['account', 'create', '--from-file', file, '--concurrency', '8'], {
      env: serverEnv(server),
      stdoutFile: out,
    })
    expect(r.exitCode, r.screen).toBe(0)
    // redrawn in place; issue 16: the file was counted first, so the total and time left show
    expect(r.raw).toMatch(/\rcreating \[[#.]{24}\] \d+\/300 \d+% \d+\/s ETA \d+(m\d\d)?s/)
    expect(r.raw).toMatch(/\rcreating \[#{24}\] 300\/300 100% /)
    expect(r.screen).toMatch(/created 300, skipped 0, failed 0/)
    expect(readFileSync(out, 'utf8')).toBe('') // progress and summary never on stdout
    expect((await prosodyUsers(server, prefix)).length).toBe(300)
  })

  it('from a pipe, where no total is known: the count and the rate', async () => {
    const prefix = uniqueUser('uxprogpipe')
    const file = join(ptyScratch, `${prefix}.txt`)
    writeFileSync(
      file,
      Array.from({length: 200}, (_, i) => `${prefix}n${i}@${server.domain},pw-${prefix}-${i}`).join('\n') +
        '\n',
    )
    const r = await runPty(['account', 'create', '--from-file', '-'], {
      env: serverEnv(server),
      stdoutFile: outFile(),
      stdinCommand: `cat ${file}`,
    })
    expect(r.exitCode, r.screen).toBe(0)
    expect(r.raw).toMatch(/\rcreating \d+ \d+\/s/)
    expect(r.raw).not.toMatch(/\/200|ETA/)
    expect(r.screen).toMatch(/created 200, skipped 0, failed 0/)
  })

  it('bulk delete and block-ip show the same progress line (done/total, rate), then a summary', async () => {
    const prefix = uniqueUser('uxprogdel')
    const jids = Array.from({length: 300}, (_, i) => `${prefix}n${i}@${server.domain}`)
    const create = join(ptyScratch, `${prefix}-new.txt`)
    writeFileSync(create, `${jids.map((j) => `${j},pw-${prefix}`).join('\n')}\n`)
    expect(
      (
        await runPty(['account', 'create', '--from-file', create, '--concurrency', '16'], {
          env: serverEnv(server),
          stdoutFile: outFile(),
        })
      ).exitCode,
    ).toBe(0)
    const leavers = join(ptyScratch, `${prefix}.txt`)
    writeFileSync(leavers, `${jids.join('\n')}\n`)
    const del = await runPty(['account', 'delete', '--from-file', leavers, '--yes', '--concurrency', '8'], {
      env: serverEnv(server),
      stdoutFile: outFile(),
    })
    expect(del.exitCode, del.screen).toBe(0)
    expect(del.raw).toMatch(/\rdeleting \[[#.]{24}\] \d+\/300 \d+% \d+\/s ETA/)
    expect(del.screen).toMatch(/deleted 300, not found 0/)
    expect((await prosodyUsers(server, prefix)).length).toBe(0)

    const addresses = join(ptyScratch, `${prefix}-ips.txt`)
    const ips = Array.from({length: 1200}, (_, i) => `100.65.${i >> 8}.${i & 255}`)
    writeFileSync(addresses, `${ips.join('\n')}\n`)
    const block = await runPty(['block-ip', '--from-file', addresses, '--concurrency', '1'], {
      env: serverEnv(server),
      stdoutFile: outFile(),
    })
    expect(block.exitCode, block.screen).toBe(0)
    expect(block.raw).toMatch(/\rblocking \[[#.]{24}\] \d+\/1200 \d+% \d+\/s ETA/)
    expect(block.screen).toMatch(/blocked 1200, failed 0/)
    expect(
      (await runPty(['block-ip', 'remove', '--from-file', addresses, '--quiet'], {env: serverEnv(server)}))
        .exitCode,
    ).toBe(0)
  })

  it('Ctrl-C in a bulk create: in-flight ones finish, the summary says what was done, exit 2', async () => {
    const prefix = uniqueUser('uxprogint')
    const file = join(ptyScratch, `${prefix}.txt`)
    writeFileSync(
      file,
      Array.from({length: 1500}, (_, i) => `${prefix}n${i}@${server.domain},pw-${prefix}-${i}`).join('\n') +
        '\n',
    )
    const t = spawnPty(['account', 'create', '--from-file', file, '--concurrency', '4'], {
      env: serverEnv(server),
      stdoutFile: outFile(),
    })
    await t.waitFor(/creating \[[#.]+\] \d{3,}\/1500 /) // at least 100 done
    t.type('\u0003')
    const r = await t.exited
    expect(r.exitCode, r.screen).toBe(2)
    const m = /\ncreated (\d+), skipped 0, failed 0, not attempted (\d+) \(stopped: interrupted\)/.exec(
      r.screen,
    )
    expect(m, r.screen.slice(-500)).not.toBeNull()
    const [created, notAttempted] = [Number(m![1]), Number(m![2])]
    expect(created + notAttempted).toBe(1500)
    expect(created).toBeGreaterThanOrEqual(100)
    expect((await prosodyUsers(server, prefix)).length).toBe(created)
    expect(readFileSync(`${file}.failed`, 'utf8').trim().split('\n')).toHaveLength(notAttempted)
    expect(r.screen).not.toMatch(STACK)
  })

  // The progress line is not colour: a terminal is all it needs (README: "a progress bar with rate
  // shows on a terminal"; NO_COLOR and --no-color only take the colour away).
  it.each([
    ['NO_COLOR=1', {NO_COLOR: '1'}, []],
    ['--no-color', {}, ['--no-color']],
  ] as const)('the progress line still shows with %s', async (how, env, extra) => {
    const prefix = uniqueUser('uxprognc')
    const file = join(ptyScratch, `${prefix}.txt`)
    writeFileSync(
      file,
      Array.from({length: 150}, (_, i) => `${prefix}n${i}@${server.domain},pw-${prefix}-${i}`).join('\n') +
        '\n',
    )
    const r = await runPty(['account', 'create', '--from-file', file, '--concurrency', '2', ...extra], {
      env: {...serverEnv(server), ...env},
      stdoutFile: outFile(),
    })
    expect(r.exitCode, r.screen).toBe(0)
    expect(r.screen).toMatch(/created 150, skipped 0, failed 0/)
    expect(r.raw, `${how}: no progress line; the terminal showed ${JSON.stringify(r.raw)}`).toMatch(
      /\d+\/150 \d+% \d+\/s/,
    )
    expect(hasEscapes(r.raw.replace(/\u001b\[K/g, '')), `${how}: colour escapes`).toBe(false)
  })

  it('a spinner while connecting on a terminal, never with --quiet, --json or off a terminal', async () => {
    const r = await runPty(['commands'], {env: serverEnv(server), stdoutFile: outFile()})
    expect(r.exitCode, r.screen).toBe(0)
    expect(r.raw).toMatch(/connecting to .* as admin@/)
    const quiet = await runPty(['commands', '--quiet'], {env: serverEnv(server), stdoutFile: outFile()})
    expect(quiet.raw).not.toMatch(/connecting to/)
    const json = await runPty(['commands', '--json'], {env: serverEnv(server), stdoutFile: outFile()})
    expect(json.raw).not.toMatch(/connecting to/)
    const piped = await cliOn(server, ['commands'])
    expect(piped.stderr).not.toMatch(/connecting to/)
  })

  it('colour on a terminal; none with NO_COLOR, --no-color or TERM=dumb', async () => {
    const args = ['purge-offline', '--older-than', '0d'] // refused before connecting: a message on stderr
    const colour = await runPty(args, {env: serverEnv(server)})
    expect(colour.exitCode).toBe(65)
    expect(colour.raw).toMatch(/\u001b\[31merror:/)
    for (const [how, env, extra] of [
      ['NO_COLOR=1', {NO_COLOR: '1'}, []],
      ['--no-color', {}, ['--no-color']],
      ['TERM=dumb', {TERM: 'dumb'}, []],
    ] as const) {
      const plain = await runPty([...args, ...extra], {env: {...serverEnv(server), ...env}})
      expect(plain.exitCode, how).toBe(65)
      expect(plain.screen, how).toMatch(/error: .*--older-than/)
      expect(hasEscapes(plain.raw), `${how}: ${JSON.stringify(plain.raw)}`).toBe(false)
    }
  })

  it('data redirected to a file stays plain (tab-separated, no escapes), stderr a terminal', async () => {
    const out = outFile()
    const r = await runPty(['commands'], {env: serverEnv(server), stdoutFile: out})
    expect(r.exitCode, r.screen).toBe(0)
    const data = readFileSync(out, 'utf8')
    expect(hasEscapes(data)).toBe(false)
    expect(data.split('\n')[0]).toBe('node\tname')
    expect(r.raw).toMatch(/commands on localhost/)
  })

  it('stdin a terminal but stderr redirected: no prompt (nobody would see it), --yes demanded', async () => {
    const a = await newAccount('uxerrredir')
    const errFile = join(ptyScratch, `stderr-${++files}`)
    const r = await runPty(['account', 'delete', a.jid], {
      env: serverEnv(server),
      stderrFile: errFile,
      timeout: 20_000,
    })
    expect(r.exitCode).toBe(64)
    expect(readFileSync(errFile, 'utf8')).toMatch(/--yes/)
    expect(await exists(a.local)).toBe(true)
  })
})

describe('on a terminal with CI set, or --no-input: never a prompt', () => {
  const ci = {CI: '1'}

  it('no password source: exit 78 naming --password-file, no prompt', async () => {
    const r = await runPty(['commands'], {env: {...noPasswordEnv(), ...ci}, timeout: 20_000})
    expect(r.exitCode, r.screen).toBe(78)
    expect(r.screen).not.toMatch(/Password for/)
    expect(r.screen).toMatch(/--password-file/)
    const n = await runPty(['commands', '--no-input'], {env: noPasswordEnv(), timeout: 20_000})
    expect(n.exitCode, n.screen).toBe(78)
    expect(n.screen).not.toMatch(/Password for/)
  })

  it('a missing required field: exit 64 naming it, no prompt', async () => {
    const r = await runPty(['command', 'run', DEL], {env: {...serverEnv(server), ...ci}, timeout: 20_000})
    expect(r.exitCode, r.screen).toBe(64)
    expect(r.screen).toMatch(/accountjids/)
    expect(r.screen).not.toMatch(/\?.*Jabber ID/)
  })

  it('account delete without --yes: exit 64 naming --yes, nothing deleted', async () => {
    const a = await newAccount('uxci')
    const r = await runPty(['account', 'delete', a.jid], {
      env: {...serverEnv(server), ...ci},
      timeout: 20_000,
    })
    expect(r.exitCode, r.screen).toBe(64)
    expect(r.screen).toMatch(/--yes/)
    expect(r.screen).not.toMatch(/Really/)
    expect(await exists(a.local)).toBe(true)
    const n = await runPty(['account', 'delete', a.jid, '--no-input'], {
      env: serverEnv(server),
      timeout: 20_000,
    })
    expect(n.exitCode, n.screen).toBe(64)
    expect(n.screen).toMatch(/--yes/)
    expect(await exists(a.local)).toBe(true)
  })

  it('account create with one JID: no password prompt, a generated password on stdout', async () => {
    const local = uniqueUser('uxcigen')
    const out = outFile()
    const r = await runPty(['account', 'create', `${local}@${server.domain}`], {
      env: {...serverEnv(server), ...ci},
      stdoutFile: out,
      timeout: 20_000,
    })
    expect(r.exitCode, r.screen).toBe(0)
    expect(r.screen).not.toMatch(/Password for/)
    const generated = readFileSync(out, 'utf8').trim().split(/\s+/).pop()!
    expect(await canLogIn(server, `${local}@${server.domain}`, generated)).toBe(true)
  })
})
