// Smoke test of the real-server harness itself (test/servers/): each server is reachable on
// loopback, requires STARTTLS, presents a certificate that verifies against the test CA (and not
// against an unrelated CA), and has the admin/user accounts with the expected rights.
import {describe, expect, it} from 'vitest'
import {randomBytes} from 'node:crypto'
import * as fs from 'node:fs'
import {loadServers, registerAccount, type ServerDescriptor} from '../servers/servers.js'
import {connectStarttls, listCommands, loginPlain} from '../servers/raw-xmpp.js'

const servers = loadServers()
const list: [string, ServerDescriptor][] = [
  ['prosody', servers.prosody],
  ['ejabberd24', servers.ejabberd24],
  ['ejabberd26', servers.ejabberd26],
  ['prosody012', servers.prosody012],
]

describe.each(list)('%s', (_name, s) => {
  const open = (caFile = s.caFile) =>
    connectStarttls({
      host: s.host,
      port: s.port,
      domain: s.domain,
      caFile,
      servername: 'localhost',
      minVersion: 'TLSv1.2',
    })

  it('describes itself', () => {
    expect(s.host).toBe('127.0.0.1')
    expect(s.domain).toBe('localhost')
    expect(s.admin.jid).toBe('admin@localhost')
    expect(s.user.jid).toBe('user@localhost')
    expect(fs.existsSync(s.caFile)).toBe(true)
    expect(fs.existsSync(s.logFile)).toBe(true)
    expect(s.kind).toBe(
      {
        prosody: 'prosody',
        ejabberd24: 'ejabberd-24.12',
        ejabberd26: 'ejabberd-26.07',
        prosody012: 'prosody-0.12',
      }[_name],
    )
  })

  it('STARTTLS verifies against caFile (TLS 1.2+)', async () => {
    const c = await open()
    try {
      expect(c.authorizationError).toBeNull()
      expect(c.authorized).toBe(true)
      expect(['TLSv1.2', 'TLSv1.3']).toContain(c.protocol)
    } finally {
      c.close()
    }
  })

  it('verification against otherCaFile fails', async () => {
    const c = await open(s.otherCaFile)
    try {
      expect(c.authorized).toBe(false)
      expect(String(c.authorizationError)).toMatch(
        /UNABLE_TO_VERIFY_LEAF_SIGNATURE|unable to verify|self.signed|issuer/i,
      )
    } finally {
      c.close()
    }
  })

  it('admin logs in and sees admin commands; user does not; wrong password fails', async () => {
    const a = await open()
    try {
      expect(await loginPlain(a, s.domain, s.admin.jid, s.admin.password)).toBe(true)
      const nodes = await listCommands(a, s.domain)
      expect(nodes).toContain('http://jabber.org/protocol/admin#add-user')
      expect(nodes).toContain('http://jabber.org/protocol/admin#delete-user')
      if (s.kind === 'ejabberd-26.07') {
        expect(nodes).toContain('api-commands/register')
        expect(nodes).toContain('api-commands/delete_old_messages')
      }
    } finally {
      a.close()
    }

    const u = await open()
    try {
      expect(await loginPlain(u, s.domain, s.user.jid, s.user.password)).toBe(true)
      expect(await listCommands(u, s.domain)).not.toContain('http://jabber.org/protocol/admin#add-user')
    } finally {
      u.close()
    }

    const w = await open()
    try {
      expect(await loginPlain(w, s.domain, s.user.jid, `${s.user.password}-wrong`)).toBe(false)
    } finally {
      w.close()
    }
  })

  it('registerAccount() creates an account out of band', async () => {
    const local = `smoke-${randomBytes(4).toString('hex')}`
    const password = randomBytes(12).toString('base64url')
    await registerAccount(s, local, password)
    const c = await open()
    try {
      expect(await loginPlain(c, s.domain, `${local}@${s.domain}`, password)).toBe(true)
    } finally {
      c.close()
    }
  })
})
