%%%----------------------------------------------------------------------
%%% mod_xmppadm_purge: #purge-offline and #purge-uploads of
%%% server/CONTRACT.md, the uploads of a deleted account, and the upload
%%% files of one user (for the export).
%%%
%%% Offline messages go through mod_offline's own storage backend (Mnesia or
%%% SQL), one user at a time, so only this virtual host is touched and the
%%% age is exact to the second. Uploads are mod_http_upload's files:
%%% DOCROOT/<user dir>/<random>/<file>; their age is the file's mtime.
%%%
%%% Both purges are paged (CONTRACT.md 1, "Long operations"): a page works
%%% for about page_ms (an option, default 1 s) and returns a cursor that carries everything the next
%%% page needs (the run's cut-off, its progress, where to go on); nothing is
%%% kept between pages. Users are walked in byte order of their names, files
%%% in path order, node by node in a cluster (each node has its own docroot).
%%%----------------------------------------------------------------------
-module(mod_xmppadm_purge).

-export([offline_page/4, uploads_page/4, purge_offline/3, purge_uploads/3, remove_user/2]).
-export([offline_unavailable/1, uploads_unavailable/1, user_uploads/2, offline_time/3]).
-export([uploads_slice/5, uploads_count/1, docroot_identity/1]).

-include_lib("xmpp/include/xmpp.hrl").
-include_lib("kernel/include/file.hrl").
-include("logger.hrl").
-include("mod_offline.hrl").

%% Longest a node takes for its part of a page, over RPC, before it counts
%% as not answering.
-define(RPC_TIMEOUT, 60000).

%%%===================================================================
%%% Offline messages
%%%===================================================================
offline_unavailable(Host) ->
    case gen_mod:is_loaded(Host, mod_offline) of
	true -> false;
	false -> {true, <<"mod_offline is not loaded on this host: add it to the modules of ejabberd.yml">>}
    end.

%% The cut-off of a run: the cursor's, or now - OlderThan on the first page.
%% A cursor cannot move it later than this request's own.
run_cutoff(OlderThan, undefined) -> erlang:system_time(second) - OlderThan;
run_cutoff(OlderThan, FromCursor) -> min(FromCursor, run_cutoff(OlderThan, undefined)).

%% The end of a page: the module's page_ms option (default 1000) from now;
%% the client waits about this long for each answer.
deadline(Host) -> erlang:monotonic_time(millisecond) + mod_xmppadm_opt_page_ms(Host).

mod_xmppadm_opt_page_ms(Host) -> gen_mod:get_module_opt(Host, mod_xmppadm, page_ms).
spent(Deadline) -> erlang:monotonic_time(millisecond) >= Deadline.

malformed(After) -> mod_xmppadm_form:bad_request("after: malformed cursor '~ts'", [After]).

int(B, After) ->
    try binary_to_integer(B) of
	N when N >= 0 -> N;
	_ -> malformed(After)
    catch _:_ -> malformed(After)
    end.

%% One page of #purge-offline (After: the previous page's cursor or
%% undefined). Returns {Messages, Users, Next | undefined, Scanned, Total}.
offline_page(Host, OlderThan, DryRun, After) ->
    Deadline = deadline(Host),
    {CursorCutoff, Scanned0, Last} =
	case After of
	    undefined -> {undefined, 0, undefined};
	    _ ->
		case binary:split(After, <<":">>, [global]) of
		    [<<"offline">>, C, S | UserParts] when UserParts /= [] ->
			{int(C, After), int(S, After), iolist_to_binary(lists:join(<<":">>, UserParts))};
		    _ -> malformed(After)
		end
	end,
    Cutoff = run_cutoff(OlderThan, CursorCutoff),
    Mod = gen_mod:db_mod(Host, mod_offline),
    Users = [U || U <- offline_users(Host, Mod), Last == undefined orelse U > Last],
    {Count, Touched, Walked, LastDone} = walk_users(Users, Host, Mod, Cutoff, DryRun, Deadline, 0, 0, 0, Last),
    Scanned = Scanned0 + Walked,
    Next = case Walked < length(Users) of
	       true -> iolist_to_binary(io_lib:format("offline:~B:~B:~ts", [Cutoff, Scanned, LastDone]));
	       false -> undefined
	   end,
    (Count > 0 orelse Next == undefined) andalso
	?INFO_MSG("mod_xmppadm: ~ts ~B offline messages of ~B users of ~ts stored at or before ~ts "
		  "(~B of ~B users walked)",
		  [case DryRun of true -> "found"; false -> "purged" end, Count, Touched, Host,
		   mod_xmppadm_form:iso8601(Cutoff), Scanned, Scanned0 + length(Users)]),
    {Count, Touched, Next, Scanned, Scanned0 + length(Users)}.

walk_users([User | Rest], Host, Mod, Cutoff, DryRun, Deadline, N, U, W, Last) ->
    case W > 0 andalso spent(Deadline) of
	true -> {N, U, W, Last};
	false ->
	    case old_messages(User, Host, Mod, Cutoff) of
		[] -> walk_users(Rest, Host, Mod, Cutoff, DryRun, Deadline, N, U, W + 1, User);
		Seqs ->
		    DryRun orelse remove_messages(User, Host, Mod, Seqs),
		    walk_users(Rest, Host, Mod, Cutoff, DryRun, Deadline, N + length(Seqs), U + 1, W + 1, User)
	    end
    end;
walk_users([], _, _, _, _, _, N, U, W, Last) -> {N, U, W, Last}.

%% A whole run at once (the xmppadm_purge_offline API command): every page.
%% Returns {Messages, Users}.
-spec purge_offline(binary(), pos_integer(), boolean()) -> {non_neg_integer(), non_neg_integer()}.
purge_offline(Host, OlderThan, DryRun) ->
    all_pages(fun(After) -> offline_page(Host, OlderThan, DryRun, After) end, undefined, {0, 0}).

all_pages(Page, After, {N, U}) ->
    case Page(After) of
	{N1, U1, undefined, _, _} -> {N + N1, U + U1};
	{N1, U1, Next, _, _} -> all_pages(Page, Next, {N + N1, U + U1})
    end.

%% The users of Host with offline messages, sorted.
offline_users(Host, mod_offline_mnesia) ->
    lists:usort(mnesia:dirty_select(
		  offline_msg, [{#offline_msg{us = {'$1', Host}, _ = '_'}, [], ['$1']}]));
offline_users(Host, mod_offline_sql) ->
    case mod_xmppadm_sql:offline_users(Host) of
	{ok, Users} -> lists:usort(Users);
	{error, Reason} -> mod_xmppadm_form:internal("Could not list offline messages: ~p", [Reason])
    end;
offline_users(Host, _OtherBackend) ->
    lists:usort([U || {U, _} <- ejabberd_auth:get_users(Host)]).

old_messages(User, Host, Mod, Cutoff) ->
    case Mod:read_message_headers(User, Host) of
	error -> mod_xmppadm_form:internal("Could not read the offline messages of ~ts@~ts", [User, Host]);
	Headers ->
	    [Seq || {Seq, _From, _To, TS, Pkt} <- Headers,
		    case offline_time(Host, TS, Pkt) of
			undefined -> false;
			T -> T =< Cutoff
		    end]
    end.

%% When a message was stored, in Unix seconds: Mnesia keeps the time in the
%% record; mod_offline_sql does not read it back (undefined), but the XML it
%% stores has the <delay/> it added, from the host.
-spec offline_time(binary(), undefined | erlang:timestamp(), fxml:xmlel()) -> undefined | integer().
offline_time(_Host, {_, _, _} = TS, _Pkt) ->
    erlang:convert_time_unit(misc:now_to_usec(TS), microsecond, second);
offline_time(Host, undefined, #xmlel{children = Children}) ->
    Stamps = [fxml:get_tag_attr_s(<<"stamp">>, C)
	      || #xmlel{name = <<"delay">>} = C <- Children,
		 fxml:get_tag_attr_s(<<"xmlns">>, C) == ?NS_DELAY,
		 fxml:get_tag_attr_s(<<"from">>, C) == Host],
    case Stamps of
	[Stamp | _] ->
	    try xmpp_util:decode_timestamp(Stamp) of
		TS -> offline_time(Host, TS, undefined)
	    catch _:_ -> undefined
	    end;
	[] -> undefined
    end;
offline_time(_, _, _) -> undefined.

remove_messages(User, Host, Mod, Seqs) ->
    lists:foreach(
      fun(Seq) ->
	      case Mod:remove_message(User, Host, Seq) of
		  {error, notfound} -> ok; % gone meanwhile (delivered)
		  {error, Reason} ->
		      mod_xmppadm_form:internal("Could not delete an offline message of ~ts@~ts: ~p",
						[User, Host, Reason]);
		  _ -> ok
	      end
      end, Seqs),
    %% mod_offline caches each user's message count
    catch ets_cache:delete(offline_msg_counter_cache, {User, Host}, ejabberd_cluster:get_nodes()).

%%%===================================================================
%%% Uploads
%%%===================================================================
uploads_unavailable(Host) ->
    case gen_mod:is_loaded(Host, mod_http_upload) of
	false ->
	    {true, <<"mod_http_upload is not loaded on this host: add it to the modules of ejabberd.yml">>};
	true ->
	    case gen_mod:get_module_opt(Host, mod_http_upload, service_url) of
		undefined -> indistinct(Host);
		_ -> {true, <<"mod_http_upload hands uploads to an external service_url: "
			      "their files are not on this server">>}
	    end
    end.

%% Several hosts may keep their files under one docroot (ejabberd's default, "@HOME@/upload",
%% names no host): each user's directory is then told by its name, the SHA-1 of the JID. With
%% jid_in_url: node it is the user name alone, the same for alice of every host.
indistinct(Host) ->
    case {sharing_hosts(Host), gen_mod:get_module_opt(Host, mod_http_upload, jid_in_url)} of
	{[_ | _] = Others, node} ->
	    {true, iolist_to_binary(
		     io_lib:format("mod_http_upload keeps the files of ~ts under the docroot of ~ts and "
				   "names users' directories by the user name alone (jid_in_url: node), "
				   "so this host's files cannot be told from theirs: give each host a "
				   "docroot of its own (docroot: \"/var/lib/ejabberd/upload/@HOST@\")",
				   [Host, lists:join(", ", Others)]))};
	_ -> false
    end.

%% The other hosts whose mod_http_upload keeps its files in this host's docroot (or around it).
sharing_hosts(Host) ->
    Root = filename:split(docroot(Host)),
    [H || H <- ejabberd_option:hosts(), H /= Host, gen_mod:is_loaded(H, mod_http_upload),
	  begin
	      Other = filename:split(docroot(H)),
	      lists:prefix(Root, Other) orelse lists:prefix(Other, Root)
	  end].

docroot(Host) ->
    DocRoot = gen_mod:get_module_opt(Host, mod_http_upload, docroot),
    mod_http_upload:expand_host(
      mod_http_upload:expand_home(string:trim(DocRoot, trailing, "/")), Host).

%% The directory of one user under the docroot, as mod_http_upload names it.
user_dir(User, Host) ->
    Name = user_dir_name(User, Host, gen_mod:get_module_opt(Host, mod_http_upload, jid_in_url)),
    {Name, filename:join(docroot(Host), Name)}.

user_dir_name(User, Host, sha1) -> str:sha(<<User/binary, $@, Host/binary>>);
user_dir_name(User, _Host, node) ->
    re:replace(User, <<"[^\\p{Xan}_.-]">>, <<$_>>, [unicode, global, {return, binary}]).

%% One page of #purge-uploads: the files of Host modified at or before the
%% run's cut-off, deleted (or counted). Each node of a cluster keeps the
%% uploads it received in its own docroot: the nodes are walked one after
%% the other (a docroot shared by several nodes, seen as the same directory
%% with the same entries, only once). Returns
%% {Files, Bytes, Services, Next | undefined, Scanned, Total}.
uploads_page(Host, OlderThan, DryRun, After) ->
    Deadline = deadline(Host),
    C = parse_uploads_cursor(After),
    Cutoff = run_cutoff(OlderThan, maps:get(cutoff, C, undefined)),
    Nodes = upload_nodes(Host),
    Total0 = case maps:find(total, C) of
		 {ok, T} -> T;
		 error -> lists:sum([on_node(N, uploads_count, [Host]) || N <- Nodes])
	     end,
    Todo = case maps:find(node, C) of
	       {ok, From} -> [N || N <- Nodes, atom_to_binary(N) >= From];
	       error -> Nodes
	   end,
    {Files, Bytes, Walked, Position} = walk_nodes(Todo, Host, Cutoff, DryRun, Deadline, C, 0, 0, 0),
    Scanned = maps:get(scanned, C, 0) + Walked,
    Total = max(Total0, Scanned),
    Next = case Position of
	       done -> undefined;
	       {Node, Rel} ->
		   iolist_to_binary(
		     io_lib:format("uploads:~B:~B:~B:~ts:~ts",
				   [Cutoff, Scanned, Total, hex(atom_to_binary(Node)),
				    hex(term_to_binary(Rel))]))
	   end,
    (Files > 0 orelse Next == undefined) andalso
	?INFO_MSG("mod_xmppadm: ~ts ~B uploaded files (~B bytes) of ~ts modified at or before ~ts "
		  "(~B of ~B files walked)",
		  [case DryRun of true -> "found"; false -> "purged" end, Files, Bytes, Host,
		   mod_xmppadm_form:iso8601(Cutoff), Scanned, Total]),
    {Files, Bytes, lists:sort(gen_mod:get_module_opt_hosts(Host, mod_http_upload)), Next, Scanned, Total}.

walk_nodes([Node | Rest], Host, Cutoff, DryRun, Deadline, C, F, B, W) ->
    case W > 0 andalso spent(Deadline) of
	true -> {F, B, W, {Node, undefined}};
	false ->
	    NodeName = atom_to_binary(Node),
	    RelAfter = case maps:find(node, C) of
			   {ok, NodeName} -> maps:get(rel, C);
			   _ -> undefined
		       end,
	    Left = max(Deadline - erlang:monotonic_time(millisecond), 0),
	    {F1, B1, W1, Stop} = on_node(Node, uploads_slice, [Host, Cutoff, DryRun, RelAfter, Left]),
	    case Stop of
		done -> walk_nodes(Rest, Host, Cutoff, DryRun, Deadline, C, F + F1, B + B1, W + W1);
		{more, Rel} -> {F + F1, B + B1, W + W1, {Node, Rel}}
	    end
    end;
walk_nodes([], _, _, _, _, _, F, B, W) -> {F, B, W, done}.

parse_uploads_cursor(undefined) -> #{};
parse_uploads_cursor(After) ->
    case binary:split(After, <<":">>, [global]) of
	[<<"uploads">>, C, S, T, Node, Rel] ->
	    try #{cutoff => int(C, After), scanned => int(S, After), total => int(T, After),
		  node => unhex(Node), rel => binary_to_term(unhex(Rel), [safe])}
	    catch throw:E -> throw(E);
		  _:_ -> malformed(After)
	    end;
	_ -> malformed(After)
    end.

%% Cursor parts in hex (binary:encode_hex is in OTP 24; base64 has no url-safe mode before 26).
hex(Bin) -> binary:encode_hex(Bin).
unhex(Hex) -> binary:decode_hex(Hex).

%% Runs a function of this module on a node of the cluster (locally without RPC).
on_node(Node, Fun, Args) when Node == node() -> apply(?MODULE, Fun, Args);
on_node(Node, Fun, Args) ->
    case rpc:call(Node, ?MODULE, Fun, Args, ?RPC_TIMEOUT) of
	{badrpc, Reason} -> mod_xmppadm_form:internal("Node ~ts did not answer: ~p", [Node, Reason]);
	Result -> Result
    end.

%% The nodes that keep uploads of Host, sorted, one per docroot.
upload_nodes(Host) ->
    Nodes = lists:sort([node() | ejabberd_cluster:get_nodes() -- [node()]]),
    Ids = [{N, catch on_node(N, docroot_identity, [Host])} || N <- Nodes],
    {Chosen, _} = lists:foldl(
		    fun({N, {ok, Id}}, {Acc, Seen}) ->
			    case lists:member(Id, Seen) of
				true -> {Acc, Seen};
				false -> {[N | Acc], [Id | Seen]}
			    end;
		       (_, Acc) -> Acc
		    end, {[], []}, Ids),
    lists:reverse(Chosen).

%% What tells two nodes' docroots apart: the directory's inode and change
%% time and its entries (a shared directory looks the same from both).
docroot_identity(Host) ->
    case uploads_unavailable(Host) of
	{true, _} -> none;
	false ->
	    Root = docroot(Host),
	    case file:read_file_info(Root, [{time, posix}]) of
		{ok, #file_info{inode = Inode, ctime = CTime}} ->
		    {ok, {Inode, CTime, erlang:phash2(lists:sort(element(2, file:list_dir(Root))))}};
		{error, enoent} -> {ok, {missing, node()}};
		{error, _} -> none
	    end
    end.

%% How many upload files this node keeps for Host.
uploads_count(Host) ->
    (host_files(Host, docroot(Host)))(undefined, fun(_, N) -> N + 1 end, 0).

%% A walk over the upload files of Host in path order, fun(After, Visit, Acc): the whole docroot
%% when it is this host's alone, otherwise only the directories of this host's users present
%% there (CONTRACT.md 6), so that a purge of one host never touches another's files. Finding
%% those directories (a SHA-1 a user) is done here, once a page, before the page's walk.
host_files(Host, Root) ->
    case sharing_hosts(Host) of
	[] -> fun(After, Visit, Acc) -> walk_files(Root, 3, [], After, Visit, Acc) end;
	_ ->
	    Mode = gen_mod:get_module_opt(Host, mod_http_upload, jid_in_url),
	    Mine = lists:usort([user_dir_name(U, Host, Mode) || {U, _} <- ejabberd_auth:get_users(Host)]),
	    Present = case file:list_dir(Root) of
			  {ok, Names} -> lists:usort([unicode:characters_to_binary(N) || N <- Names]);
			  {error, _} -> []
		      end,
	    Dirs = ordsets:intersection(Mine, Present),
	    fun(After, Visit, Acc) ->
		    lists:foldl(
		      fun(Name, A) ->
			      case After /= undefined andalso [Name] < lists:sublist(After, 1) of
				  true -> A; % all of it is before the cursor
				  false -> walk_files(filename:join(Root, Name), 2, [Name], After, Visit, A)
			      end
		      end, Acc, Dirs)
	    end
    end.

%% This node's part of a page: the files after RelAfter (their path below the
%% docroot, as a list; undefined: from the first), in path order, for at most
%% BudgetMs (at least one file). Returns {Files, Bytes, Walked, done | {more, Rel}}.
uploads_slice(Host, Cutoff, DryRun, RelAfter, BudgetMs) ->
    Root = docroot(Host),
    Walk = host_files(Host, Root),
    Deadline = erlang:monotonic_time(millisecond) + BudgetMs,
    Visit = fun({Path, Size, MTime, Rel}, {F, B, W, _} = Acc) ->
		    W > 0 andalso spent(Deadline) andalso throw({xmppadm_stop, Acc}),
		    {F1, B1} = case MTime =< Cutoff of
				   false -> {F, B};
				   true ->
				       DryRun orelse delete_upload(Path, Root),
				       {F + 1, B + Size}
			       end,
		    {F1, B1, W + 1, Rel}
	    end,
    try Walk(RelAfter, Visit, {0, 0, 0, RelAfter}) of
	{F, B, W, _} -> {F, B, W, done}
    catch throw:{xmppadm_stop, {F, B, W, Last}} ->
	    %% stopped before a file: the page ends after the last one walked
	    {F, B, W, {more, Last}}
    end.

delete_upload(Path, Root) ->
    case file:delete(Path) of
	ok -> remove_empty_dirs(filename:dirname(Path), Root);
	{error, enoent} -> ok;
	{error, Reason} ->
	    mod_xmppadm_form:internal("Could not delete ~ts: ~ts", [Path, file:format_error(Reason)])
    end.

%% Depth-first over the regular files exactly Depth levels below Dir, in path
%% order, skipping what sorts at or before After (a path as a list of names).
walk_files(Dir, 0, Rel, After, Visit, Acc) ->
    Path = lists:reverse(Rel),
    case After == undefined orelse Path > After of
	false -> Acc;
	true ->
	    case file:read_file_info(Dir, [{time, posix}]) of
		{ok, #file_info{type = regular, size = Size, mtime = MTime}} ->
		    Visit({Dir, Size, MTime, Path}, Acc);
		_ -> Acc
	    end
    end;
walk_files(Dir, Depth, Rel, After, Visit, Acc) ->
    case file:list_dir(Dir) of
	{ok, Names} ->
	    lists:foldl(
	      fun(N, A) ->
		      Name = unicode:characters_to_binary(N),
		      Prefix = lists:reverse([Name | Rel]),
		      case After /= undefined andalso Prefix < lists:sublist(After, length(Prefix)) of
			  true -> A; % all of it is before the cursor
			  false -> walk_files(filename:join(Dir, N), Depth - 1, [Name | Rel], After, Visit, A)
		      end
	      end, Acc, lists:sort(Names));
	{error, _} -> Acc
    end.

%% A whole run at once (the xmppadm_purge_uploads API command): every page.
%% Returns {Files, Bytes, Services}.
purge_uploads(Host, OlderThan, DryRun) ->
    purge_uploads(Host, OlderThan, DryRun, undefined, 0, 0).

purge_uploads(Host, OlderThan, DryRun, After, F, B) ->
    case uploads_page(Host, OlderThan, DryRun, After) of
	{F1, B1, Services, undefined, _, _} -> {F + F1, B + B1, Services};
	{F1, B1, _, Next, _, _} -> purge_uploads(Host, OlderThan, DryRun, Next, F + F1, B + B1)
    end.

%% Regular files exactly Depth levels below Dir: [{Path, Size, MTime, RelParts}].
files_under(Dir, Depth) ->
    files_under(Dir, Depth, []).

files_under(Dir, 0, Rel) ->
    case file:read_file_info(Dir, [{time, posix}]) of
	{ok, #file_info{type = regular, size = Size, mtime = MTime}} ->
	    [{Dir, Size, MTime, lists:reverse(Rel)}];
	_ -> []
    end;
files_under(Dir, Depth, Rel) ->
    case file:list_dir(Dir) of
	{ok, Names} ->
	    lists:append([files_under(filename:join(Dir, N), Depth - 1, [unicode:characters_to_binary(N) | Rel])
			  || N <- lists:sort(Names)]);
	{error, _} -> []
    end.

%% mod_http_upload makes a directory per slot; drop it (and the user's) once empty.
remove_empty_dirs(Dir, Root) when Dir /= Root ->
    case file:del_dir(Dir) of
	ok -> remove_empty_dirs(filename:dirname(Dir), Root);
	{error, _} -> ok
    end;
remove_empty_dirs(_, _) -> ok.

%% The uploads of one user, oldest first: [{GetUrl, Size, MTime, FileName}].
user_uploads(User, Host) ->
    case uploads_unavailable(Host) of
	{true, _} -> [];
	false ->
	    {Name, Dir} = user_dir(User, Host),
	    Prefix = case gen_mod:get_module_opt(Host, mod_http_upload, get_url) of
			 undefined -> gen_mod:get_module_opt(Host, mod_http_upload, put_url);
			 URL -> URL
		     end,
	    Base = mod_http_upload:expand_host(string:trim(Prefix, trailing, "/"), Host),
	    Files = [{iolist_to_binary(lists:join(<<"/">>, [Base | [misc:url_encode(P) || P <- [Name | Rel]]])),
		      Size, MTime, lists:last(Rel)}
		     || {_, Size, MTime, Rel} <- files_under(Dir, 2)],
	    lists:sort(fun({_, _, T1, F1}, {_, _, T2, F2}) -> {T1, F1} =< {T2, F2} end, Files)
    end.

%% remove_user hook: mod_http_upload deletes a deleted account's files only
%% with rm_on_unregister (the default); do it when that is off, so that an
%% account's deletion takes its uploads along.
remove_user(User, Server) ->
    Host = jid:nameprep(Server),
    LUser = jid:nodeprep(User),
    case uploads_unavailable(Host) == false andalso
	not gen_mod:get_module_opt(Host, mod_http_upload, rm_on_unregister) of
	true ->
	    {_, Dir} = user_dir(LUser, Host),
	    case misc:delete_dir(Dir) of
		ok -> ?INFO_MSG("mod_xmppadm: removed the uploads of ~ts@~ts", [LUser, Host]);
		{error, enoent} -> ok;
		{error, Reason} ->
		    ?ERROR_MSG("mod_xmppadm: could not remove the uploads of ~ts@~ts (~ts): ~p",
			       [LUser, Host, Dir, Reason])
	    end;
	false -> ok
    end.
