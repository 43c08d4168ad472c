import {describe, expect, it} from 'vitest'
import {parseAccountJid, parseJid} from '../../src/xmpp/jid.js'
import {buildSubmit, normaliseValues, parseForm} from '../../src/protocol/dataform.js'
import {fillForm, parseFieldArgs} from '../../src/protocol/runner.js'
import {fromWire} from '../../src/errors.js'
import {describeTlsError} from '../../src/xmpp/connection.js'
import {parseServer} from '../../src/xmpp/endpoints.js'
import {parseXml} from '../fixtures/captures.js'

describe('JIDs', () => {
  it('normalises case and keeps the resource', () => {
    expect(parseJid('Grace@LocalHost/Res')).toEqual({local: 'grace', domain: 'localhost', resource: 'Res'})
  })
  it.each([
    '',
    '@example.org',
    'a b@example.org',
    'a@',
    'a@ex ample.org',
    'x\u0000@example.org',
    'a<b@example.org',
    `${'a'.repeat(1024)}@example.org`,
  ])('refuses %j', (bad) => {
    expect(() => parseJid(bad)).toThrow()
  })
  it('account JIDs need a localpart and no resource', () => {
    expect(parseAccountJid('alice', 'example.org')).toBe('alice@example.org')
    expect(() => parseAccountJid('example.org')).toThrow(/localpart/)
    expect(() => parseAccountJid('a@example.org/r')).toThrow(/resource/)
  })
})

describe('--server', () => {
  it('parses host, port, IPv6 and direct TLS', () => {
    expect(parseServer('xmpp.example.org')).toEqual({host: 'xmpp.example.org', port: 5222, directTls: false})
    expect(parseServer('xmpps://xmpp.example.org')).toEqual({
      host: 'xmpp.example.org',
      port: 5223,
      directTls: true,
    })
    expect(parseServer('[::1]:5999')).toEqual({host: '::1', port: 5999, directTls: false})
    expect(() => parseServer('host:99999')).toThrow()
  })

  it('a port that is not a number is a usage error naming where the setting came from (issue 16)', () => {
    for (const [spec, why] of [
      ['127.0.0.1:notaport', 'the port "notaport" is not a number from 1 to 65535'],
      ['xmpp.example.org:', 'the port "" is not a number from 1 to 65535'],
      ['[::1]:x', 'the port "x" is not a number from 1 to 65535'],
      ['2001:db8::1:52x', 'an IPv6 address with a port needs brackets: [2001:db8::1]:5222'],
      ['xmpps://', 'no host name'],
    ]) {
      let error: unknown
      try {
        parseServer(spec, 'XMPPADM_SERVER')
      } catch (e) {
        error = e
      }
      expect(error, spec).toMatchObject({
        exitCode: 64,
        message: `XMPPADM_SERVER ${JSON.stringify(spec)}: ${why}`,
      })
    }
    expect(parseServer('::1')).toEqual({host: '::1', port: 5222, directTls: false})
    expect(parseServer('xmpps://[2001:db8::1]')).toEqual({host: '2001:db8::1', port: 5223, directTls: true})
  })
})

describe('TLS errors point the right way (issue 16)', () => {
  const wrongVersion = Object.assign(new Error('ssl3_get_record:wrong version number'), {
    code: 'ERR_SSL_WRONG_VERSION_NUMBER',
  })
  it('plain text in answer to direct TLS: not TLS there, use STARTTLS or the direct-TLS port', () => {
    const e = fromWire(describeTlsError(wrongVersion, 'h:5222', 'example.org', true))
    expect(e).toMatchObject({exitCode: 80, reason: 'not-tls'})
    expect(e.message).toBe('TLS to h:5222 failed: the server did not answer TLS there (a STARTTLS port?)')
    expect(e.hint).toMatch(/drop xmpps:\/\/ to use STARTTLS.*direct-TLS port/)
  })
  it('an old TLS version is still said to be one', () => {
    const old = Object.assign(new Error('tlsv1 alert protocol version'), {
      code: 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION',
    })
    expect(describeTlsError(old, 'h:5223', 'example.org', true).message).toMatch(/TLS 1\.2 or newer/)
  })
})

describe('forms', () => {
  const form = parseForm(
    parseXml(`<x xmlns='jabber:x:data' type='form'>
    <field var='FORM_TYPE' type='hidden'><value>urn:t</value></field>
    <field var='who' type='jid-multi'><required/></field>
    <field var='flag' type='boolean'/>
    <field var='level' type='list-single'><option><value>a</value></option>
      <option><value>b</value></option></field>
    <field var='untyped'><value>d</value></field>
    <field var='user' type='text-single'><required/></field>
    <field var='user' type='text-single'><required/></field>
  </x>`),
  )

  it('treats a field without type as text-single and keeps defaults', () => {
    expect(form.fields.find((f) => f.var === 'untyped')).toMatchObject({
      type: 'text-single',
      untyped: true,
      values: ['d'],
    })
  })

  it('validates values by type', () => {
    const level = form.fields.find((f) => f.var === 'level')!
    expect(() => normaliseValues(level, ['c'])).toThrow(/not one of a, b/)
    expect(
      normaliseValues(
        form.fields.find((f) => f.var === 'flag')!,
        ['yes'],
      ),
    ).toEqual(['1'])
    expect(() =>
      normaliseValues(
        form.fields.find((f) => f.var === 'who')!,
        ['not a jid'],
      ),
    ).toThrow()
  })

  it('a missing required field is an error naming it', async () => {
    await expect(fillForm(form, new Map([['user', ['u']]]))).rejects.toThrow(/required field who/)
  })

  it('submits each var once, echoes hidden fields, escapes XML', async () => {
    const values = await fillForm(form, parseFieldArgs(['who=a@x', 'who=b@x', 'user=<&>"\'']))
    const xml = buildSubmit(form, values).toString()
    expect(xml.match(/var="user"/g)?.length).toBe(1)
    expect(xml).toContain('<value>urn:t</value>')
    expect(xml).toContain('&lt;&amp;&gt;')
    expect(xml).toContain('<value>a@x</value><value>b@x</value>')
  })
})

describe('DNS SRV order (RFC 2782)', async () => {
  const {orderSrv, resolveEndpoints} = await import('../../src/xmpp/endpoints.js')
  it('lower priority first; weight 0 entries still included', () => {
    const out = orderSrv([
      {name: 'b', port: 1, priority: 20, weight: 0},
      {name: 'a1', port: 1, priority: 10, weight: 60},
      {name: 'a2', port: 1, priority: 10, weight: 40},
    ])
    expect(
      out
        .map((r) => r.name)
        .slice(0, 2)
        .sort(),
    ).toEqual(['a1', 'a2'])
    expect(out[2].name).toBe('b')
  })
  it('falls back to the domain on 5222 without SRV records', async () => {
    expect(await resolveEndpoints('nonexistent.invalid')).toEqual([
      {host: 'nonexistent.invalid', port: 5222, directTls: false},
    ])
  })
})
