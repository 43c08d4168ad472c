import {BaseCommand} from '../../base-command.js'
import {listCommands} from '../../protocol/adhoc.js'
import {renderTable} from '../../output/table.js'

export default class CommandList extends BaseCommand<typeof CommandList> {
  static override summary = 'List the ad-hoc commands the server offers to this account.'
  static override description =
    'Asks the server (or --to) for its XEP-0050 command list (disco#items on the commands node). An ' +
    'account that is not an admin usually sees only a few commands.'
  static override aliases = ['commands']
  static override examples = [
    {
      description: "Commands of the admin JID's domain",
      command: '<%= config.bin %> commands --jid admin@example.org --password-file ~/.xmppadm-pw',
    },
    {
      description: 'As JSON, through a profile',
      command: "<%= config.bin %> --profile prod commands --json | jq -r '.result.commands[].node'",
    },
  ]

  async run() {
    const session = await this.connect()
    const {to} = session
    const commands = await listCommands(session, to)
    if (!this.jsonEnabled()) {
      this.ui.data(
        await renderTable(
          ['node', 'name'],
          commands.map((c) => [c.node, c.name ?? '']),
          this.ui.color,
        ),
      )
      this.ui.info(`${commands.length} commands on ${to}`)
    }
    return {to, count: commands.length, commands}
  }
}
