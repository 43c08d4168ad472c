%%%----------------------------------------------------------------------
%%% mod_xmppadm_import: #import-user of server/CONTRACT.md, one user's
%%% XEP-0227 <user/> put onto this host.
%%%
%%% Each section goes through the module that owns the data, the way that
%%% module stores what a client sends (mod_roster, mod_vcard, mod_private,
%%% mod_blocking, mod_privacy, mod_pubsub's PEP) or the way it stores what
%%% arrives (mod_offline, mod_mam's backend), so it works with any storage
%%% backend. A section of a module that is not loaded is skipped, saying so.
%%%
%%% mod_adhoc decodes <command/> into a record that keeps only the form, so
%%% the <user/> next to it is taken from the raw stanza when the requester's
%%% c2s process sends it (user_send_packet), kept in that process's
%%% dictionary, and read back by the command, which ejabberd runs in the
%%% same process right after (ejabberd_local routes IQs to the server in
%%% the sender's process).
%%%----------------------------------------------------------------------
-module(mod_xmppadm_import).

-export([user_send_packet/1, run/2]).

-include_lib("xmpp/include/xmpp.hrl").
-include_lib("xmpp/include/scram.hrl").
-include("logger.hrl").
-include("mod_offline.hrl").
-include("mod_xmppadm.hrl").

-define(NODE, <<"urn:xmppadm:admin:1#import-user">>).
-define(NS_PIE0, <<"urn:xmpp:pie:0">>).
-define(KEY, xmppadm_import_users).
%% The order of the result's rows (CONTRACT.md, #import-user).
-define(SECTIONS, [<<"account">>, <<"roster">>, <<"vcard">>, <<"private">>, <<"offline">>, <<"mam">>,
		   <<"blocklist">>, <<"privacy">>, <<"pep">>, <<"uploads">>, <<"last">>, <<"other">>]).

%%%===================================================================
%%% The <user/> that came with the command
%%%===================================================================
user_send_packet({#iq{type = set, sub_els = [#xmlel{name = <<"command">>} = Cmd]}, _} = Acc) ->
    case fxml:get_tag_attr_s(<<"node">>, Cmd) of
	?NODE ->
	    put(?KEY, [U || #xmlel{name = <<"user">>} = U <- Cmd#xmlel.children,
			    fxml:get_tag_attr_s(<<"xmlns">>, U) == ?NS_PIE0]);
	_ -> ok
    end,
    Acc;
user_send_packet(Acc) ->
    Acc.

%%%===================================================================
%%% The command
%%%===================================================================
%% check_stored: look for copies of messages stored before (a re-run): the account existed before
%% this request, and the request is not a later part of an import that created it (fresh).
-record(ctx, {user, host, jid, own = [], dry = false, check_stored = false}).

run(Host, Values) ->
    Users = case erase(?KEY) of
		undefined -> [];
		L -> L
	    end,
    UserEl = case Users of
		 [U] -> U;
		 [] -> mod_xmppadm_form:bad_request("no <user xmlns='urn:xmpp:pie:0'/> next to the form", []);
		 _ -> mod_xmppadm_form:bad_request("more than one <user xmlns='urn:xmpp:pie:0'/> next to the form", [])
	     end,
    User = account_of(Values, UserEl, Host),
    JID = jid:make(User, Host),
    Merge = mod_xmppadm_form:boolean(Values, <<"merge">>),
    Dry = mod_xmppadm_form:boolean(Values, <<"dry-run">>),
    Existed = ejabberd_auth:user_exists(User, Host),
    Existed andalso not Merge andalso
	mod_xmppadm_form:fail(conflict, "User ~ts exists; set merge to import into it", [jid:encode(JID)]),
    Own = [jid:encode(JID) | case mod_xmppadm_form:text(Values, <<"source">>) of
				 undefined -> [];
				 Source -> [bare(Source)]
			     end],
    Fresh = mod_xmppadm_form:boolean(Values, <<"fresh">>),
    Ctx = #ctx{user = User, host = Host, jid = JID, own = Own, dry = Dry,
	       check_stored = Existed andalso not Fresh},
    Sets = [S || #xmlel{name = <<"scram-credentials">>} = S <- UserEl#xmlel.children,
		 ns(S, ?NS_PIE0) == <<?NS_PIE0/binary, "#scram">>],
    Report0 = case Existed of
		  false -> create_account(Ctx, Sets, #{});
		  true when Sets /= [] ->
		      skip(<<"account">>, <<"the account exists: its credentials are kept">>, length(Sets), #{});
		  true -> #{}
	      end,
    Report = lists:foldl(fun(#xmlel{} = El, R) -> section(Ctx, El, ns(El, ?NS_PIE0), R);
			    (_, R) -> R
			 end, Report0, UserEl#xmlel.children),
    Form = mod_xmppadm_form:result(
	     <<"Import">>,
	     [{<<"accountjid">>, 'jid-single', <<"Account">>, jid:encode(JID)},
	      {<<"created">>, boolean, <<"Account created">>, not Existed},
	      {<<"dry-run">>, boolean, <<"Dry run">>, Dry}]),
    Cols = [{<<"section">>, <<"Section">>}, {<<"imported">>, <<"Imported">>},
	    {<<"skipped">>, <<"Skipped">>}, {<<"reason">>, <<"Why skipped">>}],
    Form#xdata{reported = [#xdata_field{var = V, type = 'text-single', label = L} || {V, L} <- Cols],
	       items = [[#xdata_field{var = <<"section">>, values = [S]},
			 #xdata_field{var = <<"imported">>, values = [integer_to_binary(I)]},
			 #xdata_field{var = <<"skipped">>, values = [integer_to_binary(N)]},
			 #xdata_field{var = <<"reason">>, values = [iolist_to_binary(lists:join(<<"; ">>, Rs))]}]
			|| S <- ?SECTIONS, {I, N, Rs} <- [maps:get(S, Report, none)], is_integer(I)]}.

%% The account a request imports into: accountjid, else <user name> on this host.
account_of(Values, UserEl, Host) ->
    case mod_xmppadm_form:text(Values, <<"accountjid">>) of
	undefined ->
	    Name = fxml:get_tag_attr_s(<<"name">>, UserEl),
	    case jid:nodeprep(Name) of
		U when is_binary(U), U /= <<>> -> U;
		_ -> mod_xmppadm_form:bad_request("no accountjid, and <user/> has no valid name ('~ts')", [Name])
	    end;
	Text ->
	    case catch jid:decode(Text) of
		#jid{luser = U, lserver = Host} when U /= <<>> -> U;
		_ -> mod_xmppadm_form:bad_request("accountjid: '~ts' is not a JID of a user on ~ts", [Text, Host])
	    end
    end.

%%% The report: #{Section => {Imported, Skipped, [Reason]}}
imported(Section, N, R) ->
    {I, S, Rs} = maps:get(Section, R, {0, 0, []}),
    R#{Section => {I + N, S, Rs}}.
imported(Section, R) -> imported(Section, 1, R).

skip(Section, Reason, N, R) ->
    {I, S, Rs} = maps:get(Section, R, {0, 0, []}),
    R#{Section => {I, S + N, case lists:member(Reason, Rs) of true -> Rs; false -> Rs ++ [Reason] end}}.
skip(Section, Reason, R) -> skip(Section, Reason, 1, R).

fmt(Fmt, Args) -> iolist_to_binary(io_lib:format(Fmt, Args)).

%% The namespace of an element: its own xmlns, else its parent's.
ns(#xmlel{} = El, Parent) ->
    case fxml:get_tag_attr_s(<<"xmlns">>, El) of
	<<>> -> Parent;
	NS -> NS
    end.

bare(Text) ->
    case catch jid:decode(Text) of
	#jid{} = J -> jid:encode(jid:remove_resource(J));
	_ -> Text
    end.

children(#xmlel{children = Cs}) -> [C || #xmlel{} = C <- Cs].

%%%===================================================================
%%% The account
%%%===================================================================
-define(NOBODY, "created with a random password nobody knows; set a new one").

create_account(#ctx{user = User, host = Host, dry = Dry}, Sets, R) ->
    {Password, R1} = case usable_scram(Host, Sets) of
			 {ok, Scram} -> {Scram, imported(<<"account">>, R)};
			 {no, Why} -> {base64:encode(crypto:strong_rand_bytes(24)),
				       skip(<<"account">>, Why, max(1, length(Sets)), R)}
		     end,
    Dry orelse case ejabberd_auth:try_register(User, Host, Password) of
		   ok -> ok;
		   {error, Err} -> mod_xmppadm_form:internal("Could not create the account: ~p", [Err])
	       end,
    R1.

%% The SCRAM set this server logs in with, as ejabberd stores it (keys and salt
%% base64, as XEP-0227 writes them), or {no, Why}.
usable_scram(_Host, []) ->
    {no, <<"no SCRAM credentials in the data: ", ?NOBODY>>};
usable_scram(Host, Sets) ->
    Internal = [M || M <- ejabberd_auth:auth_modules(Host),
		     M == ejabberd_auth_mnesia orelse M == ejabberd_auth_sql],
    Wanted = stored_hashes(Host),
    Found = [{Hash, S} || S <- Sets, {ok, Hash} <- [hash(fxml:get_tag_attr_s(<<"mechanism">>, S))]],
    case {Internal, [F || {Hash, _} = F <- Found, lists:member(Hash, Wanted)]} of
	{[], _} ->
	    {no, fmt("this host authenticates with ~p, which keeps no SCRAM data xmppadm can write: "
		     ?NOBODY, [ejabberd_auth:auth_modules(Host)])};
	{_, [{Hash, S} | _]} ->
	    Text = fun(Name) -> re:replace(fxml:get_subtag_cdata(S, Name), <<"\\s">>, <<>>,
					   [global, {return, binary}]) end,
	    Bytes = #{sha => 20, sha256 => 32, sha512 => 64},
	    Size = fun(B) -> try byte_size(base64:decode(B)) catch _:_ -> -1 end end,
	    [Salt, ServerKey, StoredKey, Iter] = [Text(N) || N <- [<<"salt">>, <<"server-key">>,
								    <<"stored-key">>, <<"iter-count">>]],
	    case {Size(Salt) > 0, Size(ServerKey), Size(StoredKey), catch binary_to_integer(Iter)} of
		{true, K, K, IC} when K == map_get(Hash, Bytes), is_integer(IC), IC >= 1 ->
		    {ok, #scram{hash = Hash, salt = Salt, serverkey = ServerKey, storedkey = StoredKey,
				iterationcount = IC}};
		_ ->
		    {no, fmt("~ts data is malformed (base64 salt and keys of the hash's size expected): "
			     ?NOBODY, [fxml:get_tag_attr_s(<<"mechanism">>, S)])}
	    end;
	{_, []} ->
	    {no, fmt("SCRAM data for ~ts only, and this server stores ~ts: " ?NOBODY,
		     [lists:join(", ", [fxml:get_tag_attr_s(<<"mechanism">>, S) || S <- Sets]),
		      lists:join(", ", [mechanism(H) || H <- Wanted])])}
    end.

%% The hashes this server keeps SCRAM data for: auth_stored_password_types
%% (26.x) when set, else auth_scram_hash.
stored_hashes(Host) ->
    Types = try ejabberd_option:auth_stored_password_types(Host) catch _:_ -> [] end,
    case [H || T <- Types, {ok, H} <- [hash(T)]] of
	[] -> [ejabberd_option:auth_scram_hash(Host)];
	Hs -> Hs
    end.

hash(<<"SCRAM-SHA-1">>) -> {ok, sha};
hash(<<"SCRAM-SHA-256">>) -> {ok, sha256};
hash(<<"SCRAM-SHA-512">>) -> {ok, sha512};
hash(scram_sha1) -> {ok, sha};
hash(scram_sha256) -> {ok, sha256};
hash(scram_sha512) -> {ok, sha512};
hash(_) -> error.

mechanism(sha) -> <<"SCRAM-SHA-1">>;
mechanism(sha256) -> <<"SCRAM-SHA-256">>;
mechanism(sha512) -> <<"SCRAM-SHA-512">>.

%%%===================================================================
%%% Sections
%%%===================================================================
section(_Ctx, #xmlel{name = <<"scram-credentials">>}, <<"urn:xmpp:pie:0#scram">>, R) -> R;
section(_Ctx, #xmlel{name = <<"account">>}, ?NS_XMPPADM, R) -> R;
section(Ctx, #xmlel{name = <<"query">>} = El, ?NS_ROSTER, R) -> roster(Ctx, El, R);
section(Ctx, #xmlel{name = <<"presence">>} = El, ?NS_CLIENT, R) -> pending(Ctx, El, R);
section(Ctx, #xmlel{name = <<"vCard">>} = El, ?NS_VCARD, R) -> vcard(Ctx, El, R);
section(Ctx, #xmlel{name = <<"query">>} = El, ?NS_PRIVATE, R) -> private(Ctx, El, R);
section(Ctx, #xmlel{name = <<"offline-messages">>} = El, ?NS_PIE0, R) -> offline(Ctx, El, R);
section(Ctx, #xmlel{name = <<"archive">>} = El, <<"urn:xmpp:pie:0#mam">>, R) -> mam(Ctx, El, R);
section(Ctx, #xmlel{name = <<"blocklist">>} = El, ?NS_BLOCKING, R) -> blocklist(Ctx, El, R);
section(Ctx, #xmlel{name = <<"query">>} = El, ?NS_PRIVACY, R) -> privacy(Ctx, El, R);
section(Ctx, #xmlel{name = <<"pubsub">>} = El, ?NS_PUBSUB_OWNER, R) -> pep_owner(Ctx, El, R);
section(Ctx, #xmlel{name = <<"pubsub">>} = El, ?NS_PUBSUB, R) -> pep_items(Ctx, El, R);
section(_Ctx, #xmlel{name = <<"upload">>}, ?NS_XMPPADM, R) ->
    skip(<<"uploads">>, <<"uploaded files stay with the old provider (the export lists their URLs)">>, R);
section(_Ctx, #xmlel{name = <<"query">>}, ?NS_LAST, R) ->
    skip(<<"last">>, <<"last activity describes the old server">>, R);
section(_Ctx, #xmlel{name = <<"missing">>} = El, ?NS_XMPPADM, R) ->
    skip(<<"other">>, fmt("not in the export: ~ts: ~ts", [fxml:get_tag_attr_s(<<"section">>, El),
							   fxml:get_tag_cdata(El)]), R);
section(_Ctx, #xmlel{name = Name}, NS, R) ->
    skip(<<"other">>, fmt("{~ts}~ts is not part of what xmppadm imports", [NS, Name]), R).

%% Without the module that owns a section, each of its items is skipped.
unless_loaded(#ctx{host = Host}, Module, Section, Items, R, Fun) ->
    case gen_mod:is_loaded(Host, Module) of
	true -> Fun();
	false -> skip(Section, fmt("~ts is not loaded on ~ts", [Module, Host]), length(Items), R)
    end.

%% A request as the user, to the user, handled as the module handles a client's.
as_user(#ctx{jid = JID}, Fun, SubEl) ->
    Fun(#iq{type = set, id = p1_rand:get_string(), from = JID, to = jid:remove_resource(JID),
	    sub_els = [SubEl]}).

iq_ok(#iq{type = result}) -> ok;
iq_ok(#iq{} = IQ) ->
    case xmpp:get_error(IQ) of
	#stanza_error{reason = Reason, text = Text} ->
	    Name = case Reason of
		       R when is_atom(R), R /= undefined -> atom_to_binary(R, utf8);
		       _ -> <<"error">>
		   end,
	    {error, case xmpp:get_text(Text) of
			<<>> -> Name;
			T -> <<Name/binary, ": ", T/binary>>
		    end};
	_ -> {error, <<"error">>}
    end;
iq_ok(Other) -> {error, fmt("~p", [Other])}.

roster(#ctx{user = User, host = Host, own = Own, dry = Dry} = Ctx, El, R) ->
    Items = children(El),
    unless_loaded(Ctx, mod_roster, <<"roster">>, Items, R, fun() ->
	Query = El#xmlel{attrs = [{<<"xmlns">>, ?NS_ROSTER}], children = Items},
	#roster_query{items = Decoded} = xmpp:decode(Query),
	Mine = [I || #roster_item{jid = J} = I <- Decoded, lists:member(jid:encode(jid:remove_resource(J)), Own)],
	Kept = (Decoded -- Mine),
	Dry orelse case mod_roster:set_items(User, Host, #roster_query{items = Kept}) of
		       {atomic, _} -> ok;
		       Err -> mod_xmppadm_form:internal("Could not store the roster: ~p", [Err])
		   end,
	R1 = imported(<<"roster">>, length(Kept), R),
	case Mine of
	    [] -> R1;
	    _ -> skip(<<"roster">>, <<"an item for the user's own JID">>, length(Mine), R1)
	end
    end).

%% A pending subscription request arrives as it did the first time.
pending(#ctx{jid = JID, dry = Dry}, El, R) ->
    case catch xmpp:decode(El, ?NS_CLIENT, [ignore_els]) of
	#presence{type = subscribe, from = #jid{} = From} = P ->
	    Dry orelse ejabberd_router:route(P#presence{from = jid:remove_resource(From),
							to = jid:remove_resource(JID)}),
	    imported(<<"roster">>, R);
	_ -> skip(<<"roster">>, <<"a presence that is not a pending subscription request">>, R)
    end.

vcard(#ctx{dry = Dry} = Ctx, El, R) ->
    unless_loaded(Ctx, mod_vcard, <<"vcard">>, [El], R, fun() ->
	case Dry orelse iq_ok(as_user(Ctx, fun mod_vcard:process_sm_iq/1, xmpp:decode(El))) of
	    {error, Why} -> skip(<<"vcard">>, Why, R);
	    _ -> imported(<<"vcard">>, R)
	end
    end).

private(#ctx{dry = Dry} = Ctx, El, R) ->
    Items = children(El),
    unless_loaded(Ctx, mod_private, <<"private">>, Items, R, fun() ->
	lists:foldl(
	  fun(Item, Acc) ->
		  case Dry orelse iq_ok(as_user(Ctx, fun mod_private:process_sm_iq/1,
						#private{sub_els = [Item]})) of
		      {error, Why} -> skip(<<"private">>, Why, Acc);
		      _ -> imported(<<"private">>, Acc)
		  end
	  end, R, Items)
    end).

%% The storage time an export gave a message (its "Offline Storage" delay,
%% removed: ejabberd adds its own on delivery), and the message without it.
offline_time(#xmlel{children = Cs} = El) ->
    {Delays, Kept} = lists:partition(
		       fun(#xmlel{name = <<"delay">>} = D) ->
			       ns(D, ?NS_CLIENT) == ?NS_DELAY andalso
				   string:lowercase(string:trim(fxml:get_tag_cdata(D))) == <<"offline storage">>;
			  (_) -> false
		       end, Cs),
    TS = case Delays of
	     [D | _] -> try xmpp_util:decode_timestamp(fxml:get_tag_attr_s(<<"stamp">>, D))
			catch _:_ -> erlang:timestamp() end;
	     [] -> erlang:timestamp()
	 end,
    {TS, El#xmlel{children = Kept}}.

offline_key(From, TS, #xmlel{} = El) ->
    {bare(From), erlang:convert_time_unit(misc:now_to_usec(TS), microsecond, second),
     fxml:get_tag_attr_s(<<"id">>, El), fxml:get_path_s(El, [{elem, <<"body">>}, cdata])}.

offline(#ctx{user = User, host = Host, dry = Dry, check_stored = Check} = Ctx, El, R) ->
    Msgs = children(El),
    unless_loaded(Ctx, mod_offline, <<"offline">>, Msgs, R, fun() ->
	Stored = case Check of
		     false -> [];
		     true ->
			 Headers = case catch (gen_mod:db_mod(Host, mod_offline)):read_message_headers(User, Host) of
				       L when is_list(L) -> L;
				       _ -> []
				   end,
			 [{bare(jid:encode(F)), mod_xmppadm_purge:offline_time(Host, TS, P),
			   fxml:get_tag_attr_s(<<"id">>, P), fxml:get_path_s(P, [{elem, <<"body">>}, cdata])}
			  || {_, F, _, TS, P} <- Headers]
		 end,
	{R1, _} = lists:foldl(
		    fun(M, {Acc, Seen}) ->
			    case ns(M, ?NS_PIE0) == ?NS_CLIENT andalso M#xmlel.name == <<"message">> of
				false -> {skip(<<"offline">>, <<"not a jabber:client <message/>">>, Acc), Seen};
				true ->
				    {TS, M1} = offline_time(M),
				    From = fxml:get_tag_attr_s(<<"from">>, M1),
				    Key = offline_key(From, TS, M1),
				    case {From, lists:member(Key, Seen)} of
					{<<>>, _} -> {skip(<<"offline">>, <<"a message without 'from'">>, Acc), Seen};
					{_, true} -> {skip(<<"offline">>, <<"already there">>, Acc), Seen};
					{_, false} when Dry -> {imported(<<"offline">>, Acc), Seen};
					_ ->
					    case store_offline(Ctx, TS, M1) of
						ok -> {imported(<<"offline">>, Acc), [Key | Seen]};
						{skip, Why} -> {skip(<<"offline">>, Why, Acc), Seen}
					    end
				    end
			    end
		    end, {R, Stored}, Msgs),
	R1
    end).

store_offline(#ctx{user = User, host = Host, jid = JID}, TS, El) ->
    #message{from = From} = Msg = xmpp:decode(El#xmlel{attrs = lists:keystore(<<"xmlns">>, 1, El#xmlel.attrs,
									      {<<"xmlns">>, ?NS_CLIENT})},
					      ?NS_CLIENT, [ignore_els]),
    To = jid:remove_resource(JID),
    case mod_offline:store_offline_msg(#offline_msg{us = {User, Host}, timestamp = TS, expire = never,
						    from = From, to = To, packet = Msg#message{to = To}}) of
	ok -> ok;
	{error, full} ->
	    {skip, <<"the user's offline storage is full (access_max_user_messages)">>};
	{error, Why} -> mod_xmppadm_form:internal("Could not store an offline message: ~p", [Why])
    end.

mam(#ctx{host = Host, jid = JID, own = Own, dry = Dry, check_stored = Check} = Ctx, El, R) ->
    Results = children(El),
    unless_loaded(Ctx, mod_mam, <<"mam">>, Results, R, fun() ->
	lists:foldl(
	  fun(Result, Acc) ->
		  Fwd = fxml:get_subtag(Result, <<"forwarded">>),
		  Msg = Fwd /= false andalso fxml:get_subtag(Fwd, <<"message">>),
		  Stamp = Fwd /= false andalso fxml:get_path_s(Fwd, [{elem, <<"delay">>}, {attr, <<"stamp">>}]),
		  TS = try xmpp_util:decode_timestamp(Stamp) catch _:_ -> undefined end,
		  Peer = case Msg of
			     #xmlel{} -> peer(Own, Msg);
			     _ -> undefined
			 end,
		  case {Result#xmlel.name, Peer, TS} of
		      {<<"result">>, {#jid{}, _}, {_, _, _}} ->
			  %% ejabberd's archive ids are times (microseconds): the message's, to
			  %% the millisecond, and three digits from its old id, so that a second
			  %% import finds it
			  Usec = misc:now_to_usec(TS),
			  Ms = Usec - Usec rem 1000,
			  ID = Ms + erlang:phash2(fxml:get_tag_attr_s(<<"id">>, Result), 1000),
			  case Check andalso archived(Host, JID, Ms, ID) of
			      true -> skip(<<"mam">>, <<"already there">>, Acc);
			      false ->
				  Dry orelse archive(Ctx, ID, Peer, Msg),
				  imported(<<"mam">>, Acc)
			  end;
		      _ -> skip(<<"mam">>, <<"not a <result/> with a forwarded message, its peer and its time">>, Acc)
		  end
	  end, R, Results)
    end).

%% The other party of an archived message, and its direction.
peer(Own, Msg) ->
    From = bare(fxml:get_tag_attr_s(<<"from">>, Msg)),
    To = bare(fxml:get_tag_attr_s(<<"to">>, Msg)),
    {Peer, Dir} = case lists:member(To, Own) of
		      true -> {From, recv};
		      false -> {To, send}
		  end,
    case catch jid:decode(Peer) of
	#jid{} = J -> {J, Dir};
	_ -> undefined
    end.

archived(Host, JID, Ms, ID) ->
    Window = [{start, misc:usec_to_now(Ms)}, {'end', misc:usec_to_now(Ms + 999)}],
    case catch mod_mam:select(Host, JID, JID, Window, #rsm_set{max = 1000}, chat, only_messages) of
	{Msgs, _, _} when is_list(Msgs) -> lists:keymember(integer_to_binary(ID), 1, Msgs);
	_ -> false
    end.

archive(#ctx{user = User, host = Host}, ID, {Peer, Dir}, #xmlel{attrs = Attrs} = Msg) ->
    El = Msg#xmlel{attrs = lists:keystore(<<"xmlns">>, 1, Attrs, {<<"xmlns">>, ?NS_CLIENT})},
    Mod = gen_mod:db_mod(Host, mod_mam),
    case catch Mod:store(El, Host, {User, Host}, chat, Peer, <<>>, Dir, ID, <<>>, false) of
	ok -> ok;
	{ok, _} -> ok;
	Err -> mod_xmppadm_form:internal("Could not archive a message: ~p", [Err])
    end.

blocklist(#ctx{dry = Dry} = Ctx, El, R) ->
    Items = children(El),
    unless_loaded(Ctx, mod_blocking, <<"blocklist">>, Items, R, fun() ->
	Valid = [I || #xmlel{name = <<"item">>} = I <- Items,
		      is_record(catch jid:decode(fxml:get_tag_attr_s(<<"jid">>, I)), jid)],
	Bad = length(Items) - length(Valid),
	R1 = case Bad of
		 0 -> R;
		 _ -> skip(<<"blocklist">>, <<"an item without a valid JID">>, Bad, R)
	     end,
	case {Valid, Dry} of
	    {[], _} -> R1;
	    {_, true} -> imported(<<"blocklist">>, length(Valid), R1);
	    _ ->
		Block = xmpp:decode(#xmlel{name = <<"block">>, attrs = [{<<"xmlns">>, ?NS_BLOCKING}],
					   children = Valid}),
		case iq_ok(as_user(Ctx, fun mod_blocking:process_iq/1, Block)) of
		    ok -> imported(<<"blocklist">>, length(Valid), R1);
		    {error, Why} -> skip(<<"blocklist">>, Why, length(Valid), R1)
		end
	end
    end).

%% Lists first, then the default list (ejabberd's own importer does the same).
privacy(#ctx{dry = Dry} = Ctx, El, R) ->
    Items = children(El),
    unless_loaded(Ctx, mod_privacy, <<"privacy">>, Items, R, fun() ->
	{Lists, Rest} = lists:partition(fun(#xmlel{name = N}) -> N == <<"list">> end, Items),
	lists:foldl(
	  fun(Item, Acc) ->
		  Query = #xmlel{name = <<"query">>, attrs = [{<<"xmlns">>, ?NS_PRIVACY}], children = [Item]},
		  case Dry orelse
		      iq_ok(as_user(Ctx, fun mod_privacy:process_iq/1, xmpp:decode(Query))) of
		      {error, Why} -> skip(<<"privacy">>, Why, Acc);
		      _ -> imported(<<"privacy">>, Acc)
		  end
	  end, R, Lists ++ Rest)
    end).

%%% PEP: through mod_pubsub's PEP handler, as the user would configure and
%%% publish; a node that exists already keeps its configuration.
pubsub_iq(Ctx, NS, Children) ->
    El = #xmlel{name = <<"pubsub">>, attrs = [{<<"xmlns">>, NS}], children = Children},
    iq_ok(as_user(Ctx, fun mod_pubsub:iq_sm/1, xmpp:decode(El))).

pep_owner(#ctx{dry = Dry} = Ctx, El, R) ->
    Items = children(El),
    unless_loaded(Ctx, mod_pubsub, <<"pep">>, Items, R, fun() ->
	lists:foldl(
	  fun(#xmlel{name = <<"configure">>} = C, Acc) ->
		  Node = fxml:get_tag_attr_s(<<"node">>, C),
		  Create = #xmlel{name = <<"create">>, attrs = [{<<"node">>, Node}]},
		  %% an exported form may be of type form (XEP-0227's example): sent as a submission
		  Config = #xmlel{name = <<"configure">>,
				  children = [X#xmlel{attrs = lists:keystore(<<"type">>, 1, A, {<<"type">>, <<"submit">>})}
					      || #xmlel{attrs = A} = X <- children(C)]},
		  Res = case Dry of
			    true -> ok;
			    false ->
				case pubsub_iq(Ctx, ?NS_PUBSUB, [Create, Config]) of
				    ok -> ok;
				    {error, <<"conflict", _/binary>>} -> ok;
				    {error, _} -> pubsub_iq(Ctx, ?NS_PUBSUB, [Create]) % a configuration ejabberd refuses
				end
			end,
		  case Res of
		      {error, <<"conflict", _/binary>>} -> imported(<<"pep">>, Acc);
		      {error, Why} -> skip(<<"pep">>, fmt("node ~ts: ~ts", [Node, Why]), Acc);
		      ok -> imported(<<"pep">>, Acc)
		  end;
	     (#xmlel{name = Name} = C, Acc) when Name == <<"affiliations">>; Name == <<"subscriptions">> ->
		  Node = fxml:get_tag_attr_s(<<"node">>, C),
		  case Dry orelse pubsub_iq(Ctx, ?NS_PUBSUB_OWNER, [C]) of
		      {error, Why} -> skip(<<"pep">>, fmt("node ~ts: ~ts", [Node, Why]), Acc);
		      _ -> imported(<<"pep">>, Acc)
		  end;
	     (#xmlel{name = Name}, Acc) ->
		  skip(<<"pep">>, fmt("{~ts}~ts", [?NS_PUBSUB_OWNER, Name]), Acc)
	  end, R, Items)
    end).

pep_items(#ctx{dry = Dry} = Ctx, El, R) ->
    Items = [{fxml:get_tag_attr_s(<<"node">>, N), I} || #xmlel{name = <<"items">>} = N <- children(El),
							 I <- children(N)],
    unless_loaded(Ctx, mod_pubsub, <<"pep">>, Items, R, fun() ->
	lists:foldl(
	  fun({Node, #xmlel{name = <<"item">>, attrs = Attrs} = Item}, Acc) when Node /= <<>> ->
		  Publish = #xmlel{name = <<"publish">>, attrs = [{<<"node">>, Node}],
				   children = [Item#xmlel{attrs = lists:keydelete(<<"publisher">>, 1, Attrs)}]},
		  case Dry orelse pubsub_iq(Ctx, ?NS_PUBSUB, [Publish]) of
		      {error, Why} -> skip(<<"pep">>, fmt("node ~ts: ~ts", [Node, Why]), Acc);
		      _ -> imported(<<"pep">>, Acc)
		  end;
	     (_, Acc) -> skip(<<"pep">>, <<"not an <item/> in <items node/>">>, Acc)
	  end, R, Items)
    end).
