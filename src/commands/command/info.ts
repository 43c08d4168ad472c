import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.js'
import {XmppadmError} from '../../errors.js'
import {renderTable} from '../../output/table.js'
import {commandInfo} from '../../protocol/adhoc.js'
import {fieldValue} from '../../protocol/dataform.js'
import {fetchForm} from '../../protocol/runner.js'
import {StanzaError} from '../../xmpp/stanza-error.js'

/** A default value in a table cell: several values joined with ", ". */
const cell = (v: string | string[] | boolean | null) =>
  v === null ? '' : Array.isArray(v) ? v.join(', ') : String(v)

export default class CommandInfo extends BaseCommand<typeof CommandInfo> {
  static override summary =
    'Show what the server says about one command node: its name, identity and features, and with ' +
    '--fields its input form.'
  static override description =
    'Asks the server (or --to) for disco#info of the node (XEP-0030, as XEP-0050 describes for ' +
    'command nodes). A node the server does not know, or hides from this account, is exit 69.'
  static override args = {
    node: Args.string({
      description: 'Command node, e.g. http://jabber.org/protocol/admin#add-user (see: xmppadm commands)',
      ignoreStdin: true,
      required: true,
    }),
  }
  static override flags = {
    fields: Flags.boolean({
      summary:
        "Also show the node's input form: each field's var (for --field), type, whether required, " +
        'label, default and options. Executes the node to get the form, then cancels it: a command ' +
        'that takes no input runs at once.',
    }),
  }
  static override examples = [
    {
      description: 'Is add-user a command here, and what is it called?',
      command: '<%= config.bin %> command info http://jabber.org/protocol/admin#add-user',
    },
    {
      description: 'The fields to pass to command run with --field var=value',
      command: '<%= config.bin %> command info http://jabber.org/protocol/admin#add-user --fields',
    },
    {
      description: 'As JSON',
      command: '<%= config.bin %> command info http://jabber.org/protocol/admin#delete-user --json',
    },
  ]

  async run() {
    const {args} = await this.parse(CommandInfo)
    const session = await this.connect()
    const {to} = session
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
    this.ui.data(`node\t${info.node}`)
    if (info.name) this.ui.data(`name\t${info.name}`)
    for (const i of info.identities)
      this.ui.data(`identity\t${i.category}/${i.type}${i.name ? ` (${i.name})` : ''}`)
    for (const f of info.features) this.ui.data(`feature\t${f}`)
    if (!info.isCommand) this.ui.warn(`${to} does not describe ${info.node} as an ad-hoc command`)
    if (!this.flags.fields) return {to, ...info}
    const {form, ran} = await fetchForm(session, to, args.node)
    if (ran) this.ui.warn(`${args.node} takes no input: executing it to get its form ran it to completion`)
    const fields = (form?.fields ?? [])
      .filter((f) => f.var && f.type !== 'hidden' && f.type !== 'fixed')
      .map((f) => ({
        var: f.var!,
        type: f.type,
        label: f.label ?? null,
        required: f.required,
        // A pre-filled secret stays unseen.
        default: f.values.length && f.type !== 'text-private' ? fieldValue(f) : null,
        options: f.options.map((o) => ({label: o.label ?? null, value: o.value})),
      }))
    if (!fields.length) {
      if (!ran) this.ui.info(`${args.node} has no input fields`)
    } else if (!this.jsonEnabled())
      this.ui.data(
        await renderTable(
          ['var', 'type', 'required', 'label', 'default', 'options'],
          fields.map((f) => [
            f.var,
            f.type,
            f.required ? 'yes' : 'no',
            f.label ?? '',
            cell(f.default),
            f.options
              .map((o) => (o.label && o.label !== o.value ? `${o.value} (${o.label})` : o.value))
              .join(', '),
          ]),
          this.ui.color,
        ),
      )
    return {to, ...info, fields}
  }
}
