import {BaseCommand} from '../../base-command.js'
import {hostsFlags} from '../../cli/flags.js'
import type {OpContext} from '../../ops/context.js'
import {debugLogStatus} from '../../ops/debug-log.js'

export default class DebugLogStatus extends BaseCommand<typeof DebugLogStatus> {
  static override summary = 'Show whether debug logging is on, and until when.'
  static override flags = hostsFlags
  static override examples = [
    '<%= config.bin %> debug-log status --json',
    {description: 'On every host you administer', command: '<%= config.bin %> debug-log status --all-hosts'},
  ]

  async run() {
    const status = async (ctx: OpContext) => {
      const state = await debugLogStatus(ctx)
      const level = state.level ? ` (level ${state.level})` : ''
      const until = state.expires ? `, until ${state.expires}` : ''
      return {result: state, text: `debug logging ${state.active ? 'on' : 'off'}${level}${until}`}
    }
    const hosts = await this.targetHosts()
    if (hosts) return this.reportHosts(hosts, status, {data: true})
    const {result, text} = await status(await this.opContext())
    this.ui.data(text)
    return result
  }
}
