%%%----------------------------------------------------------------------
%%% mod_xmppadm_purge: #purge-offline and #purge-uploads of
%%% server/CONTRACT.md, the uploads of a deleted account, and the upload
%%% files of one user (for the export).
%%%
%%% Offline messages go through mod_offline's own storage backend (Mnesia or
%%% SQL), one user at a time, so only this virtual host is touched and the
%%% age is exact to the second. Uploads are mod_http_upload's files:
%%% DOCROOT/<user dir>/<random>/<file>; their age is the file's mtime.
%%%----------------------------------------------------------------------
-module(mod_xmppadm_purge).

-export([purge_offline/3, purge_uploads/3, remove_user/2]).
-export([offline_unavailable/1, uploads_unavailable/1, user_uploads/2, offline_time/3]).

-include_lib("xmpp/include/xmpp.hrl").
-include_lib("kernel/include/file.hrl").
-include("logger.hrl").
-include("mod_offline.hrl").

%%%===================================================================
%%% Offline messages
%%%===================================================================
offline_unavailable(Host) ->
    case gen_mod:is_loaded(Host, mod_offline) of
	true -> false;
	false -> {true, <<"mod_offline is not loaded on this host: add it to the modules of ejabberd.yml">>}
    end.

%% Deletes (or counts) the offline messages of Host stored at or before
%% Cutoff (Unix seconds). Returns {Messages, Users}.
-spec purge_offline(binary(), integer(), boolean()) -> {non_neg_integer(), non_neg_integer()}.
purge_offline(Host, Cutoff, DryRun) ->
    Mod = gen_mod:db_mod(Host, mod_offline),
    Users = offline_users(Host, Mod),
    {Count, Touched} =
	lists:foldl(
	  fun(User, {N, U}) ->
		  case old_messages(User, Host, Mod, Cutoff) of
		      [] -> {N, U};
		      Seqs ->
			  DryRun orelse remove_messages(User, Host, Mod, Seqs),
			  {N + length(Seqs), U + 1}
		  end
	  end, {0, 0}, Users),
    ?INFO_MSG("mod_xmppadm: ~ts ~B offline messages of ~B users of ~ts stored at or before ~ts",
	      [case DryRun of true -> "found"; false -> "purged" end, Count, Touched, Host,
	       mod_xmppadm_form:iso8601(Cutoff)]),
    {Count, Touched}.

offline_users(Host, mod_offline_mnesia) ->
    lists:usort(mnesia:dirty_select(
		  offline_msg, [{#offline_msg{us = {'$1', Host}, _ = '_'}, [], ['$1']}]));
offline_users(Host, mod_offline_sql) ->
    case mod_xmppadm_sql:offline_users(Host) of
	{ok, Users} -> Users;
	{error, Reason} -> mod_xmppadm_form:internal("Could not list offline messages: ~p", [Reason])
    end;
offline_users(Host, _OtherBackend) ->
    ejabberd_auth:get_users(Host).

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
    Name = case gen_mod:get_module_opt(Host, mod_http_upload, jid_in_url) of
	       sha1 -> str:sha(<<User/binary, $@, Host/binary>>);
	       node -> re:replace(User, <<"[^\\p{Xan}_.-]">>, <<$_>>,
				  [unicode, global, {return, binary}])
	   end,
    {Name, filename:join(docroot(Host), Name)}.

%% Deletes (or counts) the upload files of Host modified at or before Cutoff: the whole
%% docroot when it is this host's alone, otherwise the directories of this host's users.
%% Returns {Files, Bytes, UploadServices}.
purge_uploads(Host, Cutoff, DryRun) ->
    Root = docroot(Host),
    Files = case sharing_hosts(Host) of
		[] -> files_under(Root, 3);
		_ -> lists:append([files_under(element(2, user_dir(U, Host)), 2)
				   || {U, _} <- ejabberd_auth:get_users(Host)])
	    end,
    Old = [F || {_, _, MTime, _} = F <- Files, MTime =< Cutoff],
    Bytes = lists:sum([Size || {_, Size, _, _} <- Old]),
    case DryRun of
	true -> ok;
	false ->
	    lists:foreach(
	      fun({Path, _, _, _}) ->
		      case file:delete(Path) of
			  ok -> remove_empty_dirs(filename:dirname(Path), Root);
			  {error, enoent} -> ok;
			  {error, Reason} ->
			      mod_xmppadm_form:internal("Could not delete ~ts: ~ts",
							[Path, file:format_error(Reason)])
		      end
	      end, Old)
    end,
    ?INFO_MSG("mod_xmppadm: ~ts ~B uploaded files (~B bytes) of ~ts modified at or before ~ts",
	      [case DryRun of true -> "found"; false -> "purged" end, length(Old), Bytes, Host,
	       mod_xmppadm_form:iso8601(Cutoff)]),
    {length(Old), Bytes, lists:sort(gen_mod:get_module_opt_hosts(Host, mod_http_upload))}.

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
