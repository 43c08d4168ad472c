// Builds dist/lite.js (see main.ts): every command in one file, '@oclif/core' replaced by the shim.
// The command registry is generated here from oclif.manifest.json (ids, aliases, files), so there is
// no second list to keep in step: run after `oclif manifest`.
import {readFileSync} from 'node:fs'
import {build} from 'esbuild'

const manifest = JSON.parse(readFileSync('oclif.manifest.json', 'utf8'))
const commands = Object.values(manifest.commands).filter((c) => c.pluginType === 'core')
// dist/commands/account/create.js is built from src/commands/account/create.ts
const source = (c) => `../${c.relativePath.slice(1).join('/').replace(/\.js$/, '.ts')}`
const entry = `
import {lookup as lookupIn, run as runWith} from './main.ts'
export const COMMANDS = {
${commands.map((c) => `  ${JSON.stringify(c.id)}: () => import(${JSON.stringify(source(c))}),`).join('\n')}
}
export const ALIASES = ${JSON.stringify(
  Object.fromEntries(
    commands.flatMap((c) => [...c.aliases, ...(c.hiddenAliases ?? [])].map((a) => [a, c.id])),
  ),
)}
const registry = {commands: COMMANDS, aliases: ALIASES}
export const lookup = (argv) => lookupIn(argv, registry)
export const run = (argv) => runWith(argv, registry)
// bin/run.js reorders the command line with it; the lite-parity test parses with the shim.
export {leadingOptionsLast} from '../argv.ts'
export {NeedsFullCli, parseArgv} from './oclif-shim.ts'
export {parseInput} from '../base-command.ts'
`

await build({
  stdin: {contents: entry, resolveDir: 'src/lite', sourcefile: 'lite-entry.ts', loader: 'ts'},
  outfile: 'dist/lite.js',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  alias: {'@oclif/core': './src/lite/oclif-shim.ts'},
  // Loaded only when a table or a prompt is shown: stays in node_modules.
  external: ['cli-table3', '@inquirer/prompts'],
  // Bundled CommonJS (ltx) requires Node built-ins.
  banner: {
    js:
      "import {createRequire as __xmppadmRequire} from 'node:module'; const require = " +
      '__xmppadmRequire(import.meta.url);',
  },
  legalComments: 'none',
  logLevel: 'warning',
})
