// oclif's hook for a command line that names no command ("purge-ofline", "account creat"): exit 64
// with the nearest command, printed by bin/run.js like every other top-level error (text or --json).
import type {Hook} from '@oclif/core'
import {unknownCommand} from '../usage.js'

const hook: Hook<'command_not_found'> = async function ({id, config}) {
  throw unknownCommand(
    id,
    [...config.commandIDs, ...config.commands.flatMap((c) => c.aliases)],
    (known) => Object.keys(config.findCommand(known)?.args ?? {}).length,
  )
}

export default hook
