// Issue 10: both server modules answer the node contract (server/CONTRACT.md) the same way, seen
// through the generic runner (`command run --one-shot` sends the fields as given, with no check on
// the client side): who sees the nodes, disco#info, the errors for bad input, #about.
import {describe, expect, it} from 'vitest'
import {cliOn} from '../helpers/cli.js'
import {expectErrorEnvelope, expectOkEnvelope} from '../helpers/shapes.js'
import {WITH_MODULE, cliJson, isProsody, runControlOk} from '../helpers/mission.js'

const NS = 'urn:xmppadm:admin:1'
const node = (name: string) => `${NS}#${name}`
const OPERATIONS = [
  'block-ip',
  'list-blocked-ips',
  'unblock-ip',
  'purge-offline',
  'purge-uploads',
  'export-user',
  'debug-log',
  'import-user',
  // issue 13 (CONTRACT 11-13)
  'disable-user',
  'enable-user',
  'list-accounts',
  'stored-data',
]
const oneShot = (name: string, fields: Record<string, string>) => [
  'command',
  'run',
  node(name),
  '--one-shot',
  ...Object.entries(fields).flatMap(([k, v]) => ['--field', `${k}=${v}`]),
  '--json',
]

describe.each(WITH_MODULE)('node contract on %s', (_kind, server) => {
  it('admins see every operation node, identity and features; other accounts see none, refused', async () => {
    const mine = (await cliJson(server, ['commands'])).result.commands.map((c: any) => c.node)
    for (const op of OPERATIONS) expect(mine).toContain(node(op))
    const info = expectOkEnvelope(await cliJson(server, ['command', 'info', node('purge-offline')]))
    expect(info.identities).toContainEqual(
      expect.objectContaining({category: 'automation', type: 'command-node'}),
    )
    expect(info.features).toContain('http://jabber.org/protocol/commands')

    const theirs = await cliJson(server, ['commands'], 0, {as: server.user})
    expect(theirs.result.commands.filter((c: any) => c.node.startsWith(NS))).toEqual([])
    const [disco, run] = await Promise.all([
      cliOn(server, ['command', 'info', node('purge-offline'), '--json'], {as: server.user}),
      cliOn(server, oneShot('list-blocked-ips', {FORM_TYPE: NS}), {as: server.user}),
    ])
    for (const r of [disco, run]) {
      expect(r.exitCode, r.stdout).toBe(77)
      expectErrorEnvelope(r.json, 77)
    }
  })

  it('bad input is a bad-request naming the field and the value; nothing is done', async () => {
    const cases: Array<[string, Record<string, string>, RegExp]> = [
      ['block-ip', {addresses: '1.2.3.4/33'}, /addresses: '1\.2\.3\.4\/33' is not an IPv4\/IPv6 address/],
      ['block-ip', {addresses: 'fe80::1%eth0'}, /addresses: 'fe80::1%eth0'/],
      ['block-ip', {addresses: '192.0.2.1', expires: '1.5'}, /expires: must be an integer number of seconds/],
      [
        'purge-offline',
        {'older-than': '0'},
        /older-than: must be an integer number of seconds >= 1, got '0'/,
      ],
      ['purge-uploads', {'older-than': '-5'}, /older-than: must be an integer number of seconds >= 1/],
      ['purge-offline', {'older-than': '60', after: 'nonsense'}, /after: malformed cursor 'nonsense'/],
      ['purge-uploads', {'older-than': '60', after: 'uploads:x'}, /after: malformed cursor 'uploads:x'/],
      ['export-user', {accountjid: server.user.jid}, /section: Required value missing/],
      ['export-user', {accountjid: 'someone@elsewhere.example', section: 'roster'}, /accountjid: /],
      ['debug-log', {action: 'sideways'}, /action: must be on, off or status/],
      // no <user/> next to the form (the generic runner sends only the form)
      ['import-user', {'dry-run': '1'}, /no <user xmlns='urn:xmpp:pie:0'\/> next to the form/],
      ['list-blocked-ips', {FORM_TYPE: 'urn:something:else'}, /FORM_TYPE/],
    ]
    const runs = await Promise.all(cases.map(([name, fields]) => cliOn(server, oneShot(name, fields))))
    runs.forEach((r, i) => {
      expect(r.exitCode, `${cases[i][0]}: ${r.stdout}`).toBe(65)
      expect(r.json.error.message, cases[i][0]).toMatch(cases[i][2])
    })
    const list = expectOkEnvelope(await cliJson(server, ['block-ip', 'list']))
    expect(list.blocked.map((b: any) => b.address)).not.toContain('192.0.2.1/32')
  })

  it('the generic runner fetches the form, fills it and gets the result', async () => {
    const form = expectOkEnvelope(
      await cliJson(server, ['command', 'run', node('purge-offline'), '--field', 'older-than=999999999']),
    )
    expect(form.status).toBe('completed')
    // revision 3: paged, with the run's progress
    expect(form.form.values).toMatchObject({
      count: expect.anything(),
      users: expect.anything(),
      more: false,
      scanned: expect.stringMatching(/^\d+$/),
      total: expect.stringMatching(/^\d+$/),
    })
  })
})

describe.each(WITH_MODULE.filter(([kind]) => !isProsody(kind)))('#about on %s', (kind, server) => {
  it('completes at once: contract revision 3, the server, every operation available', async () => {
    const r = expectOkEnvelope(await cliJson(server, ['command', 'run', node('about')]))
    expect(r.status).toBe('completed')
    expect(r.form.values).toMatchObject({
      'module-version': '3',
      server: `ejabberd ${kind.split('-')[1]}`,
    })
    expect(r.form.rows.map((row: any) => [row.node, row.available])).toEqual(
      OPERATIONS.map((op) => [node(op), true]),
    )
  })
})

describe.each(WITH_MODULE.filter(([kind]) => !isProsody(kind)))(
  'ejabberd API commands on %s',
  (_kind, server) => {
    it('ejabberdctl xmppadm_block_ip, _list_blocked_ips, _unblock_ip, _debug_log = the nodes', async () => {
      const blocked = await runControlOk(server, [
        'xmppadm_block_ip',
        server.domain,
        '192.0.2.77',
        '60',
        'api',
      ])
      expect(blocked).toMatch(/Blocked 192\.0\.2\.77\/32/)
      const list = expectOkEnvelope(await cliJson(server, ['block-ip', 'list']))
      expect(list.blocked).toContainEqual(expect.objectContaining({address: '192.0.2.77/32', reason: 'api'}))
      expect(await runControlOk(server, ['xmppadm_list_blocked_ips', server.domain])).toMatch(
        /192\.0\.2\.77\/32/,
      )
      expect(await runControlOk(server, ['xmppadm_unblock_ip', server.domain, '192.0.2.77'])).toMatch(
        /Unblocked/,
      )
      const after = expectOkEnvelope(await cliJson(server, ['block-ip', 'list']))
      expect(after.blocked.map((b: any) => b.address)).not.toContain('192.0.2.77/32')
      expect(await runControlOk(server, ['xmppadm_debug_log', server.domain, 'status', '0'])).toMatch(
        /^(on|off)/,
      )
      // 25.03+: mod_adhoc_api offers them over ad-hoc too (the test config allows the admin every command)
      if (server.kind === 'ejabberd-26.07') {
        const nodes = (await cliJson(server, ['commands'])).result.commands.map((c: any) => c.node)
        expect(nodes).toContain('api-commands/xmppadm_block_ip')
      }
    })
  },
)
