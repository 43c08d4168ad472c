// Blocking client addresses: block, list, unblock. Blocks exist only through xmppadm's server
// module; ejabberd's own API can lift mod_fail2ban's bans.
import {formRows, formValues} from '../protocol/dataform.js'
import {type OpContext, invoke} from './context.js'
import {XMPPADM_NS, api, mod} from './nodes.js'
import {type Operation, perform} from './operation.js'
import {ADHOC_API, EJABBERD_MODULE_HINT, prosodyModuleHint} from './server-module.js'

const asList = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : v ? [String(v)] : [])

export interface BlockRequest {
  /** Normalised ranges (values.ts parseIpRange). */
  ranges: string[]
  expiresSec?: number
  reason?: string
}

export interface BlockResult {
  blocked: string[]
  sessionsClosed: number
  /**
   * Configured exemptions the new blocks cover (they stay reachable); undefined when the module
   * does not say (contract revision 1 has no such field).
   */
  exempt?: string[]
}

export const blockIp: Operation<BlockRequest, BlockResult> = {
  id: 'block-ip',
  summary: 'block IP addresses',
  strategies: [
    {
      nodes: [mod('block-ip')],
      via: 'mod_xmppadm',
      async run(ctx, {ranges, expiresSec, reason}) {
        const resp = await invoke(ctx, mod('block-ip'), {
          FORM_TYPE: XMPPADM_NS,
          addresses: ranges,
          expires: expiresSec ? String(expiresSec) : undefined,
          reason,
        })
        const v = formValues(resp.form!)
        return {
          blocked: asList(v.blocked),
          sessionsClosed: Number(v['sessions-closed'] ?? 0),
          exempt: 'exempt' in v ? asList(v.exempt) : undefined,
        }
      },
    },
  ],
  enable: {
    prosody: prosodyModuleHint,
    ejabberd:
      `${EJABBERD_MODULE_HINT}. Without it ejabberd has no command that bans an address: mod_fail2ban ` +
      'bans after failed logins by itself, and a permanent block is an "ip" ACL in ejabberd.yml denied ' +
      'by the c2s access rule, then api-commands/reload_config',
    other: `a server offering the ${mod('block-ip')} node (see README "Server module")`,
  },
}

export interface Block {
  address: string
  expires: string | null
  reason: string | null
  created: string | null
}

export const blockIpList: Operation<void, Block[]> = {
  id: 'block-ip-list',
  summary: 'list blocked IP addresses',
  strategies: [
    {
      nodes: [mod('list-blocked-ips')],
      via: 'mod_xmppadm',
      async run(ctx) {
        const resp = await invoke(ctx, mod('list-blocked-ips'), {FORM_TYPE: XMPPADM_NS})
        return formRows(resp.form!).map((r) => ({
          address: String(r.address ?? ''),
          expires: r.expires ? String(r.expires) : null,
          reason: r.reason ? String(r.reason) : null,
          created: r.created ? String(r.created) : null,
        }))
      },
    },
  ],
  enable: {
    prosody: prosodyModuleHint,
    ejabberd:
      `${EJABBERD_MODULE_HINT}. Without it ejabberd has no command that lists banned addresses ` +
      '(mod_fail2ban keeps them in memory only)',
    other: `a server offering ${mod('list-blocked-ips')}`,
  },
}

export const blockIpRemove: Operation<string[], {removed: string[]; notFound: string[]}> = {
  id: 'block-ip-remove',
  summary: 'unblock IP addresses',
  strategies: [
    {
      nodes: [mod('unblock-ip')],
      via: 'mod_xmppadm',
      async run(ctx, ranges) {
        const resp = await invoke(ctx, mod('unblock-ip'), {FORM_TYPE: XMPPADM_NS, addresses: ranges})
        const v = formValues(resp.form!)
        return {removed: asList(v.removed), notFound: asList(v['not-found'])}
      },
    },
    {
      nodes: [api('unban_ip')],
      via: 'ejabberd API',
      partial: 'lifts mod_fail2ban bans only; ACL blocks stay in ejabberd.yml',
      async run(ctx, ranges) {
        const removed: string[] = []
        const notFound: string[] = []
        for (const r of ranges) {
          const resp = await invoke(ctx, api('unban_ip'), {address: r})
          const n = Number(formValues(resp.form!).unbanned ?? 0)
          ;(n > 0 ? removed : notFound).push(r)
        }
        return {removed, notFound}
      },
    },
  ],
  enable: {
    prosody: prosodyModuleHint,
    ejabberd: `${EJABBERD_MODULE_HINT}; or, for mod_fail2ban bans only, ${ADHOC_API} (api-commands/unban_ip)`,
    other: `a server offering ${mod('unblock-ip')}`,
  },
}

export const listBlockedIps = (ctx: OpContext) => perform(ctx, blockIpList, undefined)
