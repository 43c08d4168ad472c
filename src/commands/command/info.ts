import {Args} from '@oclif/core'
import {BaseCommand} from '../../base-command.js'
import {XmppadmError} from '../../errors.js'
import {commandInfo} from '../../protocol/adhoc.js'
import {StanzaError} from '../../xmpp/stanza-error.js'

export default class CommandInfo extends BaseCommand<typeof CommandInfo> {
  static override summary =
    'Show what the server says about one command node: its name, identity and features.'
  static override description =
    'Asks the server (or --to) for disco#info of the node (XEP-0030, as XEP-0050 describes for command nodes). A node the server does not know, or hides from this account, is exit 69.'
  static override args = {
    node: Args.string({
      description: 'Command node, e.g. http://jabber.org/protocol/admin#add-user (see: xmppadm commands)',
      ignoreStdin: true,
      required: true,
    }),
  }
  static override examples = [
    {
      description: 'Is add-user a command here, and what is it called?',
      command: '<%= config.bin %> command info http://jabber.org/protocol/admin#add-user',
    },
    {
      description: 'As JSON',
      command: '<%= config.bin %> command info http://jabber.org/protocol/admin#delete-user --json',
    },
  ]

  async run() {
    const {args} = await this.parse(CommandInfo)
    const session = await this.connect()
    const to = await this.target()
    let info
    try {
      info = await commandInfo(session, to, args.node)
    } catch (error) {
      if (
        error instanceof StanzaError &&
        ['item-not-found', 'feature-not-implemented', 'service-unavailable'].includes(error.reason)
      ) {
        throw new XmppadmError(
          'unavailable',
          'no-such-node',
          `${to} has no node ${args.node} (${error.reason})`,
          {hint: 'see: xmppadm commands (a non-admin account sees fewer)'},
        )
      }
      throw error
    }
    this.ui.out(`node\t${info.node}`)
    if (info.name) this.ui.out(`name\t${info.name}`)
    for (const i of info.identities)
      this.ui.out(`identity\t${i.category}/${i.type}${i.name ? ` (${i.name})` : ''}`)
    for (const f of info.features) this.ui.out(`feature\t${f}`)
    if (!info.isCommand) this.ui.warn(`${to} does not describe ${info.node} as an ad-hoc command`)
    return {to, ...info}
  }
}
