// Issues 3 and 10: `capabilities` says exactly which mission operations each test server offers, and
// how. The ejabberd servers here have mod_xmppadm; without it: fallback-ejabberd.test.ts.
import {describe, expect, it} from 'vitest'
import {cliOn, expectNoStack} from '../helpers/cli.js'
import {expectOkEnvelope} from '../helpers/shapes.js'
import {ejabberd24, ejabberd26, prosody, prosody012} from '../helpers/mission.js'

type Row = {available: boolean; via?: string; partial?: boolean}
const yes = (via: string, partial = false): Row => ({available: true, via, partial})

// Every operation through the module, on all four servers; the accounts through XEP-0133.
const WITH_MODULE: Record<string, Row> = {
  'account-create': yes('XEP-0133'),
  'account-delete': yes('XEP-0133'),
  'block-ip': yes('mod_xmppadm'),
  'block-ip-list': yes('mod_xmppadm'),
  'block-ip-remove': yes('mod_xmppadm'),
  'purge-offline': yes('mod_xmppadm'),
  'purge-uploads': yes('mod_xmppadm'),
  'export-user': yes('mod_xmppadm'),
  'import-user': yes('mod_xmppadm'),
  'debug-log': yes('mod_xmppadm'),
}

const EXPECTED: Array<[string, typeof prosody, Record<string, Row>]> = [
  ['prosody (with mod_xmppadm)', prosody, WITH_MODULE],
  ['prosody 0.12 (with mod_xmppadm)', prosody012, WITH_MODULE],
  ['ejabberd 26.07 (with mod_xmppadm)', ejabberd26, WITH_MODULE],
  ['ejabberd 24.12 (with mod_xmppadm)', ejabberd24, WITH_MODULE],
]

describe.each(EXPECTED)('capabilities on %s', (_name, server, expected) => {
  it('--json lists exactly the expected operations, ways and partial notes; hints for the rest', async () => {
    expect(server.xmppadmModule, `mod_xmppadm must be loaded on the test ${server.kind}`).toBe('enabled')
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
      if (op.available) {
        expect(typeof op.node, op.operation).toBe('string')
        if (op.partial) expect(op.partial.length, op.operation).toBeGreaterThan(10)
      } else {
        expect(typeof op.hint, `${op.operation} has a hint`).toBe('string')
        expect(op.hint.length, op.operation).toBeGreaterThan(10)
      }
    }
  })

  it('the table names every operation with yes / partial / no', async () => {
    const r = await cliOn(server, ['capabilities'])
    expect(r.exitCode, r.stderr).toBe(0)
    expectNoStack(r)
    for (const [op, row] of Object.entries(expected)) {
      const line = r.stdout.split('\n').find((l) => l.split(/\s+/)[0] === op)
      expect(line, op).toBeDefined()
      expect(line!.split(/\s+/)[1], op).toBe(row.available ? (row.partial ? 'partial' : 'yes') : 'no')
    }
  })
})
