import {describe, expect, it} from 'vitest'
import {redact, registerSecret} from '../../src/secrets.js'
import {traceElement} from '../../src/xmpp/trace.js'
import {parseXml} from '../fixtures/captures.js'

describe('trace redaction', () => {
  it('blanks SASL payloads', () => {
    const out = traceElement(
      parseXml(
        `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGFkbWluAHNlY3JldA==</auth>`,
      ),
    )
    expect(out).not.toContain('AGFkbWlu')
    expect(out).toContain('[redacted]')
  })

  it('blanks text-private values and their echoes in the same form', () => {
    const out = traceElement(
      parseXml(`<iq><command xmlns='http://jabber.org/protocol/commands'><x xmlns='jabber:x:data' type='submit'>
      <field var='password' type='text-private'><value>hunter2hunter2</value></field></x></command></iq>`),
    )
    expect(out).not.toContain('hunter2hunter2')
  })

  it('blanks registered secrets anywhere, escaped or not', () => {
    registerSecret('s3cr<t&pw')
    expect(redact('echo: s3cr<t&pw and s3cr&lt;t&amp;pw')).toBe('echo: [redacted] and [redacted]')
  })
})
