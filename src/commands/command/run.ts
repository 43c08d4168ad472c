import {readFileSync} from 'node:fs'
import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.js'
import {XmppadmError, cannotRead} from '../../errors.js'
import {commandResponseJson, renderCommandResponse} from '../../output/render-command.js'
import {fieldsFromJson, parseFieldArgs, runCommand} from '../../protocol/runner.js'

export default class CommandRun extends BaseCommand<typeof CommandRun> {
  static override summary = 'Run any ad-hoc command (XEP-0050) by its node.'
  static override description =
    'Executes NODE on the server (or --to), fills each form the command presents from --field and ' +
    '--fields-file, and prints the result: notes, result fields and tables.\n' +
    'On a terminal, required fields that were not given are asked for (passwords hidden, lists as ' +
    'choices). Without a terminal (or with --no-input or CI set) a missing required field is an error ' +
    'naming it. Fields the form pre-fills keep their value unless given.\n' +
    'A field name that no form of the command has is refused before the last submit (exit 64, listing the ' +
    "form's fields; see: command info NODE --fields). With --one-shot there is no form, so names are not " +
    'checked. A node the server does not offer is exit 69 on every server.\n' +
    'Off a terminal, result tables are tab-separated: a field with several values is one line per value ' +
    'with the field repeated (cut -f2 lists them), a table cell with several values joins them with ", ".\n' +
    'A command that reports failure (an IQ error, an error note, an "error" result field) exits non-zero ' +
    "with the server's message."
  static override aliases = ['run']
  static override args = {
    node: Args.string({
      description:
        'Command node, e.g. http://jabber.org/protocol/admin#get-online-users-list (see: xmppadm commands)',
      ignoreStdin: true,
      required: true,
    }),
  }
  static override flags = {
    field: Flags.string({
      char: 'f',
      summary:
        'A field value as var=value; repeat for more fields or for several values of a multi-value field.',
      multiple: true,
    }),
    'fields-file': Flags.string({
      summary: 'JSON object of field var to value (string, boolean or array), or - for stdin.',
    }),
    'one-shot': Flags.boolean({
      summary:
        'Submit the fields with the first request, without fetching the form first (one round trip; ' +
        'with no form, field names are not checked).',
    }),
  }
  static override examples = [
    {
      description: 'Online users',
      command: '<%= config.bin %> command run http://jabber.org/protocol/admin#get-online-users-list',
    },
    {
      description: 'Create an account; the password comes from a file, never the command line',
      command:
        '<%= config.bin %> command run http://jabber.org/protocol/admin#add-user --field accountjid=alice@example.org --fields-file alice-pw.json',
    },
    {
      description: 'End all sessions of two users, as JSON',
      command:
        '<%= config.bin %> command run http://jabber.org/protocol/admin#end-user-session -f accountjids=a@example.org -f accountjids=b@example.org --json',
    },
  ]

  async run() {
    const values = parseFieldArgs(this.flags.field ?? [])
    const file = this.flags['fields-file']
    if (file) {
      let doc: unknown
      try {
        doc = JSON.parse(readFileSync(file === '-' ? 0 : file, 'utf8'))
      } catch (error) {
        if (error instanceof SyntaxError)
          throw new XmppadmError('data', 'bad-json', `${file}: not valid JSON: ${error.message}`)
        throw cannotRead(file, error)
      }
      for (const [k, v] of fieldsFromJson(doc, file)) values.set(k, [...(values.get(k) ?? []), ...v])
    }
    const session = await this.connect()
    const {to} = session
    const ask = this.ui.interactive ? (await import('../../output/prompts.js')).promptField : undefined
    const {response, unused} = await runCommand(session, {
      to,
      node: this.args.node,
      values,
      ask,
      oneShot: this.flags['one-shot'],
      signal: this.interrupts.signal,
    })
    if (!this.jsonEnabled()) this.ui.data(await renderCommandResponse(response, this.ui.color))
    for (const n of response.notes) if (n.type === 'warn') this.ui.warn(n.text)
    if (unused.length)
      this.ui.warn(
        `${this.args.node} took no input (it completed when executed): ` +
          `${unused.map((u) => `--field ${u}`).join(', ')} not used`,
      )
    return commandResponseJson(response)
  }
}
