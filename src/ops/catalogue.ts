// The one map from operations to the ways servers offer them, in order of preference, and what
// would enable an operation where a server offers none. Commands ask here; they never pick nodes.
import {existsSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {XmppadmError} from '../errors.js'
import {cancelCommand, commandStep} from '../protocol/adhoc.js'
import {formRows} from '../protocol/dataform.js'
import {StanzaError} from '../xmpp/stanza-error.js'
import {type Family, type OpContext, invoke, unavailable} from './context.js'
import {API_EXPORT_PARTIAL} from './export-coverage.js'
import {XMPPADM_NS, admin, api, mod} from './nodes.js'

export type OperationId =
  | 'account-create'
  | 'account-delete'
  | 'block-ip'
  | 'block-ip-list'
  | 'block-ip-remove'
  | 'purge-offline'
  | 'purge-uploads'
  | 'export-user'
  | 'debug-log'
  | 'account-exists'

export interface Strategy {
  /** Nodes that must all be offered. */
  nodes: string[]
  via: 'XEP-0133' | 'ejabberd API' | 'mod_xmppadm'
  /** Set when this way can do only part of the operation. */
  partial?: string
  /** Only on these server families (a node another family offers too, but answers differently). */
  families?: Family[]
}

interface OperationSpec {
  summary: string
  strategies: Strategy[]
  enable: Record<Family, string>
  /** A step of other operations (a dry run's check), not an operation of its own: not in capabilities. */
  internal?: boolean
}

// Replaced by moduleHint() (it knows the server's version and where this package is).
const MODULE_HINT = 'load mod_xmppadm'
/** The ejabberd module, installed as ejabberd's contributed modules are (README "Server module for ejabberd"). */
const EJABBERD_MODULE_HINT =
  'install mod_xmppadm: copy server/ejabberd of the xmppadm package to $CONTRIB_MODULES_PATH/sources/xmppadm/mod_xmppadm (default ~/.ejabberd-modules of the user ejabberd runs as), then run `ejabberdctl module_install mod_xmppadm`'
const ADHOC_API = 'ejabberd >= 25.03 with mod_adhoc_api and api_permissions for the admin'

export const OPERATIONS: Record<OperationId, OperationSpec> = {
  'account-create': {
    summary: 'create accounts',
    strategies: [
      {nodes: [admin('add-user')], via: 'XEP-0133'},
      {nodes: [api('register')], via: 'ejabberd API'},
    ],
    enable: {
      prosody: 'load mod_admin_adhoc',
      ejabberd: 'load mod_configure (XEP-0133) or mod_adhoc_api',
      other: 'a server with XEP-0133 add-user',
    },
  },
  'account-delete': {
    summary: 'delete accounts',
    strategies: [
      {nodes: [admin('delete-user')], via: 'XEP-0133'},
      {nodes: [api('unregister'), api('check_account')], via: 'ejabberd API'},
    ],
    enable: {
      prosody: 'load mod_admin_adhoc',
      ejabberd: 'load mod_configure (XEP-0133) or mod_adhoc_api',
      other: 'a server with XEP-0133 delete-user',
    },
  },
  'block-ip': {
    summary: 'block IP addresses',
    strategies: [{nodes: [mod('block-ip')], via: 'mod_xmppadm'}],
    enable: {
      prosody: MODULE_HINT,
      ejabberd: `${EJABBERD_MODULE_HINT}. Without it ejabberd has no command that bans an address: mod_fail2ban bans after failed logins by itself, and a permanent block is an "ip" ACL in ejabberd.yml denied by the c2s access rule, then api-commands/reload_config`,
      other: `a server offering the ${mod('block-ip')} node (see README "Server module")`,
    },
  },
  'block-ip-list': {
    summary: 'list blocked IP addresses',
    strategies: [{nodes: [mod('list-blocked-ips')], via: 'mod_xmppadm'}],
    enable: {
      prosody: MODULE_HINT,
      ejabberd: `${EJABBERD_MODULE_HINT}. Without it ejabberd has no command that lists banned addresses (mod_fail2ban keeps them in memory only)`,
      other: `a server offering ${mod('list-blocked-ips')}`,
    },
  },
  'block-ip-remove': {
    summary: 'unblock IP addresses',
    strategies: [
      {nodes: [mod('unblock-ip')], via: 'mod_xmppadm'},
      {
        nodes: [api('unban_ip')],
        via: 'ejabberd API',
        partial: 'lifts mod_fail2ban bans only; ACL blocks stay in ejabberd.yml',
      },
    ],
    enable: {
      prosody: MODULE_HINT,
      ejabberd: `${EJABBERD_MODULE_HINT}; or, for mod_fail2ban bans only, ${ADHOC_API} (api-commands/unban_ip)`,
      other: `a server offering ${mod('unblock-ip')}`,
    },
  },
  'purge-offline': {
    summary: 'purge old offline messages',
    strategies: [
      {nodes: [mod('purge-offline')], via: 'mod_xmppadm'},
      {
        nodes: [api('delete_old_messages')],
        via: 'ejabberd API',
        partial: 'whole days only, on all virtual hosts at once, no count, no dry run',
      },
    ],
    enable: {
      prosody: MODULE_HINT,
      ejabberd: `${EJABBERD_MODULE_HINT}; or, in whole days for all hosts, ${ADHOC_API} (api-commands/delete_old_messages)`,
      other: `a server offering ${mod('purge-offline')}`,
    },
  },
  'purge-uploads': {
    summary: 'purge old uploaded files',
    strategies: [{nodes: [mod('purge-uploads')], via: 'mod_xmppadm'}],
    enable: {
      prosody: MODULE_HINT,
      ejabberd: `${EJABBERD_MODULE_HINT}. Without it ejabberd has no command for it: set max_days in mod_http_upload_quota (it sweeps once a day), or run find on the upload directory on the server`,
      other: `a server offering ${mod('purge-uploads')}`,
    },
  },
  'export-user': {
    summary: "export a user's data",
    strategies: [
      {nodes: [mod('export-user')], via: 'mod_xmppadm'},
      {
        nodes: [api('check_account'), api('get_roster'), api('get_last')],
        via: 'ejabberd API',
        partial: API_EXPORT_PARTIAL,
      },
    ],
    enable: {
      prosody: MODULE_HINT,
      ejabberd: `${EJABBERD_MODULE_HINT}; or, for a partial export, ${ADHOC_API}`,
      other: `a server offering ${mod('export-user')}`,
    },
  },
  'debug-log': {
    summary: 'switch debug logging',
    strategies: [
      {nodes: [mod('debug-log')], via: 'mod_xmppadm'},
      {
        nodes: [api('set_loglevel'), api('get_loglevel')],
        via: 'ejabberd API',
        partial: 'the log cannot be wiped remotely; a timed switch waits in the foreground',
      },
    ],
    enable: {
      prosody: MODULE_HINT,
      ejabberd: `${EJABBERD_MODULE_HINT}; or, without a file of its own to wipe, ${ADHOC_API} (api-commands/set_loglevel)`,
      other: `a server offering ${mod('debug-log')}`,
    },
  },
  'account-exists': {
    summary: 'tell whether an account exists',
    internal: true,
    strategies: [
      {nodes: [api('check_account')], via: 'ejabberd API'},
      // item-not-found for a user that does not exist (server/CONTRACT.md 7)
      {nodes: [mod('export-user')], via: 'mod_xmppadm'},
      // Prosody answers "User does not exist"; ejabberd 24.12 answers zeros for anyone.
      {nodes: [admin('user-stats')], via: 'XEP-0133', families: ['prosody']},
    ],
    enable: {
      prosody: 'load mod_admin_adhoc (XEP-0133 user-stats)',
      ejabberd: `${ADHOC_API} (api-commands/check_account)`,
      other: 'a server offering a way to look an account up',
    },
  },
}

/** The server module's directory in this installed package (it ships server/). */
function packageServerDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 4; i++, dir = dirname(dir))
    if (existsSync(join(dir, 'server', 'prosody', 'mod_xmppadm'))) return join(dir, 'server')
  return 'server'
}

/** How to install mod_xmppadm on this Prosody (README "Server module"). */
function prosodyModuleHint(ctx: OpContext): string {
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

/** Whether xmppadm's server module is loaded: it offers urn:xmppadm:admin:1# nodes. */
export function moduleLoaded(ctx: OpContext): boolean {
  return [...ctx.nodes].some((n) => n.startsWith(`${XMPPADM_NS}#`))
}

/**
 * Why the loaded server module cannot offer some of its nodes here, by node (its #about,
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

/** What would enable an operation this server does not offer. */
function enableHint(ctx: OpContext, op: OperationId, reasons = new Map<string, string>()): string {
  const spec = OPERATIONS[op]
  const moduleNodes = spec.strategies.filter((s) => s.via === 'mod_xmppadm').flatMap((s) => s.nodes)
  if (moduleNodes.length && moduleLoaded(ctx)) {
    const reason = moduleNodes.map((n) => reasons.get(n)).find(Boolean)
    return (
      reason ??
      `mod_xmppadm is loaded but offers no ${moduleNodes[0]}: update it to the one in this xmppadm package`
    )
  }
  const hint = spec.enable[ctx.software.family]
  return hint === MODULE_HINT ? prosodyModuleHint(ctx) : hint
}

export function pickStrategy(ctx: OpContext, op: OperationId): Strategy | undefined {
  return OPERATIONS[op].strategies.find(
    (s) =>
      s.nodes.every((n) => ctx.nodes.has(n)) && (!s.families || s.families.includes(ctx.software.family)),
  )
}

/**
 * The strategy to use. Without one, the account may simply not be an admin (servers hide admin
 * commands from others): a bare execute of the preferred node (which by XEP-0050 only returns a
 * form) tells "forbidden" (77) from "not offered" (69, with what would enable it).
 */
export async function requireStrategy(ctx: OpContext, op: OperationId): Promise<Strategy> {
  const s = pickStrategy(ctx, op)
  if (s) return s
  for (const strategy of OPERATIONS[op].strategies) {
    const node = strategy.nodes[0]
    try {
      const resp = await commandStep(ctx.session, {
        to: ctx.to,
        node,
        action: 'execute',
        timeoutMs: Math.min(ctx.session.timeoutMs, 5000),
      })
      if (resp.status === 'executing') await cancelCommand(ctx.session, ctx.to, node, resp.sessionid)
      // ejabberd's mod_adhoc_api shows non-admins the form and refuses only the submit.
    } catch (error) {
      // the server module knows this node but cannot offer it here, and says why
      if (
        error instanceof StanzaError &&
        error.reason === 'feature-not-implemented' &&
        error.stanzaError.text
      )
        throw unavailable(OPERATIONS[op].summary, ctx, error.stanzaError.text)
      if (
        error instanceof StanzaError &&
        ['forbidden', 'not-authorized', 'not-allowed'].includes(error.reason)
      ) {
        throw new XmppadmError(
          'forbidden',
          'forbidden',
          `${ctx.session.info.boundJid.split('/')[0]} may not ${OPERATIONS[op].summary} on ${ctx.to} (not an admin)`,
        )
      }
    }
  }
  const ADMIN_ONLY = [
    'http://jabber.org/protocol/admin#',
    'api-commands/',
    'urn:xmppadm:',
    'http://prosody.im/protocol/',
    'running nodes/',
  ]
  if (ctx.nodes.size > 0 && ![...ctx.nodes].some((n) => ADMIN_ONLY.some((p) => n.startsWith(p)))) {
    throw new XmppadmError(
      'forbidden',
      'forbidden',
      `${ctx.session.info.boundJid.split('/')[0]} sees no admin commands on ${ctx.to}: it is not an admin there`,
    )
  }
  throw unavailable(OPERATIONS[op].summary, ctx, enableHint(ctx, op))
}

export interface CapabilityRow {
  operation: OperationId
  available: boolean
  via?: Strategy['via']
  node?: string
  partial?: string
  hint?: string
}

/** `reasons`: from moduleReasons(), for the hints of what the loaded module cannot offer. */
export function capabilities(ctx: OpContext, reasons?: Map<string, string>): CapabilityRow[] {
  return (Object.keys(OPERATIONS) as OperationId[])
    .filter((op) => !OPERATIONS[op].internal)
    .map((op) => {
      const s = pickStrategy(ctx, op)
      return s
        ? {operation: op, available: true, via: s.via, node: s.nodes[0], partial: s.partial}
        : {operation: op, available: false, hint: enableHint(ctx, op, reasons)}
    })
}
