// The one map from operations to the ways servers offer them, in order of preference, and what
// would enable an operation where a server offers none. Commands ask here; they never pick nodes.
import {XmppadmError} from '../errors.js'
import {cancelCommand, commandStep} from '../protocol/adhoc.js'
import {formRows} from '../protocol/dataform.js'
import {StanzaError} from '../xmpp/stanza-error.js'
import {type Family, type OpContext, invoke, unavailable} from './context.js'
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

export interface Strategy {
  /** Nodes that must all be offered. */
  nodes: string[]
  via: 'XEP-0133' | 'ejabberd API' | 'mod_xmppadm'
  /** Set when this way can do only part of the operation. */
  partial?: string
}

interface OperationSpec {
  summary: string
  strategies: Strategy[]
  enable: Record<Family, string>
}

const MODULE_HINT =
  'load mod_xmppadm (server/prosody/mod_xmppadm.lua in the xmppadm package; see README "Server module")'
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
        partial:
          'roster, vCard, private XML, message counts and last activity only: ejabberd offers no remote access to offline or archived message contents',
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
}

export function pickStrategy(ctx: OpContext, op: OperationId): Strategy | undefined {
  return OPERATIONS[op].strategies.find((s) => s.nodes.every((n) => ctx.nodes.has(n)))
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
  throw unavailable(OPERATIONS[op].summary, ctx, OPERATIONS[op].enable[ctx.software.family])
}

export interface CapabilityRow {
  operation: OperationId
  available: boolean
  via?: Strategy['via']
  node?: string
  partial?: string
  hint?: string
}

/**
 * Why the server module does not offer some of its nodes here (server/CONTRACT.md, #about):
 * node -> reason, for the unavailable ones. Empty when the module has no #about (older revisions).
 */
export async function moduleReasons(ctx: OpContext): Promise<Map<string, string>> {
  const reasons = new Map<string, string>()
  if (!ctx.nodes.has(mod('about'))) return reasons
  try {
    const resp = await invoke(ctx, mod('about'), {FORM_TYPE: XMPPADM_NS})
    for (const row of formRows(resp.form!))
      if (row.available === false && row.reason) reasons.set(String(row.node), String(row.reason))
  } catch {
    // the reasons only sharpen the hints
  }
  return reasons
}

export function capabilities(ctx: OpContext, reasons = new Map<string, string>()): CapabilityRow[] {
  return (Object.keys(OPERATIONS) as OperationId[]).map((op) => {
    const s = pickStrategy(ctx, op)
    if (s) return {operation: op, available: true, via: s.via, node: s.nodes[0], partial: s.partial}
    // The module is there but says this operation cannot work on this host: say why.
    const modNode = OPERATIONS[op].strategies.find((st) => st.via === 'mod_xmppadm')?.nodes[0]
    const reason = modNode ? reasons.get(modNode) : undefined
    return {operation: op, available: false, hint: reason ?? OPERATIONS[op].enable[ctx.software.family]}
  })
}
