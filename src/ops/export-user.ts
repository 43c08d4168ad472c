// One user's data as XEP-0227 (urn:xmpp:pie:0), paged so that no reply hits a stanza size limit.
// mod_xmppadm (Prosody or ejabberd) gives every section; ejabberd's API without the module gives part,
// and the export says what is missing. Pages go to a sink as they arrive (the command writes them
// out): memory holds one page, whatever the size of the archive.
import {type Element, xml} from '@xmpp/xml'
import {XmppadmError} from '../errors.js'
import {formValues} from '../protocol/dataform.js'
import {NS_ROSTER} from '../protocol/roster.js'
import {NS_VCARD4, NS_VCARD_TEMP, VCARD4_NODE, vcard4ToTemp} from '../protocol/vcard.js'
import {NS_SCRAM, reencodeScram} from '../protocol/xep0227.js'
import {StanzaError} from '../xmpp/stanza-error.js'
import {parseJid} from '../xmpp/jid.js'
import {type OpContext, invoke} from './context.js'
import {
  API_EXPORT,
  API_EXPORT_PARTIAL,
  API_MISSING_REASON,
  SECTIONS,
  type Section,
} from './export-coverage.js'
import {XMPPADM_NS, api, mod} from './nodes.js'
import {type Operation, perform} from './operation.js'
import {ADHOC_API, EJABBERD_MODULE_HINT, prosodyModuleHint} from './server-module.js'

export {SECTIONS, type Section} from './export-coverage.js'

const NS_PIE = 'urn:xmpp:pie:0'

export interface Missing {
  section: Section
  reason: string
}

export interface UserExport {
  jid: string
  complete: boolean
  missing: Missing[]
  /** Items per section, as the server counted them. */
  counts: Partial<Record<Section, number>>
  via: string
}

/** Where an export goes, page by page. */
export interface ExportSink {
  /**
   * A page: the XEP-0227 <user/> element the server sent, with some of the section's items (the
   * first page carries the <user/> attributes: name, and a plain password if asked for).
   */
  page(user: Element, section: Section): void | Promise<void>
  /** The section has no more pages. */
  endSection(section: Section): void | Promise<void>
}

/**
 * Which importer the file is for (README "Moving a user to another server"): `xep0227`, the
 * XEP's form, which Prosody's migrator (mod_storage_xep0227) reads; `ejabberd`, the same with the
 * SCRAM salt and keys base64-encoded twice, as ejabberd's export_piefxis writes them and its
 * import_piefxis reads them (it stores the once-decoded text as its own base64).
 */
export type ExportTarget = 'xep0227' | 'ejabberd'

/**
 * The module's pages shaped for the importers on their way to the file (a sink in front of
 * another): the vcard section's copy of the vCard4 PEP node is left out (the pep section has
 * every node, and Prosody's migrator reads only the first <pubsub/> of a user), and where the
 * server keeps the vCard only as vCard4 a vcard-temp made from it is added, so that importers
 * that read only vcard-temp (ejabberd's) find it; `ejabberd`: SCRAM data base64 twice.
 */
export class PortableExport implements ExportSink {
  private vcardTemp = 0
  private vcardSection = false
  private vcard4?: Element

  constructor(
    private readonly inner: ExportSink,
    readonly target: ExportTarget = 'xep0227',
  ) {}

  async page(user: Element, section: Section): Promise<void> {
    this.shape(section, user)
    await this.inner.page(user, section)
  }

  async endSection(section: Section): Promise<void> {
    for (const el of this.added(section)) await this.inner.page(xml('user', {xmlns: NS_PIE}, el), section)
    await this.inner.endSection(section)
  }

  /** A page of `section` as the server gave it, changed in place for the file. */
  shape(section: Section, user: Element): void {
    if (section === 'account' && this.target === 'ejabberd')
      user.children = user.children.map((c) =>
        typeof c !== 'string' && c.name === 'scram-credentials' && c.attrs.xmlns === NS_SCRAM
          ? reencodeScram(c, 'twice')
          : c,
      )
    if (section !== 'vcard') return
    this.vcardSection = true
    for (const c of user.getChildElements()) {
      if (c.name === 'vCard' && c.attrs.xmlns === NS_VCARD_TEMP) this.vcardTemp++
      const items = c.name === 'pubsub' ? c.getChildren('items') : []
      for (const i of items.filter((i) => i.attrs.node === VCARD4_NODE))
        this.vcard4 ??= i.getChild('item')?.getChild('vcard', NS_VCARD4)
    }
    user.children = user.children.filter((c) => typeof c === 'string' || c.name !== 'pubsub')
  }

  /** What a section adds after its last page (the vcard-temp made from the vCard4). */
  added(section: Section): Element[] {
    if (section !== 'vcard' || this.vcardTemp || !this.vcard4) return []
    this.vcardTemp++
    return [vcard4ToTemp(this.vcard4)]
  }

  /** The export's counts with the vcard section's items as written (where it had one). */
  counts(counts: UserExport['counts']): UserExport['counts'] {
    return this.vcardSection ? {...counts, vcard: this.vcardTemp} : counts
  }
}

/** Stopping between pages (Ctrl-C): nothing of a half export is kept. */
function checkInterrupted(ctx: OpContext): void {
  if (ctx.signal?.aborted)
    throw new XmppadmError('interrupted', 'interrupted', 'interrupted: the export was not written')
}

async function viaModule(ctx: OpContext, r: ExportRequest): Promise<UserExport> {
  const counts: Partial<Record<Section, number>> = {}
  for (const section of SECTIONS) {
    let after: string | undefined
    counts[section] = 0
    for (;;) {
      checkInterrupted(ctx)
      let resp
      try {
        resp = await invoke(ctx, mod('export-user'), {
          FORM_TYPE: XMPPADM_NS,
          accountjid: r.jid,
          'include-credentials': r.includeCredentials ? '1' : '0',
          section,
          after,
          max: String(r.pageSize ?? 100),
        })
      } catch (error) {
        if (error instanceof StanzaError && error.condition === 'item-not-found')
          throw new XmppadmError('noUser', 'no-such-user', `no such user: ${r.jid}`)
        throw error
      }
      const v = formValues(resp.form!)
      counts[section]! += Number(v.count ?? 0)
      const fragment = resp.payload.find((p) => p.name === 'user' && p.attrs.xmlns === NS_PIE)
      if (fragment) await r.sink.page(fragment, section)
      r.onProgress?.(section, counts[section]!)
      if (v.more !== true || !v.next) break
      after = String(v.next)
    }
    await r.sink.endSection(section)
  }
  return {jid: r.jid, complete: true, missing: [], counts, via: 'mod_xmppadm'}
}

function rosterFromApi(lines: string[]): Element {
  const query = xml('query', {xmlns: NS_ROSTER})
  for (const line of lines) {
    const [jid, name, subscription, ask, group] = line.split(' : ').map((s) => s.trim())
    if (!jid) continue
    // ejabberd says out/in/both/none (and "undefined"); RFC 6121 has only ask="subscribe" (ours pending).
    const pending = ask === 'out' || ask === 'both' || ask === 'subscribe'
    const item = query.c('item', {
      jid,
      name: name || undefined,
      subscription: subscription || 'none',
      ask: pending ? 'subscribe' : undefined,
    })
    if (group) for (const g of group.split(';').filter(Boolean)) item.c('group').t(g)
  }
  return query
}

async function viaEjabberdApi(ctx: OpContext, {jid, sink}: ExportRequest): Promise<UserExport> {
  const {local, domain} = parseJid(jid)
  const who = {user: local!, host: domain}
  const check = await invoke(ctx, api('check_account'), who)
  if (String(formValues(check.form!).res) !== '0')
    throw new XmppadmError('noUser', 'no-such-user', `no such user: ${jid}`)
  const user = xml('user', {xmlns: NS_PIE, name: local!})
  const counts: Partial<Record<Section, number>> = {}
  const missing: Missing[] = []
  const roster = formValues((await invoke(ctx, api('get_roster'), who)).form!).contacts
  const rosterLines = (Array.isArray(roster) ? roster : roster ? [String(roster)] : []).filter(
    (l) => l.trim() !== '',
  )
  user.append(rosterFromApi(rosterLines))
  counts.roster = rosterLines.length
  // An admin may read any user's vCard with a plain vcard-temp query.
  try {
    const r = await ctx.session.iq('get', jid, xml('vCard', {xmlns: 'vcard-temp'}), 'vCard')
    const vcard = r.getChild('vCard', 'vcard-temp')
    if (vcard && vcard.children.length) {
      user.append(vcard)
      counts.vcard = 1
    } else counts.vcard = 0
  } catch {
    missing.push({section: 'vcard', reason: 'the server refused the vCard query'})
  }
  const last = String(formValues((await invoke(ctx, api('get_last'), who)).form!).last_activity ?? '')
  user.append(xml('last', {xmlns: XMPPADM_NS}, last))
  counts.last = last ? 1 : 0
  const countNode: Partial<Record<Section, string>> = {offline: 'get_offline_count', mam: 'get_mam_count'}
  for (const section of API_EXPORT.counted) {
    const cmd = countNode[section]!
    if (!ctx.nodes.has(api(cmd))) {
      missing.push({section, reason: API_MISSING_REASON})
      continue
    }
    const n = Number(formValues((await invoke(ctx, api(cmd), who)).form!).value ?? 0)
    counts[section] = n
    missing.push({
      section,
      reason: `ejabberd offers only a count over ad-hoc (${n}); message contents are not exported`,
    })
  }
  for (const section of API_EXPORT.missing) missing.push({section, reason: API_MISSING_REASON})
  for (const m of missing) user.append(xml('missing', {xmlns: XMPPADM_NS, section: m.section}, m.reason))
  // small: one page
  await sink.page(user, 'roster')
  await sink.endSection('roster')
  return {jid, complete: false, missing, counts, via: 'ejabberd API'}
}

export interface ExportRequest {
  jid: string
  includeCredentials: boolean
  pageSize?: number
  sink: ExportSink
  /** After each page: the section and its items so far. */
  onProgress?: (section: Section, items: number) => void
}

export const exportUserOp: Operation<ExportRequest, UserExport> = {
  id: 'export-user',
  summary: "export a user's data",
  strategies: [
    {
      nodes: [mod('export-user')],
      via: 'mod_xmppadm',
      run: viaModule,
    },
    {
      nodes: [api('check_account'), api('get_roster'), api('get_last')],
      via: 'ejabberd API',
      partial: API_EXPORT_PARTIAL,
      async run(ctx, r) {
        if (r.includeCredentials)
          throw new XmppadmError(
            'unavailable',
            'operation-unavailable',
            'this server cannot export credentials remotely',
          )
        return viaEjabberdApi(ctx, r)
      },
    },
  ],
  enable: {
    prosody: prosodyModuleHint,
    ejabberd: `${EJABBERD_MODULE_HINT}; or, for a partial export, ${ADHOC_API}`,
    other: `a server offering ${mod('export-user')}`,
  },
}

export const exportUser = (ctx: OpContext, req: ExportRequest) => perform(ctx, exportUserOp, req)
