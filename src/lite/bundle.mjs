// Builds dist/lite.js (see main.ts): every command in one file, '@oclif/core' replaced by the shim.
import {build} from 'esbuild'

await build({
  entryPoints: ['src/lite/main.ts'],
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
    js: "import {createRequire as __xmppadmRequire} from 'node:module'; const require = __xmppadmRequire(import.meta.url);",
  },
  legalComments: 'none',
  logLevel: 'warning',
})
