// The README's exit-code table is the documented contract: it must match the code's table.
import {readFileSync} from 'node:fs'
import {expect, it} from 'vitest'
import {exitCodeTable} from '../../src/errors.js'

it('README lists every exit code exactly as src/errors.ts defines it', () => {
  const readme = readFileSync('README.md', 'utf8')
  for (const [code, name, text] of exitCodeTable) expect(readme).toContain(`| ${code} | ${name} | ${text} |`)
})

it('README documents every command', () => {
  const readme = readFileSync('README.md', 'utf8')
  const manifest = JSON.parse(readFileSync('oclif.manifest.json', 'utf8'))
  for (const id of Object.keys(manifest.commands))
    expect(readme).toContain(`xmppadm ${id.replace(/:/g, ' ')}`)
})
