%%%----------------------------------------------------------------------
%%% mod_xmppadm_export: #export-user of server/CONTRACT.md, one user's data
%%% as XEP-0227, a section and a page at a time.
%%%
%%% Each section reads through the module that owns the data (mod_roster,
%%% mod_vcard, mod_private, mod_privacy, mod_offline, mod_mam, mod_pubsub,
%%% mod_last, mod_http_upload), so it works with any storage backend. A
%%% section of a module that is not loaded is empty.
%%%
%%% An entry is {Wrap, Element}: the element and the containers below <user/>
%%% it belongs in. List sections build every entry and page by position;
%%% offline messages page by sequence number, the archive by its message id.
%%%----------------------------------------------------------------------
-module(mod_xmppadm_export).

-export([sections/0, page/6]).

-include_lib("xmpp/include/xmpp.hrl").
-include("logger.hrl").
-include_lib("xmpp/include/scram.hrl").
-include("mod_roster.hrl").
-include("mod_privacy.hrl").
-include("pubsub.hrl").
-include("mod_xmppadm.hrl").

-define(NS_PIE0, <<"urn:xmpp:pie:0">>).
%% bytes of serialised payload per page
-define(PAGE_BUDGET, 61440).

sections() ->
    [<<"account">>, <<"roster">>, <<"vcard">>, <<"private">>, <<"offline">>, <<"mam">>,
     <<"blocklist">>, <<"pep">>, <<"uploads">>, <<"last">>].

%% One page: {Count, NextPosition | undefined, #xmlel{} <user/>}.
-spec page(binary(), binary(), binary(), undefined | binary(), pos_integer(), boolean()) ->
		  {non_neg_integer(), undefined | binary(), fxml:xmlel()}.
page(User, Host, Section, After, Max, _Creds) when Section == <<"offline">>; Section == <<"mam">> ->
    {Entries, Next} = archive_page(Section, User, Host, After, Max),
    {length(Entries), Next, assemble(User, Entries, [])};
page(User, Host, Section, After, Max, Creds) ->
    Offset = case After of
		 undefined -> 0;
		 _ ->
		     case re:run(After, <<"^[0-9]{1,9}$">>) of
			 {match, _} -> binary_to_integer(After);
			 nomatch -> mod_xmppadm_form:bad_request("after: malformed cursor '~ts:~ts'",
								 [Section, After])
		     end
	     end,
    {All, UserAttrs} = case section(Section, User, Host, Creds) of
			   {Es, Attrs} -> {Es, Attrs};
			   Es -> {Es, []}
		       end,
    Offset =< length(All) orelse mod_xmppadm_form:bad_request("after: unknown cursor", []),
    {Page, More} = take(lists:nthtail(Offset, All), Max),
    Next = case More of
	       true -> integer_to_binary(Offset + length(Page));
	       false -> undefined
	   end,
    {length(Page), Next, assemble(User, Page, UserAttrs)}.

%% Up to Max entries and PAGE_BUDGET bytes, but at least one.
take(Entries, Max) -> take(Entries, Max, 0, []).

take([], _Max, _Size, Acc) -> {lists:reverse(Acc), false};
take(_, Max, _Size, Acc) when length(Acc) >= Max -> {lists:reverse(Acc), true};
take([{_, El} = E | Rest], Max, Size, Acc) ->
    S = byte_size(fxml:element_to_binary(El)),
    if Acc /= [], Size + S > ?PAGE_BUDGET -> {lists:reverse(Acc), true};
       true -> take(Rest, Max, Size + S, [E | Acc])
    end.

%% Builds <user/> with each entry inside its containers (made once per path).
assemble(User, Entries, UserAttrs) ->
    {Children, _} =
	lists:foldl(
	  fun({Wrap, El}, {Tree, Order}) -> insert(Wrap, El, Tree, Order) end,
	  {[], 0}, Entries),
    #xmlel{name = <<"user">>,
	   attrs = [{<<"xmlns">>, ?NS_PIE0}, {<<"name">>, User} | UserAttrs],
	   children = build(Children)}.

%% Tree: [{Key, {Name, Attrs}, Subtree} | {leaf, El}] in insertion order (reversed).
insert([], El, Tree, N) -> {[{leaf, El} | Tree], N};
insert([{Name, Attrs} = C | Rest], El, Tree, N) ->
    Key = {Name, Attrs},
    case lists:keyfind(Key, 1, Tree) of
	{Key, C, Sub} ->
	    {Sub1, N1} = insert(Rest, El, Sub, N),
	    {lists:keyreplace(Key, 1, Tree, {Key, C, Sub1}), N1};
	false ->
	    {Sub1, N1} = insert(Rest, El, [], N),
	    {[{Key, C, Sub1} | Tree], N1 + 1}
    end.

build(Tree) ->
    lists:map(fun({leaf, El}) -> El;
		 ({_, {Name, Attrs}, Sub}) -> #xmlel{name = Name, attrs = Attrs, children = build(Sub)}
	      end, lists:reverse(Tree)).

%%%===================================================================
%%% List sections
%%%===================================================================
section(<<"account">>, User, Host, Creds) ->
    Disabled = case catch mod_admin_extra:get_ban_details(User, Host) of
		   [_ | _] -> <<"true">>;
		   _ -> <<"false">>
	       end,
    Account = {[], #xmlel{name = <<"account">>,
			  attrs = [{<<"xmlns">>, ?NS_XMPPADM}, {<<"disabled">>, Disabled}]}},
    case Creds of
	false -> [Account];
	true ->
	    case credentials(User, Host) of
		{scram, El} -> [Account, {[], El}];
		{plain, Password} -> {[Account], [{<<"password">>, Password}]};
		none -> [Account]
	    end
    end;
section(<<"roster">>, User, Host, _) ->
    Items = try mod_roster:get_roster(User, Host) catch _:_ -> [] end,
    Ver = case catch mod_roster:roster_version(Host, User) of
	      V when is_binary(V), V /= <<>> -> [{<<"ver">>, V}];
	      _ -> []
	  end,
    Wrap = [{<<"query">>, [{<<"xmlns">>, ?NS_ROSTER} | Ver]}],
    Contacts = [R || #roster{ask = Ask, subscription = Sub} = R <- Items,
		     not (Ask == in andalso Sub == none)],
    Pending = [R || #roster{ask = Ask} = R <- Items, Ask == in orelse Ask == both],
    [{Wrap, roster_item(R)} || R <- lists:sort(fun by_jid/2, Contacts)] ++
	[{[], #xmlel{name = <<"presence">>,
		     attrs = [{<<"xmlns">>, ?NS_CLIENT}, {<<"type">>, <<"subscribe">>},
			      {<<"from">>, jid:encode(J)}]}}
	 || #roster{jid = J} <- lists:sort(fun by_jid/2, Pending)];
section(<<"vcard">>, User, Host, _) ->
    Legacy = case catch mod_vcard:get_vcard(User, Host) of
		 [#xmlel{} = V | _] -> [{[], V}];
		 _ -> []
	     end,
    Legacy ++ pep_entries(User, Host, <<"urn:xmpp:vcard4">>);
section(<<"private">>, User, Host, _) ->
    Els = case catch mod_private:get_data(User, Host) of
	      L when is_list(L) -> [E || #xmlel{} = E <- L];
	      _ -> []
	  end,
    Sorted = lists:sort(fun(A, B) -> el_key(A) =< el_key(B) end, Els),
    [{[{<<"query">>, [{<<"xmlns">>, ?NS_PRIVATE}]}], E} || E <- Sorted];
section(<<"blocklist">>, User, Host, _) ->
    case catch mod_privacy:get_user_lists(User, Host) of
	{ok, #privacy{default = Default, lists = Lists}} ->
	    Blocked = case lists:keyfind(Default, 1, Lists) of
			  {_, Items} -> blocked_jids(Items);
			  false -> []
		      end,
	    PWrap = [{<<"query">>, [{<<"xmlns">>, ?NS_PRIVACY}]}],
	    [{[{<<"blocklist">>, [{<<"xmlns">>, ?NS_BLOCKING}]}],
	      #xmlel{name = <<"item">>, attrs = [{<<"jid">>, J}]}} || J <- Blocked] ++
		[{PWrap, #xmlel{name = <<"default">>, attrs = [{<<"name">>, Default}]}}
		 || is_binary(Default)] ++
		[{PWrap, strip_ns(xmpp:encode(#privacy_list{
						 name = Name,
						 items = [mod_privacy:encode_list_item(I) || I <- Items]}))}
		 || {Name, Items} <- lists:keysort(1, Lists)];
	_ -> []
    end;
section(<<"pep">>, User, Host, _) ->
    pep_entries(User, Host, all);
section(<<"uploads">>, User, Host, _) ->
    [{[], #xmlel{name = <<"upload">>,
		 attrs = [{<<"xmlns">>, ?NS_XMPPADM}, {<<"url">>, Url},
			  {<<"size">>, integer_to_binary(Size)},
			  {<<"time">>, mod_xmppadm_form:iso8601(MTime)},
			  {<<"filename">>, Name}]}}
     || {Url, Size, MTime, Name} <- mod_xmppadm_purge:user_uploads(User, Host)];
section(<<"last">>, User, Host, _) ->
    case ejabberd_sm:get_user_resources(User, Host) of
	[_ | _] -> [last(0, <<>>)];
	[] ->
	    case catch mod_last:get_last_info(User, Host) of
		{ok, TS, Status} -> [last(max(0, erlang:system_time(second) - TS), Status)];
		_ -> []
	    end
    end.

last(Secs, Status) ->
    {[], #xmlel{name = <<"query">>,
		attrs = [{<<"xmlns">>, ?NS_LAST}, {<<"seconds">>, integer_to_binary(Secs)}],
		children = [{xmlcdata, Status} || Status /= <<>>]}}.

credentials(User, Host) ->
    Stored = case catch ejabberd_auth:get_password(User, Host) of
		 L when is_list(L) -> L;       % 26.x: every stored credential
		 #scram{} = S -> [S];
		 P when is_binary(P) -> [P];
		 _ -> []
	     end,
    case [S || #scram{} = S <- Stored] of
	[#scram{hash = Hash, storedkey = SK, serverkey = SvK, salt = Salt,
		iterationcount = IC} | _] ->
	    Mech = case Hash of
		       sha -> <<"SCRAM-SHA-1">>;
		       sha256 -> <<"SCRAM-SHA-256">>;
		       sha512 -> <<"SCRAM-SHA-512">>
		   end,
	    Text = fun(Name, V) -> #xmlel{name = Name, children = [{xmlcdata, V}]} end,
	    {scram, #xmlel{name = <<"scram-credentials">>,
			   attrs = [{<<"xmlns">>, <<?NS_PIE0/binary, "#scram">>},
				    {<<"mechanism">>, Mech}],
			   %% ejabberd stores the keys and salt base64-encoded already
			   %% (its own export_piefxis encodes them a second time)
			   children = [Text(<<"iter-count">>, integer_to_binary(IC)),
				       Text(<<"salt">>, Salt),
				       Text(<<"server-key">>, SvK),
				       Text(<<"stored-key">>, SK)]}};
	[] ->
	    case [Pw || Pw <- Stored, is_binary(Pw), Pw /= <<>>] of
		[Plain | _] -> {plain, Plain};
		[] -> none
	    end
    end.

roster_item(R) ->
    strip_ns(xmpp:encode(mod_roster:encode_item(R))).

by_jid(#roster{jid = A}, #roster{jid = B}) -> jid:encode(A) =< jid:encode(B).

el_key(#xmlel{name = N, attrs = A}) -> {proplists:get_value(<<"xmlns">>, A, <<>>), N}.

%% The items of mod_blocking's list (XEP-0191 on top of the default privacy list).
blocked_jids(Items) ->
    lists:usort([jid:encode(J) || #listitem{type = jid, action = deny, value = J} = I <- Items,
				 I#listitem.match_all orelse
				     (I#listitem.match_iq andalso I#listitem.match_message andalso
				      I#listitem.match_presence_in andalso I#listitem.match_presence_out)]).

%% Inside a container of the same namespace the xmlns attribute is redundant.
strip_ns(#xmlel{attrs = Attrs} = El) ->
    El#xmlel{attrs = lists:keydelete(<<"xmlns">>, 1, Attrs)}.

%%% PEP: per node (sorted) its configuration, affiliations and subscriptions
%%% (pubsub#owner), then every node's items (pubsub).
pep_entries(User, Host, Only) ->
    Owner = {User, Host, <<>>},
    Nodes = case catch mod_pubsub:tree_action(Owner, get_nodes, [Owner]) of
		Found when is_list(Found) ->
		    [N || #pubsub_node{nodeid = {_, Name}} = N <- Found, Only == all orelse Name == Only];
		_ -> []
	    end,
    Sorted = lists:sort(fun(#pubsub_node{nodeid = {_, A}}, #pubsub_node{nodeid = {_, B}}) -> A =< B end,
			Nodes),
    OwnerWrap = [{<<"pubsub">>, [{<<"xmlns">>, ?NS_PUBSUB_OWNER}]}],
    Config = lists:flatmap(fun(N) -> node_owner_entries(Owner, N, OwnerWrap) end, Sorted),
    Items = lists:flatmap(
	      fun(#pubsub_node{nodeid = {_, Name}}) ->
		      Wrap = [{<<"pubsub">>, [{<<"xmlns">>, ?NS_PUBSUB}]},
			      {<<"items">>, [{<<"node">>, Name}]}],
		      case catch mod_pubsub:get_items(Owner, Name) of
			  L when is_list(L) ->
			      [{Wrap, pep_item(I)} || #pubsub_item{} = I <- lists:sort(fun by_creation/2, L)];
			  _ -> []
		      end
	      end, Sorted),
    Config ++ Items.

by_creation(#pubsub_item{creation = A}, #pubsub_item{creation = B}) -> A =< B.

pep_item(#pubsub_item{itemid = {Id, _}, modification = Mod, payload = Payload}) ->
    Publisher = case Mod of
		    {_, {_, _, _} = LJID} -> [{<<"publisher">>, jid:encode(LJID)}];
		    _ -> []
		end,
    #xmlel{name = <<"item">>, attrs = [{<<"id">>, Id} | Publisher],
	   children = [E || #xmlel{} = E <- Payload]}.

node_owner_entries(Owner, #pubsub_node{nodeid = {_, Name}, id = Nidx, type = Type, options = Opts},
		   Wrap) ->
    Fields = try pubsub_node_config:encode(
		   lists:filtermap(
		     fun({roster_groups_allowed, V}) -> {true, {roster_groups_allowed, V, []}};
			({sql, _}) -> false;
			({rsm, _}) -> false;
			({K, infinity}) when K == max_items; K == item_expire; K == children_max ->
			     {true, {K, max}};
			(_) -> true
		     end, Opts), <<"en">>)
	     catch _:_ -> []
	     end,
    Form = xmpp:encode(#xdata{type = submit,
			      fields = [#xdata_field{var = <<"FORM_TYPE">>, type = hidden,
						     values = [?NS_PUBSUB_NODE_CONFIG]} | Fields]}),
    Configure = {Wrap, #xmlel{name = <<"configure">>, attrs = [{<<"node">>, Name}],
			      children = [Form]}},
    Affs = case catch mod_pubsub:node_action(Owner, Type, get_node_affiliations, [Nidx]) of
	       {result, As} -> [{jid:encode(J), A} || {J, A} <- As, A /= none];
	       _ -> []
	   end,
    Subs = case catch mod_pubsub:node_action(Owner, Type, get_node_subscriptions, [Nidx]) of
	       {result, Ss} -> [{jid:encode(J), S} || {J, S, _} <- Ss, S /= none];
	       _ -> []
	   end,
    [Configure] ++
	[{Wrap, #xmlel{name = <<"affiliations">>, attrs = [{<<"node">>, Name}],
		       children = [#xmlel{name = <<"affiliation">>,
					  attrs = [{<<"jid">>, J}, {<<"affiliation">>, atom_to_binary(A, utf8)}]}
				   || {J, A} <- lists:sort(Affs)]}} || Affs /= []] ++
	[{Wrap, #xmlel{name = <<"subscriptions">>, attrs = [{<<"node">>, Name}],
		       children = [#xmlel{name = <<"subscription">>,
					  attrs = [{<<"jid">>, J}, {<<"subscription">>, atom_to_binary(S, utf8)}]}
				   || {J, S} <- lists:usort(Subs)]}} || Subs /= []].

%%%===================================================================
%%% Archive sections
%%%===================================================================
archive_page(<<"offline">>, User, Host, After, Max) ->
    Headers = case catch (gen_mod:db_mod(Host, mod_offline)):read_message_headers(User, Host) of
		  L when is_list(L) -> lists:keysort(1, L);
		  _ -> []
	      end,
    Rest = case After of
	       undefined -> Headers;
	       _ ->
		   Seq = case re:run(After, <<"^[0-9]{1,30}$">>) of
			     {match, _} -> binary_to_integer(After);
			     nomatch -> mod_xmppadm_form:bad_request("after: malformed cursor 'offline:~ts'", [After])
			 end,
		   lists:keymember(Seq, 1, Headers) orelse
		       mod_xmppadm_form:bad_request("after: unknown cursor", []),
		   [H || {S, _, _, _, _} = H <- Headers, S > Seq]
	   end,
    Wrap = [{<<"offline-messages">>, []}],
    Entries = [{Seq, {Wrap, offline_message(Host, From, To, TS, Pkt)}}
	       || {Seq, From, To, TS, Pkt} <- Rest],
    page_keyed(Entries, Max);
archive_page(<<"mam">>, User, Host, After, Max) ->
    case gen_mod:is_loaded(Host, mod_mam) of
	false -> {[], undefined};
	true ->
	    After == undefined orelse re:run(After, <<"^[0-9]{1,30}$">>) /= nomatch orelse
		mod_xmppadm_form:bad_request("after: malformed cursor 'mam:~ts'", [After]),
	    JID = jid:make(User, Host),
	    RSM = #rsm_set{max = Max, 'after' = After},
	    case mod_mam:select(Host, JID, JID, [], RSM, chat, only_messages) of
		{Msgs, Complete, _Count} when is_list(Msgs) ->
		    Wrap = [{<<"archive">>, [{<<"xmlns">>, <<?NS_PIE0/binary, "#mam">>}]}],
		    Entries = [{ID, {Wrap, mam_result(ID, Fwd)}} || {ID, _IntID, Fwd} <- Msgs],
		    {Page, Next} = page_keyed(Entries, Max),
		    %% mod_mam stopped at Max: the last entry is the cursor
		    case {Next, Complete, Entries} of
			{undefined, false, [_ | _]} ->
			    {Key, _} = lists:last(Entries),
			    {Page, key_bin(Key)};
			_ -> {Page, Next}
		    end;
		{error, Reason} ->
		    mod_xmppadm_form:internal("Could not read the archive: ~p", [Reason])
	    end
    end.

%% A page of {Key, Entry}: {Entries, NextKey | undefined}.
page_keyed(Keyed, Max) ->
    {Page, More} = take([E || {_, E} <- Keyed], Max),
    Next = case More of
	       true ->
		   {Key, _} = lists:nth(length(Page), Keyed),
		   key_bin(Key);
	       false -> undefined
	   end,
    {Page, Next}.

key_bin(K) when is_integer(K) -> integer_to_binary(K);
key_bin(K) when is_binary(K) -> K.

%% As stored, as the user would have received it: from/to set, jabber:client,
%% one delay "Offline Storage" with the storage time.
offline_message(Host, From, To, TS, #xmlel{attrs = Attrs, children = Children} = Pkt) ->
    Kept = [C || C <- Children,
		 not (is_record(C, xmlel) andalso C#xmlel.name == <<"delay">> andalso
		      fxml:get_tag_attr_s(<<"xmlns">>, C) == ?NS_DELAY andalso
		      fxml:get_tag_attr_s(<<"from">>, C) == Host)],
    Attrs1 = lists:foldl(fun({K, V}, A) -> lists:keystore(K, 1, A, {K, V}) end, Attrs,
			 [{<<"xmlns">>, ?NS_CLIENT}, {<<"from">>, jid:encode(From)},
			  {<<"to">>, jid:encode(To)}]),
    Delay = #xmlel{name = <<"delay">>,
		   attrs = [{<<"xmlns">>, ?NS_DELAY}, {<<"from">>, Host},
			    {<<"stamp">>, mod_xmppadm_form:iso8601(mod_xmppadm_purge:offline_time(Host, TS, Pkt))}],
		   children = [{xmlcdata, <<"Offline Storage">>}]},
    Pkt#xmlel{attrs = Attrs1, children = Kept ++ [Delay]}.

stamp(undefined) -> <<>>;
stamp(TS) -> mod_xmppadm_form:iso8601(erlang:convert_time_unit(misc:now_to_usec(TS), microsecond, second)).

mam_result(ID, #forwarded{delay = Delay, sub_els = [Msg | _]}) ->
    MsgEl = case Msg of
		#xmlel{} -> Msg;
		_ -> xmpp:encode(Msg, ?NS_CLIENT)
	    end,
    Stamp = case Delay of
		#delay{stamp = TS} -> stamp(TS);
		_ -> <<>>
	    end,
    MsgEl1 = MsgEl#xmlel{attrs = lists:keystore(<<"xmlns">>, 1, MsgEl#xmlel.attrs,
						{<<"xmlns">>, ?NS_CLIENT})},
    #xmlel{name = <<"result">>, attrs = [{<<"xmlns">>, ?NS_MAM_2}, {<<"id">>, ID}],
	   children = [#xmlel{name = <<"forwarded">>, attrs = [{<<"xmlns">>, ?NS_FORWARD}],
			      children = [#xmlel{name = <<"delay">>,
						 attrs = [{<<"xmlns">>, ?NS_DELAY}, {<<"stamp">>, Stamp}]},
					  MsgEl1]}]}.
