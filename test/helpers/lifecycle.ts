// Helpers for the account lifecycle tests (issue 13): a login that tells why it was refused, an
// account's last activity moved back through the server's own stores or tools, and data a user
// leaves behind (roster, vCard, an offline message, an upload).
import {type ServerDescriptor} from '../servers/servers.js'
import {
  RawClient,
  isProsody,
  prosodyLua,
  runControlOk,
  sendMessages,
  setRosterAndVcard,
  sleep,
  type TestAccount,
} from './mission.js'
import {uploadFile} from './stores.js'

/** Logs in (SASL PLAIN): null if it worked, else the server's <failure/> as text. */
export async function loginRefusal(
  server: ServerDescriptor,
  account: {jid: string; password: string},
): Promise<string | null> {
  try {
    await (await RawClient.login(server, account)).close()
    return null
  } catch (error) {
    const m = /login of .* failed: (.*)$/s.exec((error as Error).message)
    if (m) return m[1]
    throw error
  }
}

/**
 * Makes an account's last activity `seconds` ago, where the server keeps it: Prosody 13's
 * mod_account_activity store, the module's own store on 0.12 (no mod_account_activity there),
 * ejabberd's mod_last through `ejabberdctl set_last`.
 */
export async function backdateActivity(server: ServerDescriptor, local: string, seconds: number) {
  if (isProsody(server.kind)) {
    const store = server.kind === 'prosody' ? 'account_activity' : 'xmppadm_activity'
    const out = await prosodyLua(
      server,
      `require"core.storagemanager".open(${JSON.stringify(server.domain)},${JSON.stringify(store)})` +
        `:set(${JSON.stringify(local)},{timestamp=os.time()-${seconds}}); return "ok"`,
    )
    if (out !== 'ok') throw new Error(`backdating ${local}: ${out}`)
    return
  }
  const when = Math.floor(Date.now() / 1000) - seconds
  await runControlOk(server, ['set_last', local, server.domain, String(when), 'gone away'])
}

/** What a user leaves on a server: a roster item, a vCard, an offline message (from `sender`), an upload. */
export async function leaveData(server: ServerDescriptor, user: TestAccount, sender: TestAccount) {
  await setRosterAndVcard(
    server,
    user,
    {jid: sender.jid, name: 'Sender', group: 'Friends'},
    {fn: 'To Be Erased', nickname: 'tbe'},
  )
  await uploadFile(server, user, 'erase-me.txt', 'uploaded, then erased\n')
  await sendMessages(server, sender, user.jid, ['while you were away'])
}

/** Resolves when the server has ended a session: its stream closed (</stream:stream>) or the connection. */
export async function sessionEnded(c: RawClient, timeoutMs = 10_000): Promise<void> {
  let closed = false
  void c.closed.then(() => (closed = true))
  const deadline = Date.now() + timeoutMs
  while (!closed && !/<\/stream:stream>/.test(c.received)) {
    if (Date.now() > deadline) throw new Error(`the session stayed open: ${c.received.slice(-300)}`)
    await Promise.race([c.closed, sleep(50)])
  }
  if (!closed) c.send('</stream:stream>')
}
