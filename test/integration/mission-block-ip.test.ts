// Issue 3: block-ip, block-ip list, block-ip remove. Checked by their effect: the CLI connects from
// a chosen loopback source address (XMPPADM_SOURCE_ADDRESS; all of 127.0.0.0/8 is local on Linux)
// and a raw client holds sessions open from such addresses.
// Addresses used here (nothing else in the suite uses them): 127.0.0.5, .6, .8, .10, .11, 127.0.1.0/24
// (Prosody); 127.0.0.9 (ejabberd 26.07 mod_fail2ban). Everything blocked is unblocked in afterAll.
import {afterAll, describe, expect, it} from 'vitest'
import {cliOn, expectNoStack} from '../helpers/cli.js'
import {expectErrorEnvelope, expectOkEnvelope} from '../helpers/shapes.js'
import {
  PROSODIES,
  RawClient,
  canLogin,
  cliJson,
  ejabberd24,
  ejabberd26,
  newAccount,
  runControlOk,
  sleep,
} from '../helpers/mission.js'

const from = (address: string) => ({env: {XMPPADM_SOURCE_ADDRESS: address}})
const BLOCKED_TEXT = 'Connections from your IP address are blocked'

describe.each(PROSODIES)('block-ip on %s (mod_xmppadm)', (_name, prosody) => {
  const used = [
    '127.0.0.5',
    '127.0.0.8',
    '127.0.0.10',
    '127.0.0.11',
    '127.0.1.0/24',
    '2001:db8::/32',
    '10.0.0.1',
    'fe80::1',
    '192.0.2.0/24',
  ]
  afterAll(async () => {
    await cliOn(prosody, ['block-ip', 'remove', ...used])
  })

  it('blocks an address: a connection from it is refused as blocked (81), another address still works', async () => {
    const r = await cliJson(prosody, ['block-ip', '127.0.0.5', '--reason', 'mission test'])
    const {exempt, ...rest} = expectOkEnvelope(r)
    expect(rest).toEqual({
      blocked: ['127.0.0.5/32'],
      expiresInSeconds: null,
      reason: 'mission test',
      sessionsClosed: 0,
    })
    // issue 16: the exempt addresses the block covers; null from a module that does not say
    expect([null, []]).toContainEqual(exempt)

    const [refused, other] = await Promise.all([
      cliOn(prosody, ['commands'], from('127.0.0.5')),
      cliOn(prosody, ['commands', '--quiet'], from('127.0.0.6')),
    ])
    // issue 16: its own exit code and message (was 77, "not an admin")
    expect(refused.exitCode).toBe(81)
    expect(refused.stderr).toMatch(/refuses connections from this address \(blocked\)/)
    expect(refused.stderr).toContain(BLOCKED_TEXT)
    expect(refused.stderr.trim().split('\n')).toHaveLength(1)
    expectNoStack(refused)

    expect(other.exitCode, other.stderr).toBe(0)

    // listed, with its reason; blocking again is idempotent (same entry, same created time)
    const list1 = expectOkEnvelope(await cliJson(prosody, ['block-ip', 'list']))
    const entry = list1.blocked.find((b: any) => b.address === '127.0.0.5/32')
    expect(entry).toMatchObject({address: '127.0.0.5/32', expires: null, reason: 'mission test'})
    expect(entry.created).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
    await sleep(1100)
    const again = await cliJson(prosody, ['block-ip', '127.0.0.5', '--reason', 'still testing'])
    expect(again.result.blocked).toEqual(['127.0.0.5/32'])
    const list2 = expectOkEnvelope(await cliJson(prosody, ['block-ip', 'list']))
    const entries = list2.blocked.filter((b: any) => b.address === '127.0.0.5/32')
    expect(entries).toHaveLength(1)
    expect(entries[0]).toMatchObject({reason: 'still testing', created: entry.created})
    expect(list2.count).toBe(list2.blocked.length)

    // the table shows it too
    const table = await cliOn(prosody, ['block-ip', 'list'])
    expect(table.exitCode).toBe(0)
    expect(table.stdout).toMatch(/127\.0\.0\.5\/32\s+never\s+still testing/)

    // remove lifts it; removing it again reports it as not blocked (exit 0)
    const removed = expectOkEnvelope(await cliJson(prosody, ['block-ip', 'remove', '127.0.0.5']))
    expect(removed).toEqual({removed: ['127.0.0.5/32'], notFound: [], via: 'mod_xmppadm'})
    const back = await cliOn(prosody, ['commands', '--quiet'], from('127.0.0.5'))
    expect(back.exitCode, back.stderr).toBe(0)
    const twice = await cliOn(prosody, ['block-ip', 'remove', '127.0.0.5'])
    expect(twice.exitCode, twice.stderr).toBe(0)
    expect(twice.stderr).toMatch(/not blocked: 127\.0\.0\.5\/32/)
  })

  it('ends live sessions from the address (and only those), then refuses new ones', async () => {
    const [a, b] = await Promise.all([newAccount(prosody, 'live'), newAccount(prosody, 'live')])
    const victim = await RawClient.login(prosody, a, {localAddress: '127.0.0.10'})
    const bystander = await RawClient.login(prosody, b, {localAddress: '127.0.0.11'})
    try {
      const r = expectOkEnvelope(await cliJson(prosody, ['block-ip', '127.0.0.10']))
      expect(r.blocked).toEqual(['127.0.0.10/32'])
      expect(r.sessionsClosed).toBe(1)
      await Promise.race([
        victim.closed,
        sleep(5000).then(() => Promise.reject(new Error('the session from 127.0.0.10 was not closed'))),
      ])
      expect(victim.received).toMatch(/<policy-violation/)
      expect(victim.received).toContain(BLOCKED_TEXT)
      // the session from another address is alive
      await bystander.iqOk(`<iq type='get' id='ID' to='${prosody.domain}'><ping xmlns='urn:xmpp:ping'/></iq>`)
      await expect(RawClient.login(prosody, a, {localAddress: '127.0.0.10'})).rejects.toThrow(
        /closed|policy-violation/,
      )
    } finally {
      await bystander.close()
      await cliOn(prosody, ['block-ip', 'remove', '127.0.0.10'])
    }
    expect(await canLogin(prosody, a, {localAddress: '127.0.0.10'})).toBe(true)
  })

  it('blocks a range (normalised to the network): any address in it is refused; remove needs the exact range', async () => {
    const r = expectOkEnvelope(await cliJson(prosody, ['block-ip', '127.0.1.9/24']))
    expect(r.blocked).toEqual(['127.0.1.0/24'])
    const refused = await cliOn(prosody, ['commands'], from('127.0.1.7'))
    expect(refused.exitCode).toBe(81)
    expect(refused.stderr).toContain(BLOCKED_TEXT)
    // unblocking one address inside the range does not lift the range
    const partial = expectOkEnvelope(await cliJson(prosody, ['block-ip', 'remove', '127.0.1.7']))
    expect(partial).toMatchObject({removed: [], notFound: ['127.0.1.7/32']})
    expect((await cliOn(prosody, ['commands'], from('127.0.1.200'))).exitCode).toBe(81)
    const removed = expectOkEnvelope(await cliJson(prosody, ['block-ip', 'remove', '127.0.1.0/24']))
    expect(removed.removed).toEqual(['127.0.1.0/24'])
    const back = await cliOn(prosody, ['commands', '--quiet'], from('127.0.1.7'))
    expect(back.exitCode, back.stderr).toBe(0)
  })

  it('--expires: the block lapses by itself', async () => {
    const r = expectOkEnvelope(await cliJson(prosody, ['block-ip', '127.0.0.8', '--expires', '4s']))
    expect(r).toMatchObject({blocked: ['127.0.0.8/32'], expiresInSeconds: 4})
    const blockedAt = Date.now()
    // while it lasts (checked with a raw connection: quick, even on a loaded machine)
    const refused = await RawClient.login(prosody, prosody.user, {localAddress: '127.0.0.8'}).then(
      async (c) => {
        await c.close()
        return 'logged in'
      },
      (e) => String(e),
    )
    expect(refused).toContain(BLOCKED_TEXT)
    // after it: login works again and it is no longer listed
    await sleep(Math.max(0, blockedAt + 5100 - Date.now()))
    const later = await cliOn(prosody, ['commands', '--quiet'], from('127.0.0.8'))
    expect(later.exitCode, later.stderr).toBe(0)
    const after = expectOkEnvelope(await cliJson(prosody, ['block-ip', 'list']))
    expect(after.blocked.map((b: any) => b.address)).not.toContain('127.0.0.8/32')
  })

  it('IPv6 forms are accepted and normalised, IPv4-mapped becomes IPv4; --expires shows in the list', async () => {
    const t0 = Date.now()
    const r = expectOkEnvelope(
      await cliJson(prosody, [
        'block-ip',
        '2001:DB8::1/32',
        '::ffff:10.0.0.1',
        'fe80::1',
        '--reason',
        'v6',
        '--expires',
        '1h',
      ]),
    )
    expect(r).toMatchObject({
      blocked: ['2001:db8::/32', '10.0.0.1/32', 'fe80::1/128'],
      expiresInSeconds: 3600,
      reason: 'v6',
    })
    const list = expectOkEnvelope(await cliJson(prosody, ['block-ip', 'list']))
    for (const a of ['2001:db8::/32', '10.0.0.1/32', 'fe80::1/128']) {
      const entry = list.blocked.find((b: any) => b.address === a)
      expect(entry, a).toMatchObject({reason: 'v6'})
      const expires = Date.parse(entry.expires)
      expect(expires).toBeGreaterThanOrEqual(Math.floor(t0 / 1000) * 1000 + 3600_000)
      expect(expires).toBeLessThanOrEqual(Date.now() + 3600_000)
    }
    // sorted by address, as the node contract says
    const addresses = list.blocked.map((b: any) => b.address)
    expect(addresses).toEqual([...addresses].sort())
    const removed = expectOkEnvelope(
      await cliJson(prosody, ['block-ip', 'remove', '2001:db8::/32', '10.0.0.1', 'FE80::1']),
    )
    expect(removed.removed).toEqual(['2001:db8::/32', '10.0.0.1/32', 'fe80::1/128'])
    expect(removed.notFound).toEqual([])
  })

  it('invalid addresses and durations: exit 65 before anything is sent', async () => {
    // a server that refuses connections: 65 (not 75) proves that nothing was sent
    const nowhere = {env: {XMPPADM_SERVER: '127.0.0.1:1'}}
    const cases = [
      ['block-ip', '300.1.1.1'],
      ['block-ip', '10.0.0.0/33'],
      ['block-ip', 'abc'],
      ['block-ip', '2001:db8::/129'],
      ['block-ip', '192.0.2.1', 'abc'],
      ['block-ip', '192.0.2.1', '--expires', '0s'],
      ['block-ip', '192.0.2.1', '--expires', '-5d'],
      ['block-ip', 'remove', 'abc'],
    ]
    const runs = await Promise.all(cases.map((args) => cliOn(prosody, [...args, '--json'], nowhere)))
    runs.forEach((r, i) => {
      expect(r.exitCode, `${cases[i].join(' ')}: ${r.stdout}`).toBe(65)
      expectErrorEnvelope(r.json, 65)
    })
    expect(runs[0].json.error.message).toContain('300.1.1.1')
    expect(runs[1].json.error.message).toContain('10.0.0.0/33')
    // on the real server a valid address next to an invalid one is not blocked either
    const mixed = await cliOn(prosody, ['block-ip', '192.0.2.0/24', 'abc'])
    expect(mixed.exitCode).toBe(65)
    const list = expectOkEnvelope(await cliJson(prosody, ['block-ip', 'list']))
    expect(list.blocked.map((b: any) => b.address)).not.toContain('192.0.2.0/24')
  })

  it('an IPv6 zone id (fe80::1%eth0) is invalid, as in the node contract: exit 65 before anything is sent', async () => {
    // server/CONTRACT.md 2: "Invalid means: ... a zone id (%eth0)"; the server refuses it too
    const r = await cliOn(prosody, ['block-ip', 'fe80::1%eth0', '--json'], {
      env: {XMPPADM_SERVER: '127.0.0.1:1'},
    })
    expect(r.exitCode, r.stdout).toBe(65)
    expectErrorEnvelope(r.json, 65)
  })

  it('a non-admin account is refused with exit 77 (block, list, remove) and nothing is blocked', async () => {
    const runs = await Promise.all([
      cliOn(prosody, ['block-ip', '192.0.2.0/24', '--json'], {as: prosody.user}),
      cliOn(prosody, ['block-ip', 'list', '--json'], {as: prosody.user}),
      cliOn(prosody, ['block-ip', 'remove', '192.0.2.0/24', '--json'], {as: prosody.user}),
    ])
    for (const r of runs) {
      expect(r.exitCode, r.stdout).toBe(77)
      expectErrorEnvelope(r.json, 77)
    }
    const list = expectOkEnvelope(await cliJson(prosody, ['block-ip', 'list']))
    expect(list.blocked.map((b: any) => b.address)).not.toContain('192.0.2.0/24')
  })
})

describe('block-ip on ejabberd 26.07 (unban_ip only)', () => {
  afterAll(async () => {
    await runControlOk(ejabberd26, ['unban_ip', '127.0.0.9']).catch(() => undefined)
  })

  it('block-ip and block-ip list are unavailable (69) with a hint', async () => {
    const [block, list] = await Promise.all([
      cliOn(ejabberd26, ['block-ip', '192.0.2.1', '--json']),
      cliOn(ejabberd26, ['block-ip', 'list', '--json']),
    ])
    for (const r of [block, list]) {
      expect(r.exitCode, r.stdout).toBe(69)
      expectErrorEnvelope(r.json, 69)
      expect(r.json.error.hint).toMatch(/ejabberd/)
    }
    expect(block.json.error.hint).toMatch(/fail2ban|ACL/)
    const text = await cliOn(ejabberd26, ['block-ip', '192.0.2.1'])
    expect(text.exitCode).toBe(69)
    expect(text.stderr).toMatch(/hint: .*ACL/)
  })

  it('block-ip remove lifts a mod_fail2ban ban (partial: warns that ACL blocks stay)', async () => {
    // failed logins from 127.0.0.9 until mod_fail2ban bans it (c2s_max_auth_failures: 20)
    const bad = {jid: ejabberd26.user.jid, password: 'wrong-password-for-fail2ban'}
    let bannedAfter = 0
    for (let i = 0; i < 6 && !bannedAfter; i++) {
      const results = await Promise.all(
        Array.from({length: 5}, () =>
          canLogin(ejabberd26, bad, {localAddress: '127.0.0.9'}).catch((e) => String(e)),
        ),
      )
      for (const x of results) if (x !== false) expect(x).toMatch(/policy-violation/)
      if (results.some((x) => x !== false)) bannedAfter = (i + 1) * 5
    }
    expect(bannedAfter, 'mod_fail2ban never banned 127.0.0.9').toBeGreaterThan(0)
    const banned = await cliOn(ejabberd26, ['commands'], from('127.0.0.9'))
    expect(banned.exitCode, banned.stderr).toBe(81)
    expect(banned.stderr).toMatch(
      /refuses connections from this address \(blocked\): Too many .* failed authentications/,
    )

    const r = await cliOn(ejabberd26, ['block-ip', 'remove', '127.0.0.9', '--json'])
    expect(r.exitCode, r.stderr).toBe(0)
    expect(expectOkEnvelope(r.json)).toMatchObject({
      removed: ['127.0.0.9/32'],
      notFound: [],
      via: 'ejabberd API',
    })
    expect(r.json.warnings.join(' ')).toMatch(/fail2ban/)
    expect(r.stderr).toMatch(/warning: .*ACL/)
    const back = await cliOn(ejabberd26, ['commands', '--quiet'], from('127.0.0.9'))
    expect(back.exitCode, back.stderr).toBe(0)

    // nothing banned any more: reported as not found, exit 0
    const again = expectOkEnvelope(await cliJson(ejabberd26, ['block-ip', 'remove', '127.0.0.9']))
    expect(again).toMatchObject({removed: [], notFound: ['127.0.0.9/32']})
  })

  it('an invalid address: exit 65 before anything is sent', async () => {
    const r = await cliOn(ejabberd26, ['block-ip', 'remove', '300.1.1.1', '--json'], {
      env: {XMPPADM_SERVER: '127.0.0.1:1'},
    })
    expect(r.exitCode).toBe(65)
    expectErrorEnvelope(r.json, 65)
  })

  it('a non-admin account: block-ip remove is refused with exit 77', async () => {
    const r = await cliOn(ejabberd26, ['block-ip', 'remove', '127.0.0.9', '--json'], {as: ejabberd26.user})
    expect(r.exitCode, r.stdout).toBe(77)
    expectErrorEnvelope(r.json, 77)
  })
})

describe('block-ip on ejabberd 24.12', () => {
  it('block-ip, list and remove are unavailable (69) with a hint', async () => {
    const runs = await Promise.all([
      cliOn(ejabberd24, ['block-ip', '192.0.2.1', '--json']),
      cliOn(ejabberd24, ['block-ip', 'list', '--json']),
      cliOn(ejabberd24, ['block-ip', 'remove', '192.0.2.1', '--json']),
    ])
    for (const r of runs) {
      expect(r.exitCode, r.stdout).toBe(69)
      expectErrorEnvelope(r.json, 69)
      expect(r.json.error.hint.length).toBeGreaterThan(10)
    }
    expect(runs[2].json.error.hint).toMatch(/mod_adhoc_api|unban_ip/)
  })
})
