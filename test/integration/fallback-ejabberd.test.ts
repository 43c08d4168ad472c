// Issue 10: the ways xmppadm works with ejabberd WITHOUT mod_xmppadm, kept as fall-backs: ejabberd
// 26.07's API over ad-hoc (mod_adhoc_api: unban_ip, delete_old_messages, a partial export,
// set_loglevel) and what 24.12 cannot do at all. Each operation the module would bring names it and
// how to install it. This file starts its own ejabberd 24.12 and 26.07 without the module (the
// shared test servers have it), in Mnesia as an unchanged installation would.
import {mkdtempSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {type CliResult, cliOn, expectNoStack, scratch, uniqueUser} from '../helpers/cli.js'
import {expectErrorEnvelope, expectOkEnvelope} from '../helpers/shapes.js'
import {
  canLogin,
  cliJson,
  ejabberdApi,
  ejabberdOfflineCount,
  eventually,
  newAccount,
  newAccounts,
  parseXml,
  runControlOk,
  sendMessages,
  setRosterAndVcard,
  type TestAccount,
} from '../helpers/mission.js'
import {type RunningServer, startEjabberd24, startEjabberd26} from '../servers/harness.js'

const from = (address: string) => ({env: {XMPPADM_SOURCE_ADDRESS: address}})
const DAY = 86_400
const PIE = 'urn:xmpp:pie:0'
const ADM = 'urn:xmppadm:admin:1'
const out = mkdtempSync(join(scratch, 'export-plain-'))
// "debug-log on" through the API remembers the previous level in $XDG_STATE_HOME/xmppadm/
const state = {env: {XDG_STATE_HOME: mkdtempSync(join(scratch, 'state-plain-'))}}
/** The hint of an operation the module would bring: it names the module and how to install it. */
const MODULE_HINT = /mod_xmppadm.*ejabberdctl module_install mod_xmppadm/

// Started in the first beforeAll; the describe blocks below read them when their tests run.
let plain24: RunningServer
let plain26: RunningServer
beforeAll(async () => {
  ;[plain24, plain26] = await Promise.all([
    startEjabberd24({xmppadmModule: false}),
    startEjabberd26({xmppadmModule: false}),
  ])
}, 120_000)
afterAll(async () => {
  await Promise.all([plain24?.stop(), plain26?.stop()])
}, 60_000)

/** One line on stderr, no stack. */
function oneLine(r: CliResult): string {
  expectNoStack(r)
  expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1)
  return r.stderr.trim()
}

/** The <user/> of a XEP-0227 document, after checking the document's frame. */
function userOf(xmlText: string, local: string): any {
  expect(xmlText.startsWith('<?xml')).toBe(true)
  const doc = parseXml(xmlText)
  expect(doc.name).toBe('server-data')
  expect(doc.attrs.xmlns).toBe(PIE)
  const users = doc.getChild('host').getChildren('user')
  expect(users).toHaveLength(1)
  expect(users[0].attrs.name).toBe(local)
  return users[0]
}

/** Every descendant element named `name`. */
function findAll(el: any, name: string): any[] {
  const found: any[] = []
  const walk = (e: any) => {
    for (const c of e.getChildElements()) {
      if (c.name === name) found.push(c)
      walk(c)
    }
  }
  walk(el)
  return found
}

type Row = {available: boolean; via?: string; partial?: boolean}
const yes = (via: string, partial = false): Row => ({available: true, via, partial})
const no: Row = {available: false}

describe('capabilities without mod_xmppadm', () => {
  const EXPECTED: Array<[string, () => RunningServer, Record<string, Row>]> = [
    [
      'ejabberd 26.07',
      () => plain26,
      {
        'account-create': yes('XEP-0133'),
        'account-delete': yes('XEP-0133'),
        'block-ip': no,
        'block-ip-list': no,
        'block-ip-remove': yes('ejabberd API', true),
        'purge-offline': yes('ejabberd API', true),
        'purge-uploads': no,
        'export-user': yes('ejabberd API', true),
        'import-user': no,
        'debug-log': yes('ejabberd API', true),
      },
    ],
    [
      'ejabberd 24.12',
      () => plain24,
      {
        'account-create': yes('XEP-0133'),
        'account-delete': yes('XEP-0133'),
        'block-ip': no,
        'block-ip-list': no,
        'block-ip-remove': no,
        'purge-offline': no,
        'purge-uploads': no,
        'export-user': no,
        'import-user': no,
        'debug-log': no,
      },
    ],
  ]
  it.each(EXPECTED)(
    '%s: the API ways, partial; hints name the module for the rest',
    async (_name, get, expected) => {
      const server = get()
      const r = await cliOn(server, ['capabilities', '--json'])
      expect(r.exitCode, r.stderr).toBe(0)
      const result = expectOkEnvelope(r.json)
      const got: Record<string, Row> = {}
      for (const op of result.operations)
        got[op.operation] = op.available
          ? {available: true, via: op.via, partial: Boolean(op.partial)}
          : {available: false}
      expect(got).toEqual(expected)
      for (const op of result.operations) {
        if (op.available && op.partial) expect(op.partial.length, op.operation).toBeGreaterThan(10)
        if (!op.available) expect(op.hint, op.operation).toMatch(MODULE_HINT)
      }
      const table = await cliOn(server, ['capabilities'])
      expect(table.exitCode, table.stderr).toBe(0)
      expectNoStack(table)
    },
  )
})

describe('block-ip on ejabberd 26.07 (unban_ip only)', () => {
  afterAll(async () => {
    await runControlOk(plain26, ['unban_ip', '127.0.0.9']).catch(() => undefined)
  })

  it('block-ip and block-ip list are unavailable (69) with a hint', async () => {
    const [block, list] = await Promise.all([
      cliOn(plain26, ['block-ip', '192.0.2.1', '--json']),
      cliOn(plain26, ['block-ip', 'list', '--json']),
    ])
    for (const r of [block, list]) {
      expect(r.exitCode, r.stdout).toBe(69)
      expectErrorEnvelope(r.json, 69)
      expect(r.json.error.hint).toMatch(/ejabberd/)
    }
    expect(block.json.error.hint).toMatch(/fail2ban|ACL/)
    const text = await cliOn(plain26, ['block-ip', '192.0.2.1'])
    expect(text.exitCode).toBe(69)
    expect(text.stderr).toMatch(/hint: .*ACL/)
  })

  it('block-ip remove lifts a mod_fail2ban ban (partial: warns that ACL blocks stay)', async () => {
    // failed logins from 127.0.0.9 until mod_fail2ban bans it (c2s_max_auth_failures: 20)
    const bad = {jid: plain26.user.jid, password: 'wrong-password-for-fail2ban'}
    let bannedAfter = 0
    for (let i = 0; i < 6 && !bannedAfter; i++) {
      const results = await Promise.all(
        Array.from({length: 5}, () =>
          canLogin(plain26, bad, {localAddress: '127.0.0.9'}).catch((e) => String(e)),
        ),
      )
      for (const x of results) if (x !== false) expect(x).toMatch(/policy-violation/)
      if (results.some((x) => x !== false)) bannedAfter = (i + 1) * 5
    }
    expect(bannedAfter, 'mod_fail2ban never banned 127.0.0.9').toBeGreaterThan(0)
    const banned = await cliOn(plain26, ['commands'], from('127.0.0.9'))
    expect(banned.exitCode, banned.stderr).toBe(81)
    expect(banned.stderr).toMatch(
      /refuses connections from this address \(blocked\): Too many .* failed authentications/,
    )

    const r = await cliOn(plain26, ['block-ip', 'remove', '127.0.0.9', '--json'])
    expect(r.exitCode, r.stderr).toBe(0)
    expect(expectOkEnvelope(r.json)).toMatchObject({
      removed: ['127.0.0.9/32'],
      notFound: [],
      via: 'ejabberd API',
    })
    expect(r.json.warnings.join(' ')).toMatch(/fail2ban/)
    expect(r.stderr).toMatch(/warning: .*ACL/)
    const back = await cliOn(plain26, ['commands', '--quiet'], from('127.0.0.9'))
    expect(back.exitCode, back.stderr).toBe(0)

    // nothing banned any more: reported as not found, exit 0
    const again = expectOkEnvelope(await cliJson(plain26, ['block-ip', 'remove', '127.0.0.9']))
    expect(again).toMatchObject({removed: [], notFound: ['127.0.0.9/32']})
  })

  it('an invalid address: exit 65 before anything is sent', async () => {
    const r = await cliOn(plain26, ['block-ip', 'remove', '300.1.1.1', '--json'], {
      env: {XMPPADM_SERVER: '127.0.0.1:1'},
    })
    expect(r.exitCode).toBe(65)
    expectErrorEnvelope(r.json, 65)
  })

  it('a non-admin account: block-ip remove is refused with exit 77', async () => {
    const r = await cliOn(plain26, ['block-ip', 'remove', '127.0.0.9', '--json'], {as: plain26.user})
    expect(r.exitCode, r.stdout).toBe(77)
    expectErrorEnvelope(r.json, 77)
  })
})

describe('block-ip on ejabberd 24.12', () => {
  it('block-ip, list and remove are unavailable (69) with a hint', async () => {
    const runs = await Promise.all([
      cliOn(plain24, ['block-ip', '192.0.2.1', '--json']),
      cliOn(plain24, ['block-ip', 'list', '--json']),
      cliOn(plain24, ['block-ip', 'remove', '192.0.2.1', '--json']),
    ])
    for (const r of runs) {
      expect(r.exitCode, r.stdout).toBe(69)
      expectErrorEnvelope(r.json, 69)
      expect(r.json.error.hint.length).toBeGreaterThan(10)
    }
    expect(runs[2].json.error.hint).toMatch(/mod_adhoc_api|unban_ip/)
  })
})

describe('purge-offline on ejabberd 26.07 (delete_old_messages: whole days)', () => {
  let rcpt: TestAccount
  beforeAll(async () => {
    const [sender, r] = await newAccounts(plain26, 2, 'off26')
    rcpt = r
    await sendMessages(plain26, sender, rcpt.jid, ['kept by a 1-day purge'])
    await eventually('1 offline message', async () => (await ejabberdOfflineCount(plain26, rcpt.local)) === 1)
  })

  it('runs with a warning about whole days and all hosts; no count; a fresh message is kept', async () => {
    const r = await cliOn(plain26, ['purge-offline', '--older-than', '1d', '--json'])
    expect(r.exitCode, r.stderr).toBe(0)
    const result = expectOkEnvelope(r.json)
    expect(result).toMatchObject({olderThanSeconds: DAY, count: null, via: 'ejabberd API'})
    expect(r.json.warnings.join('\n')).toMatch(/whole days/)
    expect(r.stderr).toMatch(/warning: .*whole days.*every virtual host/)
    expect(await ejabberdOfflineCount(plain26, rcpt.local)).toBe(1)

    const text = await cliOn(plain26, ['purge-offline', '--older-than', '36h'])
    expect(text.exitCode, text.stderr).toBe(0)
    expect(text.stdout.trim()).toBe('purged (the server does not say how many)')
    expect(text.stderr).toMatch(/rounded up to 2 day/)
    expect(await ejabberdOfflineCount(plain26, rcpt.local)).toBe(1)
  })

  it('--dry-run does nothing and says that ejabberd cannot count', async () => {
    const r = await cliOn(plain26, ['purge-offline', '--older-than', '1s', '--dry-run', '--json'])
    expect(r.exitCode, r.stderr).toBe(0)
    expect(expectOkEnvelope(r.json)).toMatchObject({dryRun: true, count: null})
    expect(r.json.warnings.join('\n')).toMatch(/cannot count/)
    expect(await ejabberdOfflineCount(plain26, rcpt.local)).toBe(1)
  })

  it('a non-admin account is refused with exit 77', async () => {
    const r = await cliOn(plain26, ['purge-offline', '--older-than', '1d', '--json'], {
      as: plain26.user,
    })
    expect(r.exitCode, r.stdout).toBe(77)
    expectErrorEnvelope(r.json, 77)
  })

  it('purge-uploads is unavailable (69) with a hint', async () => {
    const r = await cliOn(plain26, ['purge-uploads', '--older-than', '14d', '--json'])
    expect(r.exitCode, r.stdout).toBe(69)
    expectErrorEnvelope(r.json, 69)
    expect(r.json.error.hint).toMatch(/max_days|find/)
  })
})

describe('purge on ejabberd 24.12', () => {
  it('purge-offline and purge-uploads are unavailable (69) with a hint', async () => {
    const runs = await Promise.all([
      cliOn(plain24, ['purge-offline', '--older-than', '7d', '--json']),
      cliOn(plain24, ['purge-uploads', '--older-than', '7d']),
    ])
    expect(runs[0].exitCode, runs[0].stdout).toBe(69)
    expectErrorEnvelope(runs[0].json, 69)
    expect(runs[0].json.error.hint).toMatch(/delete_old_messages|mod_adhoc_api/)
    expect(runs[1].exitCode).toBe(69)
    expect(runs[1].stderr).toMatch(/hint: .*max_days/)
  })
})

describe('export-user on ejabberd 26.07 (partial, through the API)', () => {
  let alice: TestAccount
  let bob: TestAccount
  const contact = {jid: 'friend-of-alice@localhost', name: 'Friend Of Alice', group: 'Pals'}
  const vcard = {fn: 'Alice Export26', nickname: 'ali26'}
  beforeAll(async () => {
    ;[alice, bob] = await newAccounts(plain26, 2, 'exp26')
    await setRosterAndVcard(plain26, alice, contact, vcard)
    await sendMessages(plain26, bob, alice.jid, ['counted, not exported'])
    await eventually(
      'the offline message',
      async () => (await ejabberdOfflineCount(plain26, alice.local)) === 1,
    )
  })

  it('XEP-0227 with roster and vCard, <missing/> for the rest, a warning per section', async () => {
    const file = join(out, `${alice.local}-26.xml`)
    const r = await cliOn(plain26, ['export-user', alice.jid, '-o', file])
    expect(r.exitCode, r.stderr).toBe(0)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    const user = userOf(readFileSync(file, 'utf8'), alice.local)
    const items = findAll(user, 'item').filter((i) => i.attrs.jid === contact.jid)
    expect(items).toHaveLength(1)
    expect(items[0].attrs.name).toBe(contact.name)
    expect(items[0].attrs.subscription).toBe('none')
    expect(items[0].getChildren('group').map((g: any) => g.getText())).toEqual([contact.group])
    expect(user.getChild('vCard', 'vcard-temp')?.getChildText('FN')).toBe(vcard.fn)
    const missing = user.getChildren('missing', ADM).map((m: any) => m.attrs.section)
    expect(missing).toEqual(
      expect.arrayContaining(['offline', 'mam', 'account', 'private', 'blocklist', 'pep', 'uploads']),
    )
    for (const section of missing) expect(r.stderr).toMatch(new RegExp(`warning: not exported: ${section}:`))
    expect(r.stderr).toMatch(/partial/)
  })

  it('the roster item is valid XEP-0227/RFC 6121: no "ask" unless a request is pending', async () => {
    const r = await cliOn(plain26, ['export-user', alice.jid, '-o', '-'])
    expect(r.exitCode, r.stderr).toBe(0)
    const item = findAll(userOf(r.stdout, alice.local), 'item').find((i) => i.attrs.jid === contact.jid)
    // ejabberd's get_roster says "undefined" where nothing is pending
    expect([undefined, 'subscribe']).toContain(item.attrs.ask)
  })

  it('--json: complete false, missing sections named, counts as the server gave them', async () => {
    const r = await cliOn(plain26, [
      'export-user',
      alice.jid,
      '--format',
      'json',
      '-o',
      join(out, `${alice.local}-26.json`),
      '--json',
    ])
    expect(r.exitCode, r.stderr).toBe(0)
    const result = expectOkEnvelope(r.json)
    expect(result).toMatchObject({jid: alice.jid, format: 'json', complete: false, via: 'ejabberd API'})
    expect(result.counts).toMatchObject({roster: 1, vcard: 1, offline: 1})
    const offline = result.missing.find((m: any) => m.section === 'offline')
    expect(offline.reason).toMatch(/\(1\)/)
    expect(r.json.warnings.length).toBe(result.missing.length)
    const doc = JSON.parse(readFileSync(result.file, 'utf8'))
    expect(doc.roster).toEqual([
      expect.objectContaining({jid: contact.jid, name: contact.name, groups: [contact.group]}),
    ])
    expect(doc.complete).toBe(false)
  })

  it('an empty roster counts 0 roster items', async () => {
    const r = await cliOn(plain26, ['export-user', bob.jid, '-o', join(out, `${bob.local}-26.xml`), '--json'])
    expect(r.exitCode, r.stderr).toBe(0)
    const result = expectOkEnvelope(r.json)
    expect(result.counts.roster).toBe(0)
  })

  it('a missing user: 67; --include-credentials: 69 (not remotely possible)', async () => {
    const [missing, creds] = await Promise.all([
      cliOn(plain26, [
        'export-user',
        `${uniqueUser('nobody')}@localhost`,
        '-o',
        join(out, 'nobody-26.xml'),
        '--json',
      ]),
      cliOn(plain26, [
        'export-user',
        alice.jid,
        '-o',
        join(out, 'creds-26.xml'),
        '--include-credentials',
        '--json',
      ]),
    ])
    expect(missing.exitCode, missing.stdout).toBe(67)
    expectErrorEnvelope(missing.json, 67)
    expect(creds.exitCode, creds.stdout).toBe(69)
    expectErrorEnvelope(creds.json, 69)
  })

  it('a non-admin account is refused with exit 77', async () => {
    const r = await cliOn(plain26, ['export-user', alice.jid, '-o', join(out, 'na-26.xml'), '--json'], {
      as: plain26.user,
    })
    expect(r.exitCode, r.stdout).toBe(77)
    expectErrorEnvelope(r.json, 77)
  })
})

describe('export-user on ejabberd 24.12', () => {
  it('is unavailable (69) with a hint; nothing written', async () => {
    const file = join(out, 'x-24.xml')
    const r = await cliOn(plain24, ['export-user', plain24.user.jid, '-o', file, '--json'])
    expect(r.exitCode, r.stdout).toBe(69)
    expectErrorEnvelope(r.json, 69)
    expect(r.json.error.hint).toMatch(/mod_adhoc_api/)
    expect(() => statSync(file)).toThrow()
    const text = await cliOn(plain24, ['export-user', plain24.user.jid, '-o', file])
    expect(text.exitCode).toBe(69)
    expect(text.stderr).toMatch(/hint: /)
  })
})

describe('debug-log on ejabberd 26.07 (set_loglevel)', () => {
  const level = async () => String((await ejabberdApi(plain26, 'get_loglevel', {})).levelatom)
  afterAll(async () => {
    await ejabberdApi(plain26, 'set_loglevel', {loglevel: 'info'})
  })

  it('status: the level; on: debug; off: the previous level, and a warning that the log stays', async () => {
    // start from a level that is not the default, to see that off restores it
    await ejabberdApi(plain26, 'set_loglevel', {loglevel: 'warning'})
    const before = expectOkEnvelope(await cliJson(plain26, ['debug-log', 'status'], 0, state))
    expect(before).toMatchObject({active: false, level: 'warning', via: 'ejabberd API', wipes: false})

    const on = expectOkEnvelope(await cliJson(plain26, ['debug-log', 'on'], 0, state))
    expect(on).toMatchObject({active: true, level: 'debug', previous: 'warning'})
    expect(await level()).toBe('debug')
    const status = await cliOn(plain26, ['debug-log', 'status'], state)
    expect(status.stdout.trim()).toBe('debug logging on (level debug)')

    const off = await cliOn(plain26, ['debug-log', 'off'], state)
    expect(off.exitCode, off.stderr).toBe(0)
    expect(off.stdout.trim()).toBe('debug logging off (level warning)')
    expect(off.stderr).toMatch(/warning: .*cannot wipe/)
    expectNoStack(off)
    expect(await level()).toBe('warning')
    const after = await cliOn(plain26, ['debug-log', 'status', '--json'], state)
    expect(expectOkEnvelope(after.json)).toMatchObject({active: false, level: 'warning'})
    await ejabberdApi(plain26, 'set_loglevel', {loglevel: 'info'})
  })

  it('off --json carries the warning; off without a remembered level goes to info', async () => {
    await ejabberdApi(plain26, 'set_loglevel', {loglevel: 'debug'})
    const off = await cliOn(plain26, ['debug-log', 'off', '--json'], state)
    expect(off.exitCode, off.stderr).toBe(0)
    expect(expectOkEnvelope(off.json)).toMatchObject({active: false, level: 'info', wipes: false})
    expect(off.json.warnings.join('\n')).toMatch(/cannot wipe/)
    expect(await level()).toBe('info')
  })

  it('on --for 2s waits in the foreground and restores the previous level', async () => {
    const t0 = Date.now()
    const r = await cliOn(plain26, ['debug-log', 'on', '--for', '2s', '--json'], state)
    expect(r.exitCode, r.stderr).toBe(0)
    expect(Date.now() - t0).toBeGreaterThanOrEqual(2000)
    const result = expectOkEnvelope(r.json)
    expect(result).toMatchObject({active: true, level: 'debug', previous: 'info'})
    expect(result.after).toMatchObject({active: false, level: 'info'})
    expect(await level()).toBe('info')
  })

  it('a non-admin account is refused with exit 77 and the level is unchanged', async () => {
    const runs = await Promise.all(
      ['on', 'status'].map((a) => cliOn(plain26, ['debug-log', a, '--json'], {...state, as: plain26.user})),
    )
    for (const r of runs) {
      expect(r.exitCode, r.stdout).toBe(77)
      expectErrorEnvelope(r.json, 77)
    }
    expect(await level()).toBe('info')
  })
})

describe('debug-log on ejabberd 24.12', () => {
  it('on, off and status are unavailable (69) with a hint', async () => {
    const runs = await Promise.all(
      ['on', 'off', 'status'].map((a) => cliOn(plain24, ['debug-log', a, '--json'], state)),
    )
    for (const r of runs) {
      expect(r.exitCode, r.stdout).toBe(69)
      expectErrorEnvelope(r.json, 69)
      expect(r.json.error.hint).toMatch(/set_loglevel/)
    }
  })
})

// Issue 16's truthful dry runs where ejabberd cannot tell (moved here from ux-safe-truthful when the
// shared ejabberd servers got mod_xmppadm).
describe('dry runs where ejabberd cannot tell', () => {
  it('account delete --dry-run on ejabberd 24.12, which cannot look accounts up: "cannot tell"', async () => {
    const a = await newAccount(plain24, 'dryc')
    const r = await cliOn(plain24, ['account', 'delete', a.jid, '--dry-run'])
    expect(r.exitCode, r.stderr).toBe(0)
    expect(r.stdout).toBe(`cannot tell: ${a.jid}`)
    expect(r.stderr).toMatch(/warning: this server offers no way to look an account up/)
    const json = expectOkEnvelope(await cliJson(plain24, ['account', 'delete', a.jid, '--dry-run']))
    expect(json).toMatchObject({wouldDelete: [], notFound: [], cannotTell: [a.jid]})
    expect(await canLogin(plain24, a)).toBe(true)
  })

  it('policy apply --dry-run, 26.07: "cannot tell" offline, uploads unavailable; never "done"', async () => {
    const policy = join(scratch, `${uniqueUser('dry')}.policy`)
    writeFileSync(policy, 'offline = 3650d  # ten years\nuploads = 3650d\ndebug_log = off\n')
    const e = await cliJson(plain26, ['policy', 'apply', policy, '--dry-run', '--skip-unavailable'], 0, state)
    const rules = expectOkEnvelope(e).rules
    expect(rules.map((r: any) => [r.rule, r.status])).toEqual([
      ['offline', 'cannot-tell'],
      ['uploads', 'unavailable'],
      ['debug_log', expect.stringMatching(/^(unchanged|would-apply)$/)],
    ])
    expect(rules[0]).toMatchObject({value: '3650d', olderThanSeconds: 3650 * 86400, count: null})
  })

  it('policy apply --skip-unavailable, every rule skipped: exit 82, said even with --quiet', async () => {
    const policy = join(scratch, `${uniqueUser('none')}.policy`)
    writeFileSync(policy, 'offline = 7d\nuploads = 14d\n')
    const [quiet, json] = await Promise.all([
      cliOn(plain24, ['policy', 'apply', policy, '--skip-unavailable', '--quiet']),
      cliOn(plain24, ['policy', 'apply', policy, '--skip-unavailable', '--json']),
    ])
    expect(quiet.exitCode).toBe(82)
    expect(quiet.stdout).toBe('')
    expect(oneLine(quiet)).toMatch(/^error: nothing was applied: this server can do none of the 2 rule\(s\)/)
    expect(json.exitCode).toBe(82)
    expect(json.json).toMatchObject({ok: false, error: {code: 82, reason: 'nothing-applied'}})
    expect(json.json.result.rules.map((r: any) => r.status)).toEqual(['unavailable', 'unavailable'])
  })
})

describe('capabilities and export-user agree on ejabberd 26.07 without the module', () => {
  const NAMES: Record<string, string> = {
    account: 'account facts',
    private: 'private XML',
    blocklist: 'blocklist',
    pep: 'PEP data',
    uploads: 'uploads',
    offline: 'offline messages',
    mam: 'archive',
  }
  it('no section the export cannot read is listed as exported', async () => {
    const a = await newAccount(plain26, 'capx')
    const [caps, exp] = await Promise.all([
      cliJson(plain26, ['capabilities']),
      cliJson(plain26, ['export-user', a.jid, '-o', join(scratch, `${a.local}.xml`)]),
    ])
    const partial: string = caps.result.operations.find((o: any) => o.operation === 'export-user').partial
    const exported = partial.split(' only')[0]
    expect(exported).toBe('roster, vCard and last activity')
    for (const m of exp.result.missing) expect(exported, m.section).not.toContain(NAMES[m.section])
    for (const m of exp.result.missing) expect(partial, m.section).toContain(NAMES[m.section])
  })
})

describe('policy check without mod_xmppadm (issue 12): the checks that need it say so', () => {
  const run = async (server: RunningServer) => {
    const r = await cliOn(server, ['policy', 'check', '--json'])
    expectNoStack(r)
    expect(r.exitCode, r.stderr).toBe(83)
    const by = (name: string, promise?: string) =>
      r.json.result.checks.find((c: any) => c.check === name && (!promise || c.promise === promise))
    return {r, by}
  }

  it('24.12: retention, debug logging cannot tell, naming the module; block-ip, export broken', async () => {
    const {by} = await run(plain24)
    for (const name of ['offline-age', 'uploads-age', 'debug-log']) {
      expect(by(name).verdict, name).toBe('cannot-tell')
      expect(by(name).hint, name).toMatch(MODULE_HINT)
    }
    expect(by('offline-age').evidence).toMatch(
      /^ejabberd 24\.12\S* offers no way to purge old offline messages/,
    )
    for (const promise of ['block-ip', 'export']) {
      expect(by('operation', promise).verdict, promise).toBe('fail')
      expect(by('operation', promise).hint, promise).toMatch(MODULE_HINT)
    }
    expect(by('operation', 'erasure')).toMatchObject({verdict: 'pass'})
    expect(by('tls-versions').verdict).toBe('pass')
  })

  it('26.07 (its API): offline not counted, debug logging from the log level, export in part', async () => {
    const {by} = await run(plain26)
    expect(by('offline-age')).toMatchObject({
      verdict: 'cannot-tell',
      evidence: 'ejabberd API cannot count what is older than 7d',
    })
    expect(by('offline-age').hint).toMatch(/mod_xmppadm/)
    expect(by('debug-log')).toMatchObject({verdict: 'pass', evidence: 'off (log level info)'})
    expect(by('operation', 'export')).toMatchObject({verdict: 'fail'})
    expect(by('operation', 'export').evidence).toMatch(/^only in part: roster, vCard and last activity only/)
  })
})
