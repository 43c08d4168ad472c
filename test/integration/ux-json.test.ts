// Issue 4: every command's --json output against the README "JSON output" table, on Prosody 13
// with mod_xmppadm (which has every operation). stdout must hold exactly one JSON document, for
// success and for errors alike.
import {acquire, debugLogLock} from '../helpers/lock.js'
import {readFileSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it, onTestFinished} from 'vitest'
import {loadServers, registerAccount} from '../servers/servers.js'
import {scratch, secretFile, uniqueUser} from '../helpers/cli.js'
import {type Shape, expectEachShape, expectErrorDoc, expectShape, oneJson, run} from '../helpers/ux.js'

const server = loadServers().prosody
const json = (args: string[], opts = {}) => run(server, [...args, '--json'], opts)

/** Success: exit 0, one document, {ok: true, result}; returns the result. */
async function ok(args: string[]): Promise<any> {
  const r = await json(args)
  const doc = oneJson(r)
  expect(r.exitCode, r.stderr || r.stdout).toBe(0)
  expect(doc.ok).toBe(true)
  expect(doc).toHaveProperty('result')
  if (doc.warnings !== undefined) for (const w of doc.warnings) expect(typeof w).toBe('string')
  return doc.result
}

/** Failure: exit `code`, one document, the error envelope. */
async function fails(args: string[], code: number, opts = {}): Promise<any> {
  const r = await json(args, opts)
  const doc = oneJson(r)
  expect(r.exitCode, r.stdout).toBe(code)
  expectErrorDoc(doc, code)
  return doc
}

const COMMAND_LIST: Shape = {to: 'string', count: 'number', commands: 'array'}
const COMMAND_ITEM: Shape = {node: 'string', name: 'string|null', jid: 'string'}
const CREATE: Shape = {
  created: 'array',
  skipped: 'array',
  failed: 'array',
  summary: 'object',
  failedFile: 'string|null',
}
const SUMMARY: Shape = {
  done: 'number',
  skipped: 'number',
  failed: 'number',
  notAttempted: 'number',
  interrupted: 'string|null',
}
const FAILED_ITEM: Shape = {
  line: 'number',
  jid: 'string',
  code: 'number',
  reason: 'string',
  message: 'string',
}
const DELETE: Shape = {dryRun: 'boolean', deleted: 'array', notFound: 'array', notAttempted: 'array'}
const DELETE_RUN: Shape = {...DELETE, failed: 'array', summary: 'object', failedFile: 'string|null'}
const DELETE_SUMMARY: Shape = {
  deleted: 'number',
  notFound: 'number',
  failed: 'number',
  notAttempted: 'number',
  interrupted: 'string|null',
  rechecked: 'number',
  deletedAgain: 'number',
  unchecked: 'number',
}
const PURGE: Shape = {
  dryRun: 'boolean',
  olderThanSeconds: 'number',
  count: 'number|null',
  users: 'number|null?',
  via: 'string',
  notes: 'array',
}
const DEBUG_LOG: Shape = {
  active: 'boolean',
  level: 'string?',
  file: 'string|null?',
  expires: 'string|null?',
  previous: 'boolean|string|null?',
  via: 'string',
  wipes: 'boolean',
}

async function newAccount(prefix: string) {
  const local = uniqueUser(prefix)
  const password = `pw-${local}-Secret`
  await registerAccount(server, local, password)
  return {local, jid: `${local}@${server.domain}`, password}
}

describe('--json on Prosody: the documented result of each command', () => {
  it('commands / command list', async () => {
    for (const args of [['commands'], ['command', 'list']]) {
      const res = await ok(args)
      expectShape(res, COMMAND_LIST, args.join(' '))
      expect(res.count).toBe(res.commands.length)
      expectEachShape(res.commands, COMMAND_ITEM, 'commands')
      expect(res.commands.map((c: any) => c.node)).toContain('http://jabber.org/protocol/admin#add-user')
    }
  })

  it('command info', async () => {
    const res = await ok(['command', 'info', 'http://jabber.org/protocol/admin#add-user'])
    expectShape(
      res,
      {
        to: 'string',
        node: 'string',
        name: 'string?',
        isCommand: 'boolean',
        identities: 'array',
        features: 'array',
      },
      'command info',
    )
    expectEachShape(
      res.identities,
      {category: 'string', type: 'string', name: 'string?'},
      'command info identities',
    )
  })

  it('command run: a form result, and a notes-only result', async () => {
    const res = await ok([
      'command',
      'run',
      'http://jabber.org/protocol/admin#user-stats',
      '--field',
      `accountjid=${server.user.jid}`,
    ])
    expectShape(
      res,
      {
        node: 'string',
        status: 'string',
        sessionid: 'string|null',
        notes: 'array',
        form: 'object',
        payload: 'array|null',
      },
      'command run',
    )
    expect(res.status).toBe('completed')
    expectShape(
      res.form,
      {
        type: 'string',
        title: 'string|null',
        instructions: 'array|null',
        fields: 'array',
        values: 'object',
        columns: 'array|null',
        rows: 'array|null',
      },
      'form',
    )
    expectEachShape(
      res.form.fields,
      {var: 'string|null', type: 'string', label: 'string|null', value: 'string|array|boolean|null'},
      'form.fields',
    )
    expect(res.form.values).toHaveProperty('rostersize')

    const up = await ok(['command', 'run', 'uptime'])
    expectShape(
      up,
      {
        node: 'string',
        status: 'string',
        sessionid: 'string|null',
        notes: 'array',
        form: 'object|null',
        payload: 'array|null',
      },
      'command run uptime',
    )
    expectEachShape(up.notes, {type: 'string', text: 'string'}, 'notes')
    expect(up.notes[0].type).toBe('info')
  })

  it('capabilities: every operation available on Prosody with the module', async () => {
    const res = await ok(['capabilities'])
    expectShape(
      res,
      {to: 'string', server: 'object', commandCount: 'number', operations: 'array'},
      'capabilities',
    )
    expectShape(res.server, {name: 'string|null', version: 'string|null', family: 'string|null'}, 'server')
    expectEachShape(
      res.operations,
      {
        operation: 'string',
        available: 'boolean',
        via: 'string|null',
        node: 'string|null',
        partial: 'string|boolean|null',
        hint: 'string|null',
      },
      'operations',
    )
    expect(res.operations.filter((o: any) => !o.available)).toEqual([])
  })

  it('account create: one account (generated password), then a duplicate (65)', async () => {
    const jid = `${uniqueUser('uxjc')}@${server.domain}`
    const res = await ok(['account', 'create', jid])
    expectShape(res, CREATE, 'account create')
    expectShape(res.summary, SUMMARY, 'summary')
    expectEachShape(res.created, {jid: 'string', password: 'string?'}, 'created')
    expect(res.created).toHaveLength(1)
    expect(res.created[0].jid).toBe(jid)
    expect(typeof res.created[0].password).toBe('string')
    expect(res.summary).toMatchObject({done: 1, skipped: 0, failed: 0, notAttempted: 0})
    const dup = await fails(['account', 'create', jid], 65)
    expect(dup.error.reason).toBe('account-exists')
    expect(dup.error.message).toContain(jid)
  })

  it('account create --from-file, partly done: exit 2, ok false, result and error, 0600 file', async () => {
    const existing = await newAccount('uxjx')
    const good = `${uniqueUser('uxjg')}@${server.domain}`
    const file = join(scratch, `${uniqueUser('bulk')}.txt`)
    writeFileSync(
      file,
      `# comment\n${good},pw-good-12345\nnot a jid@${server.domain},pw\n${existing.jid},pw-x-12345\n`,
    )
    const r = await json(['account', 'create', '--from-file', file])
    const doc = oneJson(r)
    expect(r.exitCode, r.stdout).toBe(2)
    expect(doc.ok).toBe(false)
    expectShape(doc.error, {code: 'number', reason: 'string', message: 'string'}, 'error')
    expect(doc.error).toMatchObject({code: 2, reason: 'partial'})
    const res = doc.result
    expectShape(res, CREATE, 'account create')
    expectShape(res.summary, SUMMARY, 'summary')
    expect(res.summary).toMatchObject({done: 1, skipped: 0, failed: 2, notAttempted: 0})
    expect(res.created).toEqual([{jid: good}]) // password given: not echoed back
    expectEachShape(res.failed, FAILED_ITEM, 'failed')
    expect(res.failed.map((f: any) => f.line).sort()).toEqual([3, 4])
    expect(res.failed.find((f: any) => f.line === 4).reason).toBe('account-exists')
    expect(res.failedFile).toBe(`${file}.failed`)
    expect(statSync(res.failedFile).mode & 0o777).toBe(0o600)
    expect(readFileSync(res.failedFile, 'utf8').split('\n').filter(Boolean).sort()).toEqual(
      [`${existing.jid},pw-x-12345`, `not a jid@${server.domain},pw`].sort(),
    )
    expect(r.stdout).not.toContain('pw-good-12345')
  })

  it('account delete --dry-run', async () => {
    const a = await newAccount('uxjdd')
    const dry = await ok(['account', 'delete', a.jid, '--dry-run'])
    expect(dry.dryRun).toBe(true)
    expect(dry.wouldDelete).toEqual([a.jid])
    expect(dry.deleted).toEqual([])
    // issue 16: the dry run asks the server, and says which do not exist or cannot be told
    expectShape(dry, {...DELETE, wouldDelete: 'array', cannotTell: 'array'}, 'account delete --dry-run')
  })

  it('account delete, with a missing account (not an error)', async () => {
    const a = await newAccount('uxjd')
    const missing = `${uniqueUser('uxjnone')}@${server.domain}`
    const res = await ok(['account', 'delete', a.jid, missing, '--yes'])
    expectShape(res, DELETE_RUN, 'account delete')
    expectShape(res.summary, DELETE_SUMMARY, 'account delete summary')
    expect(res).toMatchObject({dryRun: false, deleted: [a.jid], notFound: [missing], notAttempted: []})
  })

  it('block-ip, block-ip list, block-ip remove', async () => {
    const n = 1 + Math.floor(Math.random() * 250)
    const v4 = `192.0.2.${n}`
    const v6 = `2001:db8:${n.toString(16)}::/48`
    const res = await ok(['block-ip', v4, v6, '--expires', '1h', '--reason', 'ux json test'])
    try {
      expectShape(
        res,
        {blocked: 'array', expiresInSeconds: 'number|null', reason: 'string|null', sessionsClosed: 'number'},
        'block-ip',
      )
      expect(res.blocked).toEqual([`${v4}/32`, v6])
      expect(res.expiresInSeconds).toBe(3600)
      expect(res.reason).toBe('ux json test')

      const list = await ok(['block-ip', 'list'])
      expectShape(list, {count: 'number', blocked: 'array'}, 'block-ip list')
      expect(list.count).toBe(list.blocked.length)
      expectEachShape(
        list.blocked,
        {address: 'string', expires: 'string|null', reason: 'string|null', created: 'string|null'},
        'blocked',
      )
      const mine = list.blocked.find((b: any) => b.address === `${v4}/32`)
      expect(mine).toBeDefined()
      expect(mine.reason).toBe('ux json test')
      expect(mine.expires).not.toBeNull()
    } finally {
      const rm = await ok(['block-ip', 'remove', v4, v6])
      expectShape(rm, {removed: 'array', notFound: 'array', via: 'string'}, 'block-ip remove')
      expect(rm.removed.sort()).toEqual([`${v4}/32`, v6].sort())
    }
    const again = await ok(['block-ip', 'remove', v4])
    expect(again).toMatchObject({removed: [], notFound: [`${v4}/32`]})
  })

  // 10 years: nothing another test planted is that old, so these delete nothing anyone needs.
  it.each([[false], [true]])('purge-offline (dry run: %s)', async (dryRun) => {
    const off = await ok(['purge-offline', '--older-than', '3650d', ...(dryRun ? ['--dry-run'] : [])])
    expect(off.olderThanSeconds).toBe(3650 * 86400)
    expect(off.count).toBe(0)
    expectShape(off, PURGE, `purge-offline${dryRun ? ' --dry-run' : ''}`)
    expect(off.dryRun).toBe(dryRun)
  })

  it.each([[false], [true]])('purge-uploads (dry run: %s)', async (dryRun) => {
    const up = await ok(['purge-uploads', '--older-than', '3650d', ...(dryRun ? ['--dry-run'] : [])])
    expect(up).toMatchObject({count: 0, bytes: 0})
    expectShape(up, {...PURGE, bytes: 'number|null'}, `purge-uploads${dryRun ? ' --dry-run' : ''}`)
    expect(up.dryRun).toBe(dryRun)
  })

  it('export-user -o FILE (0600), then the same file again (73)', async () => {
    const a = await newAccount('uxje')
    const file = join(scratch, `${a.local}.xml`)
    const res = await ok(['export-user', a.jid, '-o', file])
    expectShape(
      res,
      {
        jid: 'string',
        file: 'string',
        format: 'string',
        bytes: 'number',
        complete: 'boolean',
        missing: 'array',
        counts: 'object',
        via: 'string',
      },
      'export-user',
    )
    expect(res).toMatchObject({jid: a.jid, file, format: 'xep0227', complete: true, missing: []})
    expect(res.bytes).toBe(statSync(file).size)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(readFileSync(file, 'utf8')).toContain(a.local)
    await fails(['export-user', a.jid, '-o', file], 73)
    await fails(['export-user', a.jid, '-o', '-'], 64)
  })

  it('debug-log status, on, off', async () => {
    const release = await acquire(debugLogLock('prosody'))
    onTestFinished(release)
    const before = await ok(['debug-log', 'status'])
    expectShape(before, DEBUG_LOG, 'debug-log status')
    try {
      const on = await ok(['debug-log', 'on', '--for', '10m'])
      expectShape(on, DEBUG_LOG, 'debug-log on')
      expect(on.active).toBe(true)
      expect(typeof on.expires).toBe('string')
    } finally {
      const off = await ok(['debug-log', 'off'])
      expectShape(off, DEBUG_LOG, 'debug-log off')
      expect(off.active).toBe(false)
      expect(off.wipes).toBe(true)
    }
    expect((await ok(['debug-log', 'status'])).active).toBe(false)
  })

  it('policy apply', async () => {
    const policy = join(scratch, `${uniqueUser('policy')}.policy`)
    writeFileSync(policy, '# ux test\noffline = 3650d\nuploads = 3650d\n')
    const dry = await ok(['policy', 'apply', policy, '--dry-run'])
    expect(dry.dryRun).toBe(true)
    // issue 16: a dry run never claims "done"
    expect(dry.rules.map((r: any) => r.status)).toEqual(['would-apply', 'would-apply'])
    const res = await ok(['policy', 'apply', policy])
    expect(res.file).toBe(policy)
    expectEachShape(
      res.rules,
      {
        rule: 'string',
        value: 'string',
        olderThanSeconds: 'number?',
        status: 'string',
        count: 'number|null?',
        bytes: 'number|null?',
        message: 'string?',
        code: 'number?',
      },
      'rules',
    )
    expect(res.rules.map((r: any) => r.status)).toEqual(['done', 'done'])
    // issue 16: the stable key, the value as written, and the age in seconds
    expect(res.rules.map((r: any) => [r.rule, r.value, r.olderThanSeconds])).toEqual([
      ['offline', '3650d', 3650 * 86400],
      ['uploads', '3650d', 3650 * 86400],
    ])
    expectShape(res, {file: 'string', dryRun: 'boolean', rules: 'array'}, 'policy apply')
    expect(res.dryRun).toBe(false)
  })

  it('XMPPADM_CONTENT_TYPE=json is the same as --json', async () => {
    const r = await run(server, ['capabilities'], {env: {XMPPADM_CONTENT_TYPE: 'json'}})
    expect(r.exitCode).toBe(0)
    expectShape(oneJson(r).result, {to: 'string', operations: 'array'})
  })
})

describe('--json errors: still exactly one JSON document on stdout', () => {
  // Independent runs, side by side.
  it('invalid values (65), before anything is sent', async () => {
    const durations = await Promise.all(
      ['soon', '0d', '-7d', '7'].map((bad) => fails(['purge-offline', '--older-than', bad], 65)),
    )
    for (const doc of durations) expect(doc.error.message).toContain('--older-than')
    await Promise.all([
      fails(['debug-log', 'on', '--for', 'a while'], 65),
      fails(['block-ip', '192.0.2.1', '--expires', '0h'], 65),
      fails(['block-ip', '999.1.1.1'], 65),
      fails(['account', 'create', `two words@${server.domain}`], 65),
    ])
  })

  it('usage errors (64): missing flag, unknown flag, missing argument, no account, no --yes', async () => {
    await Promise.all([
      fails(['purge-offline'], 64),
      fails(['commands', '--bogus'], 64),
      fails(['export-user'], 64),
      fails(['account', 'create'], 64),
      fails(['account', 'delete', server.user.jid], 64), // off a terminal without --yes
      fails(['command', 'run', 'http://jabber.org/protocol/admin#delete-user'], 64),
    ])
  })

  it('config, connection: no password (78), unreadable (66), refused (75), bad password (79)', async () => {
    const [noPw] = await Promise.all([
      fails(['commands'], 78, {env: {XMPPADM_PASSWORD_FILE: undefined}}),
      fails(['policy', 'apply', join(scratch, 'no-such.policy')], 66),
      fails(['account', 'create', '--from-file', join(scratch, 'no-such.txt')], 66),
      fails(['commands'], 75, {env: {XMPPADM_SERVER: '127.0.0.1:1'}}),
      fails(['commands'], 79, {env: {XMPPADM_PASSWORD_FILE: secretFile('wrong-password\n')}}),
    ])
    expect(`${noPw.error.message} ${noPw.error.hint}`).toMatch(/--password-file/)
  })

  it('a server-side failure of command run (unknown node)', async () => {
    const r = await json(['command', 'run', 'urn:xmppadm:test:no-such-node'])
    const doc = oneJson(r)
    expect(r.exitCode).not.toBe(0)
    expect(r.exitCode).not.toBe(1)
    expectErrorDoc(doc, r.exitCode)
  })
})
