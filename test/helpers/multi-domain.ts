// Helpers for the multi-domain tests (issue 15): the test servers' second virtual host
// second.localhost, whose admin boss@ administers that host alone, seen as a server of its own.
import {readdirSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {expect} from 'vitest'
import type {ServerDescriptor} from '../servers/servers.js'
import {cliOn, expectNoStack, scratch, secretFile} from './cli.js'
import {type TestAccount, canLogin} from './mission.js'
import {expectErrorEnvelope} from './shapes.js'

/**
 * The second virtual host as a descriptor of its own: its domain, upload service, admin
 * (boss@second.localhost) and user, on the same process, ports and files. Every helper that takes
 * a server (cliOn, RawClient.login, newAccount, prosodyUpload, prosodyOfflineCount…) then acts
 * on that host and logs in as its accounts.
 */
export function secondHost(server: ServerDescriptor): ServerDescriptor {
  const second = server.second
  if (!second) throw new Error(`${server.kind}: the test server has no second virtual host`)
  return {
    ...server,
    domain: second.domain as ServerDescriptor['domain'],
    uploadDomain: second.uploadDomain,
    admin: second.admin,
    user: second.user,
  }
}

/** Files under `dir` (recursively) whose name matches `name`, with their permission bits. */
export function filesNamed(dir: string, name: RegExp): Array<{path: string; mode: number}> {
  const found: Array<{path: string; mode: number}> = []
  for (const entry of readdirSync(dir, {recursive: true, encoding: 'utf8'})) {
    const path = join(dir, entry)
    const st = statSync(path)
    if (st.isFile() && name.test(entry)) found.push({path, mode: st.mode & 0o777})
  }
  return found.sort((a, b) => a.path.localeCompare(b.path))
}

/** How an operation is run on a host by an account (`who` keeps its accounts and files apart). */
export type OperationArgs = (on: ServerDescriptor, who: 'boss' | 'admin') => string[]

const ADM = 'urn:xmppadm:admin:1'

/** A contract node run in one round trip (`command run`): the node itself, whatever the CLI prefers. */
const node = (name: string, fields: string[]) => [
  'command',
  'run',
  `${ADM}#${name}`,
  '--one-shot',
  ...fields.flatMap((f) => ['-f', f]),
]

/**
 * Every operation, as the CLI runs it, with arguments that do no harm on a shared server: blocks
 * of a documentation address, purges of what is a month old, an export, debug logging (the caller
 * holds the server's debug-log lock), an account made, given a roster item from a XEP-0227 file,
 * disabled, enabled, asked about and deleted, a policy. The account life-cycle nodes are run as
 * nodes: the CLI prefers XEP-0133 and ejabberd's API where offered, which would not reach them.
 */
export function operations(stamp: string): Array<[string, OperationArgs]> {
  const policy = join(scratch, `${stamp}.policy`)
  writeFileSync(policy, 'offline = 30d\nuploads = 30d\ndebug_log = off\n')
  const password = secretFile('a-password-for-md-accounts\n')
  const imported = join(scratch, `${stamp}-import.xml`)
  writeFileSync(
    imported,
    "<server-data xmlns='urn:xmpp:pie:0'><host jid='old.example'><user name='mover'>" +
      "<query xmlns='jabber:iq:roster'><item jid='friend@example.org' subscription='none' name='F'/>" +
      '</query></user></host></server-data>',
  )
  const account = (on: ServerDescriptor, who: 'boss' | 'admin') => `${stamp}-${who}@${on.domain}`
  return [
    ['block-ip', () => ['block-ip', '192.0.2.15', '--reason', 'multi-domain test']],
    ['block-ip list', () => ['block-ip', 'list']],
    ['block-ip remove', () => ['block-ip', 'remove', '192.0.2.15']],
    ['purge-offline', () => ['purge-offline', '--older-than', '30d']],
    ['purge-uploads', () => ['purge-uploads', '--older-than', '30d']],
    [
      'export-user',
      (on, who) => ['export-user', on.user.jid, '-o', join(scratch, `${stamp}-${who}-${on.domain}.xml`)],
    ],
    ['debug-log on', () => ['debug-log', 'on', '--for', '10m']],
    ['debug-log status', () => ['debug-log', 'status']],
    ['debug-log off', () => ['debug-log', 'off']],
    [
      'account create',
      (on, who) => ['account', 'create', `${stamp}-${who}@${on.domain}`, '--user-password-file', password],
    ],
    [
      '#import-user (import-user --merge)',
      (on, who) => ['import-user', imported, '--as', account(on, who), '--merge'],
    ],
    ['#disable-user', (on, who) => node('disable-user', [`accountjids=${account(on, who)}`])],
    ['#enable-user', (on, who) => node('enable-user', [`accountjids=${account(on, who)}`])],
    ['#list-accounts', () => node('list-accounts', ['max=5'])],
    ['#stored-data', (on, who) => node('stored-data', [`accountjid=${account(on, who)}`])],
    ['account delete', (on, who) => ['account', 'delete', `${stamp}-${who}@${on.domain}`, '--yes']],
    ['policy apply', () => ['policy', 'apply', policy]],
  ]
}

/**
 * Runs an operation four ways at once and checks them: the host admin (boss) on their host
 * succeeds and on the other gets 77; the global admin (admin@localhost) succeeds on both.
 */
export async function expectHostIsolation(
  op: string,
  args: OperationArgs,
  main: ServerDescriptor,
  second: ServerDescriptor,
): Promise<void> {
  const [bossHere, bossThere, adminHere, adminThere] = await Promise.all([
    cliOn(second, [...args(second, 'boss'), '--json']),
    cliOn(second, [...args(main, 'boss'), '--to', main.domain, '--json']),
    cliOn(main, [...args(main, 'admin'), '--json']),
    cliOn(main, [...args(second, 'admin'), '--to', second.domain, '--json']),
  ])
  expect(bossHere.exitCode, `boss on ${second.domain}: ${bossHere.stdout}`).toBe(0)
  expect(adminHere.exitCode, `admin on ${main.domain}: ${adminHere.stdout}`).toBe(0)
  expect(adminThere.exitCode, `admin on ${second.domain}: ${adminThere.stdout}`).toBe(0)
  expect(bossThere.exitCode, `boss on ${main.domain}: ${bossThere.stdout}`).toBe(77)
  expectErrorEnvelope(bossThere.json, 77)
  // refused by the node (forbidden) or by ejabberd's API permissions (its 403: command-failed);
  // policy apply: every rule failed, and the run fails with their code
  expect(op === 'policy apply' ? ['policy-failed'] : ['forbidden', 'command-failed']).toContain(
    bossThere.json.error.reason,
  )
  expectNoStack(bossThere)
}

/**
 * The account life-cycle nodes sent by the host admin to their own host cannot reach a user of
 * another host: a JID of another host is bad-request (exit 65), and that user still logs in.
 */
export async function expectLifecycleNodesStayHome(
  main: ServerDescriptor,
  second: ServerDescriptor,
  victim: TestAccount,
): Promise<void> {
  const runs = await Promise.all(
    [
      node('disable-user', [`accountjids=${victim.jid}`, 'reason=multi-domain test']),
      node('stored-data', [`accountjid=${victim.jid}`]),
    ].map((args) => cliOn(second, [...args, '--json'])),
  )
  for (const r of runs) {
    expect(r.exitCode, r.stdout).toBe(65)
    expectErrorEnvelope(r.json, 65)
    expectNoStack(r)
  }
  expect(await canLogin(main, victim)).toBe(true)
}
