// The man pages come from the same manifest as --help: every command has a page, every flag is
// in it, and each page renders without groff warnings.
import {execFileSync} from 'node:child_process'
import {existsSync, readFileSync} from 'node:fs'
import {describe, expect, it} from 'vitest'

const manifest = JSON.parse(readFileSync('oclif.manifest.json', 'utf8'))
const pkg = JSON.parse(readFileSync('package.json', 'utf8'))

describe('man pages', () => {
  const commands = Object.values<any>(manifest.commands).filter((c) => c.pluginType === 'core')
  it.each(commands.map((c) => [c.id, c]))('%s has a page listing its flags', (id, c) => {
    const page = `man/xmppadm-${String(id).replace(/:/g, '-')}.1`
    expect(existsSync(page)).toBe(true)
    expect(pkg.man).toContain(`./${page}`)
    const text = readFileSync(page, 'utf8').replace(/\\-/g, '-')
    for (const f of Object.values<any>(c.flags)) {
      if (f.hidden) continue
      if (
        [
          'json',
          'profile',
          'jid',
          'server',
          'to',
          'password-file',
          'ca-file',
          'insecure',
          'allow-plain',
          'timeout',
          'debug',
          'quiet',
          'no-color',
          'no-input',
        ].includes(f.name)
      )
        continue
      expect(text).toContain(`--${f.name}`)
    }
  })

  it('xmppadm(1) documents every exit code', async () => {
    const {exitCodeTable} = await import('../../src/errors.js')
    const text = readFileSync('man/xmppadm.1', 'utf8')
    for (const [code] of exitCodeTable) expect(text).toContain(`\\fB${code}\\fR`)
  })

  it.each(pkg.man as string[])('%s renders cleanly', (page) => {
    const out = execFileSync('sh', ['-c', `MANWIDTH=80 man --warnings -l ${page} 2>&1 >/dev/null`], {
      encoding: 'utf8',
    })
    expect(out).toBe('')
  })
})
