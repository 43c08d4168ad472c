// --all-hosts / --hosts (src/cli/hosts.ts, src/ops/hosts.ts): the host list, the exit of a run on
// several hosts (the worst host's), and the report's table.
import {describe, expect, it} from 'vitest'
import {type HostOutcome, hostsTable, settleHosts} from '../../src/cli/hosts.js'
import {parseHostList} from '../../src/ops/hosts.js'

const ok = (host: string): HostOutcome<number> => ({host, ok: true, code: 0, text: 'deleted 1', result: 1})
const failed = (host: string, code: number): HostOutcome<number> => ({
  host,
  ok: false,
  code,
  text: `error: failed with ${code}`,
  error: {code, reason: 'r', message: `failed with ${code}`},
})

describe('--hosts', () => {
  it('takes comma-separated hosts, trimmed and lower-cased, each once, in order', () => {
    expect(parseHostList(' B.example ,a.example,b.example,,')).toEqual(['b.example', 'a.example'])
  })

  it('refuses an empty list and what is not a host name (usage, 64)', () => {
    for (const bad of ['', ',', 'user@example.org', 'a.example,with space'])
      expect(() => parseHostList(bad)).toThrow(expect.objectContaining({exitCode: 64}))
  })
})

describe('a run on several hosts', () => {
  it('succeeds when every host did', () => {
    const s = settleHosts([ok('a'), ok('b')])
    expect(s.error).toBeUndefined()
    expect(s.result.hosts.map((h) => h.host)).toEqual(['a', 'b'])
  })

  it("exits with the worst host's code and names the hosts that did not succeed", () => {
    const s = settleHosts([ok('a'), failed('b', 2), failed('c', 77), failed('d', 69)], {file: 'p'})
    expect(s.error?.exitCode).toBe(77)
    expect(s.error?.message).toBe('3 of 4 hosts did not succeed: b (2), c (77), d (69)')
    expect(s.result).toMatchObject({file: 'p', hosts: [{host: 'a'}, {host: 'b'}, {host: 'c'}, {host: 'd'}]})
  })

  it('a partly done host alone is a partly done run (2)', () => {
    expect(settleHosts([ok('a'), failed('b', 2)]).error?.exitCode).toBe(2)
  })

  it('reports a host a line: its result, or what went wrong and its exit code', async () => {
    const table = await hostsTable([ok('a.example'), failed('b.example', 77)], false)
    // not a terminal here: tab-separated lines
    expect(table.split('\n')).toEqual([
      'host\tresult',
      'a.example\tdeleted 1',
      'b.example\terror: failed with 77 (exit 77)',
    ])
  })
})
