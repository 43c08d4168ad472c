import {describe, expect, it} from 'vitest'
import {ScramClient, saslPrep} from '../../src/xmpp/sasl/scram.js'
import {chooseMechanism} from '../../src/xmpp/sasl/mechanisms.js'
import {XmppError} from '../../src/xmpp/errors.js'

describe('SCRAM against the RFC test vectors', () => {
  it('SCRAM-SHA-1 (RFC 5802 §5)', async () => {
    const c = new ScramClient({
      hash: 'sha1',
      username: 'user',
      password: 'pencil',
      clientSupportsBinding: false,
      nonce: 'fyko+d2lbbFgONRv9qkxdawL',
    })
    expect(c.initial().toString()).toBe('n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL')
    const final = await c.respond(
      Buffer.from('r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096'),
    )
    expect(final.toString()).toBe(
      'c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=',
    )
    expect(() => c.verify(Buffer.from('v=rmF9pqV8S7suAoZWja4dJRkFsKQ='))).not.toThrow()
  })

  it('SCRAM-SHA-256 (RFC 7677 §3)', async () => {
    const c = new ScramClient({
      hash: 'sha256',
      username: 'user',
      password: 'pencil',
      clientSupportsBinding: false,
      nonce: 'rOprNGfwEbeRWgbNEkqO',
    })
    c.initial()
    const final = await c.respond(
      Buffer.from('r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096'),
    )
    expect(final.toString()).toBe(
      'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,' +
        'p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
    )
    expect(() => c.verify(Buffer.from('v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4='))).not.toThrow()
  })

  it('refuses a server signature that does not verify', async () => {
    const c = new ScramClient({
      hash: 'sha1',
      username: 'user',
      password: 'pencil',
      clientSupportsBinding: false,
      nonce: 'fyko+d2lbbFgONRv9qkxdawL',
    })
    c.initial()
    await c.respond(Buffer.from('r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096'))
    expect(() => c.verify(Buffer.from('v=AAAAAAAAAAAAAAAAAAAAAAAAAAA='))).toThrow(/does not verify/)
    expect(() => c.verify(undefined)).toThrow(/did not prove/)
  })

  it('refuses a foreign nonce, too few iterations and a server error', async () => {
    const mk = () => {
      const c = new ScramClient({
        hash: 'sha1',
        username: 'u',
        password: 'p',
        clientSupportsBinding: false,
        nonce: 'abc',
      })
      c.initial()
      return c
    }
    await expect(mk().respond(Buffer.from('r=zzzdef,s=QSXCR+Q6sek8bf92,i=4096'))).rejects.toThrow(/nonce/)
    await expect(mk().respond(Buffer.from('r=abcdef,s=QSXCR+Q6sek8bf92,i=1'))).rejects.toThrow(/iterations/)
    await expect(mk().respond(Buffer.from('e=other-error'))).rejects.toBeInstanceOf(XmppError)
  })

  it('sends channel binding data with -PLUS; the y flag when it can bind but it is not offered', async () => {
    const plus = new ScramClient({
      hash: 'sha256',
      username: 'u',
      password: 'p',
      clientSupportsBinding: true,
      binding: {type: 'tls-exporter', data: Buffer.from([1, 2, 3])},
      nonce: 'n1',
    })
    expect(plus.initial().toString()).toBe('p=tls-exporter,,n=u,r=n1')
    const resp = await plus.respond(Buffer.from('r=n1xyz,s=QSXCR+Q6sek8bf92,i=4096'))
    expect(resp.toString()).toContain(
      `c=${Buffer.concat([Buffer.from('p=tls-exporter,,'), Buffer.from([1, 2, 3])]).toString('base64')},`,
    )
    const y = new ScramClient({
      hash: 'sha1',
      username: 'u',
      password: 'p',
      clientSupportsBinding: true,
      nonce: 'n2',
    })
    expect(y.initial().toString().startsWith('y,,')).toBe(true)
  })

  it('escapes = and , in the username and applies SASLprep to spaces', () => {
    const c = new ScramClient({
      hash: 'sha1',
      username: 'a=b,c',
      password: 'p',
      clientSupportsBinding: false,
      nonce: 'n',
    })
    expect(c.initial().toString()).toBe('n,,n=a=3Db=2Cc,r=n')
    expect(saslPrep('a\u00a0b\u00adc')).toBe('a bc')
  })
})

describe('mechanism choice', () => {
  const offered = ['PLAIN', 'SCRAM-SHA-1', 'SCRAM-SHA-1-PLUS', 'SCRAM-SHA-256']
  it('prefers channel binding, then the longer hash', () => {
    expect(chooseMechanism(offered, {canBind: true, allowPlain: false})?.name).toBe('SCRAM-SHA-1-PLUS')
    expect(chooseMechanism(offered, {canBind: false, allowPlain: false})?.name).toBe('SCRAM-SHA-256')
    expect(
      chooseMechanism(['SCRAM-SHA-512-PLUS', 'SCRAM-SHA-256-PLUS'], {canBind: true, allowPlain: false})?.name,
    ).toBe('SCRAM-SHA-512-PLUS')
  })
  it('never picks PLAIN unless allowed', () => {
    expect(chooseMechanism(['PLAIN', 'X-OAUTH2'], {canBind: true, allowPlain: false})).toBeUndefined()
    expect(chooseMechanism(['PLAIN'], {canBind: true, allowPlain: true})?.name).toBe('PLAIN')
  })
})
