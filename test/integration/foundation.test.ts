// Issue 2: the generic runner and the session against real Prosody 13, ejabberd 24.12 and 26.07.
import net from 'node:net'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {serverList} from '../servers/servers.js'
import {PROSODIES, newAccount, setRosterAndVcard} from '../helpers/mission.js'
import {cli, cliOn, expectNoStack, secretFile, uniqueUser} from '../helpers/cli.js'
import {
  expectCommandList,
  expectCommandResult,
  expectErrorEnvelope,
  expectOkEnvelope,
} from '../helpers/shapes.js'

const ADD = 'http://jabber.org/protocol/admin#add-user'
const DEL = 'http://jabber.org/protocol/admin#delete-user'

describe.each(serverList().map((s) => [s.kind, s] as const))('%s', (kind, server) => {
  it('lists the commands, as a table and as JSON', async () => {
    const r = await cliOn(server, ['commands', '--json'])
    expect(r.exitCode).toBe(0)
    const result = expectOkEnvelope(r.json)
    expectCommandList(result)
    const nodes = result.commands.map((c: any) => c.node)
    expect(nodes).toContain(ADD)
    expect(nodes).toContain(DEL)
    if (kind === 'ejabberd-26.07') expect(nodes).toContain('api-commands/register')
    const text = await cliOn(server, ['commands'])
    expect(text.exitCode).toBe(0)
    expect(text.stdout).toContain(ADD)
  })

  it("command info: a node's identity and features (disco#info); an unknown node is exit 69", async () => {
    const r = await cliOn(server, ['command', 'info', ADD, '--json'])
    expect(r.exitCode, r.stderr).toBe(0)
    const info = expectOkEnvelope(r.json)
    expect(info).toMatchObject({to: server.domain, node: ADD, isCommand: true})
    expect(info.identities).toContainEqual(
      expect.objectContaining({category: 'automation', type: 'command-node'}),
    )
    expect(info.features).toContain('http://jabber.org/protocol/commands')
    expect(typeof info.name).toBe('string')
    const text = await cliOn(server, ['command', 'info', ADD])
    expect(text.stdout).toMatch(/^identity\tautomation\/command-node/m)
    const none = await cliOn(server, ['command', 'info', 'urn:xmppadm:test:no-such-node', '--json'])
    expect(none.exitCode, none.stdout).toBe(69)
    expectErrorEnvelope(none.json, 69)
    expectNoStack(none)
  })

  it('creates an account (generic runner); it logs in; a second create fails; delete works', async () => {
    const user = uniqueUser('gen')
    const jid = `${user}@${server.domain}`
    const password = `pw-${user}-Secret`
    const fields = secretFile(JSON.stringify({password, 'password-verify': password}))
    const created = await cliOn(server, [
      'command',
      'run',
      ADD,
      '--field',
      `accountjid=${jid}`,
      '--fields-file',
      fields,
      '--json',
    ])
    expect(created.exitCode, created.stderr).toBe(0)
    expectCommandResult(expectOkEnvelope(created.json))
    expect(created.stdout).not.toContain(password)

    const login = await cliOn(server, ['commands', '--json'], {as: {jid, password}})
    expect(login.exitCode, login.stderr).toBe(0)

    const again = await cliOn(server, [
      'command',
      'run',
      ADD,
      '--field',
      `accountjid=${jid}`,
      '--fields-file',
      fields,
      '--json',
    ])
    expect(again.exitCode).toBe(65)
    expectErrorEnvelope(again.json, 65)
    expect(again.stdout + again.stderr).not.toContain(password)

    const deleted = await cliOn(server, ['command', 'run', DEL, '--field', `accountjids=${jid}`])
    expect(deleted.exitCode, deleted.stderr).toBe(0)
    const gone = await cliOn(server, ['commands'], {as: {jid, password}})
    expect(gone.exitCode).toBe(79)
  })

  it('a missing required field off a terminal is an error naming it', async () => {
    const r = await cliOn(server, ['command', 'run', DEL])
    expect(r.exitCode).toBe(64)
    expect(r.stderr).toMatch(/accountjids/)
    expectNoStack(r)
  })

  it('wrong password: one line, exit 79, no password in the output', async () => {
    const r = await cliOn(server, ['commands'], {
      as: {jid: server.admin.jid, password: 'definitely-wrong-pw'},
    })
    expect(r.exitCode).toBe(79)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toMatch(/wrong JID or password/)
    expect(r.stderr).not.toContain('definitely-wrong-pw')
    const j = await cliOn(server, ['commands', '--json'], {
      as: {jid: server.admin.jid, password: 'definitely-wrong-pw'},
    })
    expectErrorEnvelope(j.json, 79)
  })

  it('a non-admin account is refused with exit 77', async () => {
    const r = await cliOn(
      server,
      [
        'command',
        'run',
        ADD,
        '--field',
        `accountjid=${uniqueUser('na')}@${server.domain}`,
        '--fields-file',
        secretFile('{"password":"xPassw0rd1","password-verify":"xPassw0rd1"}'),
      ],
      {as: server.user},
    )
    expect(r.exitCode, r.stderr).toBe(77)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expectNoStack(r)
  })

  it('a certificate from another CA is refused with exit 80, before any credential is sent', async () => {
    const r = await cliOn(server, ['commands', '--debug'], {env: {XMPPADM_CA_FILE: server.otherCaFile}})
    expect(r.exitCode).toBe(80)
    expect(r.stderr).toMatch(/certificate/)
    expect(r.stderr).not.toMatch(/<auth /)
  })

  it('--insecure connects but warns, even with --quiet', async () => {
    const r = await cliOn(server, ['commands', '--insecure', '--quiet'], {
      env: {XMPPADM_CA_FILE: server.otherCaFile},
    })
    expect(r.exitCode).toBe(0)
    expect(r.stderr).toMatch(/NOT verified/)
  })

  it('--debug traces the stream without the password or SASL payloads', async () => {
    const r = await cliOn(server, ['commands', '--debug'])
    expect(r.exitCode).toBe(0)
    expect(r.stderr).toMatch(/SEND <auth/)
    expect(r.stderr).toContain('[redacted]')
    expect(r.stderr).not.toContain(server.admin.password)
  })
})

describe('Prosody: direct TLS (xmpps://)', () => {
  const server = serverList().find((s) => s.kind === 'prosody')!
  it('logs in over direct TLS with the certificate verified', async () => {
    const r = await cliOn(server, ['commands', '--json', '--debug'], {
      env: {XMPPADM_SERVER: `xmpps://${server.host}:${server.directTlsPort}`},
    })
    expect(r.exitCode, r.stderr).toBe(0)
    expect(r.stderr).not.toMatch(/<starttls/)
    const other = await cliOn(server, ['commands'], {
      env: {
        XMPPADM_SERVER: `xmpps://${server.host}:${server.directTlsPort}`,
        XMPPADM_CA_FILE: server.otherCaFile,
      },
    })
    expect(other.exitCode).toBe(80)
  })
})

describe('ejabberd 24.12: a command that never answers', () => {
  const server = serverList().find((s) => s.kind === 'ejabberd-24.12')!
  it('ends with exit 75 within --timeout (the per-user config node never replies)', async () => {
    const started = Date.now()
    const r = await cliOn(server, ['command', 'run', 'config', '--to', server.user.jid, '--timeout', '2'])
    expect(r.exitCode).toBe(75)
    expect(r.stderr).toMatch(/no answer|did not answer/)
    expect(Date.now() - started).toBeLessThan(15_000)
  })
})

describe('servers that are not there or never speak', () => {
  let silent: net.Server
  let port = 0
  beforeAll(async () => {
    silent = net.createServer(() => {}) // accepts, never answers
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    port = (silent.address() as net.AddressInfo).port
  })
  afterAll(() => silent.close())

  it('a silent server: exit 75 within --timeout', async () => {
    const r = await cli([
      'commands',
      '--jid',
      'admin@localhost',
      '--server',
      `127.0.0.1:${port}`,
      '--timeout',
      '1',
      '--password-file',
      secretFile('x-password\n'),
    ])
    expect(r.exitCode).toBe(75)
    expect(r.stderr).toMatch(/did not answer/)
  })

  it('connection refused: exit 75; no JID: exit 78; bad flag: exit 64 (also as JSON)', async () => {
    const pw = secretFile('x-password\n')
    const refused = await cli([
      'commands',
      '--jid',
      'admin@localhost',
      '--server',
      '127.0.0.1:1',
      '--password-file',
      pw,
    ])
    expect(refused.exitCode).toBe(75)
    const noJid = await cli(['commands', '--password-file', pw])
    expect(noJid.exitCode).toBe(78)
    const bad = await cli(['commands', '--bogus', '--json'])
    expect(bad.exitCode).toBe(64)
    expectErrorEnvelope(bad.json, 64)
  })

  it('a world-readable password file is refused', async () => {
    const path = secretFile('x-password\n')
    const {chmodSync} = await import('node:fs')
    chmodSync(path, 0o644)
    const r = await cli([
      'commands',
      '--jid',
      'admin@localhost',
      '--server',
      '127.0.0.1:1',
      '--password-file',
      path,
    ])
    expect(r.exitCode).toBe(78)
    expect(r.stderr).toMatch(/readable by everyone/)
  })
})

describe.each(PROSODIES)('command run on %s: what a result carries next to its fields', (_name, prosody) => {
  it('get-user-roster: the roster in the result form, as a table, in --json as XML and parsed', async () => {
    const alice = await newAccount(prosody, 'roster')
    const bob = `bob@${prosody.domain}`
    await setRosterAndVcard(
      prosody,
      alice,
      {jid: bob, name: 'Bob', group: 'Friends'},
      {fn: 'A', nickname: 'a'},
    )
    const args = [
      'command',
      'run',
      'http://jabber.org/protocol/admin#get-user-roster',
      '-f',
      `accountjid=${alice.jid}`,
    ]
    const text = await cliOn(prosody, args)
    expect(text.exitCode, text.stderr).toBe(0)
    expect(text.stdout).toMatch(/^jid\tname\tsubscription\task\tgroups$/m)
    expect(text.stdout).toContain(`\n${bob}\tBob\tnone\t\tFriends`)
    const json = await cliOn(prosody, [...args, '--json'])
    expect(json.exitCode, json.stderr).toBe(0)
    const result = expectOkEnvelope(json.json)
    expectCommandResult(result)
    expect(result.roster).toEqual([{jid: bob, name: 'Bob', subscription: 'none', groups: ['Friends']}])
    expect(result.payload).toEqual([expect.stringMatching(/^<query xmlns="jabber:iq:roster"/)])
  })
})
