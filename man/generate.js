#!/usr/bin/env node
// Writes man/xmppadm.1 and one page per command from oclif.manifest.json (the metadata --help
// uses) and the exit-code table in dist/errors.js, so the pages cannot drift from the code.
// Run by `npm run build`; test/unit/man.test.ts checks the committed pages are current.
import {readFileSync, readdirSync, unlinkSync, writeFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

const root = new URL('..', import.meta.url)
const manDir = fileURLToPath(new URL('man/', root))
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'))
const manifest = JSON.parse(readFileSync(new URL('oclif.manifest.json', root), 'utf8'))
const {exitCodeTable} = await import(new URL('dist/errors.js', root).href)
const sections = JSON.parse(readFileSync(new URL('man/sections.json', root), 'utf8'))

const esc = (s) =>
  String(s ?? '')
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .replace(/^([.'])/gm, '\\&$1')
const bin = pkg.oclif.bin
const date = 'xmppadm ' + pkg.version
const cmds = Object.values(manifest.commands)
  .filter((c) => !c.hidden && c.pluginType === 'core')
  .sort((a, b) => a.id.localeCompare(b.id))
const spaced = (id) => id.replace(/:/g, ' ')
const pageName = (id) => `${bin}-${id.replace(/:/g, '-')}`
// The flags every command takes: src/cli/flags.ts, and oclif's --json.
const {globalFlags} = await import(new URL('dist/cli/flags.js', root).href)
const globalFlagNames = new Set(['json', ...Object.keys(globalFlags)])

/**
 * Paragraphs as roff. A run of literal lines (indented by two spaces in a description, or "$ "
 * items in sections.json) is one no-fill block, so a multi-line example keeps its lines together
 * instead of a blank line after each.
 */
function paragraphs(items, isLiteral, literalText) {
  let s = ''
  for (let i = 0; i < items.length;) {
    if (isLiteral(items[i])) {
      const block = []
      while (i < items.length && isLiteral(items[i])) block.push(esc(literalText(items[i++])))
      s += `.PP\n.RS 4\n.nf\n${block.join('\n')}\n.fi\n.RE\n`
    } else s += `.PP\n${esc(items[i++])}\n`
  }
  return s
}

function flagLine(f) {
  const short = f.char ? `\\fB\\-${f.char}\\fR, ` : ''
  const value = f.type === 'option' ? ` \\fI${(f.name.split('-').pop() ?? 'value').toUpperCase()}\\fR` : ''
  const env = f.env ? ` (env \\fB${f.env}\\fR)` : ''
  const def = f.default !== undefined && f.type === 'option' ? ` Default: ${esc(f.default)}.` : ''
  const text = esc(f.summary ?? f.description ?? '')
  return `.TP\n${short}\\fB\\-\\-${esc(f.name)}\\fR${value}\n${text}${def}${env}\n`
}

function examples(c) {
  return (c.examples ?? [])
    .map((e) => (typeof e === 'string' ? {command: e} : e))
    .map(
      (e) =>
        `${e.description ? `${esc(e.description)}:\n` : ''}.PP\n.RS ` +
        `4\n.nf\n${esc(e.command.replace('<%= config.bin %>', bin))}\n.fi\n.RE\n`,
    )
    .join('.PP\n')
}

function usage(c) {
  const args = Object.values(c.args ?? {}).map(
    (a) =>
      (a.required ? `\\fI${a.name.toUpperCase()}\\fR` : `[\\fI${a.name.toUpperCase()}\\fR]`) +
      (c.strict === false ? '...' : ''),
  )
  return `\\fB${bin} ${esc(spaced(c.id))}\\fR ${args.join(' ')} [\\fIOPTIONS\\fR]`
}

function commandPage(c) {
  const own = Object.values(c.flags).filter((f) => !globalFlagNames.has(f.name) && !f.hidden)
  let s =
    `.TH ${pageName(c.id).toUpperCase()} 1 "" "${date}" "xmppadm manual"\n.SH ` +
    `NAME\n${pageName(c.id)} \\- ${esc(c.summary)}\n.SH SYNOPSIS\n${usage(c)}\n`
  if (c.aliases?.length)
    s += `.PP\nAlias: ${c.aliases.map((a) => `\\fB${bin} ${esc(spaced(a))}\\fR`).join(', ')}\n`
  s += `.SH DESCRIPTION\n${esc(c.summary)}\n`
  if (c.description)
    s += paragraphs(
      c.description.split('\n'),
      (l) => l.startsWith('  '),
      (l) => l.slice(2),
    )
  const args = Object.values(c.args ?? {})
  const arg = (a) => `.TP\n\\fI${a.name.toUpperCase()}\\fR\n${esc(a.description)}\n`
  if (args.length) s += `.SH ARGUMENTS\n${args.map(arg).join('')}`
  if (own.length) s += `.SH OPTIONS\n${own.map(flagLine).join('')}`
  s +=
    `.PP\nThe connection and output options of \\fB${bin}\\fR(1) apply too, and ` +
    `\\fB\\-\\-json\\fR prints one JSON document on stdout.\n`
  if (c.examples?.length) s += `.SH EXAMPLES\n${examples(c)}`
  s += `.SH EXIT STATUS\nSee \\fB${bin}\\fR(1).\n.SH SEE ALSO\n\\fB${bin}\\fR(1)\n`
  return s
}

function mainPage() {
  const any = cmds[0]
  const globals = Object.values(any.flags).filter((f) => globalFlagNames.has(f.name))
  let s =
    `.TH ${bin.toUpperCase()} 1 "" "${date}" "xmppadm manual"\n.SH NAME\n${bin} \\- ` +
    `${esc(pkg.description)}\n.SH SYNOPSIS\n\\fB${bin}\\fR \\fICOMMAND\\fR [\\fIARGS\\fR] [\\fIOPTIONS\\fR]\n`
  s += `.SH DESCRIPTION\n${sections.description.map(esc).join('\n.PP\n')}\n`
  const command = (c) =>
    `.TP\n\\fB${esc(spaced(c.id))}\\fR\n${esc(c.summary)} See \\fB${pageName(c.id)}\\fR(1).\n`
  s += `.SH COMMANDS\n${cmds.map(command).join('')}`
  s += `.SH OPTIONS\nThese options are accepted by every command.\n${globals.map(flagLine).join('')}`
  for (const [title, paras] of Object.entries(sections.extra))
    s += `.SH ${title}\n${paragraphs(
      paras,
      (p) => p.startsWith('$ '),
      (p) => p.slice(2),
    )}`
  const exit = ([code, name, text]) => `.TP\n\\fB${code}\\fR (${name})\n${esc(text)}\n`
  s += `.SH EXIT STATUS\n${exitCodeTable.map(exit).join('')}`
  s += `.SH SEE ALSO\n${cmds.map((c) => `\\fB${pageName(c.id)}\\fR(1)`).join(', ')}\n`
  return s
}

const pages = {[`${bin}.1`]: mainPage()}
for (const c of cmds) pages[`${pageName(c.id)}.1`] = commandPage(c)
if (process.argv.includes('--print-names')) {
  console.log(Object.keys(pages).join('\n'))
} else {
  for (const f of readdirSync(manDir)) if (f.endsWith('.1') && !pages[f]) unlinkSync(manDir + f)
  for (const [name, text] of Object.entries(pages)) writeFileSync(manDir + name, text)
  // package.json "man" lists exactly these pages.
  const names = Object.keys(pages)
    .sort()
    .map((n) => `./man/${n}`)
  if (JSON.stringify(pkg.man) !== JSON.stringify(names)) {
    pkg.man = names
    writeFileSync(new URL('package.json', root), `${JSON.stringify(pkg, null, 2)}\n`)
  }
}
