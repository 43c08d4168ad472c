// oclif's own route to a fast start, built next to the lite path so that `npm run bench` measures
// both (src/lite/main.ts keeps the lite path only while it is clearly faster). The standard route,
// as oclif documents it: "explicit" command discovery (package.json oclif.commands names a module
// that exports every command class) and one esbuild bundle of the commands WITH @oclif/core in it.
// The help and autocomplete plugins are left out (they would load a second copy of @oclif/core from
// node_modules); a real adoption would bundle them too, which can only cost more.
import * as fs from 'node:fs'
import * as path from 'node:path'
import {runOk} from './lib.js'

/**
 * Copies the build in `root` to `root`-oclif and builds the standard route there. Returns the path
 * of its bin script (run it like bin/run.js).
 */
export async function buildOclifRoute(root, repo) {
  const dir = `${root}-oclif`
  fs.rmSync(dir, {recursive: true, force: true})
  fs.mkdirSync(dir)
  for (const f of ['dist', 'package.json', 'oclif.manifest.json', 'server'])
    if (fs.existsSync(path.join(root, f))) fs.cpSync(path.join(root, f), path.join(dir, f), {recursive: true})
  fs.symlinkSync(path.join(repo, 'node_modules'), path.join(dir, 'node_modules'))

  // The module explicit discovery loads: every command class by id, from the manifest.
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'oclif.manifest.json'), 'utf8'))
  const commands = Object.values(manifest.commands).filter((c) => c.pluginType === 'core')
  const entry = [
    ...commands.map((c, i) => `import C${i} from './${c.relativePath.slice(1).join('/')}'`),
    `export const COMMANDS = {${commands.map((c, i) => `${JSON.stringify(c.id)}: C${i}`).join(', ')}}`,
    "export {execute} from '@oclif/core'",
  ].join('\n')
  fs.writeFileSync(path.join(dir, 'dist/oclif-entry.js'), `${entry}\n`)
  const {build} = await import('esbuild')
  await build({
    entryPoints: [path.join(dir, 'dist/oclif-entry.js')],
    outfile: path.join(dir, 'dist/oclif-bundle.js'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // as the lite bundle: loaded only when a table or a prompt is shown; never loaded at run time
    external: ['cli-table3', '@inquirer/prompts', 'typescript', 'ts-node', 'tsx'],
    banner: {js: "import {createRequire as __r} from 'node:module'; const require = __r(import.meta.url);"},
    legalComments: 'none',
    logLevel: 'warning',
  })
  const pkgFile = path.join(dir, 'package.json')
  const pkg = JSON.parse(fs.readFileSync(pkgFile, 'utf8'))
  pkg.oclif.commands = {strategy: 'explicit', target: './dist/oclif-bundle.js', identifier: 'COMMANDS'}
  pkg.oclif.plugins = []
  fs.writeFileSync(pkgFile, `${JSON.stringify(pkg, null, 2)}\n`)
  await runOk('oclif manifest (explicit route)', path.join(repo, 'node_modules/.bin/oclif'), ['manifest'], {
    cwd: dir,
  })
  fs.mkdirSync(path.join(dir, 'bin'))
  const bin = path.join(dir, 'bin/run.js')
  fs.writeFileSync(
    bin,
    "#!/usr/bin/env node\nconst {execute} = await import('../dist/oclif-bundle.js')\n" +
      'await execute({dir: import.meta.url, args: process.argv.slice(2)})\n',
  )
  return bin
}
