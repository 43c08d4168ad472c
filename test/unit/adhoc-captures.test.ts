// Parsing and failure detection on stanzas recorded from real Prosody 13 and ejabberd servers.
import {describe, expect, it} from 'vitest'
import {commandFailure, parseCommandResponse} from '../../src/protocol/adhoc.js'
import {formRows, formType, formValues} from '../../src/protocol/dataform.js'
import {exitCodeOf} from '../../src/errors.js'
import {StanzaError, parseStanzaError} from '../../src/xmpp/stanza-error.js'
import {serverStanzas} from '../fixtures/captures.js'

const node = 'n'

describe('Prosody 13', () => {
  it('reads the add-user form: FORM_TYPE, types, required, actions', () => {
    const [first] = serverStanzas('03-add-user-password-mismatch.xml')
    const resp = parseCommandResponse(first, node)
    expect(resp.status).toBe('executing')
    expect(resp.defaultAction).toBe('complete')
    expect(resp.actions).toEqual(['next', 'complete'])
    expect(formType(resp.form!)).toBe('http://jabber.org/protocol/admin')
    const jid = resp.form!.fields.find((f) => f.var === 'accountjid')!
    expect(jid).toMatchObject({type: 'jid-single', required: true})
    expect(resp.form!.fields.find((f) => f.var === 'password')!.type).toBe('text-private')
  })

  it('treats an error note inside a completed IQ result as a failure', () => {
    const [, second] = serverStanzas('03-add-user-password-mismatch.xml')
    expect(second.attrs.type).toBe('result')
    const resp = parseCommandResponse(second, node)
    expect(resp.status).toBe('completed')
    const err = commandFailure(resp)
    expect(exitCodeOf(err)).toBe(65)
    expect(err?.message).toMatch(/match/i)
  })

  it('reports partial deletion as an info note, not a failure', () => {
    const stanzas = serverStanzas('38-delete-user-mixed.xml')
    const resp = parseCommandResponse(stanzas[stanzas.length - 1], node)
    expect(resp.notes[0]?.type).toBe('info')
    expect(commandFailure(resp)).toBeUndefined()
  })

  it('maps service-unavailable (unknown node) and forbidden (non-admin) to their exit codes', () => {
    const [unknown] = serverStanzas('66-unknown-node.xml')
    expect(exitCodeOf(new StanzaError(parseStanzaError(unknown), node))).toBe(69)
    const [forbidden] = serverStanzas('75-nonadmin-execute-add-user.xml')
    expect(exitCodeOf(new StanzaError(parseStanzaError(forbidden), node))).toBe(77)
  })
})

describe('ejabberd', () => {
  it('24.12: an existing account is an IQ conflict error', () => {
    const [err] = serverStanzas('02-add-user-err-exists.xml')
    const info = parseStanzaError(err)
    expect(info.condition).toBe('conflict')
    expect(exitCodeOf(new StanzaError(info, node))).toBe(65)
  })

  it('26.07 mod_adhoc_api: a completed result with an "error" field is a failure', () => {
    const responses = serverStanzas('api-register.xml')
      .filter((s) => s.attrs.type === 'result')
      .map((s) => parseCommandResponse(s, 'api-commands/register'))
    const failures = responses
      .filter((r) => r.status === 'completed')
      .map((r) => commandFailure(r))
      .filter(Boolean)
    expect(failures.length).toBeGreaterThan(0)
    expect(failures.some((f) => /Error 409/.test(f!.message))).toBe(true)
    const ok = responses.find((r) => r.status === 'completed' && !commandFailure(r))
    expect(String(formValues(ok!.form!).res)).toMatch(/successfully registered/)
  })

  it('26.07: text-multi results become arrays', () => {
    const responses = serverStanzas('api-get_roster.xml').map((s) =>
      parseCommandResponse(s, 'api-commands/get_roster'),
    )
    const done = responses.find(
      (r) => r.status === 'completed' && r.form?.fields.some((f) => f.var === 'contacts'),
    )
    expect(Array.isArray(formValues(done!.form!).contacts)).toBe(true)
  })

  it('24.12: result forms typed "form" are read as results', () => {
    const responses = serverStanzas('02-get-user-lastlogin.xml').map((s) => parseCommandResponse(s, node))
    const done = responses.find((r) => r.status === 'completed' && r.form)
    expect(done?.form?.type).toBe('form')
    expect(Object.keys(formValues(done!.form!))).toContain('lastlogin')
    expect(formRows(done!.form!)).toEqual([])
  })
})
