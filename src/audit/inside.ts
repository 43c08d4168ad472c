// The checks that need a login: what an account sees (XEP-0313 on its own bare JID, its own
// archive), and what an admin sees (the retention dry-run counts, debug logging, the operations
// the README promises, what the server publishes about itself: XEP-0157 and XEP-0504).
import {type Element, xml} from '@xmpp/xml'
import {ExitCode, knownError} from '../errors.js'
import {type DataForm, formType, formValues, parseForm} from '../protocol/dataform.js'
import {capabilities} from '../ops/catalogue.js'
import type {OpContext} from '../ops/context.js'
import {debugLogStatus} from '../ops/debug-log.js'
import {mod} from '../ops/nodes.js'
import {purgeOffline, purgeUploads} from '../ops/purge.js'
import {moduleLoaded, moduleReasons} from '../ops/server-module.js'
import {formatDuration} from '../ops/values.js'
import {archiveScanHint, auditArchiveContents, canScanArchives} from './archives.js'
import {type CheckResult, type PromiseId, type Verdict, check, errorText} from './check.js'
import {CONTACT_KINDS, type AuditSettings} from './settings.js'

const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info'
const MAM_VERSIONS = ['urn:xmpp:mam:2', 'urn:xmpp:mam:1', 'urn:xmpp:mam:0', 'urn:xmpp:mam:tmp']
const NS_RSM = 'http://jabber.org/protocol/rsm'
const SERVERINFO = 'http://jabber.org/network/serverinfo'
const DATA_POLICY = 'urn:xmpp:data-policy:0'

/** A failed admin step as a verdict: a missing node or admin right cannot tell; nothing else can either. */
function cannotTell(promise: PromiseId, name: string, target: string, error: unknown): CheckResult {
  const e = knownError(error)
  if (e?.exitCode === ExitCode.forbidden)
    return check(promise, name, target, 'cannot-tell', `no admin access: ${e.message}`)
  return check(promise, name, target, 'cannot-tell', errorText(error), e?.hint)
}

async function discoInfo(ctx: OpContext, to: string): Promise<Element> {
  const r = await ctx.session.iq('get', to, xml('query', {xmlns: NS_DISCO_INFO}), `disco#info of ${to}`)
  return r.getChild('query', NS_DISCO_INFO) ?? xml('query')
}

const features = (query: Element) => query.getChildren('feature').map((f) => String(f.attrs.var))

/**
 * XEP-0313 as an account sees it on its own bare JID and its archive's default; and what the
 * archives hold: every account's, through the module (archives.ts), even where XEP-0313 is no
 * longer offered (a store left behind); without the module, only the admin's own, saying so.
 */
export async function auditArchive(ctx: OpContext, settings: AuditSettings): Promise<CheckResult[]> {
  const account = ctx.admin
  const allowed = settings.archive === 'allowed'
  // Started at once: the walk is the slow part, and runs beside the rest of the audit.
  const everyArchive =
    !allowed && canScanArchives(ctx)
      ? auditArchiveContents(ctx, settings.archiveScanSeconds).catch((error: unknown) =>
          cannotTell('archive', 'archive-contents', ctx.to, error),
        )
      : undefined
  let offered: string | undefined
  try {
    const offeredFeatures = features(await discoInfo(ctx, account))
    offered = MAM_VERSIONS.find((v) => offeredFeatures.includes(v))
  } catch (error) {
    return [
      cannotTell('archive', 'archive-offered', account, error),
      ...(everyArchive ? [await everyArchive] : []),
    ]
  }
  if (!offered)
    return [
      check('archive', 'archive-offered', account, 'pass', 'the account is offered no XEP-0313 archive'),
      ...(everyArchive ? [await everyArchive] : []),
    ]
  const [prefs, contents] = await Promise.all([
    archiveDefault(ctx, offered),
    everyArchive ?? ownArchive(ctx, offered, allowed),
  ])
  const byDefault = prefs ? `, archiving by default: ${prefs}` : ''
  const what = `the account is offered XEP-0313 (${offered})${byDefault}`
  return [
    allowed
      ? check('archive', 'archive-offered', account, 'pass', `${what}, which the policy allows`)
      : check(
          'archive',
          'archive-offered',
          account,
          'fail',
          what,
          'unload the archive module (Prosody: mod_mam; ejabberd: mod_mam), or set archive = allowed',
        ),
    contents,
  ]
}

/** The admin's own archive, where the others cannot be looked into (or need not be: allowed). */
async function ownArchive(ctx: OpContext, ns: string, allowed: boolean): Promise<CheckResult> {
  const account = ctx.admin
  const held = await archiveCount(ctx, ns)
  if (typeof held === 'string') return check('archive', 'archive-contents', account, 'cannot-tell', held)
  const own = `its own archive holds ${held.atLeast ? 'at least ' : ''}${held.count} message(s)`
  if (allowed) return check('archive', 'archive-contents', account, 'pass', own)
  const rest =
    "; the other accounts' archives cannot be looked into without " +
    `${mod('list-accounts')} and ${mod('stored-data')}`
  return check(
    'archive',
    'archive-contents',
    account,
    held.count > 0 ? 'fail' : 'cannot-tell',
    own + rest,
    archiveScanHint(ctx),
  )
}

async function archiveDefault(ctx: OpContext, ns: string): Promise<string | undefined> {
  try {
    const r = await ctx.session.iq('get', undefined, xml('prefs', {xmlns: ns}), 'archive preferences')
    return r.getChild('prefs', ns)?.attrs.default
  } catch {
    return undefined
  }
}

/**
 * How many messages the account's own archive holds, or why unknown. One item is asked for: the
 * RSM count is exact where the server counts (Prosody's internal storage counts only an empty
 * archive), and a first item id says "at least one" where it does not.
 */
async function archiveCount(
  ctx: OpContext,
  ns: string,
): Promise<string | {count: number; atLeast?: boolean}> {
  try {
    const r = await ctx.session.iq(
      'set',
      undefined,
      xml('query', {xmlns: ns, queryid: 'xmppadm-audit'}, xml('set', {xmlns: NS_RSM}, xml('max', {}, '1'))),
      'archive query',
    )
    const set = (r.getChild('fin', ns) ?? r.getChild('query', ns))?.getChild('set', NS_RSM)
    const count = set?.getChildText('count')
    if (count && /^\d+$/.test(count)) return {count: Number(count)}
    if (set?.getChildText('first')) return {count: 1, atLeast: true}
    if (r.getChild('fin', ns)?.attrs.complete === 'true') return {count: 0}
    return 'the archive query answered without a count or an item'
  } catch (error) {
    return errorText(error)
  }
}

/** The oldest offline message and upload against the policy's ages (the purges' dry-run counts). */
export async function auditRetention(
  ctx: OpContext,
  ages: {offline: number; uploads: number},
  reasons: Map<string, string>,
): Promise<CheckResult[]> {
  const one = async (promise: 'offline' | 'uploads'): Promise<CheckResult> => {
    const age = ages[promise]
    const name = `${promise}-age`
    const noun = promise === 'offline' ? 'offline message(s)' : 'uploaded file(s)'
    const older = `older than ${formatDuration(age)}`
    try {
      const r = await (promise === 'offline' ? purgeOffline : purgeUploads)(ctx, {seconds: age, dryRun: true})
      if (r.count === null)
        return check(
          promise,
          name,
          ctx.to,
          'cannot-tell',
          `${r.via} cannot count what is ${older}`,
          'load mod_xmppadm, which counts (README "Server module")',
        )
      const extra = r.bytes ? `, ${r.bytes} bytes` : ''
      return r.count > 0
        ? check(
            promise,
            name,
            ctx.to,
            'fail',
            `${older}: ${r.count} ${noun}${extra}`,
            `xmppadm policy apply (or purge-${promise} --older-than ${formatDuration(age)}) deletes them`,
          )
        : check(promise, name, ctx.to, 'pass', `${older}: 0 ${noun}`)
    } catch (error) {
      const reason = reasons.get(mod(promise === 'offline' ? 'purge-offline' : 'purge-uploads'))
      // The module is there and says this host has no upload service: no uploads to keep.
      if (promise === 'uploads' && reason && /upload/i.test(reason))
        return check(promise, name, ctx.to, 'not-applicable', `no upload service: ${reason}`)
      return cannotTell(promise, name, ctx.to, error)
    }
  }
  return Promise.all([one('offline'), one('uploads')])
}

/** Debug logging: off, or on only for a while (a timer that ends it). */
export async function auditDebugLog(ctx: OpContext): Promise<CheckResult> {
  try {
    const s = await debugLogStatus(ctx)
    if (!s.active)
      return check('debug-log', 'debug-log', ctx.to, 'pass', `off${s.level ? ` (log level ${s.level})` : ''}`)
    if (s.expires)
      return check(
        'debug-log',
        'debug-log',
        ctx.to,
        'warn',
        `on until ${s.expires}, when it switches off by itself and its log is wiped`,
      )
    return check(
      'debug-log',
      'debug-log',
      ctx.to,
      'fail',
      s.level ? `the log level is ${s.level}, with no end set` : 'on, with no end set',
      'xmppadm debug-log off (or policy apply with debug_log = off)',
    )
  } catch (error) {
    return cannotTell('debug-log', 'debug-log', ctx.to, error)
  }
}

/** Why the loaded server module cannot do some operations here (its #about), once for all checks. */
export const unavailableReasons = async (ctx: OpContext): Promise<Map<string, string>> =>
  moduleLoaded(ctx) ? moduleReasons(ctx) : new Map()

/** The README's operation promises: blocking, a copy of one's data, deletion. */
const OPERATION_PROMISES: Array<[PromiseId, string[]]> = [
  ['block-ip', ['block-ip', 'block-ip-list', 'block-ip-remove']],
  ['export', ['export-user']],
  ['erasure', ['account-delete']],
]

export function auditOperations(ctx: OpContext, reasons: Map<string, string>): CheckResult[] {
  const rows = capabilities(ctx, reasons)
  return OPERATION_PROMISES.map(([promise, ops]) => {
    const mine = rows.filter((r) => ops.includes(r.operation))
    const missing = mine.filter((r) => !r.available)
    const partial = mine.filter((r) => r.available && r.partial && r.operation !== 'block-ip-remove')
    const via = mine
      .filter((r) => r.available)
      .map((r) => `${r.operation} via ${r.via} (${r.node})`)
      .join('; ')
    if (missing.length)
      return check(
        promise,
        'operation',
        ctx.to,
        'fail',
        `not available: ${missing.map((r) => r.operation).join(', ')}`,
        missing[0].hint,
      )
    if (partial.length)
      return check(
        promise,
        'operation',
        ctx.to,
        'fail',
        `only in part: ${partial.map((r) => r.partial).join('; ')}`,
      )
    return check(promise, 'operation', ctx.to, 'pass', via)
  })
}

/** The forms the domain publishes in its disco#info (XEP-0128), by FORM_TYPE. */
async function publishedForms(ctx: OpContext): Promise<Map<string, DataForm>> {
  const query = await discoInfo(ctx, ctx.to)
  const forms = new Map<string, DataForm>()
  for (const x of query.getChildren('x', 'jabber:x:data')) {
    const form = parseForm(x)
    const type = formType(form)
    if (type) forms.set(type, form)
  }
  return forms
}

export interface PublishedFacts {
  /** Whether a client port offered PLAIN (undefined: not known). */
  plainOffered?: boolean
  ages: {offline: number; uploads: number}
  /** The operations a user relies on, as auditOperations found them. */
  exportAvailable?: boolean
  erasureAvailable?: boolean
}

/** XEP-0157 contact addresses and XEP-0504 data policy, where published, against the policy. */
export async function auditPublished(
  ctx: OpContext,
  settings: AuditSettings,
  facts: () => PublishedFacts,
): Promise<CheckResult[]> {
  let forms: Map<string, DataForm>
  try {
    forms = await publishedForms(ctx)
  } catch (error) {
    return [
      cannotTell('published', 'xep-0157', ctx.to, error),
      cannotTell('published', 'xep-0504', ctx.to, error),
    ]
  }
  return [
    judgeContacts(ctx.to, forms.get(SERVERINFO), settings),
    judgeDataPolicy(ctx.to, forms.get(DATA_POLICY), settings, facts()),
  ]
}

export function judgeContacts(
  target: string,
  form: DataForm | undefined,
  settings: AuditSettings,
): CheckResult {
  const values = form ? formValues(form) : {}
  const published = CONTACT_KINDS.map((kind) => {
    const v = values[`${kind}-addresses`]
    const list = (Array.isArray(v) ? v : v ? [String(v)] : []).filter(Boolean)
    return {kind, list}
  }).filter((p) => p.list.length)
  const text = published.map((p) => `${p.kind}: ${p.list.join(', ')}`).join('; ')
  const missing = settings.contacts.filter((k) => !published.some((p) => p.kind === k))
  if (missing.length)
    return check(
      'published',
      'xep-0157',
      target,
      'fail',
      `no ${missing.join(', ')} address published (XEP-0157)${text ? `; published: ${text}` : ''}`,
      'Prosody: contact_info = { abuse = { "mailto:…" }, … } with mod_server_contact_info; ' +
        'ejabberd: mod_disco server_info',
    )
  if (!published.length)
    return check(
      'published',
      'xep-0157',
      target,
      'not-applicable',
      'no contact addresses published (XEP-0157)',
    )
  return check('published', 'xep-0157', target, 'pass', `contact addresses (XEP-0157): ${text}`)
}

/** Hours as XEP-0504 writes them ("168", "infinite", "unknown", "0"). */
const hours = (s: number) => Math.ceil(s / 3600)

export function judgeDataPolicy(
  target: string,
  form: DataForm | undefined,
  settings: AuditSettings,
  facts: PublishedFacts,
): CheckResult {
  if (!form)
    return check('published', 'xep-0504', target, 'not-applicable', 'no data policy published (XEP-0504)')
  const v = formValues(form)
  const said = Object.entries(v)
    .filter(([, value]) => value !== null && value !== '')
    .map(([k, value]) => `${k} = ${Array.isArray(value) ? value.join(', ') : String(value)}`)
    .join('; ')
  const broken: string[] = []
  if (v.auth_data === 'hidden' && facts.plainOffered)
    broken.push('auth_data says passwords stay hidden, but PLAIN is offered')
  if (v.auth_data === 'plain' && settings.plain === 'forbidden')
    broken.push('auth_data says the service sees passwords (plain), which the policy forbids')
  const retention = typeof v.data_retention === 'string' ? v.data_retention.trim() : undefined
  const kept = Math.max(facts.ages.offline, facts.ages.uploads)
  if (retention && /^\d+$/.test(retention)) {
    if (settings.archive === 'allowed')
      broken.push(`data_retention says ${retention} h, but the policy allows a message archive`)
    else if (Number(retention) < hours(kept))
      broken.push(`data_retention says ${retention} h, but the policy keeps data up to ${hours(kept)} h`)
  }
  if (v.data_export === true && facts.exportAvailable === false)
    broken.push('data_export says users can export their data, but no complete export is available')
  if (v.full_erasure === true && facts.erasureAvailable === false)
    broken.push('full_erasure says users can be erased, but account deletion is not available')
  const verdict: Verdict = broken.length ? 'fail' : 'pass'
  return check(
    'published',
    'xep-0504',
    target,
    verdict,
    broken.length
      ? `${broken.join('; ')} (published: ${said})`
      : `published data policy agrees: ${said || 'no fields'}`,
  )
}
