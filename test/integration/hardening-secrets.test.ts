// Issue 6: secrets never leave the process. Every command runs with --debug against the three real
// servers, which echo submitted passwords back (ejabberd 24.12 in error replies, ejabberd 26.07
// mod_adhoc_api in result forms, Prosody in some forms), and no password (the admin's or a new
// user's, in any encoding a trace or JSON could give it), no SASL payload and no text-private value
// may appear in stdout, stderr or any file xmppadm writes. Also: password_command children see no
// password in their argv or environment; failed-lines and export files are mode 0600.
import {debugLogLock, withLock} from '../helpers/lock.js'
import {randomBytes} from 'node:crypto'
import {chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {type CliResult, cliOn, scratch, secretFile, uniqueUser} from '../helpers/cli.js'
import {type ServerDescriptor, loadServers, serverList} from '../servers/servers.js'
import {cli} from '../helpers/cli.js'

const ADD = 'http://jabber.org/protocol/admin#add-user'
const CHANGE = 'http://jabber.org/protocol/admin#change-user-password'

/** A password with the characters that each escaping layer treats differently. */
const nastyPassword = (tag: string) => `${tag}-Pw&'"<>${randomBytes(6).toString('hex')}`

/** Every way a secret could show up in text xmppadm writes. */
function encodings(secret: string): Record<string, string> {
  return {
    raw: secret,
    'XML text (&, <, > escaped)': secret.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'),
    'trace text (&, < escaped)': secret.replace(/&/g, '&amp;').replace(/</g, '&lt;'),
    'XML attribute': secret
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&apos;'),
    'trace attribute (&, ", < escaped)': secret
      .replace(/&/g, '&amp;')
      .replace(/"/g, '&quot;')
      .replace(/</g, '&lt;'),
    JSON: JSON.stringify(secret).slice(1, -1),
    base64: Buffer.from(secret).toString('base64'),
  }
}

/** Where each secret shows up in `text`, in any encoding (empty: nowhere). */
function findSecrets(where: string, text: string, secrets: Record<string, string>): string[] {
  const found: string[] = []
  for (const [name, secret] of Object.entries(secrets)) {
    for (const [enc, form] of Object.entries(encodings(secret))) {
      if (form.length < 4) continue
      const at = text.indexOf(form)
      if (at >= 0)
        found.push(
          `${where}: ${name} (${enc}): ` +
            `…${text.slice(Math.max(0, at - 100), at + form.length + 30).replace(/\n/g, '\\n')}…`,
        )
    }
  }
  return found
}

function expectNoSecrets(where: string, text: string, secrets: Record<string, string>): void {
  expect(findSecrets(where, text, secrets)).toEqual([])
}

/** SASL elements in a --debug trace carry nothing but [redacted]. */
function saslPayloads(where: string, stderr: string): string[] {
  const found: string[] = []
  for (const m of stderr.matchAll(
    /<(auth|response|challenge|success|initial-response|additional-data)\b[^>]*?(\/?)>([^<]*)/g,
  )) {
    if (m[2] !== '/' && m[3] !== '[redacted]')
      found.push(`${where}: SASL <${m[1]}> payload in the trace: ${m[3].slice(0, 40)}`)
  }
  return found
}

interface Step {
  what: string
  args: string[]
  /** Files the command writes: checked for secrets and mode 0600. */
  files?: string[]
  /** A secret this step may print once on stdout (a generated password). */
  revealOnce?: boolean
}

/** Runs the steps; returns every leak found (all steps run, so one report shows them all). */
async function runSteps(server: ServerDescriptor, steps: Step[], secrets: Record<string, string>) {
  const env = {XDG_STATE_HOME: join(scratch, `state-${server.kind}`)}
  const results: Array<{step: Step; r: CliResult}> = []
  const leaks: string[] = []
  for (const step of steps) {
    const r = await cliOn(server, [...step.args, '--debug'], {env})
    results.push({step, r})
    const where = `${step.what} (exit ${r.exitCode})`
    if (!/SEND <auth /.test(r.stderr))
      leaks.push(`${where}: no --debug trace at all? ${r.stderr.slice(0, 200)}`)
    leaks.push(...saslPayloads(where, r.stderr))
    leaks.push(...findSecrets(`${where} stderr`, r.stderr, secrets))
    if (step.revealOnce) {
      // The generated password is printed once on stdout (by design), and nowhere else.
      const line = r.stdout.split('\n').find((l) => l.includes('\t'))
      if (!line) leaks.push(`${where}: no generated password on stdout`)
      else {
        const generated = line.split('\t')[1]
        if (r.stdout.split(generated).length !== 2)
          leaks.push(`${where}: generated password printed more than once`)
        leaks.push(...findSecrets(`${where} stderr`, r.stderr, {generated}))
      }
    }
    leaks.push(...findSecrets(`${where} stdout`, r.stdout, secrets))
    for (const f of step.files ?? []) {
      if (!existsSync(f)) continue
      const mode = statSync(f).mode & 0o777
      if (mode !== 0o600) leaks.push(`${where}: ${f} has mode ${mode.toString(8)}`)
      leaks.push(...findSecrets(`${where}: file ${f}`, readFileSync(f, 'utf8'), secrets))
    }
  }
  return {results, leaks}
}

describe('every command with --debug, no secret in any output', () => {
  // .for (not .each): concurrent tests need their own expect (for expect.soft) from the context.
  const cases: Array<[string, ServerDescriptor]> = serverList().map((s) => [s.kind, s])
  it.concurrent.for(cases)(
    '%s: account, command run, block-ip, purge, export, debug-log, policy, capabilities',
    {timeout: 180_000},
    async ([kind, server], {expect}) => {
      const dir = join(scratch, `secrets-${kind}-${randomBytes(3).toString('hex')}`)
      mkdirSync(dir, {recursive: true})
      const u1 = `${uniqueUser('sec')}@localhost`
      const u2 = `${uniqueUser('sec')}@localhost`
      const u3 = `${uniqueUser('sec')}@localhost`
      const u4 = `${uniqueUser('sec')}@localhost`
      const u5 = uniqueUser('sec')
      const u6 = `${uniqueUser('sec')}@localhost`
      const pw1 = nastyPassword('one')
      const pwDup = nastyPassword('dup')
      const pw3 = nastyPassword('three')
      const pw4 = nastyPassword('four')
      const pw5 = nastyPassword('five')
      const pwChanged = nastyPassword('changed')
      const pw6 = nastyPassword('six')
      // import-user: SCRAM data is as good as a password hash; a clear password is never sent
      const scram = {
        salt: randomBytes(16).toString('base64'),
        serverKey: randomBytes(20).toString('base64'),
        storedKey: randomBytes(20).toString('base64'),
      }
      const secrets = {admin: server.admin.password, pw1, pwDup, pw3, pw4, pw5, pw6, pwChanged, ...scram}

      const bulk = join(dir, 'bulk.txt')
      writeFileSync(bulk, `${u3},${pw3}\n${u1},${pwDup}\n`, {mode: 0o600})
      const exportXml = join(dir, 'export.xml')
      const exportJson = join(dir, 'export.json')
      const policy = join(dir, 'retention.policy')
      writeFileSync(policy, 'offline = 30d\nuploads = 30d\ndebug_log = off\n')
      const fields = (o: Record<string, string>) => secretFile(JSON.stringify(o))
      const importXml = join(dir, 'import.xml')
      const attr = (v: string) => v.replace(/&/g, '&amp;').replace(/'/g, '&apos;').replace(/</g, '&lt;')
      writeFileSync(
        importXml,
        `<server-data xmlns='urn:xmpp:pie:0'><host jid='old.example'><user name='mover' ` +
          `password='${attr(pw6)}'><scram-credentials xmlns='urn:xmpp:pie:0#scram' mechanism=` +
          `'SCRAM-SHA-1'><iter-count>4096</iter-count><salt>${scram.salt}</salt><server-key>` +
          `${scram.serverKey}</server-key><stored-key>${scram.storedKey}</stored-key>` +
          `</scram-credentials></user></host></server-data>`,
        {mode: 0o600},
      )

      const steps: Step[] = [
        {what: 'commands', args: ['commands']},
        {what: 'capabilities', args: ['capabilities', '--json']},
        {
          what: 'account create (password file)',
          args: ['account', 'create', u1, '--user-password-file', secretFile(`${pw1}\n`)],
        },
        {
          what: 'account create again (exists: servers echo the password in errors)',
          args: ['account', 'create', u1, '--user-password-file', secretFile(`${pwDup}\n`)],
        },
        {
          what: 'account create again, --json',
          args: ['account', 'create', u1, '--user-password-file', secretFile(`${pwDup}\n`), '--json'],
        },
        {
          what: 'account create (generated password)',
          args: ['account', 'create', u2, '--generate-password'],
          revealOnce: true,
        },
        {
          what: 'account create --from-file (one new, one existing)',
          args: ['account', 'create', '--from-file', bulk, '--failed-file', join(dir, 'bulk.failed')],
        },
        {
          what: 'command run add-user (form fetched, text-private fields)',
          args: [
            'command',
            'run',
            ADD,
            '--field',
            `accountjid=${u4}`,
            '--fields-file',
            fields({password: pw4, 'password-verify': pw4}),
          ],
        },
        {
          what: 'command run add-user --one-shot, duplicate',
          args: [
            'command',
            'run',
            ADD,
            '--one-shot',
            '--field',
            `accountjid=${u4}`,
            '--field',
            'FORM_TYPE=http://jabber.org/protocol/admin',
            '--fields-file',
            fields({password: pwDup, 'password-verify': pwDup}),
          ],
        },
        {
          what: 'command run add-user, passwords differ',
          args: [
            'command',
            'run',
            ADD,
            '--field',
            `accountjid=${uniqueUser('sec')}@localhost`,
            '--fields-file',
            fields({password: pwDup, 'password-verify': pw5}),
            '--json',
          ],
        },
        {
          what: 'command run change-user-password',
          args: [
            'command',
            'run',
            CHANGE,
            '--field',
            `accountjid=${u4}`,
            '--fields-file',
            fields({password: pwChanged}),
          ],
        },
        {what: 'export-user (XEP-0227)', args: ['export-user', u3, '-o', exportXml], files: [exportXml]},
        {
          what: 'export-user (JSON, credentials)',
          args: ['export-user', u1, '--format', 'json', '--include-credentials', '-o', exportJson],
          files: [exportJson],
        },
        {
          what: 'import-user (SCRAM data, a clear-text password)',
          args: ['import-user', importXml, '--as', u6, '--json'],
        },
        {what: 'import-user --dry-run', args: ['import-user', importXml, '--as', u6, '--dry-run', '--merge']},
        {what: 'account delete (imported)', args: ['account', 'delete', u6, '--yes']},
        {
          what: 'block-ip',
          args: ['block-ip', '203.0.113.77', '--expires', '1h', '--reason', 'hardening test'],
        },
        {what: 'block-ip list', args: ['block-ip', 'list']},
        {what: 'block-ip remove', args: ['block-ip', 'remove', '203.0.113.77']},
        {what: 'purge-offline --dry-run', args: ['purge-offline', '--older-than', '30d', '--dry-run']},
        {what: 'purge-uploads --dry-run', args: ['purge-uploads', '--older-than', '30d', '--dry-run']},
        {what: 'debug-log status', args: ['debug-log', 'status']},
        {what: 'debug-log on', args: ['debug-log', 'on']},
        {what: 'debug-log off', args: ['debug-log', 'off']},
        {
          what: 'policy apply --dry-run',
          args: ['policy', 'apply', policy, '--dry-run', '--skip-unavailable'],
        },
        {what: 'command list as JSON', args: ['command', 'list', '--json']},
        // Two SCRAM logins and a sign-up probe of its own, besides the admin session.
        {what: 'policy check', args: ['policy', 'check', '--json']},
        {what: 'account delete', args: ['account', 'delete', u1, u3, u4, '--yes']},
      ]
      if (kind === 'ejabberd-26.07') {
        // mod_adhoc_api echoes every argument, the password included, in its result forms.
        steps.push(
          {
            what: 'api-commands/register',
            args: [
              'command',
              'run',
              'api-commands/register',
              '--fields-file',
              fields({user: u5, host: 'localhost', password: pw5}),
            ],
          },
          {
            what: 'api-commands/register again (409)',
            args: [
              'command',
              'run',
              'api-commands/register',
              '--fields-file',
              fields({user: u5, host: 'localhost', password: pwDup}),
              '--json',
            ],
          },
          {
            what: 'api-commands/change_password',
            args: [
              'command',
              'run',
              'api-commands/change_password',
              '--fields-file',
              fields({user: u5, host: 'localhost', newpass: pwChanged}),
            ],
          },
          {
            what: 'api-commands/change_password --one-shot --json',
            args: [
              'command',
              'run',
              'api-commands/change_password',
              '--one-shot',
              '--fields-file',
              fields({user: u5, host: 'localhost', newpass: pwChanged}),
              '--json',
            ],
          },
          {
            what: 'api-commands/unregister',
            args: [
              'command',
              'run',
              'api-commands/unregister',
              '--field',
              `user=${u5}`,
              '--field',
              'host=localhost',
            ],
          },
        )
      }
      // debug-log on/off and policy apply change the server's debug state: one file at a time.
      const {results, leaks} = await withLock(debugLogLock(server.kind), () =>
        runSteps(server, steps, secrets),
      )
      expect.soft(leaks, `${leaks.length} leaks on ${kind}`).toEqual([])

      // The runs did real work (a test that only saw errors would prove little).
      const exit = (what: string) => results.find((x) => x.step.what === what)!.r.exitCode
      for (const {step, r} of results)
        expect.soft(r.stderr, step.what).not.toMatch(/internal error|\n\s+at .+:\d+:\d+/)
      expect(exit('account create (password file)')).toBe(0)
      // PLAIN is offered and the archive too on every test server: promises broken (83).
      expect(exit('policy check')).toBe(83)
      expect(exit('account create again (exists: servers echo the password in errors)')).toBe(65)
      expect(exit('account create (generated password)')).toBe(0)
      expect(exit('command run add-user (form fetched, text-private fields)')).toBe(0)
      // one of two failed: partly done
      expect(exit('account create --from-file (one new, one existing)')).toBe(2)
      // The failed-lines file holds the failed input line (for the re-run), and nothing else.
      const failed = join(dir, 'bulk.failed')
      expect(statSync(failed).mode & 0o777).toBe(0o600)
      expect(readFileSync(failed, 'utf8')).toBe(`${u1},${pwDup}\n`)
      // The servers did echo the passwords back (blanked: see the leak list): the test exercised that path.
      const stderrOf = (what: string) => results.find((x) => x.step.what === what)!.r.stderr
      const echoed = /RECV <iq[^\n]*var="(password|newpass)"[^\n]*<value>/
      if (kind === 'ejabberd-24.12')
        expect(stderrOf('account create again (exists: servers echo the password in errors)')).toMatch(echoed)
      if (kind === 'ejabberd-26.07') {
        expect(stderrOf('api-commands/register')).toMatch(echoed)
        expect(stderrOf('api-commands/change_password')).toMatch(echoed)
        expect(exit('api-commands/register')).toBe(0)
        expect(exit('api-commands/change_password')).toBe(0)
      }
      if (kind === 'prosody') expect(exit('export-user (XEP-0227)')).toBe(0)
      // the import did send the SCRAM data (redacted in the trace), and no password attribute
      expect(exit('import-user (SCRAM data, a clear-text password)')).toBe(0)
      expect(exit('import-user --dry-run')).toBe(0)
      expect(exit('account delete (imported)')).toBe(0)
      const sent = stderrOf('import-user (SCRAM data, a clear-text password)')
      expect(sent).toMatch(/SEND <iq[^\n]*<scram-credentials [^\n]*<stored-key>\[redacted\]<\/stored-key>/)
      expect(sent).not.toMatch(/<user [^>]*password=/)
    },
  )
})

describe('password sources and files', () => {
  const {prosody} = loadServers()

  it('password_command: no password in the argv or environment of the child, nor of xmppadm', async () => {
    const dir = join(scratch, `pwcmd-${randomBytes(3).toString('hex')}`)
    mkdirSync(dir, {recursive: true})
    const adminPwFile = secretFile(`${prosody.admin.password}\n`)
    const userPw = nastyPassword('child')
    const dump = join(dir, 'child-dump.txt')
    const script = join(dir, 'pw.sh')
    writeFileSync(
      script,
      [
        '#!/bin/sh',
        // this script, its parent (/bin/sh -c) and grandparent (xmppadm itself): argv and environment
        "p=$PPID; gp=$(awk '{print $4}' /proc/$p/stat)",
        `{ echo "argv: $0 $*"; echo "--- env"; env; for a in $p $gp; do echo "--- ancestor argv"; tr ` +
          `'\\0' ' ' < /proc/$a/cmdline; echo; echo "--- ancestor environ"; tr '\\0' '\\n' < ` +
          `/proc/$a/environ; done; } > ${JSON.stringify(dump)}`,
        `cat ${JSON.stringify(adminPwFile)}`,
        '',
      ].join('\n'),
      {mode: 0o700},
    )
    const config = join(dir, 'config')
    mkdirSync(join(config, 'xmppadm'), {recursive: true})
    writeFileSync(
      join(config, 'xmppadm', 'child.conf'),
      `jid = ${prosody.admin.jid}\nserver = ${prosody.host}:${prosody.port}\nca_file = ` +
        `${prosody.caFile}\npassword_command = ${script}\n`,
      {mode: 0o600},
    )
    const jid = `${uniqueUser('pwc')}@localhost`
    const r = await cli(
      [
        'account',
        'create',
        jid,
        '--profile',
        'child',
        '--user-password-file',
        secretFile(`${userPw}\n`),
        '--json',
      ],
      {env: {XDG_CONFIG_HOME: config}},
    )
    expect(r.exitCode, r.stderr).toBe(0)
    const seen = readFileSync(dump, 'utf8')
    expect(seen.split('--- ancestor argv')).toHaveLength(3)
    expect(seen).toMatch(/bin\/run\.js account create/) // the grandparent really is xmppadm
    expectNoSecrets('password_command child', seen, {admin: prosody.admin.password, user: userPw})
    expectNoSecrets('output', r.stdout + r.stderr, {admin: prosody.admin.password, user: userPw})
  })

  it('a failed-lines file that already exists with mode 0644 is left with mode 0600', async () => {
    const dir = join(scratch, `failed-${randomBytes(3).toString('hex')}`)
    mkdirSync(dir, {recursive: true})
    const existing = `${uniqueUser('ff')}@localhost`
    const pw = nastyPassword('exists')
    expect(
      (await cliOn(prosody, ['account', 'create', existing, '--user-password-file', secretFile(`${pw}\n`)]))
        .exitCode,
    ).toBe(0)
    const input = join(dir, 'users.txt')
    writeFileSync(input, `${existing},${pw}\n`, {mode: 0o600})
    const failedFile = join(dir, 'users.failed')
    writeFileSync(failedFile, 'old content\n')
    chmodSync(failedFile, 0o644)
    const r = await cliOn(prosody, ['account', 'create', '--from-file', input, '--failed-file', failedFile])
    expect(r.exitCode, r.stderr).toBe(65)
    expect(readFileSync(failedFile, 'utf8')).toBe(`${existing},${pw}\n`)
    expect(
      statSync(failedFile).mode & 0o777,
      'the failed file holds a password and is readable by others',
    ).toBe(0o600)
  })

  it('the default failed file (FILE.failed) and an export over an old file (--force) are 0600', async () => {
    const dir = join(scratch, `modes-${randomBytes(3).toString('hex')}`)
    mkdirSync(dir, {recursive: true})
    const input = join(dir, 'users.txt')
    writeFileSync(input, `not a jid at all @@\n`, {mode: 0o600})
    const r = await cliOn(prosody, ['account', 'create', '--from-file', input])
    expect(r.exitCode).toBe(65)
    expect(statSync(`${input}.failed`).mode & 0o777).toBe(0o600)

    const out = join(dir, 'export.xml')
    writeFileSync(out, 'old\n')
    chmodSync(out, 0o644)
    const e = await cliOn(prosody, ['export-user', prosody.user.jid, '-o', out, '--force'])
    expect(e.exitCode, e.stderr).toBe(0)
    expect(statSync(out).mode & 0o777).toBe(0o600)
    expect(readFileSync(out, 'utf8')).not.toContain(prosody.user.password)
  })
})
