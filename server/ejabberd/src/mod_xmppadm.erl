%%%----------------------------------------------------------------------
%%% mod_xmppadm: the xmppadm node contract (server/CONTRACT.md in the xmppadm
%%% sources) for ejabberd 24.12 and later: XEP-0050 ad-hoc commands
%%% urn:xmppadm:admin:1#... for the admins of a virtual host, offered through
%%% mod_adhoc's adhoc_local_items / adhoc_local_commands hooks.
%%%
%%% This file: the module's options, its hooks, the command table and the
%%% XEP-0050 dispatch (forms, actions, errors), and the same operations as
%%% ejabberd API commands. The work is done in
%%%   mod_xmppadm_block   blocked addresses (c2s hooks, storage, cluster cache)
%%%   mod_xmppadm_purge   old offline messages and uploads
%%%   mod_xmppadm_export  one user's data as XEP-0227
%%%   mod_xmppadm_import  a XEP-0227 <user/> onto this host
%%%   mod_xmppadm_debug   temporary debug logging, one per node
%%%   mod_xmppadm_accounts  disabling accounts, the accounts list, what is
%%%                         stored about a user
%%%----------------------------------------------------------------------
-module(mod_xmppadm).
-author('xmppadm').
-behaviour(gen_mod).

-export([start/2, stop/1, reload/3, depends/2, mod_opt_type/1, mod_options/1, mod_doc/0]).
-export([adhoc_local_items/4, adhoc_local_commands/4,
	 disco_local_identity/5, disco_local_features/5]).
-export([get_commands_spec/0, api_block_ip/4, api_unblock_ip/2, api_list_blocked_ips/1,
	 api_purge_offline/2, api_purge_uploads/2, api_debug_log/3]).
-export([debug_local/3]).

-include_lib("xmpp/include/xmpp.hrl").
-include("logger.hrl").
-include("ejabberd_commands.hrl").
-include("mod_xmppadm.hrl").

-define(OPERATIONS, [<<"block-ip">>, <<"list-blocked-ips">>, <<"unblock-ip">>, <<"purge-offline">>,
		     <<"purge-uploads">>, <<"export-user">>, <<"debug-log">>, <<"import-user">>
		     | mod_xmppadm_accounts:names()]).
-define(DEFAULT_PAGE, 50).
-define(MAX_PAGE, 500).

%%%===================================================================
%%% gen_mod
%%%===================================================================
start(Host, Opts) ->
    load_new_code(),
    case mod_xmppadm_debug:start(Host, Opts) of
	ok -> ok;
	Err -> ?ERROR_MSG("mod_xmppadm: could not start its node process: ~p", [Err])
    end,
    mod_xmppadm_block:start(Host, Opts),
    ejabberd_commands:register_commands(?MODULE, get_commands_spec()),
    lists:foreach(fun({Hook, M, F, Seq}) -> ejabberd_hooks:add(Hook, Host, M, F, Seq) end, hooks()),
    ok.

stop(Host) ->
    lists:foreach(fun({Hook, M, F, Seq}) -> ejabberd_hooks:delete(Hook, Host, M, F, Seq) end, hooks()),
    case gen_mod:is_loaded_elsewhere(Host, ?MODULE) of
	false -> ejabberd_commands:unregister_commands(get_commands_spec());
	true -> ok
    end,
    mod_xmppadm_block:stop(Host),
    mod_xmppadm_debug:stop(Host),
    ok.

%% ejabberdctl module_upgrade reloads this module only: load the new code of
%% the others too (their processes are stopped by then).
load_new_code() ->
    lists:foreach(
      fun(M) ->
	      case code:module_status(M) of
		  modified -> code:purge(M), code:load_file(M);
		  _ -> ok
	      end
      end, [mod_xmppadm_form, mod_xmppadm_block, mod_xmppadm_mnesia, mod_xmppadm_sql,
	    mod_xmppadm_purge, mod_xmppadm_export, mod_xmppadm_debug, mod_xmppadm_import,
	    mod_xmppadm_accounts]).

hooks() ->
    [{adhoc_local_items, ?MODULE, adhoc_local_items, 40},
     {adhoc_local_commands, ?MODULE, adhoc_local_commands, 40},
     {disco_local_identity, ?MODULE, disco_local_identity, 40},
     {disco_local_features, ?MODULE, disco_local_features, 40},
     %% before mod_fail2ban (100): a blocked address is refused whatever its history
     {c2s_stream_started, mod_xmppadm_block, c2s_stream_started, 10},
     {c2s_closed, mod_xmppadm_block, c2s_closed, 100},
     {c2s_terminated, mod_xmppadm_block, c2s_closed, 100},
     {c2s_handle_info, mod_xmppadm_block, c2s_handle_info, 10},
     %% before mod_http_upload (50), which may keep the files (rm_on_unregister: false)
     {remove_user, mod_xmppadm_purge, remove_user, 40},
     %% the <user/> next to an #import-user form (mod_adhoc's record drops it)
     {user_send_packet, mod_xmppadm_import, user_send_packet, 10}].

reload(_Host, _NewOpts, _OldOpts) ->
    ok.

depends(_Host, _Opts) ->
    [{mod_adhoc, hard}].

mod_opt_type(access) ->
    econf:acl();
mod_opt_type(block_exempt) ->
    econf:list(econf:ip_mask());
mod_opt_type(db_type) ->
    econf:db_type(?MODULE);
mod_opt_type(page_ms) ->
    econf:pos_int().

mod_options(Host) ->
    [{access, configure},
     {block_exempt, [{{127, 0, 0, 1}, 32}, {{0, 0, 0, 0, 0, 0, 0, 1}, 128}]},
     {db_type, ejabberd_config:default_db(Host, ?MODULE)},
     {page_ms, 1000}].

mod_doc() ->
    #{desc =>
	  ["The ad-hoc commands of the xmppadm node contract (urn:xmppadm:admin:1): "
	   "blocking client IP addresses, purging old offline messages and uploads, "
	   "exporting a user's data (XEP-0227) and temporary debug logging."],
      opts =>
	  [{access, #{value => "AccessName",
		      desc => "Who may run the commands. The default is 'configure'."}},
	   {block_exempt, #{value => "[IP/Mask]",
			    desc => "Addresses never refused or closed by a block. "
				    "The default is '[127.0.0.1, ::1]'."}},
	   {db_type, #{value => "mnesia | sql",
		       desc => "Where blocked addresses are stored. The default is 'default_db'."}},
	   {page_ms, #{value => "Milliseconds",
		       desc => "How long one page of a purge works before it answers. "
			       "The default is '1000'."}}]}.

%%%===================================================================
%%% Command table
%%%===================================================================
node_of(Name) -> <<?NS_XMPPADM/binary, "#", Name/binary>>.

name_of(<<"urn:xmppadm:admin:1#", Name/binary>>) ->
    case lists:member(Name, [<<"about">> | ?OPERATIONS]) of
	true -> {ok, Name};
	false -> error
    end;
name_of(_) -> error.

title(<<"about">>) -> <<"About the xmppadm commands">>;
title(<<"block-ip">>) -> <<"Block client IP addresses">>;
title(<<"list-blocked-ips">>) -> <<"List blocked client IP addresses">>;
title(<<"unblock-ip">>) -> <<"Unblock client IP addresses">>;
title(<<"purge-offline">>) -> <<"Purge old offline messages">>;
title(<<"purge-uploads">>) -> <<"Purge old HTTP uploads">>;
title(<<"export-user">>) -> <<"Export a user's data (XEP-0227)">>;
title(<<"debug-log">>) -> <<"Debug logging">>;
title(<<"import-user">>) -> <<"Import a user's data (XEP-0227)">>;
title(Name) -> mod_xmppadm_accounts:title(Name).

fld(Var, Type, Label) -> mod_xmppadm_form:field(Var, Type, Label).
fld(Var, Type, Label, Extra) -> mod_xmppadm_form:field(Var, Type, Label, Extra).

input(<<"block-ip">>) ->
    [fld(<<"addresses">>, 'text-multi', <<"IPv4/IPv6 addresses or CIDR ranges, one per line">>, [required]),
     fld(<<"expires">>, 'text-single', <<"Block for this many seconds (empty or 0: forever)">>),
     fld(<<"reason">>, 'text-single', <<"Reason">>)];
input(<<"unblock-ip">>) ->
    [fld(<<"addresses">>, 'text-multi', <<"Blocked addresses or CIDR ranges, one per line">>, [required])];
input(Purge) when Purge == <<"purge-offline">>; Purge == <<"purge-uploads">> ->
    What = case Purge of <<"purge-offline">> -> <<"messages">>; _ -> <<"uploads">> end,
    [fld(<<"older-than">>, 'text-single', <<"Delete ", What/binary, " older than (seconds)">>, [required]),
     fld(<<"dry-run">>, boolean, <<"Only count, delete nothing">>),
     fld(<<"after">>, 'text-single', <<"Cursor from the previous page">>)];
input(<<"export-user">>) ->
    [fld(<<"accountjid">>, 'jid-single', <<"The Jabber ID of the account">>, [required]),
     fld(<<"include-credentials">>, boolean, <<"Include SCRAM credentials">>, [{value, <<"0">>}]),
     fld(<<"section">>, 'list-single', <<"Section">>, [required, {options, mod_xmppadm_export:sections()}]),
     fld(<<"after">>, 'text-single', <<"Cursor from the previous page">>),
     fld(<<"max">>, 'text-single', <<"Items per page (max 500)">>, [{value, <<"50">>}])];
input(<<"import-user">>) ->
    [fld(<<"accountjid">>, 'jid-single', <<"The account to import into (default: the name in the data)">>),
     fld(<<"merge">>, boolean, <<"Import into an existing account">>, [{value, <<"0">>}]),
     fld(<<"dry-run">>, boolean, <<"Only say what would be imported">>, [{value, <<"0">>}]),
     fld(<<"source">>, 'jid-single', <<"The JID the data was exported from">>),
     fld(<<"fresh">>, boolean, <<"A later part of an import that created the account">>, [{value, <<"0">>}])];
input(<<"debug-log">>) ->
    [fld(<<"action">>, 'list-single', <<"Action">>,
       [required, {options, [<<"on">>, <<"off">>, <<"status">>]}]),
     fld(<<"duration">>, 'text-single', <<"Turn off after this many seconds (with on)">>)];
input(Name) -> mod_xmppadm_accounts:input(Name).

%% Why a command cannot work on this host ({true, Reason}), or false.
unavailable(<<"purge-offline">>, Host) -> mod_xmppadm_purge:offline_unavailable(Host);
unavailable(<<"purge-uploads">>, Host) -> mod_xmppadm_purge:uploads_unavailable(Host);
unavailable(Name, Host) -> mod_xmppadm_accounts:unavailable(Name, Host).

%% An admin of Host: the module's access rule allows From there, as ejabberd's own admin
%% commands decide it. (A host's acl in host_config replaces the global acl of the same name on
%% that host: the global admins are admins there only if that acl lists them too.)
allowed(From, Host) ->
    acl:match_rule(Host, gen_mod:get_module_opt(Host, ?MODULE, access), From) == allow.

%% The virtual hosts where From may use this module: loaded there, and an admin there.
admin_hosts(From) ->
    lists:sort([H || H <- ejabberd_option:hosts(), gen_mod:is_loaded(H, ?MODULE), allowed(From, H)]).

%%%===================================================================
%%% Disco and ad-hoc hooks
%%%===================================================================
adhoc_local_items(Acc, From, #jid{lserver = Host, server = Server}, _Lang) ->
    case allowed(From, Host) of
	true ->
	    Items = case Acc of
			{result, Its} -> Its;
			_ -> []
		    end,
	    Ours = [#disco_item{jid = jid:make(Server), node = node_of(Name), name = title(Name)}
		    || Name <- [<<"about">> | ?OPERATIONS], unavailable(Name, Host) == false],
	    {result, Items ++ Ours};
	false -> Acc
    end.

disco_local_identity(Acc, From, #jid{lserver = Host}, Node, _Lang) ->
    case name_of(Node) of
	{ok, Name} ->
	    case allowed(From, Host) andalso unavailable(Name, Host) == false of
		true -> [#identity{category = <<"automation">>, type = <<"command-node">>,
				   name = title(Name)} | Acc];
		false -> Acc
	    end;
	error -> Acc
    end.

disco_local_features(Acc, From, #jid{lserver = Host}, Node, Lang) ->
    case name_of(Node) of
	{ok, Name} ->
	    case allowed(From, Host) of
		false -> {error, xmpp:err_forbidden(<<"Access denied by service policy">>, Lang)};
		true ->
		    case unavailable(Name, Host) of
			{true, Reason} -> {error, xmpp:err_item_not_found(Reason, Lang)};
			false -> {result, [?NS_COMMANDS, ?NS_XDATA]}
		    end
	    end;
	error -> Acc
    end.

adhoc_local_commands(Acc, From, #jid{lserver = Host}, #adhoc_command{node = Node} = Request) ->
    case name_of(Node) of
	{ok, Name} -> {stop, execute(Name, From, Host, Request)};
	error -> Acc
    end.

execute(Name, From, Host, #adhoc_command{lang = Lang, action = Action, xdata = X} = Request) ->
    Canceled = Action == cancel orelse (is_record(X, xdata) andalso X#xdata.type == cancel),
    case {allowed(From, Host), unavailable(Name, Host)} of
	{false, _} ->
	    {error, xmpp:err_forbidden(<<"You don't have permission to execute this command">>, Lang)};
	{true, {true, Reason}} ->
	    {error, xmpp:err_feature_not_implemented(Reason, Lang)};
	{true, false} when Canceled ->
	    xmpp_util:make_adhoc_response(Request, #adhoc_command{status = canceled});
	{true, false} when (X == undefined andalso Action == execute andalso Name /= <<"about">>
			    andalso Name /= <<"list-blocked-ips">>) orelse Action == prev ->
	    xmpp_util:make_adhoc_response(
	      Request, #adhoc_command{status = executing,
				      actions = #adhoc_actions{execute = complete, complete = true},
				      xdata = mod_xmppadm_form:input_form(title(Name), input(Name))});
	{true, false} when Action == execute; Action == complete; Action == next ->
	    try
		Values = mod_xmppadm_form:read(X, input(Name)),
		case in_worker(Name, Host, fun() -> run(Name, Host, From, Values) end) of
		    {#xdata{} = Form, Payload} ->
			Response = xmpp_util:make_adhoc_response(
				     Request, #adhoc_command{status = completed, xdata = Form}),
			#xmlel{children = Children} = El = xmpp:encode(Response),
			El#xmlel{children = Children ++ [Payload]};
		    #xdata{} = Form ->
			xmpp_util:make_adhoc_response(
			  Request, #adhoc_command{status = completed, xdata = Form})
		end
	    catch
		throw:{xmppadm_error, Condition, Text} -> {error, stanza_error(Condition, Text, Lang)};
		Class:Reason:Stack ->
		    ?ERROR_MSG("mod_xmppadm: ~ts failed: ~p", [Name, {Class, Reason, Stack}]),
		    {error, xmpp:err_internal_server_error(
			      iolist_to_binary(io_lib:format("Internal error: ~P", [Reason, 6])), Lang)}
	    end;
	{true, false} ->
	    {error, xmpp:err_bad_request(<<"Unknown action">>, Lang)}
    end.

%% Work whose cost grows with the server's size runs in a process of its own,
%% not in the requester's connection process (where ad-hoc commands are
%% handled): its memory and garbage go with it when it ends, and a crash ends
%% only it. Throws and errors come back as they were raised. A page is about
%% a second of work; WORKER_TIMEOUT only guards against a bug. What the worker
%% logs is the host's the command was sent to (its debug log, CONTRACT.md 8).
-define(HEAVY, [<<"block-ip">>, <<"purge-offline">>, <<"purge-uploads">>, <<"export-user">>]).
-define(WORKER_TIMEOUT, 120000).
in_worker(Name, Host, Fun) ->
    case lists:member(Name, ?HEAVY) of
	false -> Fun();
	true ->
	    {Pid, Ref} = spawn_monitor(
			   fun() ->
				   mod_xmppadm_debug:tag(Host),
				   exit({xmppadm_result,
					 try {ok, Fun()} catch C:R:S -> {raised, C, R, S} end})
			   end),
	    receive
		{'DOWN', Ref, process, Pid, {xmppadm_result, {ok, Result}}} -> Result;
		{'DOWN', Ref, process, Pid, {xmppadm_result, {raised, C, R, S}}} -> erlang:raise(C, R, S);
		{'DOWN', Ref, process, Pid, Reason} -> erlang:error({worker_died, Reason})
	    after ?WORKER_TIMEOUT ->
		    erlang:demonitor(Ref, [flush]),
		    exit(Pid, kill),
		    mod_xmppadm_form:internal("~ts took longer than ~B s", [Name, ?WORKER_TIMEOUT div 1000])
	    end
    end.

stanza_error(bad_request, Text, Lang) -> xmpp:err_bad_request(Text, Lang);
stanza_error(not_found, Text, Lang) -> xmpp:err_item_not_found(Text, Lang);
stanza_error(conflict, Text, Lang) -> xmpp:err_conflict(Text, Lang);
stanza_error(internal, Text, Lang) -> xmpp:err_internal_server_error(Text, Lang).

%%%===================================================================
%%% The commands
%%%===================================================================
run(<<"about">>, Host, From, _Values) ->
    Rows = [case unavailable(Name, Host) of
		false -> {node_of(Name), <<"1">>, <<>>};
		{true, Reason} -> {node_of(Name), <<"0">>, Reason}
	    end || Name <- ?OPERATIONS],
    Form = mod_xmppadm_form:result(
	     title(<<"about">>),
	     [{<<"module-version">>, 'text-single', <<"Contract revision">>, ?XMPPADM_CONTRACT_VERSION},
	      {<<"server">>, 'text-single', <<"Server">>, server_name()},
	      {<<"hosts">>, 'jid-multi', <<"Hosts you administer with this module">>, admin_hosts(From)}]),
    Form#xdata{reported = [#xdata_field{var = <<"node">>, type = 'text-single', label = <<"Node">>},
			   #xdata_field{var = <<"available">>, type = boolean, label = <<"Available">>},
			   #xdata_field{var = <<"reason">>, type = 'text-single', label = <<"Reason">>}],
	       items = [[#xdata_field{var = <<"node">>, values = [N]},
			 #xdata_field{var = <<"available">>, values = [A]},
			 #xdata_field{var = <<"reason">>, values = [R]}] || {N, A, R} <- Rows]};

run(<<"block-ip">>, Host, _From, Values) ->
    mod_xmppadm_form:require(Values, [<<"addresses">>]),
    Cidrs = mod_xmppadm_block:parse_addresses(mod_xmppadm_form:lines(Values, <<"addresses">>)),
    Expires = case mod_xmppadm_form:seconds(Values, <<"expires">>, 0) of
		  0 -> undefined;
		  E -> E
	      end,
    Reason = case mod_xmppadm_form:text(Values, <<"reason">>) of
		 undefined -> <<>>;
		 R -> R
	     end,
    {Blocked, Closed, Exempt} = mod_xmppadm_block:block(Host, Cidrs, Expires, Reason),
    mod_xmppadm_form:result(<<"Blocked">>,
			    [{<<"blocked">>, 'text-multi', <<"Blocked ranges">>, Blocked},
			     {<<"sessions-closed">>, 'text-single', <<"Sessions closed">>, Closed},
			     {<<"exempt">>, 'text-multi', <<"Exempt addresses these ranges cover">>, Exempt}]);

run(<<"list-blocked-ips">>, Host, _From, _Values) ->
    Form = mod_xmppadm_form:result(title(<<"list-blocked-ips">>), []),
    Cols = [{<<"address">>, <<"Address">>}, {<<"expires">>, <<"Expires">>},
	    {<<"reason">>, <<"Reason">>}, {<<"created">>, <<"Created">>}],
    Form#xdata{reported = [#xdata_field{var = V, type = 'text-single', label = L} || {V, L} <- Cols],
	       items = [[#xdata_field{var = <<"address">>, values = [C]},
			 #xdata_field{var = <<"expires">>, values = [mod_xmppadm_form:iso8601(E)]},
			 #xdata_field{var = <<"reason">>, values = [R]},
			 #xdata_field{var = <<"created">>, values = [mod_xmppadm_form:iso8601(T)]}]
			|| {C, E, R, T} <- mod_xmppadm_block:list(Host)]};

run(<<"unblock-ip">>, Host, _From, Values) ->
    mod_xmppadm_form:require(Values, [<<"addresses">>]),
    Cidrs = mod_xmppadm_block:parse_addresses(mod_xmppadm_form:lines(Values, <<"addresses">>)),
    {Removed, Missing} = mod_xmppadm_block:unblock(Host, Cidrs),
    mod_xmppadm_form:result(<<"Unblocked">>,
			    [{<<"removed">>, 'text-multi', <<"Removed">>, Removed},
			     {<<"not-found">>, 'text-multi', <<"Not blocked">>, Missing}]);

run(<<"purge-offline">>, Host, _From, Values) ->
    OlderThan = mod_xmppadm_form:required_seconds(Values, <<"older-than">>),
    DryRun = mod_xmppadm_form:boolean(Values, <<"dry-run">>),
    {Count, Users, Next, Scanned, Total} =
	mod_xmppadm_purge:offline_page(Host, OlderThan, DryRun, mod_xmppadm_form:text(Values, <<"after">>)),
    mod_xmppadm_form:result(<<"Offline messages purged">>,
			    [{<<"count">>, 'text-single', <<"Messages">>, Count},
			     {<<"users">>, 'text-single', <<"Users">>, Users}
			     | paging(Next, Scanned, Total)]);

run(<<"purge-uploads">>, Host, _From, Values) ->
    OlderThan = mod_xmppadm_form:required_seconds(Values, <<"older-than">>),
    DryRun = mod_xmppadm_form:boolean(Values, <<"dry-run">>),
    {Count, Bytes, Services, Next, Scanned, Total} =
	mod_xmppadm_purge:uploads_page(Host, OlderThan, DryRun, mod_xmppadm_form:text(Values, <<"after">>)),
    mod_xmppadm_form:result(<<"Uploads purged">>,
			    [{<<"count">>, 'text-single', <<"Files">>, Count},
			     {<<"bytes">>, 'text-single', <<"Bytes">>, Bytes},
			     {<<"hosts">>, 'text-multi', <<"Upload services">>, Services}
			     | paging(Next, Scanned, Total)]);

run(<<"export-user">>, Host, _From, Values) ->
    mod_xmppadm_form:require(Values, [<<"accountjid">>, <<"section">>]),
    JidText = mod_xmppadm_form:text(Values, <<"accountjid">>),
    User = case jid:decode(JidText) of
	       #jid{luser = U, lserver = Host} when U /= <<>> -> U;
	       _ -> mod_xmppadm_form:bad_request("accountjid: '~ts' is not a JID of a user on ~ts",
						 [JidText, Host])
	   end,
    Section = mod_xmppadm_form:text(Values, <<"section">>),
    lists:member(Section, mod_xmppadm_export:sections()) orelse
	mod_xmppadm_form:bad_request("section: must be one of ~ts, got '~ts'",
				     [lists:join(" ", mod_xmppadm_export:sections()), Section]),
    Max = case mod_xmppadm_form:text(Values, <<"max">>) of
	      undefined -> ?DEFAULT_PAGE;
	      M ->
		  case re:run(M, <<"^\\s*[0-9]{1,9}\\s*$">>) of
		      {match, _} ->
			  case binary_to_integer(string:trim(M)) of
			      N when N >= 1 -> min(N, ?MAX_PAGE);
			      _ -> mod_xmppadm_form:bad_request("max: must be an integer >= 1, got '~ts'", [M])
			  end;
		      nomatch -> mod_xmppadm_form:bad_request("max: must be an integer >= 1, got '~ts'", [M])
		  end
	  end,
    After = case mod_xmppadm_form:text(Values, <<"after">>) of
		undefined -> undefined;
		A ->
		    case binary:split(A, <<":">>) of
			[Section, Position] when Position /= <<>> -> Position;
			_ -> mod_xmppadm_form:bad_request("after: not a cursor of section ~ts: '~ts'",
							  [Section, A])
		    end
	    end,
    Creds = mod_xmppadm_form:boolean(Values, <<"include-credentials">>),
    ejabberd_auth:user_exists(User, Host) orelse
	mod_xmppadm_form:fail(not_found, "User ~ts does not exist", [JidText]),
    {Count, Next, UserEl} = mod_xmppadm_export:page(User, Host, Section, After, Max, Creds),
    {mod_xmppadm_form:result(<<"Export">>,
			     [{<<"section">>, 'text-single', <<"Section">>, Section},
			      {<<"more">>, boolean, <<"More pages follow">>, Next /= undefined},
			      {<<"next">>, 'text-single', <<"Cursor for the next page">>,
			       case Next of undefined -> undefined; _ -> <<Section/binary, ":", Next/binary>> end},
			      {<<"count">>, 'text-single', <<"Items in this page">>, Count}]),
     UserEl};

run(<<"import-user">>, Host, _From, Values) ->
    mod_xmppadm_import:run(Host, Values);

run(<<"debug-log">>, Host, _From, Values) ->
    mod_xmppadm_form:require(Values, [<<"action">>]),
    Action = mod_xmppadm_form:text(Values, <<"action">>),
    lists:member(Action, [<<"on">>, <<"off">>, <<"status">>]) orelse
	mod_xmppadm_form:bad_request("action: must be on, off or status, got '~ts'", [Action]),
    Duration = case Action of
		   <<"on">> -> mod_xmppadm_form:seconds(Values, <<"duration">>, 1);
		   _ -> undefined
	       end,
    {Active, Expires, Previous} = debug_cluster(Host, Action, Duration),
    mod_xmppadm_form:result(<<"Debug logging">>,
			    [{<<"active">>, boolean, <<"Debug logging active">>, Active},
			     {<<"file">>, 'text-single', <<"Debug log file">>, mod_xmppadm_debug:file(Host)},
			     {<<"expires">>, 'text-single', <<"Turns off at">>,
			      mod_xmppadm_form:iso8601(Expires)},
			     {<<"previous">>, boolean, <<"Was active before">>, Previous}]);

run(Name, Host, From, Values) ->
    mod_xmppadm_accounts:run(Name, Host, From, Values).

%% The paging fields of a long operation's result (CONTRACT.md 1).
paging(Next, Scanned, Total) ->
    [{<<"more">>, boolean, <<"More pages follow">>, Next /= undefined},
     {<<"next">>, 'text-single', <<"Cursor for the next page">>, Next},
     {<<"scanned">>, 'text-single', <<"Walked so far in this run">>, Scanned},
     {<<"total">>, 'text-single', <<"To walk in this run">>, Total}].

%% A host's debug logging acts on every node of the cluster; the result is this node's.
debug_cluster(Host, <<"status">>, _) ->
    {Active, Expires} = mod_xmppadm_debug:status(Host),
    {Active, Expires, Active};
debug_cluster(Host, Action, Duration) ->
    Local = debug_local(Host, Action, Duration),
    {_, Bad} = ejabberd_cluster:multicall(ejabberd_cluster:get_nodes() -- [node()],
					  ?MODULE, debug_local, [Host, Action, Duration]),
    [?WARNING_MSG("mod_xmppadm: debug logging ~ts of ~ts failed on node ~p", [Action, Host, N])
     || N <- Bad],
    Local.

debug_local(Host, <<"on">>, Duration) ->
    case mod_xmppadm_debug:on(Host, Duration) of
	{ok, Previous, Expires} -> {true, Expires, Previous};
	{error, Text} -> mod_xmppadm_form:internal("~ts", [Text])
    end;
debug_local(Host, <<"off">>, _) ->
    Previous = mod_xmppadm_debug:off(Host),
    {false, undefined, Previous}.

%% "ejabberd 24.12", without a packager's revision (Debian: 24.12-3~bpo12+1)
server_name() ->
    [Version | _] = binary:split(ejabberd_option:version(), <<"-">>),
    <<"ejabberd ", Version/binary>>.

%%%===================================================================
%%% ejabberd API commands (ejabberdctl, mod_http_api, mod_adhoc_api)
%%%===================================================================
get_commands_spec() ->
    [#ejabberd_commands{name = xmppadm_block_ip, tags = [xmppadm],
			desc = "Block a client IP address or CIDR range on a virtual host",
			module = ?MODULE, function = api_block_ip,
			args = [{host, binary}, {address, binary}, {expires, integer}, {reason, binary}],
			args_desc = ["Virtual host", "IPv4/IPv6 address or CIDR range",
				     "Seconds until the block lapses, 0 for never", "Reason"],
			args_example = [<<"example.org">>, <<"198.51.100.0/24">>, 86400, <<"spam">>],
			result = {res, restuple},
			result_example = {ok, <<"Blocked 198.51.100.0/24, closed 0 sessions">>}},
     #ejabberd_commands{name = xmppadm_unblock_ip, tags = [xmppadm],
			desc = "Lift a block set with xmppadm_block_ip",
			module = ?MODULE, function = api_unblock_ip,
			args = [{host, binary}, {address, binary}],
			args_desc = ["Virtual host", "The blocked address or range, exactly"],
			args_example = [<<"example.org">>, <<"198.51.100.0/24">>],
			result = {res, restuple},
			result_example = {ok, <<"Unblocked 198.51.100.0/24">>}},
     #ejabberd_commands{name = xmppadm_list_blocked_ips, tags = [xmppadm],
			desc = "List the blocked client IP addresses of a virtual host",
			module = ?MODULE, function = api_list_blocked_ips,
			args = [{host, binary}], args_desc = ["Virtual host"],
			args_example = [<<"example.org">>],
			result = {blocks, {list, {block, {tuple, [{address, string}, {expires, string},
								   {reason, string}, {created, string}]}}}},
			result_example = [{"198.51.100.0/24", "2026-11-21T09:28:36Z", "spam",
					   "2026-11-20T09:28:36Z"}]},
     #ejabberd_commands{name = xmppadm_purge_offline, tags = [xmppadm, purge],
			desc = "Delete the offline messages of a virtual host older than some seconds",
			module = ?MODULE, function = api_purge_offline,
			args = [{host, binary}, {older_than, integer}],
			args_desc = ["Virtual host", "Age in seconds"],
			args_example = [<<"example.org">>, 604800],
			result = {res, restuple},
			result_example = {ok, <<"Deleted 3 offline messages of 2 users">>}},
     #ejabberd_commands{name = xmppadm_purge_uploads, tags = [xmppadm, purge],
			desc = "Delete the HTTP uploads of a virtual host older than some seconds",
			module = ?MODULE, function = api_purge_uploads,
			args = [{host, binary}, {older_than, integer}],
			args_desc = ["Virtual host", "Age in seconds"],
			args_example = [<<"example.org">>, 1209600],
			result = {res, restuple},
			result_example = {ok, <<"Deleted 3 files, 12345 bytes">>}},
     #ejabberd_commands{name = xmppadm_debug_log, tags = [xmppadm, logs],
			desc = "Debug logging of a virtual host into a file of its own, on every node: on, off or status",
			module = ?MODULE, function = api_debug_log,
			args = [{host, binary}, {action, binary}, {duration, integer}],
			args_desc = ["Virtual host", "on, off or status",
				     "With on: seconds until it turns off, 0 for never"],
			args_example = [<<"example.org">>, <<"on">>, 1800],
			result = {res, restuple},
			result_example = {ok, <<"on until 2026-11-21T09:28:36Z">>}}].

api(Fun) ->
    try Fun() of
	Text -> {ok, iolist_to_binary(Text)}
    catch throw:{xmppadm_error, _, Text} -> {error, Text}
    end.

known_host(Host) ->
    gen_mod:is_loaded(Host, ?MODULE) orelse
	mod_xmppadm_form:bad_request("mod_xmppadm is not loaded on ~ts", [Host]).

api_block_ip(Host, Address, Expires, Reason) ->
    api(fun() ->
		known_host(Host),
		Cidrs = mod_xmppadm_block:parse_addresses([Address]),
		Expires >= 0 orelse mod_xmppadm_form:bad_request("expires: must be >= 0", []),
		{Blocked, Closed, _} = mod_xmppadm_block:block(Host, Cidrs,
							       case Expires of 0 -> undefined; _ -> Expires end,
							       Reason),
		io_lib:format("Blocked ~ts, closed ~B sessions", [lists:join(" ", Blocked), Closed])
	end).

api_unblock_ip(Host, Address) ->
    api(fun() ->
		known_host(Host),
		case mod_xmppadm_block:unblock(Host, mod_xmppadm_block:parse_addresses([Address])) of
		    {[C], []} -> ["Unblocked ", C];
		    {[], [C]} -> mod_xmppadm_form:bad_request("~ts is not blocked", [C])
		end
	end).

api_list_blocked_ips(Host) ->
    case gen_mod:is_loaded(Host, ?MODULE) of
	true ->
	    [{binary_to_list(C), binary_to_list(mod_xmppadm_form:iso8601(E)), binary_to_list(R),
	      binary_to_list(mod_xmppadm_form:iso8601(T))} || {C, E, R, T} <- mod_xmppadm_block:list(Host)];
	false -> []
    end.

api_purge_offline(Host, Age) ->
    api(fun() ->
		known_host(Host),
		Age >= 1 orelse mod_xmppadm_form:bad_request("older_than: must be >= 1", []),
		{N, U} = mod_xmppadm_purge:purge_offline(Host, Age, false),
		io_lib:format("Deleted ~B offline messages of ~B users", [N, U])
	end).

api_purge_uploads(Host, Age) ->
    api(fun() ->
		known_host(Host),
		Age >= 1 orelse mod_xmppadm_form:bad_request("older_than: must be >= 1", []),
		case mod_xmppadm_purge:uploads_unavailable(Host) of
		    {true, Why} -> mod_xmppadm_form:bad_request("~ts", [Why]);
		    false -> ok
		end,
		{N, B, _} = mod_xmppadm_purge:purge_uploads(Host, Age, false),
		io_lib:format("Deleted ~B files, ~B bytes", [N, B])
	end).

api_debug_log(Host, Action, Duration) ->
    api(fun() ->
		known_host(Host),
		lists:member(Action, [<<"on">>, <<"off">>, <<"status">>]) orelse
		    mod_xmppadm_form:bad_request("action: must be on, off or status", []),
		Duration >= 0 orelse mod_xmppadm_form:bad_request("duration: must be >= 0", []),
		{Active, Expires, _} = debug_cluster(Host, Action, case Duration of 0 -> undefined; D -> D end),
		case {Active, Expires} of
		    {false, _} -> "off";
		    {true, undefined} -> "on";
		    {true, _} -> ["on until ", mod_xmppadm_form:iso8601(Expires)]
		end
	end).
