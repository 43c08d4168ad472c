// The virtual hosts an account administers on a server, as the server module lists them: #about's
// `hosts` (server/CONTRACT.md 9). Without the module a server does not say; the operator names them.
import {XmppadmError} from '../errors.js'
import {fieldValue} from '../protocol/dataform.js'
import {StanzaError} from '../xmpp/stanza-error.js'
import {type OpContext, invoke} from './context.js'
import {XMPPADM_NS, mod} from './nodes.js'

const NAME_THEM = 'name them: --hosts example.org,example.net'

/** The hosts where this account may use the server module, this one included, as #about lists them. */
export async function administeredHosts(ctx: OpContext): Promise<string[]> {
  const unknown = (why: string, hint = NAME_THEM) =>
    new XmppadmError('unavailable', 'hosts-unknown', `cannot tell which hosts to run on: ${why}`, {hint})
  let values: string[] | undefined
  try {
    const resp = await invoke(ctx, mod('about'), {FORM_TYPE: XMPPADM_NS})
    const field = resp.form?.fields.find((f) => f.var === 'hosts')
    if (field) values = [fieldValue(field) ?? []].flat().map(String)
  } catch (error) {
    if (!(error instanceof StanzaError)) throw error
    if (error.condition === 'forbidden' || error.condition === 'not-authorized')
      throw new XmppadmError('forbidden', 'forbidden', `${ctx.admin} is not an admin of ${ctx.to}`, {
        hint: 'log in as an admin of the hosts, or name them with --hosts',
      })
    throw unknown(`the xmppadm server module is not loaded on ${ctx.to}, which alone lists them`)
  }
  if (!values)
    throw unknown(
      `the xmppadm server module on ${ctx.to} is too old to list them`,
      `update it, or ${NAME_THEM}`,
    )
  return values
}

/** The hosts of --hosts: comma-separated domain names, each once, in the order given. */
export function parseHostList(text: string): string[] {
  const hosts = [...new Set(text.split(',').map((h) => h.trim().toLowerCase()))].filter(Boolean)
  const bad = hosts.find((h) => !/^[^\s@/]+$/.test(h))
  if (!hosts.length || bad !== undefined)
    throw new XmppadmError(
      'usage',
      'usage',
      `--hosts: ${bad === undefined ? 'no host given' : `'${bad}' is not a host name`}`,
      {hint: 'e.g. --hosts example.org,example.net'},
    )
  return hosts
}
