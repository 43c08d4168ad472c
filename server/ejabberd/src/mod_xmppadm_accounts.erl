%%%----------------------------------------------------------------------
%%% mod_xmppadm_accounts: the account lifecycle nodes of server/CONTRACT.md
%%% (sections 11-13): #disable-user and #enable-user, #list-accounts and
%%% #stored-data. mod_xmppadm offers them and dispatches to run/4.
%%%
%%% Disabling is ejabberd's own account ban (mod_admin_extra's ban_account,
%%% API version 2): the ban is kept in the account's private storage, so it
%%% needs mod_private; ejabberd_auth then refuses the account's logins with
%%% <account-disabled/> and the ban ends its live sessions. Last activity is
%%% mod_last's record; what is stored about a user is counted through the
%%% export's own section readers (mod_xmppadm_export).
%%%----------------------------------------------------------------------
-module(mod_xmppadm_accounts).

-export([names/0, title/1, input/1, unavailable/2, run/4]).

-include_lib("xmpp/include/xmpp.hrl").
-include("logger.hrl").
-include("mod_xmppadm.hrl").

-define(DEFAULT_ROWS, 200).
-define(MAX_ROWS, 500).
-define(CURSOR, "accounts:").
-define(DEFAULT_REASON, <<"Disabled by an administrator">>).
-define(NEVER, <<"Registered but didn't login">>). % mod_last's note at registration

names() -> [<<"disable-user">>, <<"enable-user">>, <<"list-accounts">>, <<"stored-data">>].

title(<<"disable-user">>) -> <<"Disable accounts">>;
title(<<"enable-user">>) -> <<"Enable accounts">>;
title(<<"list-accounts">>) -> <<"List accounts">>;
title(<<"stored-data">>) -> <<"What the server holds about a user">>.

fld(Var, Type, Label) -> mod_xmppadm_form:field(Var, Type, Label).
fld(Var, Type, Label, Extra) -> mod_xmppadm_form:field(Var, Type, Label, Extra).

input(<<"disable-user">>) ->
    [fld(<<"accountjids">>, 'jid-multi', <<"The accounts to disable">>, [required]),
     fld(<<"reason">>, 'text-single', <<"Reason (kept with the account)">>)];
input(<<"enable-user">>) ->
    [fld(<<"accountjids">>, 'jid-multi', <<"The accounts to enable">>, [required])];
input(<<"list-accounts">>) ->
    [fld(<<"after">>, 'text-single', <<"Cursor from the previous page">>),
     fld(<<"max">>, 'text-single', <<"Accounts per page (max 500)">>)];
input(<<"stored-data">>) ->
    [fld(<<"accountjid">>, 'jid-single', <<"The Jabber ID of the user (existing or not)">>, [required])];
input(_) -> [].

%% Why a node cannot work on this host ({true, Reason}), or false.
unavailable(Name, Host) when Name == <<"disable-user">>; Name == <<"enable-user">> ->
    case gen_mod:is_loaded(Host, mod_private) of
	true -> false;
	false -> {true, <<"mod_private is not loaded on ", Host/binary, ": ejabberd keeps an account's "
			  "ban in its private storage; add mod_private to the modules of ejabberd.yml">>}
    end;
unavailable(_, _) -> false.

%%%===================================================================
%%% The nodes
%%%===================================================================
run(<<"disable-user">>, Host, From, Values) ->
    Users = users(Values, Host),
    Reason = case mod_xmppadm_form:text(Values, <<"reason">>) of
		 undefined -> ?DEFAULT_REASON;
		 R -> R
	     end,
    ?INFO_MSG("mod_xmppadm: ~ts disables ~ts", [jid:encode(jid:remove_resource(From)),
					       lists:join(<<", ">>, Users)]),
    {Done, Already, Closed} =
	lists:foldl(
	  fun(U, {D, A, C}) ->
		  Sessions = length(ejabberd_sm:get_user_resources(U, Host)),
		  case mod_admin_extra:ban_account_v2(U, Host, Reason) of
		      ok -> {[jid(U, Host) | D], A, C + Sessions};
		      account_was_already_banned -> {D, [jid(U, Host) | A], C};
		      Other -> mod_xmppadm_form:internal("could not disable ~ts: ~p", [jid(U, Host), Other])
		  end
	  end, {[], [], 0}, Users),
    mod_xmppadm_form:result(<<"Accounts disabled">>,
			    [{<<"disabled">>, 'jid-multi', <<"Disabled now">>, lists:reverse(Done)},
			     {<<"already">>, 'jid-multi', <<"Were disabled already">>, lists:reverse(Already)},
			     {<<"sessions-closed">>, 'text-single', <<"Live sessions closed">>, Closed}]);

run(<<"enable-user">>, Host, _From, Values) ->
    {Done, Already} =
	lists:foldl(
	  fun(U, {D, A}) ->
		  case mod_admin_extra:unban_account(U, Host) of
		      account_was_not_banned -> {D, [jid(U, Host) | A]};
		      Ok when Ok == ok; Ok == {atomic, ok} -> {[jid(U, Host) | D], A};
		      Other -> mod_xmppadm_form:internal("could not enable ~ts: ~p", [jid(U, Host), Other])
		  end
	  end, {[], []}, users(Values, Host)),
    mod_xmppadm_form:result(<<"Accounts enabled">>,
			    [{<<"enabled">>, 'jid-multi', <<"Enabled now">>, lists:reverse(Done)},
			     {<<"already">>, 'jid-multi', <<"Were not disabled">>, lists:reverse(Already)}]);

run(<<"list-accounts">>, Host, _From, Values) ->
    After = case mod_xmppadm_form:text(Values, <<"after">>) of
		undefined -> undefined;
		<<?CURSOR, Name/binary>> when Name /= <<>> -> Name;
		Bad -> mod_xmppadm_form:bad_request("after: malformed cursor '~ts'", [Bad])
	    end,
    Max = case mod_xmppadm_form:text(Values, <<"max">>) of
	      undefined -> ?DEFAULT_ROWS;
	      M ->
		  case re:run(M, <<"^\\s*[0-9]{1,9}\\s*$">>) of
		      {match, _} when M /= <<"0">> -> min(max(binary_to_integer(string:trim(M)), 1), ?MAX_ROWS);
		      _ -> mod_xmppadm_form:bad_request("max: must be an integer >= 1, got '~ts'", [M])
		  end
	  end,
    {Names, Total, Before, More} = in_worker(fun() -> page(Host, After, Max) end),
    Rows = [row(U, Host) || U <- Names],
    Next = case More of
	       true -> <<?CURSOR, (lists:last(Names))/binary>>;
	       false -> undefined
	   end,
    Form = mod_xmppadm_form:result(<<"Accounts">>,
				   [{<<"more">>, boolean, <<"More pages follow">>, More},
				    {<<"next">>, 'text-single', <<"Cursor for the next page">>, Next},
				    {<<"scanned">>, 'text-single', <<"Accounts listed so far">>, Before + length(Names)},
				    {<<"total">>, 'text-single', <<"Accounts on this host">>, Total}]),
    Cols = [{<<"jid">>, <<"Account">>}, {<<"last-activity">>, <<"Last activity">>},
	    {<<"created">>, <<"Created">>}, {<<"activity">>, <<"Activity">>}],
    Form#xdata{reported = [#xdata_field{var = V, type = 'text-single', label = L} || {V, L} <- Cols],
	       items = [[#xdata_field{var = V, values = [X]} || {{V, _}, X} <- lists:zip(Cols, tuple_to_list(R))]
			|| R <- Rows]};

run(<<"stored-data">>, Host, _From, Values) ->
    mod_xmppadm_form:require(Values, [<<"accountjid">>]),
    Text = mod_xmppadm_form:text(Values, <<"accountjid">>),
    User = case jid:decode(Text) of
	       #jid{luser = U, lserver = Host} when U /= <<>> -> U;
	       _ -> mod_xmppadm_form:bad_request("accountjid: '~ts' is not a JID of a user on ~ts", [Text, Host])
	   end,
    Exists = ejabberd_auth:user_exists(User, Host),
    Counts = in_worker(fun() -> [{<<"account">>, bool_int(Exists)}
				 | [{S, count(User, Host, S)} || S <- mod_xmppadm_export:sections(),
								 S /= <<"account">>]]
		       end),
    Form = mod_xmppadm_form:result(<<"Stored data">>,
				   [{<<"accountjid">>, 'jid-single', <<"User">>, jid(User, Host)},
				    {<<"exists">>, boolean, <<"The account exists">>, Exists},
				    {<<"kept">>, 'text-multi', <<"Kept on purpose">>, []}]),
    Form#xdata{reported = [#xdata_field{var = <<"section">>, type = 'text-single', label = <<"Section">>},
			   #xdata_field{var = <<"count">>, type = 'text-single', label = <<"Items">>}],
	       items = [[#xdata_field{var = <<"section">>, values = [S]},
			 #xdata_field{var = <<"count">>, values = [integer_to_binary(N)]}] || {S, N} <- Counts]}.

%%%===================================================================
%%% Internal
%%%===================================================================
jid(User, Host) -> jid:encode(jid:make(User, Host)).

bool_int(true) -> 1;
bool_int(false) -> 0.

%% The user names of accountjids: all on this host and existing, or the
%% request fails naming them (nothing is done).
users(Values, Host) ->
    mod_xmppadm_form:require(Values, [<<"accountjids">>]),
    Parsed = [{T, jid:decode(T)} || T <- mod_xmppadm_form:lines(Values, <<"accountjids">>)],
    Users = [case J of
		 #jid{luser = U, lserver = Host} when U /= <<>> -> U;
		 _ -> mod_xmppadm_form:bad_request("accountjids: '~ts' is not a JID of a user on ~ts", [T, Host])
	     end || {T, J} <- Parsed],
    case [jid(U, Host) || U <- Users, not ejabberd_auth:user_exists(U, Host)] of
	[] -> lists:usort(Users);
	Missing -> mod_xmppadm_form:fail(not_found, "No such user: ~ts", [lists:join(<<", ">>, Missing)])
    end.

%% The Max smallest user names after After, in order, and where they stand:
%% {Names, Total, NamesBeforeAfter, More}.
page(Host, After, Max) ->
    All = lists:sort([U || {U, _} <- ejabberd_auth:get_users(Host)]),
    {Before, Rest} = case After of
			 undefined -> {[], All};
			 _ -> lists:splitwith(fun(U) -> U =< After end, All)
		     end,
    {Page, More} = case length(Rest) > Max of
		       true -> {lists:sublist(Rest, Max), true};
		       false -> {Rest, false}
		   end,
    {Page, length(All), length(Before), More}.

%% {Jid, LastActivity, Created, Activity}: online, seen (mod_last's record),
%% never (mod_last's note at registration, which dates the account), or
%% unknown (no record: mod_last was not loaded then, or is not now).
row(User, Host) ->
    J = jid(User, Host),
    iso(case ejabberd_sm:get_user_resources(User, Host) of
	    [_ | _] -> {J, erlang:system_time(second), undefined, <<"online">>};
	    [] ->
		case catch mod_last:get_last_info(User, Host) of
		    {ok, TS, ?NEVER} -> {J, undefined, TS, <<"never">>};
		    {ok, TS, _} -> {J, TS, undefined, <<"seen">>};
		    _ -> {J, undefined, undefined, <<"unknown">>}
		end
	end).

iso({J, Last, Created, Activity}) ->
    {J, mod_xmppadm_form:iso8601(Last), mod_xmppadm_form:iso8601(Created), Activity}.

%% Items of one export section, page after page (also for a user that no
%% longer exists: each section reads its module's store).
count(User, Host, Section) -> count(User, Host, Section, undefined, 0).

count(User, Host, Section, After, Acc) ->
    case mod_xmppadm_export:page(User, Host, Section, After, 500, false) of
	{N, undefined, _} -> Acc + N;
	{N, Next, _} -> count(User, Host, Section, Next, Acc + N)
    end.

%% Work whose cost grows with the server's size runs in a process of its own,
%% not in the requester's connection process (CONTRACT.md, long operations):
%% its garbage goes with it, and a crash ends only it.
in_worker(Fun) ->
    {Pid, Ref} = spawn_monitor(fun() -> exit({xmppadm_done, try {ok, Fun()} catch C:R:S -> {C, R, S} end}) end),
    receive
	{'DOWN', Ref, process, Pid, {xmppadm_done, {ok, Result}}} -> Result;
	{'DOWN', Ref, process, Pid, {xmppadm_done, {C, R, S}}} -> erlang:raise(C, R, S);
	{'DOWN', Ref, process, Pid, Reason} -> erlang:error({worker_died, Reason})
    after 120000 ->
	    erlang:demonitor(Ref, [flush]),
	    exit(Pid, kill),
	    mod_xmppadm_form:internal("the request took longer than 120 s", [])
    end.
