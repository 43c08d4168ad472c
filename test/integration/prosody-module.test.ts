// Issue 9: one mod_xmppadm for Prosody 0.12 and 13. The same answers on both versions; #about and
// capabilities tell what works; the documented install step (module load on a running server)
// brings the operations; block exemptions keep the loopback reachable.
// Own servers (Prosody 13 and 0.12 without mod_xmppadm and without an upload service) for what
// changes server-wide: loading modules, blocking 127.0.0.1.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {cliOn} from '../helpers/cli.js'
import {expectErrorEnvelope, expectOkEnvelope} from '../helpers/shapes.js'
import {PROSODIES, RawClient, cliJson, prosody, prosody012, runControlOk} from '../helpers/mission.js'
import {type RunningServer, startProsody, startProsody012} from '../servers/harness.js'
import type {ServerDescriptor} from '../servers/servers.js'

const ADM = 'urn:xmppadm:admin:1'
const OPERATION_NODES = [
  'block-ip',
  'list-blocked-ips',
  'unblock-ip',
  'purge-offline',
  'purge-uploads',
  'export-user',
  'debug-log',
  'import-user',
].map((n) => `${ADM}#${n}`)

/** Runs a node in one round trip with --field values; the exit code and the JSON document. */
async function runNode(
  server: ServerDescriptor,
  node: string,
  fields: string[] = [],
  as?: typeof server.user,
) {
  const r = await cliOn(
    server,
    ['command', 'run', `${ADM}#${node}`, '--one-shot', '--json', ...fields.flatMap((f) => ['-f', f])],
    {as},
  )
  return {exitCode: r.exitCode, json: r.json}
}

const about = async (server: ServerDescriptor) => expectOkEnvelope((await runNode(server, 'about')).json).form

describe.each(PROSODIES)('mod_xmppadm on %s: #about', (name, server) => {
  it('names the contract revision and the server, and every operation node as available', async () => {
    const form = await about(server)
    expect(form.values['module-version']).toBe('3')
    expect(form.values.server).toMatch(name === 'Prosody' ? /^Prosody 13\./ : /^Prosody 0\.12\./)
    expect(form.rows).toEqual(OPERATION_NODES.map((node) => ({node, available: true, reason: ''})))
  })

  it('is for admins only', async () => {
    const r = await runNode(server, 'about', [], server.user)
    expect(r.exitCode).toBe(77)
    expectErrorEnvelope(r.json, 77)
  })
})

describe('mod_xmppadm answers the same on Prosody 0.12 and 13', () => {
  // requests whose answers do not depend on what other tests do meanwhile
  const CASES: Array<[string, string[]]> = [
    ['block-ip', ['addresses=198.51.100.7/33']],
    ['block-ip', ['addresses=fe80::1%eth0']],
    ['block-ip', ['FORM_TYPE=urn:example:other', 'addresses=198.51.100.7']],
    ['block-ip', ['addresses=198.51.100.7', 'expires=1.5']],
    ['unblock-ip', []],
    ['unblock-ip', ['addresses=198.51.100.77', 'addresses=2001:DB8::1/32']],
    ['purge-offline', ['older-than=0']],
    ['purge-offline', ['older-than=9999999999', 'dry-run=1', 'after=offline:1:2']],
    ['purge-uploads', ['older-than=-5']],
    ['purge-uploads', ['older-than=60', 'after=uploads:nonsense']],
    ['export-user', ['accountjid=nobody-at-all@localhost', 'section=roster']],
    ['export-user', ['accountjid=user@elsewhere.example', 'section=roster']],
    ['export-user', ['accountjid=user@localhost', 'section=everything']],
    ['export-user', ['accountjid=user@localhost', 'section=roster', 'max=0']],
    ['export-user', ['accountjid=user@localhost', 'section=offline', 'after=roster:1']],
    ['debug-log', ['action=maybe']],
  ]

  it.each(CASES)('%s %j', async (node, fields) => {
    const [on13, on012] = await Promise.all([
      runNode(prosody, node, fields),
      runNode(prosody012, node, fields),
    ])
    const normal = (r: typeof on13) => ({
      exitCode: r.exitCode,
      json: JSON.parse(JSON.stringify(r.json).replace(/"sessionid":"[^"]*"/g, '"sessionid":"S"')),
    })
    expect(normal(on012)).toEqual(normal(on13))
  })
})

describe.each([
  ['Prosody', startProsody],
  ['Prosody 0.12', startProsody012],
] as const)('mod_xmppadm installed on a running %s without an upload service', (_name, start) => {
  let server: RunningServer
  beforeAll(async () => {
    server = await start({xmppadmModule: false, prosodyUploads: false})
  })
  afterAll(async () => {
    await server?.stop()
  })

  it('without the module, capabilities says how to install it', async () => {
    const r = expectOkEnvelope(await cliJson(server, ['capabilities']))
    const block = r.operations.find((o: any) => o.operation === 'block-ip')
    expect(block.available).toBe(false)
    expect(block.hint).toMatch(/server\/prosody\/mod_xmppadm/)
    expect(block.hint).toMatch(/modules_enabled/)
    expect(block.hint).toMatch(/prosodyctl shell module load xmppadm localhost/)
  })

  it('loaded with prosodyctl: every operation but purge-uploads, which says what is missing', async () => {
    await runControlOk(server, ['shell', 'module', 'load', 'xmppadm', server.domain])
    const r = expectOkEnvelope(await cliJson(server, ['capabilities']))
    for (const op of r.operations) {
      if (op.operation === 'purge-uploads') {
        expect(op.available).toBe(false)
        expect(op.hint).toMatch(/mod_http_file_share is not loaded on localhost/)
      } else expect(op, op.operation).toMatchObject({available: true})
    }
    const form = await about(server)
    expect(form.rows.find((row: any) => row.node === `${ADM}#purge-uploads`)).toMatchObject({
      available: false,
      reason: expect.stringMatching(/http_file_share/),
    })
    const nodes = expectOkEnvelope(await cliJson(server, ['commands'])).commands.map((c: any) => c.node)
    expect(nodes).toContain(`${ADM}#purge-offline`)
    expect(nodes).not.toContain(`${ADM}#purge-uploads`)

    // run anyway: unavailable (69) with the reason; a non-admin is still refused (77)
    const purge = await cliOn(server, ['purge-uploads', '--older-than', '1d', '--json'])
    expect(purge.exitCode, purge.stdout).toBe(69)
    expectErrorEnvelope(purge.json, 69)
    expect(purge.json.error.hint).toMatch(/mod_http_file_share is not loaded/)
    const direct = await runNode(server, 'purge-uploads', ['older-than=86400'])
    expect(direct.exitCode).toBe(69)
    expect(direct.json.error.message).toMatch(/feature-not-implemented: mod_http_file_share is not loaded/)
    expect((await runNode(server, 'purge-uploads', ['older-than=86400'], server.user)).exitCode).toBe(77)
  })

  it('once http_file_share is loaded on the host, purge-uploads is offered and works', async () => {
    await runControlOk(server, ['shell', 'module', 'load', 'http_file_share', server.domain])
    const r = expectOkEnvelope(await cliJson(server, ['capabilities']))
    expect(r.operations.find((o: any) => o.operation === 'purge-uploads')).toMatchObject({available: true})
    const purge = expectOkEnvelope(await cliJson(server, ['purge-uploads', '--older-than', '1d']))
    expect(purge).toMatchObject({count: 0, bytes: 0})
  })

  it('blocks spare the exempt loopback: #block-ip names it, 127.0.0.1 in, 127.0.0.2 out', async () => {
    const live = await RawClient.login(server, server.user, {localAddress: '127.0.0.1'})
    try {
      const r = await runNode(server, 'block-ip', ['addresses=127.0.0.0/30'])
      expect(r.exitCode, JSON.stringify(r.json)).toBe(0)
      expect(r.json.result.form.values).toMatchObject({
        blocked: ['127.0.0.0/30'],
        'sessions-closed': '0',
        exempt: ['127.0.0.1/32'],
      })
      const [inside, refused] = await Promise.all([
        cliOn(server, ['commands', '--quiet']),
        cliOn(server, ['commands'], {env: {XMPPADM_SOURCE_ADDRESS: '127.0.0.2'}}),
      ])
      expect(inside.exitCode, inside.stderr).toBe(0)
      expect(refused.exitCode).toBe(81) // issue 16: a blocked connection has its own exit code
      expect(refused.stderr).toContain('Connections from your IP address are blocked')
      await live.iqOk(`<iq type='get' id='ID' to='${server.domain}'><ping xmlns='urn:xmpp:ping'/></iq>`)
      // a block elsewhere overlaps no exempt address
      const other = await runNode(server, 'block-ip', ['addresses=198.51.100.0/24'])
      expect(other.json.result.form.values.exempt).toEqual([])
    } finally {
      await live.close()
      await cliOn(server, ['block-ip', 'remove', '127.0.0.0/30', '198.51.100.0/24'])
    }
  })
})
