// Issue 16: what people and scripts read. Tab-separated tables stay one record a line when a field
// has several values (checked with cut and awk); the bulk progress line shows done/total,
// percentage and time left where the input is a regular file; man pages keep a multi-line example
// together.
import {execFileSync} from 'node:child_process'
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, describe, expect, it, vi} from 'vitest'
import {Progress, countItems} from '../../src/bulk/progress.js'
import {renderCommandResponse} from '../../src/output/render-command.js'
import {renderTable} from '../../src/output/table.js'
import type {CommandResponse} from '../../src/protocol/adhoc.js'
import type {FormField} from '../../src/protocol/dataform.js'

const field = (v: string, type: FormField['type'], label: string, values: string[]): FormField => ({
  var: v,
  type,
  label,
  required: false,
  values,
  options: [],
})

// As Prosody answers get-online-users-list and user-stats (values from real captures).
const response: CommandResponse = {
  node: 'http://jabber.org/protocol/admin#user-stats',
  status: 'completed',
  actions: [],
  notes: [],
  payload: [],
  form: {
    type: 'result',
    instructions: [],
    fields: [
      field('FORM_TYPE', 'hidden', '', ['http://jabber.org/protocol/admin']),
      field('ipaddresses', 'text-multi', 'IP Addresses', ['127.0.0.1', '127.0.0.5', '::1']),
      field('rostersize', 'text-single', 'Roster size', ['2']),
      field('onlineuserjids', 'jid-multi', 'Online users', ['a@localhost', 'b@localhost']),
    ],
    reported: [field('jid', 'jid-single', 'JID', []), field('groups', 'text-multi', 'Groups', [])],
    items: [
      [
        field('jid', 'jid-single', '', ['c@localhost']),
        field('groups', 'text-multi', '', ['Friends', 'Work']),
      ],
      [field('jid', 'jid-single', '', ['d@localhost']), field('groups', 'text-multi', '', ['tab\there'])],
    ],
  },
}

function asTty<T>(tty: boolean, fn: () => Promise<T>): Promise<T> {
  const before = process.stdout.isTTY
  Object.defineProperty(process.stdout, 'isTTY', {value: tty, configurable: true})
  return fn().finally(() =>
    Object.defineProperty(process.stdout, 'isTTY', {value: before, configurable: true}),
  )
}

const sh = (script: string, input: string) => execFileSync('sh', ['-c', script], {input, encoding: 'utf8'})

describe('command run tables', () => {
  it('tab-separated: a line a value, the field repeated; cut -f2 and awk read values whole', async () => {
    const text = await asTty(false, () => renderCommandResponse(response, false))
    for (const line of text.split('\n')) expect(line.split('\t'), JSON.stringify(line)).toHaveLength(2)
    expect(sh(`awk -F'\\t' '$1 == "IP Addresses" {print $2}'`, text)).toBe('127.0.0.1\n127.0.0.5\n::1\n')
    expect(sh(`awk -F'\\t' '$1 == "Online users" {print $2}'`, text)).toBe('a@localhost\nb@localhost\n')
    expect(sh(`awk -F'\\t' '$1 == "Roster size" {print $2}'`, text)).toBe('2\n')
    // the result table: one row per item, several values of a cell joined with ", ", no stray tab
    expect(sh('grep @localhost | grep -v Online | cut -f2', text)).toBe('Friends, Work\ntab here\n')
  })

  it('on a terminal, several values share one cell, joined with ", "', async () => {
    const text = await asTty(true, () => renderCommandResponse(response, false))
    expect(text).toContain('127.0.0.1, 127.0.0.5, ::1')
    expect(text).toContain('a@localhost, b@localhost')
  })

  it('renderTable never lets a tab or a line break into a tab-separated cell', async () => {
    const text = await asTty(false, () => renderTable(['a', 'b'], [['x\ty', 'line\nbreak']], false))
    expect(text).toBe('a\tb\nx y\tline break')
  })
})

describe('bulk progress', () => {
  const written: string[] = []
  afterEach(() => {
    vi.restoreAllMocks()
    written.length = 0
  })
  const capture = () =>
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk))
      return true
    })

  it('with a total: done/total, percentage, rate and time left', () => {
    capture()
    const p = new Progress(true, 549, 'creating ')
    for (let i = 0; i < 143; i++) p.tick(false)
    p.done()
    const last = written.filter((w) => w.startsWith('\r')).at(-1)!
    expect(last).toMatch(/^\rcreating \[#{6}\.{18}\] 143\/549 26% \d+\/s ETA \d+(s|m\d\ds)\u001b\[K$/)
  })

  it('without one (a pipe): count and rate', () => {
    capture()
    const p = new Progress(true, undefined, 'blocking ')
    for (let i = 0; i < 12; i++) p.tick(i === 3)
    p.done()
    expect(written.filter((w) => w.startsWith('\r')).at(-1)).toMatch(
      /^\rblocking 12 \d+\/s 1 failed\u001b\[K$/,
    )
  })

  it('a regular file is counted as readLines reads it; stdin and a pipe are not', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xmppadm-progress-'))
    const path = join(dir, 'in.txt')
    writeFileSync(path, '# header\na@x\n\nb@x\n  c@x  \n')
    expect(await countItems(path)).toBe(3)
    expect(await countItems('-')).toBeUndefined()
    expect(await countItems('/dev/stdin')).toBeUndefined()
    expect(await countItems(join(dir, 'missing'))).toBeUndefined()
  })
})

describe('man pages', () => {
  const render = (page: string) =>
    execFileSync('sh', ['-c', `MANWIDTH=200 man -l ${page} 2>/dev/null`], {encoding: 'utf8'})

  it('a multi-line example keeps its lines together (no blank line after each)', () => {
    const policy = render('man/xmppadm-policy-apply.1')
    expect(policy).toMatch(/offline = 7d[^\n]*\n\s+uploads = 14d[^\n]*\n\s+debug_log = off/)
    const main = render('man/xmppadm.1')
    expect(main).toMatch(
      /jid = admin@example\.org\n\s+server = xmpp\.example\.org:5222\n\s+password_command = /,
    )
    // the source: one no-fill block, not a paragraph a line
    expect(readFileSync('man/xmppadm-policy-apply.1', 'utf8')).toMatch(
      /\.nf\noffline = 7d[^\n]*\nuploads = 14d[^\n]*\ndebug_log = off[^\n]*\n\.fi/,
    )
  })
})
