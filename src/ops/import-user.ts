// One user's XEP-0227 data put onto the connected server (the other half of a move between
// providers): read from a file item by item, sent in parts that stay far below any stanza size
// limit through the server module's #import-user (server/CONTRACT.md). The first part creates
// the account with the file's SCRAM credentials (never a clear password); the rest merge into it.
// Every item is stored once however often it is sent, so a part sent again after a lost
// connection, or a whole file imported again with --merge, adds nothing twice.
import {Element} from '@xmpp/xml'
import {ExitCode, XmppadmError, dataError} from '../errors.js'
import {formRows, formValues} from '../protocol/dataform.js'
import {NS_VCARD4, NS_VCARD_TEMP, VCARD4_NODE, vcard4ToTemp} from '../protocol/vcard.js'
import {
  NS_SCRAM,
  UserBuilder,
  type Wrapper,
  type Xep0227Source,
  readXep0227,
  reencodeScram,
  scramEncoding,
  scramFromPasswordAttr,
} from '../protocol/xep0227.js'
import {XmppError} from '../xmpp/errors.js'
import {parseAccountJid} from '../xmpp/jid.js'
import {invoke} from './context.js'
import {XMPPADM_NS, mod} from './nodes.js'
import type {Operation} from './operation.js'
import {EJABBERD_MODULE_HINT, prosodyModuleHint} from './server-module.js'

/** The sections of an import's answer, in the contract's order. */
export const IMPORT_SECTIONS = [
  'account',
  'roster',
  'vcard',
  'private',
  'offline',
  'mam',
  'blocklist',
  'privacy',
  'pep',
  'uploads',
  'last',
  'other',
] as const
export type ImportSection = (typeof IMPORT_SECTIONS)[number]

export interface SectionResult {
  imported: number
  skipped: number
  /** Why items were skipped, each reason once. */
  reasons: string[]
}
export type SectionResults = Partial<Record<ImportSection, SectionResult>>

/** One request: a part of a <user/>, for one account. */
export interface ImportPart {
  user: Element
  accountjid: string
  merge: boolean
  dryRun: boolean
  /** The JID the data was exported from. */
  source?: string
  /** A later part of an import whose first part created the account: nothing of it can be stored yet. */
  fresh?: boolean
}

export interface PartResult {
  account: string
  created: boolean
  sections: SectionResults
}

const isSection = (s: string): s is ImportSection => (IMPORT_SECTIONS as readonly string[]).includes(s)

function parseAnswer(form: NonNullable<Awaited<ReturnType<typeof invoke>>['form']>): PartResult {
  const v = formValues(form)
  const sections: SectionResults = {}
  for (const row of formRows(form)) {
    const name = String(row.section ?? '')
    if (!isSection(name)) continue
    const reason = String(row.reason ?? '')
    sections[name] = {
      imported: Number(row.imported ?? 0),
      skipped: Number(row.skipped ?? 0),
      reasons: reason ? reason.split('; ') : [],
    }
  }
  return {account: String(v.accountjid ?? ''), created: v.created === true, sections}
}

export const importUserOp: Operation<ImportPart, PartResult> = {
  id: 'import-user',
  summary: "import a user's data",
  strategies: [
    {
      nodes: [mod('import-user')],
      via: 'mod_xmppadm',
      async run(ctx, part) {
        try {
          const resp = await invoke(
            ctx,
            mod('import-user'),
            {
              FORM_TYPE: XMPPADM_NS,
              accountjid: part.accountjid,
              merge: part.merge ? '1' : '0',
              'dry-run': part.dryRun ? '1' : '0',
              source: part.source,
              fresh: part.fresh ? '1' : undefined,
            },
            {payload: [part.user]},
          )
          return parseAnswer(resp.form!)
        } catch (error) {
          if (error instanceof XmppError && error.condition === 'conflict')
            throw new XmppadmError('data', 'account-exists', `account ${part.accountjid} already exists`, {
              hint: 'use --merge to import into it (its password stays)',
            })
          throw error
        }
      },
    },
  ],
  enable: {
    prosody: prosodyModuleHint,
    ejabberd: EJABBERD_MODULE_HINT,
    other: `a server offering ${mod('import-user')}`,
  },
}

// --- reading a file ------------------------------------------------------------------------------

const NS_PUBSUB = 'http://jabber.org/protocol/pubsub'
const NS_ADM = XMPPADM_NS

/** The section an item of a <user/> belongs to (as the server names it in its answer). */
export function sectionOf(wrap: Wrapper[], el: Element, ns: string): ImportSection {
  const top = wrap[0] ? `${wrap[0].name} ${wrap[0].ns}` : `${el.name} ${ns}`
  const bySection: Record<string, ImportSection> = {
    [`scram-credentials ${NS_SCRAM}`]: 'account',
    [`account ${NS_ADM}`]: 'account',
    'query jabber:iq:roster': 'roster',
    'presence jabber:client': 'roster',
    [`vCard ${NS_VCARD_TEMP}`]: 'vcard',
    'query jabber:iq:private': 'private',
    'offline-messages urn:xmpp:pie:0': 'offline',
    'archive urn:xmpp:pie:0#mam': 'mam',
    'blocklist urn:xmpp:blocking': 'blocklist',
    'query jabber:iq:privacy': 'privacy',
    [`pubsub ${NS_PUBSUB}#owner`]: 'pep',
    [`pubsub ${NS_PUBSUB}`]: 'pep',
    [`upload ${NS_ADM}`]: 'uploads',
    'query jabber:iq:last': 'last',
  }
  return bySection[top] ?? 'other'
}

/** What the first reading of a file tells about each user, before anything is sent. */
interface UserScan {
  host: string
  attrs: Record<string, string>
  /** Every SCRAM set, base64 once (as XEP-0227 and the server module want it). */
  scram: Element[]
  /** ejabberd's double-encoded SCRAM data was found (and decoded once). */
  doubleEncoded: boolean
  clearPassword: boolean
  hasVcardTemp: boolean
  /** The first vCard4 of the urn:xmpp:vcard4 PEP node, for a vcard-temp where there is none. */
  vcard4?: Element
}

async function scan(source: Xep0227Source): Promise<UserScan[]> {
  const users: UserScan[] = []
  let current: UserScan | undefined
  for await (const ev of readXep0227(source)) {
    if (ev.type === 'user') {
      const {password, ...attrs} = ev.attrs
      current = {
        host: ev.host,
        attrs,
        scram: [],
        doubleEncoded: false,
        clearPassword: false,
        hasVcardTemp: false,
      }
      if (password) {
        const old = scramFromPasswordAttr(password)
        if (old) current.scram.push(old)
        else current.clearPassword = true
        if (old) current.doubleEncoded = true
      }
      users.push(current)
    } else if (ev.type === 'item' && current) {
      const {el, ns, wrap} = ev
      if (!wrap.length && el.name === 'scram-credentials' && ns === NS_SCRAM) {
        const twice = scramEncoding(el) === 'twice'
        current.doubleEncoded ||= twice
        current.scram.push(twice ? reencodeScram(el, 'once') : el)
      } else if (!wrap.length && el.name === 'vCard' && ns === NS_VCARD_TEMP) {
        current.hasVcardTemp = true
      } else if (!current.vcard4 && wrap.at(-1)?.attrs.node === VCARD4_NODE && el.name === 'item') {
        current.vcard4 = el.getChild('vcard', NS_VCARD4)
      }
    }
  }
  return users
}

// --- sending it ----------------------------------------------------------------------------------

/** What a part holds at most: the size of an export page, far below the servers' stanza limits. */
const PART_BYTES = 60 * 1024
const PART_ITEMS = 100
/** One item bigger than this cannot be sent: servers refuse stanzas over 256 KiB by default. */
const MAX_ITEM_BYTES = 240 * 1024

export interface ImportOptions {
  merge: boolean
  dryRun: boolean
  /** The account to import into (a file with one user only); default: the file's name on `domain`. */
  as?: string
  /** The host the commands go to. */
  domain: string
}

export interface UserImport {
  /** The user as the file names it: name@host. */
  from: string
  account: string
  created: boolean
  dryRun: boolean
  sections: SectionResults
  /** Nothing was skipped. */
  complete: boolean
  /** ejabberd's double-encoded SCRAM data was read. */
  scramDecoded: boolean
  parts: number
}

function addTo(sections: SectionResults, name: ImportSection, r: SectionResult): void {
  const s = (sections[name] ??= {imported: 0, skipped: 0, reasons: []})
  s.imported += r.imported
  s.skipped += r.skipped
  for (const reason of r.reasons) if (!s.reasons.includes(reason)) s.reasons.push(reason)
}

/** The parts of one user, built as items come and sent when full. */
class UserSender {
  private builder!: UserBuilder
  private bytes = 0
  private items = 0
  private sent = 0
  readonly result: UserImport

  constructor(
    private readonly send: (part: ImportPart) => Promise<PartResult>,
    private readonly scanned: UserScan,
    private readonly base: Omit<ImportPart, 'user' | 'merge'> & {merge: boolean},
  ) {
    const from = `${scanned.attrs.name ?? ''}@${scanned.host}`
    this.result = {
      from,
      account: base.accountjid,
      created: false,
      dryRun: base.dryRun,
      sections: {},
      complete: true,
      scramDecoded: scanned.doubleEncoded,
      parts: 0,
    }
    this.reset()
    // What the first part carries before the items: the credentials, and a vcard-temp made from
    // the vCard4 where the file has none (ejabberd reads only vcard-temp).
    for (const set of scanned.scram) this.builder.add([], set)
    if (scanned.clearPassword)
      this.skip('account', 'a clear-text password is not imported (only SCRAM data is); set a new password')
    if (!scanned.hasVcardTemp && scanned.vcard4) this.builder.add([], vcard4ToTemp(scanned.vcard4))
  }

  private reset(): void {
    this.builder = new UserBuilder({name: this.scanned.attrs.name})
    this.bytes = 0
    this.items = 0
  }

  skip(section: ImportSection, reason: string): void {
    addTo(this.result.sections, section, {imported: 0, skipped: 1, reasons: [reason]})
  }

  async add(wrap: Wrapper[], el: Element, ns: string): Promise<void> {
    // Read before the items (scan): the credentials went into the first part.
    if (!wrap.length && el.name === 'scram-credentials' && ns === NS_SCRAM) return
    const size = Buffer.byteLength(el.toString())
    if (size > MAX_ITEM_BYTES) {
      this.skip(
        sectionOf(wrap, el, ns),
        `an item of ${Math.ceil(size / 1024)} KiB: more than servers take in one stanza (256 KiB)`,
      )
      return
    }
    if (this.items && (this.bytes + size > PART_BYTES || this.items >= PART_ITEMS)) await this.flush()
    this.builder.add(wrap, el)
    this.bytes += size
    this.items++
  }

  /** Sends what is built; the first part always goes (it creates the account). */
  async flush(): Promise<void> {
    if (this.sent > 0 && this.items === 0) return
    const first = this.sent === 0
    const r = await this.send({
      ...this.base,
      user: this.builder.user,
      // After the first part the account exists: the rest merges into it, and where that part
      // created it, the server need not look for copies stored before (a re-run's parts do).
      merge: first ? this.base.merge : true,
      fresh: !first && this.result.created,
    })
    this.sent++
    this.result.parts = this.sent
    if (first) {
      this.result.created = r.created
      this.result.account = r.account || this.result.account
    }
    for (const name of IMPORT_SECTIONS) {
      const s = r.sections[name]
      // Only the first part speaks for the account (a later one of a dry run would "create" it again).
      if (s && (first || name !== 'account')) addTo(this.result.sections, name, s)
    }
    this.reset()
  }

  finish(): UserImport {
    this.result.complete = Object.values(this.result.sections).every((s) => s.skipped === 0)
    return this.result
  }
}

/**
 * Imports every user of a XEP-0227 file (a file usually holds one; ejabberd's host exports hold
 * all of a host's). `send` runs one part (the picked strategy of importUserOp). `done` hears of
 * each user as it is finished. A user the server refuses (an existing account without merge)
 * does not stop the others; the file then fails with every refusal named.
 */
export async function importFile(
  send: (part: ImportPart) => Promise<PartResult>,
  source: Xep0227Source,
  o: ImportOptions,
  done?: (u: UserImport) => void,
): Promise<UserImport[]> {
  const name = 'path' in source ? source.path : source.name
  const scanned = await scan(source)
  if (!scanned.length) throw dataError(`${name}: no <user/> in it`)
  if (o.as && scanned.length > 1)
    throw dataError(`${name} holds ${scanned.length} users: --as names the account of a file with one`)
  const accounts = scanned.map((u) => {
    if (!u.attrs.name && !o.as) throw dataError(`${name}: a <user/> without a name`)
    return o.as ?? parseAccountJid(`${u.attrs.name}@${o.domain}`)
  })
  const results: UserImport[] = []
  const refused: Array<{account: string; error: XmppadmError}> = []
  let index = -1
  let sender: UserSender | undefined
  for await (const ev of readXep0227(source)) {
    try {
      if (ev.type === 'user') {
        index++
        const u = scanned[index]
        sender = new UserSender(send, u, {
          accountjid: accounts[index],
          merge: o.merge,
          dryRun: o.dryRun,
          source: u.attrs.name && u.host ? `${u.attrs.name}@${u.host}` : undefined,
        })
      } else if (ev.type === 'item') {
        await sender?.add(ev.wrap, ev.el, ev.ns)
      } else if (sender) {
        await sender.flush()
        const r = sender.finish()
        results.push(r)
        done?.(r)
        sender = undefined
      }
    } catch (error) {
      // The server refused this user's data (65): its other items are left, the next user goes on.
      if (!(error instanceof XmppadmError && error.exitCode === ExitCode.data) || !sender) throw error
      refused.push({account: sender.result.account, error})
      sender = undefined
    }
  }
  if (refused.length) {
    const first = refused[0].error
    const what = refused.map((r) =>
      refused.length > 1 ? `${r.account}: ${r.error.message}` : r.error.message,
    )
    const head = scanned.length > 1 ? `${refused.length} of ${scanned.length} users refused: ` : ''
    throw new XmppadmError('data', first.reason, head + what.join('; '), {
      hint: first.hint,
      details: {imported: results},
    })
  }
  return results
}

/** "roster 3, vcard 1, offline 2": what was (or would be) imported, section by section. */
export function importedSummary(sections: SectionResults): string {
  const parts = IMPORT_SECTIONS.filter((s) => sections[s]?.imported).map(
    (s) => `${s} ${sections[s]!.imported}`,
  )
  return parts.length ? parts.join(', ') : 'nothing'
}

/** One line per section with skipped items: "uploads: 2 skipped: the files stay…". */
export function skippedLines(sections: SectionResults): string[] {
  return IMPORT_SECTIONS.filter((s) => sections[s]?.skipped).map(
    (s) => `${s}: ${sections[s]!.skipped} skipped: ${sections[s]!.reasons.join('; ')}`,
  )
}
