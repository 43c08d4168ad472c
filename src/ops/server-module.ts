// xmppadm's own server module (server/prosody, server/ejabberd; node contract in
// server/CONTRACT.md): whether it is loaded, why it cannot offer a node here (its #about), and how
// to install it where it is missing.
import {existsSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {formRows} from '../protocol/dataform.js'
import {type OpContext, invoke} from './context.js'
import {XMPPADM_NS, mod} from './nodes.js'

export const isModuleNode = (node: string) => node.startsWith(`${XMPPADM_NS}#`)

/** Whether the module is loaded: the server offers urn:xmppadm:admin:1# nodes. */
export function moduleLoaded(ctx: OpContext): boolean {
  return [...ctx.nodes].some(isModuleNode)
}

/**
 * Why the loaded module cannot offer some of its nodes here, by node (its #about,
 * server/CONTRACT.md); empty when the module has no #about.
 */
export async function moduleReasons(ctx: OpContext): Promise<Map<string, string>> {
  const reasons = new Map<string, string>()
  if (!ctx.nodes.has(mod('about'))) return reasons
  try {
    const resp = await invoke(ctx, mod('about'), {FORM_TYPE: XMPPADM_NS})
    for (const row of resp.form ? formRows(resp.form) : [])
      if (row.available === false && row.node && row.reason) reasons.set(String(row.node), String(row.reason))
  } catch {
    // without reasons, the hints say what is missing in general
  }
  return reasons
}

/** The server module's directory in this installed package (it ships server/). */
function packageServerDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 4; i++, dir = dirname(dir))
    if (existsSync(join(dir, 'server', 'prosody', 'mod_xmppadm'))) return join(dir, 'server')
  return 'server'
}

/** How to install the module on this Prosody (README "Server module"). */
export function prosodyModuleHint(ctx: OpContext): string {
  const [major, minor] = (ctx.software.version ?? '').split('.').map(Number)
  if (major === 0 && minor < 12)
    return `mod_xmppadm needs Prosody 0.12 or newer; this is Prosody ${ctx.software.version}`
  const dir = join(packageServerDir(), 'prosody')
  return (
    `install mod_xmppadm: copy ${join(dir, 'mod_xmppadm')} into /var/lib/prosody/custom_plugins/ on the ` +
    `server (or add ${dir} to plugin_paths and restart), add "xmppadm" to modules_enabled, then ` +
    `prosodyctl shell module load xmppadm ${ctx.to} (Prosody 0.12 and 13; see README "Server module")`
  )
}

/** How to install the ejabberd module, as ejabberd's contributed modules are (README, its section). */
export const EJABBERD_MODULE_HINT =
  'install mod_xmppadm: copy server/ejabberd of the xmppadm package to ' +
  '$CONTRIB_MODULES_PATH/sources/xmppadm/mod_xmppadm (default ~/.ejabberd-modules of the user ejabberd ' +
  'runs as), then run `ejabberdctl module_install mod_xmppadm`'

/** ejabberd's own remote API (mod_adhoc_api), for what the module is not needed for. */
export const ADHOC_API = 'ejabberd >= 25.03 with mod_adhoc_api and api_permissions for the admin'
