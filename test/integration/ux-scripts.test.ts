// Issue 4: xmppadm in scripts and cron. Without a terminal (stdin a pipe, stderr a pipe, CI unset)
// it never prompts and says what to pass instead; --quiet prints nothing on success; global
// options before the command work with a profile, as in the README's crontab lines.
import {chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {execa} from 'execa'
import {afterAll, describe, expect, it} from 'vitest'
import {loadServers, registerAccount} from '../servers/servers.js'
import {BIN, expectNoStack, scratch, serverEnv, uniqueUser} from '../helpers/cli.js'
import {canLogIn, oneJson, prosodyUsers, run} from '../helpers/ux.js'

const server = loadServers().prosody
const DEL = 'http://jabber.org/protocol/admin#delete-user'
const noPassword = {env: {XMPPADM_PASSWORD_FILE: undefined}}

async function newAccount(prefix: string) {
  const local = uniqueUser(prefix)
  const password = `pw-${local}-Secret`
  await registerAccount(server, local, password)
  return {local, jid: `${local}@${server.domain}`, password}
}

const exists = async (local: string) =>
  (await prosodyUsers(server, local)).includes(`${local}@${server.domain}`)

describe('without a terminal (CI unset): never a prompt, a one-line error that says what to pass', () => {
  it('no password source: exit 78 naming --password-file', async () => {
    const r = await run(server, ['commands'], {...noPassword, timeout: 15_000})
    expect(r.exitCode, r.stderr).toBe(78)
    expect(r.stderr).toMatch(/--password-file/)
    expect(r.stderr).not.toMatch(/Password for/)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).not.toContain('\u001b') // stderr is not a terminal: no colour
    expect(r.stdout).toBe('')
    expectNoStack(r)
  })

  it('a missing required field: exit 64 naming it', async () => {
    const r = await run(server, ['command', 'run', DEL], {timeout: 15_000})
    expect(r.exitCode, r.stderr).toBe(64)
    expect(r.stderr).toMatch(/accountjids/)
    expect(r.stderr).toMatch(/--field accountjids=/)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expectNoStack(r)
  })

  it('account delete without --yes: exit 64 naming --yes; nothing deleted', async () => {
    const a = await newAccount('uxnoyes')
    const r = await run(server, ['account', 'delete', a.jid], {timeout: 15_000})
    expect(r.exitCode, r.stderr).toBe(64)
    expect(r.stderr).toMatch(/--yes/)
    expect(r.stderr).not.toMatch(/Really/)
    expect(await exists(a.local)).toBe(true)
    const y = await run(server, ['account', 'delete', a.jid, '--yes'])
    expect(y.exitCode, y.stderr).toBe(0)
    expect(y.stdout).toContain(`deleted ${a.jid}`)
    expect(await exists(a.local)).toBe(false)
  })

  it('account create with one JID: no password prompt; the generated password on stdout only', async () => {
    const jid = `${uniqueUser('uxnttygen')}@${server.domain}`
    const r = await run(server, ['account', 'create', jid], {timeout: 15_000})
    expect(r.exitCode, r.stderr).toBe(0)
    expect(r.stderr).not.toMatch(/Password for/)
    const [who, generated] = r.stdout.trim().split('\t')
    expect(who).toBe(jid)
    expect(r.stderr).not.toContain(generated)
    expect(await canLogIn(server, jid, generated)).toBe(true)
  })

  it('a bulk create draws no progress line when stderr is not a terminal', async () => {
    const prefix = uniqueUser('uxnttybulk')
    const file = join(scratch, `${prefix}.txt`)
    writeFileSync(
      file,
      Array.from({length: 60}, (_, i) => `${prefix}n${i}@${server.domain},pw-${prefix}-${i}`).join('\n') +
        '\n',
    )
    const r = await run(server, ['account', 'create', '--from-file', file])
    expect(r.exitCode, r.stderr).toBe(0)
    expect(r.stderr).not.toMatch(/\r|\/s\b|\u001b/)
    expect(r.stderr.trim()).toBe('created 60, skipped 0, failed 0')
    expect(r.stdout).toBe('')
  })
})

describe('--quiet and cron lines', () => {
  it('purge-offline --older-than 7d --quiet: no output at all', async () => {
    const r = await run(server, ['purge-offline', '--older-than', '7d', '--quiet'])
    expect(r.exitCode, r.stderr).toBe(0)
    expect(r.stdout).toBe('')
    expect(r.stderr).toBe('')
  })

  it('policy apply FILE --quiet: no output at all', async () => {
    const policy = join(scratch, `${uniqueUser('quiet')}.policy`)
    writeFileSync(policy, 'offline = 3650d   # offline messages\nuploads = 3650d\n')
    const r = await run(server, ['policy', 'apply', policy, '--quiet'])
    expect(r.exitCode, r.stderr).toBe(0)
    expect(r.stdout).toBe('')
    expect(r.stderr).toBe('')
  })

  it('--quiet still reports a failure on stderr (cron mails only failures)', async () => {
    const r = await run(server, ['--quiet', 'purge-offline', '--older-than', '0d'])
    expect(r.exitCode).toBe(65)
    expect(r.stdout).toBe('')
    expect(r.stderr).toMatch(/error: .*--older-than/)
  })

  describe('with a profile in an isolated XDG_CONFIG_HOME', () => {
    const home = mkdtempSync(join(tmpdir(), 'xmppadm-ux-xdg-'))
    afterAll(() => rmSync(home, {recursive: true, force: true}))
    const dir = join(home, 'xmppadm')
    mkdirSync(dir, {recursive: true, mode: 0o700})
    const pwFile = join(home, 'admin.pw')
    writeFileSync(pwFile, `${server.admin.password}\n`, {mode: 0o600})
    chmodSync(pwFile, 0o600)
    const profile = join(dir, 'cron.conf')
    writeFileSync(
      profile,
      [
        `# for the crontab`,
        `jid = ${server.admin.jid}`,
        `server = ${server.host}:${server.port}`,
        `password_file = ${pwFile}`,
        `ca_file = ${server.caFile}`,
        'timeout = 20',
        '',
      ].join('\n'),
      {mode: 0o600},
    )
    chmodSync(profile, 0o600)
    const policy = join(home, 'retention.policy')
    writeFileSync(policy, 'offline = 3650d\nuploads = 3650d\n')
    // Only the profile: no XMPPADM_* connection settings from the environment.
    const cron = (args: string[]) => run(undefined, args, {env: {XDG_CONFIG_HOME: home}})

    it('xmppadm --profile NAME purge-offline --older-than 7d --quiet', async () => {
      const r = await cron(['--profile', 'cron', 'purge-offline', '--older-than', '7d', '--quiet'])
      expect(r.exitCode, r.stderr).toBe(0)
      expect(r.stdout).toBe('')
      expect(r.stderr).toBe('')
    })

    it('xmppadm -p NAME --quiet policy apply FILE, and --profile=NAME --json capabilities', async () => {
      const q = await cron(['-p', 'cron', '--quiet', 'policy', 'apply', policy])
      expect(q.exitCode, q.stderr).toBe(0)
      expect(q.stdout + q.stderr).toBe('')
      const j = await cron(['--profile=cron', '--json', 'capabilities'])
      expect(j.exitCode, j.stderr).toBe(0)
      expect(JSON.parse(j.stdout).result.to).toBe(server.domain)
    })

    it('a profile that does not exist, or holds a password and is readable by others: exit 78', async () => {
      const none = await cron(['--profile', 'nope', 'purge-offline', '--older-than', '7d', '--quiet'])
      expect(none.exitCode).toBe(78)
      expect(none.stderr).toMatch(/nope/)
      const open = join(dir, 'open.conf')
      writeFileSync(open, `jid = ${server.admin.jid}\npassword = ${server.admin.password}\n`, {mode: 0o644})
      chmodSync(open, 0o644)
      const r = await cron(['--profile', 'open', 'purge-offline', '--older-than', '7d', '--quiet'])
      expect(r.exitCode).toBe(78)
      expect(r.stderr).toMatch(/chmod 600/)
      expect(r.stderr).not.toContain(server.admin.password)
    })
  })
})

// oclif reads a piped stdin into a missing argument (with a 10 ms timeout, dropping what came in
// by then): every argument says ignoreStdin, so "--from-file -" gets all of stdin, in order.
describe('lists on stdin (--from-file -)', () => {
  it('the README line: printf ... | account create --from-file -', async () => {
    const [carol, dave] = [uniqueUser('uxstdinc'), uniqueUser('uxstdind')].map((u) => `${u}@${server.domain}`)
    const r = await run(server, ['account', 'create', '--from-file', '-'], {
      input: `${carol}\n${dave},their-pw\n`,
    })
    expect(r.exitCode, r.stderr).toBe(0)
    expect(r.stderr.trim()).toBe('created 2, skipped 0, failed 0')
    const [who, generated] = r.stdout.trim().split('\t')
    expect(who).toBe(carol)
    expect(await canLogIn(server, carol, generated)).toBe(true)
    expect(await canLogIn(server, dave, 'their-pw')).toBe(true)
  })

  it('a pipe that feeds slowly: every line is read, none is taken for an argument or dropped', async () => {
    const users = [uniqueUser('uxslow'), uniqueUser('uxslow'), uniqueUser('uxslow')]
    const child = execa(
      'node',
      [
        BIN,
        'account',
        'create',
        '--from-file',
        '-',
        '--json',
        '--user-password-file',
        join(scratch, 'slow.pw'),
      ],
      {
        reject: false,
        timeout: 30_000,
        env: {
          XDG_CONFIG_HOME: join(scratch, 'config'),
          CI: undefined,
          XMPPADM_PROFILE: undefined,
          ...serverEnv(server),
        },
      },
    )
    writeFileSync(join(scratch, 'slow.pw'), 'slow-Secret-1\n', {mode: 0o600})
    child.stdin!.write(`${users[0]}@${server.domain}\n`)
    await new Promise((r) => setTimeout(r, 300))
    child.stdin!.write(`# a comment\n${users[1]}@${server.domain}\n`)
    await new Promise((r) => setTimeout(r, 300))
    child.stdin!.end(`${users[2]}@${server.domain}\n`)
    const r = await child
    expect(r.exitCode, r.stderr).toBe(0)
    const doc = oneJson({exitCode: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr})
    expect(doc.result.created.map((c: {jid: string}) => c.jid)).toEqual(
      users.map((u) => `${u}@${server.domain}`),
    )
    for (const u of users) expect(await canLogIn(server, `${u}@${server.domain}`, 'slow-Secret-1')).toBe(true)
  })

  it('Ctrl-C with a pipe that never ends (a log watcher): the run stops at once, no waiting', async () => {
    const users = [uniqueUser('uxendless'), uniqueUser('uxendless')]
    const child = execa('node', [BIN, 'account', 'create', '--from-file', '-'], {
      reject: false,
      timeout: 20_000,
      env: {
        XDG_CONFIG_HOME: join(scratch, 'config'),
        CI: undefined,
        XMPPADM_PROFILE: undefined,
        ...serverEnv(server),
      },
    })
    let out = ''
    const first = new Promise<void>((resolve) =>
      child.stdout!.on('data', (c: Buffer) => (out += c.toString()).includes('\n') && resolve()),
    )
    child.stdin!.write(`${users[0]}@${server.domain}\n`)
    await first
    // the pipe stays open (never ended): only the interruption can end the run
    child.kill('SIGINT')
    const r = await child
    expect(r.timedOut, 'still waiting for stdin after Ctrl-C').toBe(false)
    expect(r.exitCode, r.stderr).toBe(2)
    expect(r.stderr).toMatch(/created 1, skipped 0, failed 0 \(stopped: interrupted\)/)
    expect(await exists(users[0])).toBe(true)
    child.stdin!.destroy()
  })

  it('account delete --from-file - --yes, and block-ip --from-file -', async () => {
    const a = await newAccount('uxstdindel')
    const b = await newAccount('uxstdindel')
    const del = await run(server, ['account', 'delete', '--from-file', '-', '--yes', '--json'], {
      input: `${a.jid}\n${b.jid}\n`,
    })
    expect(del.exitCode, del.stderr).toBe(0)
    expect(oneJson(del).result.deleted.sort()).toEqual([a.jid, b.jid].sort())
    expect(await exists(a.local)).toBe(false)
    expect(await exists(b.local)).toBe(false)

    const block = await run(server, ['block-ip', '--from-file', '-', '--json'], {
      input: '192.0.2.77\n198.51.100.128/25\n',
    })
    expect(block.exitCode, block.stderr).toBe(0)
    expect(oneJson(block).result.blocked).toEqual(['192.0.2.77/32', '198.51.100.128/25'])
    const undo = await run(server, ['block-ip', 'remove', '192.0.2.77', '198.51.100.128/25', '--quiet'])
    expect(undo.exitCode, undo.stderr).toBe(0)
  })
})
