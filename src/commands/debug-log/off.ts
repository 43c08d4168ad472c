import {BaseCommand} from '../../base-command.js'
import {debugLogOff} from '../../ops/debug-log.js'

export default class DebugLogOff extends BaseCommand<typeof DebugLogOff> {
  static override summary = 'Switch debug logging off and wipe the debug log (where the server can).'
  static override description =
    'With mod_xmppadm (Prosody, or ejabberd on every node): logging returns to its configured levels ' +
    'and the debug log file is truncated and removed. ejabberd without the module: the level returns ' +
    'to the one saved by "debug-log on" (else info); ejabberd cannot wipe its log remotely, and the ' +
    'command says so.'
  static override examples = ['<%= config.bin %> debug-log off']

  async run() {
    const ctx = await this.opContext()
    const state = await debugLogOff(ctx)
    this.ui.out(`debug logging off${state.level ? ` (level ${state.level})` : ''}`)
    if (!state.wipes)
      this.ui.warn(
        'this server cannot wipe its log remotely: debug lines written so far stay in its log files',
      )
    return state
  }
}
