// The last stop for an error outside xmppadm's own commands (which report their errors
// themselves): an unknown command, a parse error of a plugin command (`autocomplete fish`), an
// error on oclif's help path. One line on stderr, or the JSON error envelope under --json, and a
// documented exit code, as for every command.
import {Config} from '@oclif/core'
import {errorEnvelope, normaliseError} from './cli/outcome.js'
import {XmppadmError, knownError} from './errors.js'
import {Ui} from './output/ui.js'
import {describeParseError, unknownCommand} from './usage.js'

export async function reportTopLevel(error: unknown, argv: string[], root: string): Promise<never> {
  let e: XmppadmError
  const known = knownError(error)
  if (known) e = known
  else {
    // Only on this path: the commands and their definitions, for names and suggestions.
    const config = await Config.load(root)
    const ids = [...config.commandIDs, ...config.commands.flatMap((c) => c.aliases)]
    const notFound = /^Command (.+) not found\.?$/i.exec(String((error as Error)?.message ?? ''))
    if (notFound)
      e = unknownCommand(
        notFound[1].trim().replace(/ /g, ':'),
        ids,
        (known) => Object.keys(config.findCommand(known)?.args ?? {}).length,
      )
    else {
      // The command is the longest run of leading words that names one.
      let id: string | undefined
      let rest = argv
      for (let n = argv.length; n > 0 && !id; n--) {
        const candidate = argv.slice(0, n).join(':')
        if (config.findCommand(candidate)) [id, rest] = [candidate, argv.slice(n)]
      }
      const cmd = id ? config.findCommand(id) : undefined
      e =
        describeParseError(error, cmd ? {id, argv: rest, flags: cmd.flags, args: cmd.args} : {}) ??
        normaliseError(error)
    }
  }
  const json = argv.includes('--json') || process.env.XMPPADM_CONTENT_TYPE?.toLowerCase() === 'json'
  if (json) process.stdout.write(`${JSON.stringify(errorEnvelope(e), null, 2)}\n`)
  else new Ui({json: false, quiet: false, noColor: false, noInput: true}).error(e.message, e.hint)
  process.exit(e.exitCode)
}
