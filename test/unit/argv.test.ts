import {expect, it} from 'vitest'
import {leadingOptionsLast} from '../../src/argv.js'

it('moves global options given before the command behind it', () => {
  expect(leadingOptionsLast(['--profile', 'prod', 'purge-offline', '--older-than', '7d', '--quiet'])).toEqual(
    ['purge-offline', '--older-than', '7d', '--quiet', '--profile', 'prod'],
  )
  expect(leadingOptionsLast(['-p', 'x', '--json', '--timeout=5', 'block-ip', 'list'])).toEqual([
    'block-ip',
    'list',
    '-p',
    'x',
    '--json',
    '--timeout=5',
  ])
  expect(leadingOptionsLast(['account', 'create', 'a@b'])).toEqual(['account', 'create', 'a@b'])
  expect(leadingOptionsLast(['--json'])).toEqual(['--json'])
})

// oclif reads a piped stdin into an argument that was not given (and drops what arrived within its
// 10 ms wait): "--from-file -" and runbook pipes need every argument to leave stdin alone.
it('no command argument reads stdin', async () => {
  const {readdirSync} = await import('node:fs')
  const {join} = await import('node:path')
  const root = new URL('../../src/commands/', import.meta.url).pathname
  const files = readdirSync(root, {recursive: true, encoding: 'utf8'}).filter((f) => f.endsWith('.ts'))
  let args = 0
  for (const f of files) {
    const cmd = (await import(join(root, f))).default as {args?: Record<string, {ignoreStdin?: boolean}>}
    for (const [name, arg] of Object.entries(cmd.args ?? {})) {
      args++
      expect(arg.ignoreStdin, `${f}: argument ${name}`).toBe(true)
    }
  }
  expect(args).toBeGreaterThanOrEqual(7)
})
