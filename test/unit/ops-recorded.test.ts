// The operations, in process, against what real servers answered (test/fixtures/captures, recorded
// from Prosody 13, ejabberd 24.12 and ejabberd 26.07): each runs its real code path (strategy,
// one-shot command request, form, failure detection) on a session that replays the answers. The
// same operations run against the live servers in test/integration/.
import {describe, expect, it} from 'vitest'
import {exitCodeOf} from '../../src/errors.js'
import {accountExists, createAccount, accountDelete} from '../../src/ops/accounts.js'
import {blockIpRemove} from '../../src/ops/block-ip.js'
import {debugLogOff, debugLogStatus} from '../../src/ops/debug-log.js'
import {admin, api} from '../../src/ops/nodes.js'
import {perform, ready} from '../../src/ops/operation.js'
import {purgeOffline} from '../../src/ops/purge.js'
import {commandResponseJson, renderCommandResponse} from '../../src/output/render-command.js'
import {runCommand} from '../../src/protocol/runner.js'
import {Replay, answer, answerWhere, context} from '../helpers/replay.js'

const XEP0133 = [admin('add-user'), admin('delete-user'), admin('user-stats'), admin('get-user-roster')]
const prosody = (...answers: Parameters<typeof answer>[]) => {
  const session = new Replay(answers.map(([f, n]) => answer(f, n)))
  return {session, ctx: context(session, {nodes: XEP0133, family: 'prosody'})}
}

describe('accounts on Prosody 13 (XEP-0133)', () => {
  it('add-user: one request with the password twice; done', async () => {
    const {session, ctx} = prosody(['prosody-13--02-add-user-oneshot-no-execute.xml', -1])
    await createAccount(ctx, 'carol@localhost', 'pw-secret-1')
    expect(session.asked).toEqual([
      {
        node: admin('add-user'),
        action: 'execute',
        values: {
          FORM_TYPE: ['http://jabber.org/protocol/admin'],
          accountjid: ['carol@localhost'],
          password: ['pw-secret-1'],
          'password-verify': ['pw-secret-1'],
        },
      },
    ])
  })

  it('add-user answered with an error note: the account exists (65, account-exists)', async () => {
    const {ctx} = prosody(['prosody-13--04-add-user-already-exists.xml', -1])
    const e = await createAccount(ctx, 'alice@localhost', 'pw-secret-1').catch((error: unknown) => error)
    expect(e).toMatchObject({reason: 'account-exists', message: 'account alice@localhost already exists'})
    expect(exitCodeOf(e)).toBe(65)
  })

  it('an account on another host is refused before anything is sent', async () => {
    const {session, ctx} = prosody()
    await expect(createAccount(ctx, 'alice@example.org', 'pw-secret-1')).rejects.toMatchObject({exitCode: 65})
    expect(session.asked).toEqual([])
  })

  it('delete: user-stats first; an account it does not know is "not found", nothing deleted', async () => {
    const {session, ctx} = prosody(['prosody-13--26-user-stats-nonexistent.xml', -1])
    expect(await perform(ctx, accountDelete, 'nobody@localhost')).toBe(false)
    expect(session.asked.map((a) => a.node)).toEqual([admin('user-stats')])
  })

  it('delete: an account user-stats knows is deleted', async () => {
    const {session, ctx} = prosody(['prosody-13--25-user-stats.xml', -1], ['38-delete-user-mixed.xml', -1])
    expect(await perform(ctx, accountDelete, 'frank@localhost')).toBe(true)
    expect(session.asked.map((a) => a.node)).toEqual([admin('user-stats'), admin('delete-user')])
    expect(session.asked[1].values.accountjids).toEqual(['frank@localhost'])
    expect(session.done).toBe(true)
  })

  it('a dry run asks user-stats: true, false', async () => {
    const yes = prosody(['prosody-13--25-user-stats.xml', -1])
    const no = prosody(['prosody-13--26-user-stats-nonexistent.xml', -1])
    expect(await accountExists(yes.ctx, 'alice@localhost')).toBe(true)
    expect(await accountExists(no.ctx, 'nobody@localhost')).toBe(false)
  })

  it('a non-admin: the probe of add-user is refused, so the account may not do it (77)', async () => {
    const session = new Replay([answer('75-nonadmin-execute-add-user.xml', 0)])
    const ctx = context(session, {nodes: [], family: 'prosody'})
    const e = await createAccount(ctx, 'x@localhost', 'pw-secret-1').catch((error: unknown) => error)
    expect(e).toMatchObject({reason: 'forbidden'})
    expect(exitCodeOf(e)).toBe(77)
  })
})

describe('accounts on ejabberd 24.12 (XEP-0133)', () => {
  const ejabberd = (...answers: Parameters<typeof answer>[]) => {
    const session = new Replay(answers.map(([f, n]) => answer(f, n)))
    return {session, ctx: context(session, {nodes: XEP0133, family: 'ejabberd'})}
  }

  it('add-user answered with conflict: the account exists', async () => {
    const {ctx} = ejabberd(['02-add-user-err-exists.xml', 0])
    await expect(createAccount(ctx, 'alice@localhost', 'pw-secret-1')).rejects.toMatchObject({
      reason: 'account-exists',
      exitCode: 65,
    })
  })

  it('delete-user: done, or item-not-found for an account not there (no user-stats first)', async () => {
    const done = ejabberd(['ejabberd-24.12--02-delete-user.xml', -1])
    expect(await perform(done.ctx, accountDelete, 'dave@localhost')).toBe(true)
    expect(done.session.asked.map((a) => a.node)).toEqual([admin('delete-user')])
    const gone = ejabberd(['ejabberd-24.12--02-delete-user-err-nonexistent.xml', -1])
    expect(await perform(gone.ctx, accountDelete, 'nobody@localhost')).toBe(false)
  })
})

describe('ejabberd 26.07 API (mod_adhoc_api)', () => {
  const API = [
    api('register'),
    api('unregister'),
    api('check_account'),
    api('get_loglevel'),
    api('set_loglevel'),
  ]
  const ejabberd = (...answers: ReturnType<typeof answer>[]) => {
    const session = new Replay(answers)
    return {
      session,
      ctx: context(session, {
        nodes: [...API, api('delete_old_messages'), api('unban_ip')],
        family: 'ejabberd',
      }),
    }
  }
  const errorLabel = (label: string) => (el: ReturnType<typeof answer>) =>
    el.toString().includes(`label="${label}"`)

  it('register answered "Error 409": the account exists', async () => {
    const {ctx} = ejabberd(answerWhere('api-register.xml', errorLabel('Error 409')))
    await expect(createAccount(ctx, 'alice@localhost', 'pw-secret-1')).rejects.toMatchObject({
      reason: 'account-exists',
    })
  })

  it('delete: check_account first (res 1: not found, nothing unregistered; res 0: unregister)', async () => {
    const gone = ejabberd(answer('ejabberd-26.07--api-check_account.xml', 3))
    expect(await perform(gone.ctx, accountDelete, 'nobody@localhost')).toBe(false)
    expect(gone.session.asked.map((a) => a.node)).toEqual([api('check_account')])
    const there = ejabberd(
      answer('ejabberd-26.07--api-check_account.xml', 1),
      answer('ejabberd-26.07--api-unregister.xml', 1),
    )
    expect(await perform(there.ctx, accountDelete, 'alice@localhost')).toBe(true)
    expect(there.session.asked[1]).toMatchObject({
      node: api('unregister'),
      values: {user: ['alice'], host: ['localhost']},
    })
  })

  it('debug-log status and off through the log level; off restores what on saved (else info)', async () => {
    const {session, ctx} = ejabberd(
      answer('ejabberd-26.07--api-get_loglevel.xml', 1),
      answer('ejabberd-26.07--api-set_loglevel.xml', 5),
    )
    const status = await debugLogStatus(ctx)
    expect(status).toMatchObject({via: 'ejabberd API', wipes: false})
    expect(typeof status.active).toBe('boolean')
    const off = await debugLogOff(ctx)
    expect(off).toMatchObject({active: false, via: 'ejabberd API'})
    expect(session.asked[1]).toMatchObject({node: api('set_loglevel'), values: {loglevel: [off.level]}})
  })

  it('purge-offline in whole days, rounded up, no count', async () => {
    const {session, ctx} = ejabberd(answer('ejabberd-26.07--api-delete_old_messages.xml', 1))
    const r = await purgeOffline(ctx, {seconds: 36 * 3600, dryRun: false})
    expect(r).toMatchObject({count: null, olderThanSeconds: 2 * 86400, via: 'ejabberd API'})
    expect(r.notes.join(' ')).toMatch(/rounded up to 2 day/)
    expect(session.asked[0]).toMatchObject({node: api('delete_old_messages'), values: {days: ['2']}})
  })

  it('unban_ip: partial (mod_fail2ban only), one request an address', async () => {
    const session = new Replay([answer('api-unban_ip.xml', 1)])
    const ctx = context(session, {nodes: [api('unban_ip')], family: 'ejabberd'})
    const unblock = await ready(ctx, blockIpRemove)
    expect(unblock.strategy).toMatchObject({via: 'ejabberd API', partial: expect.stringMatching(/fail2ban/)})
    const out = await unblock.run(['127.0.0.9/32'])
    expect(out.removed.length + out.notFound.length).toBe(1)
  })
})

describe('command run: what a result carries next to its fields (Prosody get-user-roster)', () => {
  const roster = async () => {
    const session = new Replay([
      answer('prosody-13--23-get-user-roster.xml', 0),
      answer('prosody-13--23-get-user-roster.xml', 1),
    ])
    const {response} = await runCommand(session, {
      to: 'localhost',
      node: admin('get-user-roster'),
      values: new Map([['accountjid', ['alice@localhost']]]),
    })
    return response
  }

  it('the roster inside the result form is printed as a table', async () => {
    const text = await renderCommandResponse(await roster(), false)
    expect(text).toMatch(/^jid\tname\tsubscription\task\tgroups$/m)
    expect(text).toMatch(/^bob@localhost\tBob\tnone\tsubscribe\tFriends$/m)
    expect(text).toMatch(/^carol@example.org\tCarol\tnone\t\t$/m)
  })

  it('--json: the element as XML, and the roster parsed', async () => {
    const json = commandResponseJson(await roster())
    expect(json.payload).toEqual([expect.stringMatching(/^<query xmlns="jabber:iq:roster">/)])
    expect(json.roster).toEqual([
      {jid: 'bob@localhost', name: 'Bob', subscription: 'none', ask: 'subscribe', groups: ['Friends']},
      {jid: 'carol@example.org', name: 'Carol', subscription: 'none', groups: []},
    ])
  })
})
