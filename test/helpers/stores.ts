// What a server stores, seen and changed from the test side, the same way for every server with
// mod_xmppadm: offline messages (read, made old), uploads (made, made old, where on disk), the
// debug log file. Prosody through its admin shell and data directory (helpers in mission.ts),
// ejabberd through Erlang evaluated in its node (evalErlang) and its directories.
import {utimesSync} from 'node:fs'
import {join} from 'node:path'
import {type ServerDescriptor, evalErlang} from '../servers/servers.js'
import {
  RawClient,
  prosodyBackdateOffline,
  prosodyBackdateUpload,
  prosodyOfflineBodies,
  prosodyUpload,
  xmlEscape,
} from './mission.js'

const isProsody = (s: ServerDescriptor) => s.kind.startsWith('prosody')
const bin = (s: string) => `<<${JSON.stringify(s)}/utf8>>`

/** Bodies of the offline messages stored for `local`, oldest first. */
export async function offlineBodies(server: ServerDescriptor, local: string): Promise<string[]> {
  if (isProsody(server)) return prosodyOfflineBodies(server, local)
  const out = await evalErlang(
    server,
    `H = ${bin(server.domain)}, Mod = gen_mod:db_mod(H, mod_offline),
     Hs = lists:keysort(1, Mod:read_message_headers(${bin(local)}, H)),
     iolist_to_binary([[<<"#">>, fxml:get_path_s(P, [{elem, <<"body">>}, cdata])]
                       || {_, _, _, _, P} <- Hs]).`,
  )
  return out === '' ? [] : out.slice(1).split('#')
}

/**
 * Moves the storage time of the offline messages of `local` back: the i-th oldest by `seconds[i]`.
 * Returns how many were moved.
 */
export async function backdateOffline(
  server: ServerDescriptor,
  local: string,
  seconds: number[],
): Promise<number> {
  if (isProsody(server)) return prosodyBackdateOffline(server, local, seconds)
  const back = `[${seconds.join(',')}]`
  // Mnesia: offline_msg records {offline_msg, US, Timestamp, ...}, a bag keyed by {User, Host}.
  // SQL: the time is the stamp of the <delay/> ejabberd put in the stored XML.
  const code =
    server.db === 'sqlite'
      ? `H = ${bin(server.domain)}, Back = ${back},
         {selected, _, Rows} = ejabberd_sql:sql_query(H,
           [<<"select seq, xml from spool where username='">>, ${bin(local)}, <<"' order by seq">>]),
         N = min(length(Rows), length(Back)),
         lists:foreach(fun({[Seq, Xml], B}) ->
             El = fxml_stream:parse_element(Xml),
             Stamp = fxml:get_tag_attr_s(<<"stamp">>,
                                         fxml:get_subtag_with_xmlns(El, <<"delay">>, <<"urn:xmpp:delay">>)),
             {M, S, U} = xmpp_util:decode_timestamp(Stamp), T = M * 1000000 + S - B,
             New = xmpp_util:encode_timestamp({T div 1000000, T rem 1000000, U}),
             {updated, 1} = ejabberd_sql:sql_query(H, [<<"update spool set xml='">>,
                                                       ejabberd_sql:escape(binary:replace(Xml, Stamp, New)),
                                                       <<"' where seq=">>, Seq])
           end, lists:zip(lists:sublist(Rows, N), lists:sublist(Back, N))),
         N.`
      : `Back = ${back},
         Rs = lists:keysort(3, mnesia:dirty_read(offline_msg, {${bin(local)}, ${bin(server.domain)}})),
         N = min(length(Rs), length(Back)),
         lists:foreach(fun({R, B}) ->
             {M, S, U} = element(3, R), T = M * 1000000 + S - B,
             mnesia:dirty_delete_object(R),
             mnesia:dirty_write(setelement(3, R, {T div 1000000, T rem 1000000, U}))
           end, lists:zip(lists:sublist(Rs, N), lists:sublist(Back, N))),
         N.`
  return Number(await evalErlang(server, code))
}

export interface StoredUpload {
  getUrl: string
  /** the file on disk (host path) */
  path: string
  size: number
  /** Prosody: the slot id of its upload record */
  slot?: string
}

/** Uploads `content` through XEP-0363 as `account` (slot from the upload service, HTTP PUT). */
export async function uploadFile(
  server: ServerDescriptor,
  account: {jid: string; password: string},
  filename: string,
  content: string | Buffer,
): Promise<StoredUpload> {
  if (isProsody(server)) return prosodyUpload(server, account, filename, content)
  const body = Buffer.from(content)
  const c = await RawClient.login(server, account)
  let slotXml: string
  try {
    slotXml = await c.iqOk(
      `<iq type='get' id='ID' to='${server.uploadDomain}'><request xmlns='urn:xmpp:http:upload:0' ` +
        `filename='${xmlEscape(filename)}' size='${body.length}' content-type='text/plain'/></iq>`,
    )
  } finally {
    await c.close()
  }
  const attr = (name: string) =>
    /<(?:put|get) url=['"]([^'"]+)['"]/
      .exec(slotXml.slice(slotXml.indexOf(`<${name} `)))![1]
      .replace(/&amp;/g, '&')
  const putUrl = attr('put')
  const getUrl = attr('get')
  const put = await fetch(putUrl, {method: 'PUT', body, headers: {'content-type': 'text/plain'}})
  if (put.status !== 201 && put.status !== 200)
    throw new Error(`upload PUT ${putUrl}: HTTP ${put.status} ${await put.text()}`)
  // mod_http_upload: docroot/<user dir>/<random>/<file>, the URL's last three parts
  const parts = new URL(putUrl).pathname.split('/').slice(-3).map(decodeURIComponent)
  return {getUrl, path: join(server.dir, 'upload', ...parts), size: body.length}
}

/** Makes an upload `seconds` older (Prosody: its record; ejabberd: the file's mtime). */
export async function backdateUpload(
  server: ServerDescriptor,
  up: StoredUpload,
  seconds: number,
): Promise<void> {
  if (isProsody(server)) return prosodyBackdateUpload(server, up.slot!, seconds)
  const t = Date.now() / 1000 - seconds
  utimesSync(up.path, t, t)
}

/** The host path of a file the server names by its own path (26.07 runs in a chroot). */
export function hostPath(server: ServerDescriptor, path: string): string {
  return server.chroot ? join(server.chroot, path) : path
}
