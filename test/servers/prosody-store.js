// Builds a large Prosody store fast: accounts, offline messages, a MAM archive and uploads are
// written straight into Prosody's internal storage files (the datamanager's layout, the same on
// 0.12 and 13) before the server starts, instead of going through the server one by one.
//
//   <data>/<host>/accounts/<user>.dat            return { stored_key = …; … };
//   <data>/<host>/offline/<user>.list            item({ name = "message"; …; key; when; with });
//   <data>/<host>/archive/<user>.list            the same, mod_mam's store
//   <data>/<upload host>/uploads.list            http_file_share's records, key = slot
//   <data>/<upload host>/http_file_share/<slot>.bin
//
// Each list gets the .lidx index Prosody 13 keeps next to it (a magic number, then the end
// offset of every item, as 64-bit integers; 0.12 ignores it). Names in paths are encoded as the
// datamanager does (every non-alphanumeric byte as %xx).
import {createHash, createHmac, pbkdf2Sync, randomBytes} from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'

/** @param {string} s */
const encode = (s) => s.replace(/[^a-zA-Z0-9]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`)

/** A Lua string literal (ASCII and the escapes Lua knows). @param {string} s */
const lua = (s) => `"${s.replace(/[\\"]/g, '\\$&').replace(/\n/g, '\\n').replace(/\r/g, '\\r')}"`

const iso = (/** @type {number} */ t) => new Date(Math.floor(t) * 1000).toISOString().replace(/\.\d+Z$/, 'Z')

/**
 * One archive item as the datamanager writes it: a preserialized stanza plus key, when, with.
 * @param {{key: string, when: number, with: string, name: string, attr: Record<string, string>,
 *          body?: string, child?: string}} o
 */
function item(o) {
  const attr = Object.entries({...o.attr, stamp: iso(o.when)})
    .map(([k, v]) => `[${lua(k)}]=${lua(v)};`)
    .join('')
  const kids = o.child ?? (o.body === undefined ? '' : `{name="body";attr={};${lua(o.body)};};`)
  const meta = `key=${lua(o.key)};when=${o.when};with=${lua(o.with)};`
  return `item({name=${lua(o.name)};attr={${attr}};${kids}${meta}});\n`
}

const INDEX_MAGIC = 7767639n + 1n

/**
 * Writes a list file and its index.
 * @param {string} file  the .list path
 * @param {string[]} items  serialised items (one `item(…);\n` each)
 */
function writeList(file, items) {
  const index = Buffer.alloc(8 * (items.length + 1))
  index.writeBigUInt64LE(INDEX_MAGIC, 0)
  let end = 0
  items.forEach((it, i) => {
    end += Buffer.byteLength(it)
    index.writeBigUInt64LE(BigInt(end), 8 * (i + 1))
  })
  fs.writeFileSync(file, items.join(''))
  fs.writeFileSync(file.replace(/\.list$/, '.lidx'), index)
}

/**
 * The offline message groups of a spec: `offline`, or old and fresh ones.
 * @param {{offline?: Array<{tag: string, perUser: number, ageS: number}>, oldPerUser?: number,
 *          freshPerUser?: number, oldAgeS?: number, freshAgeS?: number}} spec
 */
export function offlineGroups(spec) {
  return (
    spec.offline ?? [
      {tag: 'old', perUser: spec.oldPerUser ?? 0, ageS: spec.oldAgeS ?? 2 * 86400},
      {tag: 'fresh', perUser: spec.freshPerUser ?? 0, ageS: spec.freshAgeS ?? 60},
    ]
  )
}

/**
 * SCRAM-SHA-1 credentials as mod_auth_internal_hashed stores them, computed once per store.
 * @param {string} password
 * @param {number} iterations
 */
function credentials(password, iterations) {
  const salt = randomBytes(16).toString('hex')
  const salted = pbkdf2Sync(password, salt, iterations, 20, 'sha1')
  const clientKey = createHmac('sha1', salted).update('Client Key').digest()
  return {
    salt,
    iterations,
    storedKey: createHash('sha1').update(clientKey).digest('hex'),
    serverKey: createHmac('sha1', salted).update('Server Key').digest('hex'),
  }
}

/** @typedef {{user: string, count: number, perSecond?: number}} MamSpec */

/**
 * @typedef {object} StoreSpec
 * @property {string} dataDir            Prosody's data_path
 * @property {string} [domain]           the VirtualHost, default 'localhost'
 * @property {string} [prefix]           user names are prefix + a zero-padded number
 * @property {number} accounts           how many accounts
 * @property {string} [password]         all of them have this password (default: random)
 * @property {number} [iterations]       SCRAM iteration count (default 4096)
 * @property {number} [offlineUsers]     how many of the accounts have offline messages (default all)
 * @property {number} [oldPerUser]       offline messages per such user stored `oldAgeS` ago
 * @property {number} [freshPerUser]     and stored `freshAgeS` ago
 * @property {number} [oldAgeS]          default 2 days
 * @property {number} [freshAgeS]        default 60 s
 * @property {Array<{tag: string, perUser: number, ageS: number}>} [offline]
 *           offline messages in groups, oldest group first (instead of old/fresh); bodies are
 *           "<tag> <n> for <user>"
 * @property {MamSpec | MamSpec[]} [mam]
 *           MAM archives: `count` messages for `user` (`perSecond` a second, default 1, ending an
 *           hour ago); ids seed-mam-00000001 and up, oldest first
 * @property {{uploadDomain: string, perUser: number, freshPerUser?: number, users: number, oldAgeS?: number,
 *              bytes?: number}} [uploads]
 *           old (and fresh: an hour old) uploads, files of `bytes` bytes, by the first `users`
 *           accounts
 * @property {number} [now]              seconds since the epoch (default: now)
 */

/**
 * Writes the store; returns what it wrote and how long that took.
 * @param {StoreSpec} spec
 */
export function seedProsodyStore(spec) {
  const t0 = performance.now()
  const domain = spec.domain ?? 'localhost'
  const prefix = spec.prefix ?? 'bulk'
  const now = spec.now ?? Math.floor(Date.now() / 1000)
  const password = spec.password ?? randomBytes(12).toString('base64url')
  const cred = credentials(password, spec.iterations ?? 4096)
  const width = String(spec.accounts).length
  const names = Array.from(
    {length: spec.accounts},
    (_, i) => `${prefix}${String(i + 1).padStart(width, '0')}`,
  )
  const hostDir = path.join(spec.dataDir, encode(domain))
  const dir = (/** @type {string} */ store) => {
    const d = path.join(hostDir, store)
    fs.mkdirSync(d, {recursive: true, mode: 0o750})
    return d
  }

  const accountsDir = dir('accounts')
  for (const name of names) {
    fs.writeFileSync(
      path.join(accountsDir, `${encode(name)}.dat`),
      `return {["iteration_count"]=${cred.iterations};["salt"]=${lua(cred.salt)};` +
        `["stored_key"]=${lua(cred.storedKey)};["server_key"]=${lua(cred.serverKey)};` +
        `["created"]=${now - 30 * 86400};["updated"]=${now - 30 * 86400};};\n`,
    )
  }

  const groups = offlineGroups(spec)
  const offlineUsers = names.slice(0, spec.offlineUsers ?? names.length)
  let offline = 0
  if (groups.some((g) => g.perUser > 0)) {
    const offlineDir = dir('offline')
    let n = 0
    for (const name of offlineUsers) {
      /** @type {string[]} */
      const items = []
      const to = `${name}@${domain}`
      const add = (/** @type {number} */ when, /** @type {string} */ body) => {
        n++
        items.push(
          item({
            key: `seed-off-${n}`,
            when,
            with: '',
            name: 'message',
            attr: {xmlns: 'jabber:client', type: 'chat', to, from: `sender@${domain}/seed`, id: `m${n}`},
            body,
          }),
        )
      }
      for (const g of groups)
        for (let i = 0; i < g.perUser; i++) add(now - g.ageS + i, `${g.tag} ${i + 1} for ${name}`)
      writeList(path.join(offlineDir, `${encode(name)}.list`), items)
    }
    offline = n
  }

  let mam = 0
  for (const {user, count, perSecond = 1} of spec.mam ? [spec.mam].flat() : []) {
    const me = `${user}@${domain}`
    const peer = `peer@${domain}`
    const start = now - Math.ceil(count / perSecond) - 3600
    const parts = []
    for (let i = 0; i < count; i++) {
      const out = i % 2 === 0
      parts.push(
        item({
          key: `seed-mam-${String(i + 1).padStart(8, '0')}`,
          when: start + Math.floor(i / perSecond),
          with: peer,
          name: 'message',
          attr: {
            xmlns: 'jabber:client',
            type: 'chat',
            to: out ? peer : me,
            from: out ? `${me}/seed` : `${peer}/seed`,
            id: `a${i + 1}`,
          },
          body: `archived message ${i + 1}: ${'lorem ipsum dolor sit amet '.repeat(2)}`,
        }),
      )
    }
    writeList(path.join(dir('archive'), `${encode(user)}.list`), parts)
    mam += count
  }

  let uploads = 0
  if (spec.uploads) {
    const u = spec.uploads
    const uploadHostDir = path.join(spec.dataDir, encode(u.uploadDomain))
    const filesDir = path.join(uploadHostDir, 'http_file_share')
    fs.mkdirSync(filesDir, {recursive: true, mode: 0o750})
    const bytes = u.bytes ?? 16
    const content = Buffer.alloc(bytes, 0x61)
    const parts = []
    const add = (/** @type {string} */ name, /** @type {number} */ when, /** @type {string} */ kind) => {
      uploads++
      const slot = `seed-${kind}-${uploads}`
      parts.push(
        item({
          key: slot,
          when,
          with: `${name}@${domain}`,
          name: 'request',
          attr: {
            xmlns: 'urn:xmpp:http:upload:0',
            filename: `file${uploads}.txt`,
            size: String(bytes),
            'content-type': 'text/plain',
          },
        }),
      )
      fs.writeFileSync(path.join(filesDir, `${encode(slot)}.bin`), content)
    }
    const users = names.slice(0, u.users)
    // oldest first, as http_file_share appends them; several per second
    let k = 0
    const old0 = now - (u.oldAgeS ?? 2 * 86400)
    for (const name of users) for (let i = 0; i < u.perUser; i++) add(name, old0 + Math.floor(k++ / 3), 'old')
    k = 0
    for (const name of users)
      for (let i = 0; i < (u.freshPerUser ?? 0); i++) add(name, now - 3600 + Math.floor(k++ / 3), 'fresh')
    writeList(path.join(uploadHostDir, 'uploads.list'), parts)
  }

  return {
    names,
    password,
    offline,
    offlineOld: offlineUsers.length * (spec.oldPerUser ?? 0),
    offlineUsers: offlineUsers.length,
    mam,
    uploads,
    ms: performance.now() - t0,
  }
}

/**
 * Upload records and files left on an upload service: old and fresh ones (seeded slot names).
 * @param {string} dataDir
 * @param {string} uploadDomain
 */
export function countUploads(dataDir, uploadDomain) {
  const d = path.join(dataDir, encode(uploadDomain))
  const list = path.join(d, 'uploads.list')
  const text = fs.existsSync(list) ? fs.readFileSync(list, 'utf8') : ''
  const files = fs.existsSync(path.join(d, 'http_file_share'))
    ? fs.readdirSync(path.join(d, 'http_file_share'))
    : []
  return {
    oldRecords: (text.match(/"seed-old-\d+"/g) ?? []).length,
    freshRecords: (text.match(/"seed-fresh-\d+"/g) ?? []).length,
    oldFiles: files.filter((f) => f.startsWith('seed%2dold%2d')).length,
    freshFiles: files.filter((f) => f.startsWith('seed%2dfresh%2d')).length,
  }
}

/**
 * The offline messages stored for a user, read from the file (`fresh …`/`old …` bodies).
 * @param {string} dataDir
 * @param {string} user
 * @param {string} [domain]
 * @returns {string[]}
 */
export function offlineBodies(dataDir, user, domain = 'localhost') {
  const file = path.join(dataDir, encode(domain), 'offline', `${encode(user)}.list`)
  let text
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (e) {
    if (/** @type {NodeJS.ErrnoException} */ (e).code === 'ENOENT') return []
    throw e
  }
  return [...text.matchAll(/"([\w-]+ \d+ for [^"]+)"/g)].map((m) => m[1])
}

/**
 * Counts offline messages left in the store by the tag of their body ("old", "fresh", …), and
 * the users that have any, over all users (reads the files).
 * @param {string} dataDir
 * @param {string} [domain]
 * @returns {{users: number, [tag: string]: number}}
 */
export function countOffline(dataDir, domain = 'localhost') {
  const d = path.join(dataDir, encode(domain), 'offline')
  /** @type {{users: number, [tag: string]: number}} */
  const out = {old: 0, fresh: 0, users: 0}
  for (const f of fs.existsSync(d) ? fs.readdirSync(d) : []) {
    if (!f.endsWith('.list')) continue
    const text = fs.readFileSync(path.join(d, f), 'utf8')
    let any = false
    for (const m of text.matchAll(/"([\w-]+) \d+ for [^"]+"/g)) {
      out[m[1]] = (out[m[1]] ?? 0) + 1
      any = true
    }
    if (any) out.users++
  }
  return out
}
