import {BaseCommand} from '../../base-command.js'
import {debugLogStatus} from '../../ops/debug-log.js'

export default class DebugLogStatus extends BaseCommand<typeof DebugLogStatus> {
  static override summary = 'Show whether debug logging is on, and until when.'
  static override examples = ['<%= config.bin %> debug-log status --json']

  async run() {
    const ctx = await this.opContext()
    const state = await debugLogStatus(ctx)
    const level = state.level ? ` (level ${state.level})` : ''
    const until = state.expires ? `, until ${state.expires}` : ''
    this.ui.data(`debug logging ${state.active ? 'on' : 'off'}${level}${until}`)
    return state
  }
}
