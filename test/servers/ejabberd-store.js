// Builds a large ejabberd store fast, inside the running node (evalErlang): accounts written
// straight into Mnesia's passwd table (SQL: registered the normal way), offline messages through
// mod_offline's own backend (Mnesia or SQL) with their storage time set, and upload files
// in mod_http_upload's docroot with an old modification time. The seeded users are
// prefix + a zero-padded number, as in prosody-store.js.
import * as fs from 'node:fs'
import * as path from 'node:path'
import {createHash} from 'node:crypto'
import {evalErlang} from './servers.js'
import {offlineGroups} from './prosody-store.js'

const bin = (/** @type {string} */ s) => `<<${JSON.stringify(s)}/utf8>>`

/**
 * @param {import('./servers.js').ServerDescriptor & {db?: string}} server
 * @param {{accounts: number, prefix?: string, offlineUsers?: number, oldPerUser?: number,
 *          freshPerUser?: number, oldAgeS?: number, freshAgeS?: number, password?: string,
 *          offline?: Array<{tag: string, perUser: number, ageS: number}>}} spec  as in prosody-store.js
 */
export async function seedEjabberdStore(server, spec) {
  const t0 = performance.now()
  const prefix = spec.prefix ?? 'bulk'
  const width = String(spec.accounts).length
  const offlineUsers = spec.offlineUsers ?? spec.accounts
  const groups = offlineGroups(spec)
  const perUser = groups.reduce((n, g) => n + g.perUser, 0)
  // One Erlang expression list: names, accounts (Mnesia), then each user's messages, oldest
  // first, a microsecond apart (Mnesia tells a user's messages apart by their time).
  const code = `H = ${bin(server.domain)}, Width = ${width}, Now = erlang:system_time(microsecond),
    Name = fun(I) -> Digits = integer_to_binary(I),
                     Pad = binary:copy(<<"0">>, max(Width - byte_size(Digits), 0)),
                     <<${bin(prefix)}/binary, Pad/binary, Digits/binary>> end,
    Names = [Name(I) || I <- lists:seq(1, ${spec.accounts})],
    Pw = ${bin(spec.password ?? 'seeded')},
    case ${JSON.stringify(server.db ?? 'mnesia')} of
      "mnesia" -> lists:foreach(fun(U) -> mnesia:dirty_write({passwd, {U, H}, Pw}) end, Names);
      _ -> lists:foreach(fun(U) -> ejabberd_auth:try_register(U, H, Pw) end, Names)
    end,
    Mod = gen_mod:db_mod(H, mod_offline),
    From = jid:make(<<"sender">>, H, <<"seed">>),
    Store = fun(U, T, Body) ->
      To = jid:make(U, H), TS = {T div 1000000000000, (T div 1000000) rem 1000000, T rem 1000000},
      P = xmpp:decode({xmlel, <<"message">>,
                       [{<<"xmlns">>, <<"jabber:client">>}, {<<"type">>, <<"chat">>},
                        {<<"to">>, jid:encode(To)}, {<<"from">>, jid:encode(From)}],
                       [{xmlel, <<"body">>, [], [{xmlcdata, Body}]}]}),
      ok = case Mod:store_message({offline_msg, {U, H}, TS, never, From, To, P}) of
             ok -> ok; {atomic, ok} -> ok; Other -> Other
           end
    end,
    Groups = [${groups.map((g) => `{${bin(g.tag)}, ${g.perUser}, Now - ${g.ageS * 1e6}}`).join(', ')}],
    lists:foreach(fun({I, U}) ->
        [Store(U, T0 + I * 1000 + K, <<Tag/binary, " ", (integer_to_binary(K))/binary, " for ", U/binary>>)
         || {Tag, Per, T0} <- Groups, K <- lists:seq(1, Per)]
      end, lists:zip(lists:seq(1, ${offlineUsers}), lists:sublist(Names, ${offlineUsers}))),
    ${offlineUsers * perUser}.`
  await evalErlang(server, code, 30 * 60_000)
  return {
    names: Array.from({length: spec.accounts}, (_, i) => `${prefix}${String(i + 1).padStart(width, '0')}`),
    offline: offlineUsers * perUser,
    offlineOld: offlineUsers * (spec.oldPerUser ?? 0),
    ms: performance.now() - t0,
  }
}

/**
 * Offline messages left on the host by the tag of their body ("old", "fresh", …), and the users
 * that have any.
 * @param {import('./servers.js').ServerDescriptor} server
 * @returns {Promise<{users: number, [tag: string]: number}>}
 */
export async function countEjabberdOffline(server) {
  const out = await evalErlang(
    server,
    `H = ${bin(server.domain)}, Mod = gen_mod:db_mod(H, mod_offline),
     Users = case Mod of
       mod_offline_mnesia ->
         lists:usort(mnesia:dirty_select(
           offline_msg, [{{offline_msg, {'$1', H}, '_', '_', '_', '_', '_'}, [], ['$1']}]));
       _ -> {ok, Us} = mod_xmppadm_sql:offline_users(H), Us
     end,
     Tag = fun(P) -> hd(binary:split(fxml:get_path_s(P, [{elem, <<"body">>}, cdata]), <<" ">>)) end,
     Tags = lists:append([[Tag(P) || {_, _, _, _, P} <- Mod:read_message_headers(U, H)] || U <- Users]),
     Counts = lists:foldl(fun(T, M) -> maps:update_with(T, fun(N) -> N + 1 end, 1, M) end, #{}, Tags),
     iolist_to_binary([io_lib:format("~ts=~B ", [T, N])
                       || {T, N} <- maps:to_list(Counts#{<<"users">> => length(Users)})]).`,
    10 * 60_000,
  )
  /** @type {{users: number, [tag: string]: number}} */
  const counts = {old: 0, fresh: 0, users: 0}
  for (const kv of out.trim().split(' ').filter(Boolean)) {
    const [k, v] = kv.split('=')
    counts[k] = Number(v)
  }
  return counts
}

/**
 * Writes upload files into mod_http_upload's docroot as if `user` had uploaded them, with a
 * modification time `ageS` ago. Returns their paths.
 * @param {import('./servers.js').ServerDescriptor & {chroot?: string}} server
 * @param {string} docroot  the docroot as the server sees it
 * @param {string} user  the localpart
 * @param {number} count
 * @param {number} ageS
 * @param {string} tag  goes into the file names
 */
export function seedEjabberdUploads(server, docroot, user, count, ageS, tag) {
  const root = server.chroot ? path.join(server.chroot, docroot) : docroot
  const userDir = createHash('sha1').update(`${user}@${server.domain}`).digest('hex')
  const when = new Date(Date.now() - ageS * 1000)
  const files = []
  for (let i = 0; i < count; i++) {
    const dir = path.join(root, userDir, `${tag}${String(i).padStart(6, '0')}`)
    fs.mkdirSync(dir, {recursive: true})
    const file = path.join(dir, `${tag}-${i}.txt`)
    fs.writeFileSync(file, `${tag} ${i}\n`)
    fs.utimesSync(file, when, when)
    files.push(file)
  }
  return files
}
