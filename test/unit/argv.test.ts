import {expect, it} from 'vitest'
import {leadingOptionsLast} from '../../src/argv.js'

it('moves global options given before the command behind it', () => {
  expect(leadingOptionsLast(['--profile', 'prod', 'purge-offline', '--older-than', '7d', '--quiet'])).toEqual(['purge-offline', '--older-than', '7d', '--quiet', '--profile', 'prod'])
  expect(leadingOptionsLast(['-p', 'x', '--json', '--timeout=5', 'block-ip', 'list'])).toEqual(['block-ip', 'list', '-p', 'x', '--json', '--timeout=5'])
  expect(leadingOptionsLast(['account', 'create', 'a@b'])).toEqual(['account', 'create', 'a@b'])
  expect(leadingOptionsLast(['--json'])).toEqual(['--json'])
})
