import {setTimeout as sleep} from 'node:timers/promises'
import {Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.js'
import {debugLogOff, debugLogOn} from '../../ops/debug-log.js'
import {parseDuration} from '../../ops/values.js'

export default class DebugLogOn extends BaseCommand<typeof DebugLogOn> {
  static override summary = 'Switch debug logging on, optionally for a limited time.'
  static override description =
    'With mod_xmppadm (Prosody, or ejabberd on every node of a cluster): debug lines go to a separate ' +
    'file while the main log keeps its level; with --for the server itself switches it off when the time ' +
    'is up, so a dead xmppadm can never leave it on, and off wipes that file.\n' +
    'ejabberd 25.03+ without the module (api-commands/set_loglevel): the log level is set to debug and ' +
    'the previous level remembered locally; with --for, xmppadm waits in the foreground and switches it ' +
    'back at the end or on Ctrl-C. ejabberd cannot wipe its log remotely.'
  static override flags = {for: Flags.string({summary: 'Switch off again after this long: 30m, 2h…'})}
  static override examples = [
    {
      description: 'Debug logging for 30 minutes during an incident',
      command: '<%= config.bin %> debug-log on --for 30m',
    },
  ]

  async run() {
    const seconds = this.flags.for ? parseDuration(this.flags.for, '--for') : undefined
    const ctx = await this.opContext()
    const state = await debugLogOn(ctx, seconds)
    const until = state.expires ? `, until ${state.expires}` : ''
    this.ui.out(`debug logging on${state.file ? ` (${state.file})` : ''}${until}`)
    if (seconds && !state.wipes) {
      // The server cannot time it: wait here, then restore; Ctrl-C switches it back off now.
      this.ui.info(
        `waiting ${this.flags.for} in the foreground to switch it off (Ctrl-C switches it off now)`,
      )
      const {signal} = this.interrupts
      const until = Date.now() + seconds * 1000
      const off = await this.interrupts.finishing(async () => {
        // In steps of at most a day: a longer timer overflows (~24.8 days) and fires at once.
        for (let left = until - Date.now(); left > 0 && !signal.aborted; left = until - Date.now())
          await sleep(Math.min(left, 86_400_000), undefined, {signal}).catch(() => undefined)
        return debugLogOff(ctx)
      })
      this.ui.out(`debug logging off (level ${off.level})`)
      return {...state, switchedOffAt: new Date().toISOString(), after: off}
    }
    return state
  }
}
