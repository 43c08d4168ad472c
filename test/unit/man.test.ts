// The man pages come from the same manifest as --help: every command has a page, every flag is
// in it, and each page renders without groff warnings.
import {execFileSync} from 'node:child_process'
import {existsSync, readFileSync} from 'node:fs'
import {describe, expect, it} from 'vitest'
import {globalFlags} from '../../src/cli/flags.js'

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
      // The global flags are on xmppadm.1 (checked below), not on every page.
      if (f.name === 'json' || f.name in globalFlags) continue
      expect(text).toContain(`--${f.name}`)
    }
  })

  it('xmppadm(1) lists the flags every command takes', () => {
    const text = readFileSync('man/xmppadm.1', 'utf8').replace(/\\-/g, '-')
    for (const name of ['json', ...Object.keys(globalFlags)]) expect(text).toContain(`--${name}`)
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
