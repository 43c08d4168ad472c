// The documented --json shapes (README "JSON output"), checked structurally.
import {expect} from 'vitest'

export function expectOkEnvelope(doc: any): any {
  expect(doc).toMatchObject({ok: true})
  expect(doc).toHaveProperty('result')
  return doc.result
}

export function expectErrorEnvelope(doc: any, code: number): void {
  expect(doc.ok).toBe(false)
  expect(doc.error.code).toBe(code)
  expect(typeof doc.error.reason).toBe('string')
  expect(typeof doc.error.message).toBe('string')
}

export function expectCommandList(result: any): void {
  expect(typeof result.to).toBe('string')
  expect(result.count).toBe(result.commands.length)
  for (const c of result.commands) {
    expect(typeof c.node).toBe('string')
    expect(typeof c.jid).toBe('string')
  }
}

export function expectCommandResult(result: any): void {
  expect(typeof result.node).toBe('string')
  expect(['completed', 'executing', 'canceled']).toContain(result.status)
  expect(Array.isArray(result.notes)).toBe(true)
  for (const n of result.notes) expect(['info', 'warn', 'error']).toContain(n.type)
  if (result.form) {
    expect(Array.isArray(result.form.fields)).toBe(true)
    expect(typeof result.form.values).toBe('object')
  }
}
