#!/usr/bin/env node
// The floor for bulk account creation: the project's own login (dist/xmpp/session.js), then the
// same XEP-0133 add-user one-shot submits pipelined on that one connection, `--window` in flight,
// with no CLI, no bulk engine, no per-IQ timers and no form building around them: each IQ is a
// prebuilt string written to the TLS socket, answers are matched by id.
//
//   node test/bench/floor.js --root DIR --file F --window N [--action complete|execute]
//   env: XMPPADM_JID, XMPPADM_SERVER (host:port), XMPPADM_PASSWORD_FILE, XMPPADM_CA_FILE
//
// Prints one JSON line: {ok, failed, loginMs, opsMs, totalMs, importMs}. Exit 1 if any failed.
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'
import {parseArgs} from 'node:util'

const t0 = performance.now()
const {values: opt} = parseArgs({
  options: {
    root: {type: 'string'},
    file: {type: 'string'},
    window: {type: 'string', default: '32'},
    action: {type: 'string', default: 'complete'},
    timeout: {type: 'string', default: '60000'},
  },
})
const root = opt.root ?? process.cwd()
const {Session} = await import(pathToFileURL(join(root, 'dist/xmpp/session.js')).href)
const tImported = performance.now()

const esc = (s) =>
  s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/'/g, '&apos;')
    .replace(/"/g, '&quot;')
const jid = process.env.XMPPADM_JID
const [host, port] = process.env.XMPPADM_SERVER.split(':')
const password = readFileSync(process.env.XMPPADM_PASSWORD_FILE, 'utf8').split('\n')[0]
const ca = readFileSync(process.env.XMPPADM_CA_FILE, 'utf8')
const domain = jid.split('@')[1]
const lines = readFileSync(opt.file, 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'))

const session = await Session.open({
  jid,
  password,
  endpoint: {host, port: Number(port), directTls: false},
  ca,
  timeoutMs: Number(opt.timeout),
})
const tLogin = performance.now()

const NODE = 'http://jabber.org/protocol/admin#add-user'
function stanza(id, line) {
  const comma = line.indexOf(',')
  const account = esc(line.slice(0, comma))
  const pw = esc(line.slice(comma + 1))
  return (
    `<iq type='set' id='${id}' to='${domain}'><command xmlns='http://jabber.org/protocol/commands' node='${NODE}' action='${opt.action}'>` +
    `<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/admin</value></field>` +
    `<field var='accountjid'><value>${account}</value></field><field ` +
    `var='password'><value>${pw}</value></field>` +
    `<field var='password-verify'><value>${pw}</value></field></x></command></iq>`
  )
}

const window = Math.max(1, Number(opt.window))
let next = 0
let done = 0
let failed = 0
const firstErrors = []
const conn = session.conn // the project's Connection: its parser delivers the answers
const socket = session.tlsSocket
const result = await new Promise((resolve, reject) => {
  const timer = setTimeout(
    () => reject(new Error(`timed out with ${done}/${lines.length} answered`)),
    Number(opt.timeout) * 10,
  )
  const send = () => {
    let batch = ''
    while (next < lines.length && next - done < window) batch += stanza(`f${next}`, lines[next++])
    if (batch) socket.write(batch)
  }
  const onStanza = (el) => {
    if (el.name !== 'iq' || !el.attrs.id?.startsWith('f')) return
    done++
    // Prosody reports failures as a completed command with an error note; ejabberd as IQ errors.
    const bad =
      el.attrs.type === 'error' ||
      el
        .getChild('command')
        ?.getChildren('note')
        .some((n) => n.attrs.type === 'error')
    if (bad) {
      failed++
      if (firstErrors.length < 3) firstErrors.push(el.toString().slice(0, 400))
    }
    if (done === lines.length) {
      clearTimeout(timer)
      resolve()
    } else send()
  }
  if (conn && typeof conn.route === 'function') conn.route(onStanza)
  else reject(new Error('Session has no .conn with route(): update test/bench/floor.js'))
  conn.onClose?.((err) => reject(err))
  send()
})
void result
const tOps = performance.now()
session.close()
const out = {
  ok: done - failed,
  failed,
  importMs: +(tImported - t0).toFixed(1),
  loginMs: +(tLogin - tImported).toFixed(1),
  opsMs: +(tOps - tLogin).toFixed(1),
  totalMs: +(tOps - t0).toFixed(1),
  errors: firstErrors,
}
process.stdout.write(`${JSON.stringify(out)}\n`)
process.exitCode = failed ? 1 : 0
