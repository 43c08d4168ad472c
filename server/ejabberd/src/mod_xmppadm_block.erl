%%%----------------------------------------------------------------------
%%% mod_xmppadm_block: blocking client IP addresses and ranges
%%% (#block-ip, #list-blocked-ips, #unblock-ip of server/CONTRACT.md).
%%%
%%% Blocks are stored per virtual host by the db_type backend
%%% (mod_xmppadm_mnesia, a replicated table, or mod_xmppadm_sql). Each node
%%% keeps the parsed ranges in an ETS cache, refreshed on every node of the
%%% cluster after each change, so a block set through one node holds on all.
%%% A client stream from a blocked address is closed with <policy-violation/>
%%% when it starts (c2s_stream_started: c2s, BOSH and WebSocket, before TLS);
%%% live streams are tracked in an ETS table so they can be closed too.
%%%----------------------------------------------------------------------
-module(mod_xmppadm_block).

-export([start/2, stop/1, refresh/1, init_tables/0]).
-export([block/4, unblock/2, list/1]).
-export([parse_cidr/1, parse_addresses/1, format_cidr/1, exempt_ranges/1]).
-export([c2s_stream_started/2, c2s_closed/2, c2s_handle_info/2]).
-export([close_local/3]).

-include_lib("xmpp/include/xmpp.hrl").
-include("logger.hrl").
-include("mod_xmppadm.hrl").

-define(CACHE, xmppadm_block_cache).
-define(STREAMS, xmppadm_block_streams).
-define(BLOCKED_TEXT, <<"Connections from your IP address are blocked">>).

-callback init(binary(), gen_mod:opts()) -> ok | {error, any()}.
-callback all(binary()) -> {ok, [#xmppadm_block{}]} | {error, any()}.
-callback store(binary(), [#xmppadm_block{}]) -> ok | {error, any()}.
-callback delete(binary(), [binary()]) -> ok | {error, any()}.

%%%===================================================================
%%% Start, stop, cache
%%%===================================================================
%% A storage failure is logged, not returned: a module that fails to start
%% makes ejabberd halt.
start(Host, Opts) ->
    Mod = gen_mod:db_mod(Opts, mod_xmppadm),
    case catch Mod:init(Host, Opts) of
	ok -> ok;
	Err -> ?ERROR_MSG("mod_xmppadm: could not set up the ~ts storage of blocked addresses: ~p",
			  [Mod, Err])
    end,
    refresh(Host).

stop(Host) ->
    catch ets:delete(?CACHE, Host),
    ok.

%% Node-wide tables, made by the node's mod_xmppadm_debug process, which owns
%% them: they outlive module reloads.
init_tables() ->
    lists:foreach(
      fun(Tab) ->
	      case ets:whereis(Tab) of
		  undefined -> ets:new(Tab, [named_table, public, set, {read_concurrency, true}]);
		  _ -> ok
	      end
      end, [?CACHE, ?STREAMS]),
    ok.

%% Reload this host's blocks from storage into this node's cache.
-spec refresh(binary()) -> ok.
refresh(Host) ->
    case catch backend(Host) of
	Mod when is_atom(Mod) ->
	    case catch Mod:all(Host) of
		{ok, Blocks} ->
		    Ranges = [{R, E} || #xmppadm_block{host_cidr = {_, C}, expires = E} <- Blocks,
					{ok, _, R} <- [parse_cidr(C)]],
		    ets:insert(?CACHE, {Host, Ranges}),
		    ok;
		Err ->
		    ?ERROR_MSG("mod_xmppadm: could not load the blocked addresses of ~ts: ~p",
			       [Host, Err]),
		    ok
	    end;
	_ -> ok
    end.

refresh_cluster(Host) ->
    refresh(Host),
    {_, Bad} = ejabberd_cluster:multicall(ejabberd_cluster:get_nodes() -- [node()],
					  ?MODULE, refresh, [Host]),
    [?WARNING_MSG("mod_xmppadm: node ~p did not reload the blocks of ~ts", [N, Host]) || N <- Bad],
    ok.

backend(Host) ->
    gen_mod:db_mod(Host, mod_xmppadm).

%%%===================================================================
%%% Addresses
%%%===================================================================
%% "addr" or "addr/prefix" -> {ok, NormalisedCidr, {Family, NetInt, Prefix}} | error.
-spec parse_cidr(binary()) -> {ok, binary(), {4 | 6, non_neg_integer(), non_neg_integer()}} | error.
parse_cidr(S) ->
    case binary:match(S, <<"%">>) of
	nomatch ->
	    case binary:split(S, <<"/">>, [global]) of
		[A] -> parse_cidr(A, undefined);
		[A, P] ->
		    case re:run(P, <<"^[0-9]{1,3}$">>) of
			{match, _} -> parse_cidr(A, binary_to_integer(P));
			nomatch -> error
		    end;
		_ -> error
	    end;
	_ -> error
    end.

parse_cidr(A, Prefix) ->
    case inet:parse_strict_address(binary_to_list(A)) of
	{ok, IP} ->
	    {Fam, Int} = ip_to_int(IP),
	    Bits = bits(Fam),
	    P = case Prefix of undefined -> Bits; _ -> Prefix end,
	    if P > Bits -> error;
	       true ->
		    {Fam1, Int1, P1} = unmap(Fam, Int, P),
		    Net = mask(Fam1, Int1, P1),
		    {ok, format_cidr({Fam1, Net, P1}), {Fam1, Net, P1}}
	    end;
	{error, _} -> error
    end.

bits(4) -> 32;
bits(6) -> 128.

ip_to_int({A, B, C, D}) ->
    {4, (A bsl 24) bor (B bsl 16) bor (C bsl 8) bor D};
ip_to_int({_, _, _, _, _, _, _, _} = IP) ->
    {6, lists:foldl(fun(W, Acc) -> (Acc bsl 16) bor W end, 0, tuple_to_list(IP))}.

int_to_ip(4, I) ->
    list_to_tuple([(I bsr S) band 255 || S <- [24, 16, 8, 0]]);
int_to_ip(6, I) ->
    list_to_tuple([(I bsr S) band 65535 || S <- [112, 96, 80, 64, 48, 32, 16, 0]]).

%% IPv4-mapped IPv6 (::ffff:a.b.c.d, prefix >= 96) is the IPv4 address it maps.
unmap(6, Int, P) when P >= 96, Int bsr 32 == 16#ffff ->
    {4, Int band 16#ffffffff, P - 96};
unmap(Fam, Int, P) ->
    {Fam, Int, P}.

mask(Fam, Int, P) ->
    Host = bits(Fam) - P,
    (Int bsr Host) bsl Host.

format_cidr({Fam, Net, P}) ->
    iolist_to_binary([inet:ntoa(int_to_ip(Fam, Net)), $/, integer_to_binary(P)]).

%% The addresses field of #block-ip / #unblock-ip: normalised, deduplicated,
%% in request order; the first bad value fails the whole request.
-spec parse_addresses([binary()]) -> [binary()].
parse_addresses([]) ->
    mod_xmppadm_form:bad_request("addresses: Required value missing", []);
parse_addresses(Values) ->
    lists:reverse(
      lists:foldl(
	fun(V, Acc) ->
		case parse_cidr(V) of
		    {ok, C, _} ->
			case lists:member(C, Acc) of
			    true -> Acc;
			    false -> [C | Acc]
			end;
		    error ->
			mod_xmppadm_form:bad_request(
			  "addresses: '~ts' is not an IPv4/IPv6 address or CIDR range", [V])
		end
	end, [], Values)).

%% A peer address as {Family, Int}, IPv4-mapped IPv6 seen as IPv4.
addr({_, _, _, _} = IP) -> ip_to_int(IP);
addr({_, _, _, _, _, _, _, _} = IP) ->
    {6, Int} = ip_to_int(IP),
    {Fam, Int1, _} = unmap(6, Int, 128),
    {Fam, Int1};
addr(_) -> undefined.

in_range({Fam, Int}, {Fam, Net, P}) -> mask(Fam, Int, P) == Net;
in_range(_, _) -> false.

%% Two ranges overlap when one holds the other's network.
overlap({F, N1, P1} = R1, {F, N2, P2} = R2) ->
    in_range({F, N1}, R2) orelse in_range({F, N2}, R1) orelse
	(P1 == P2 andalso N1 == N2);
overlap(_, _) -> false.

%% The configured block_exempt ranges of a host, parsed.
exempt_ranges(Host) ->
    [{Fam, mask(Fam, Int, P1), P1}
     || {IP, P} <- gen_mod:get_module_opt(Host, mod_xmppadm, block_exempt),
	{Fam0, Int0} <- [ip_to_int(IP)],
	{Fam, Int, P1} <- [unmap(Fam0, Int0, P)]].

exempt(Host, Addr) ->
    lists:any(fun(R) -> in_range(Addr, R) end, exempt_ranges(Host)).

%% A host without an entry (its tables were made again after a crash of their
%% owner) is loaded from storage once.
cached_ranges(Host, Load) ->
    case catch ets:lookup(?CACHE, Host) of
	[{_, Ranges}] -> Ranges;
	[] when Load -> refresh(Host), cached_ranges(Host, false);
	_ -> []
    end.

%% The block covering Addr, if any (and Addr is not exempt).
blocked_by(Host, IP) ->
    case addr(IP) of
	undefined -> false;
	Addr ->
	    Now = erlang:system_time(second),
	    Ranges = cached_ranges(Host, true),
	    case [R || {R, E} <- Ranges, E == undefined orelse E > Now, in_range(Addr, R)] of
		[] -> false;
		[R | _] ->
		    case exempt(Host, Addr) of
			true -> false;
			false -> {true, R}
		    end
	    end
    end.

%%%===================================================================
%%% c2s hooks
%%%===================================================================
c2s_stream_started(#{lserver := LServer} = State, _StreamStart) ->
    IP = case maps:get(ip, State, undefined) of
	     {Addr, _Port} -> Addr;
	     _ -> undefined
	 end,
    case blocked_by(LServer, IP) of
	{true, Range} ->
	    ?INFO_MSG("mod_xmppadm: refusing a client stream from ~ts (blocked by ~ts)",
		      [misc:ip_to_list(IP), format_cidr(Range)]),
	    Lang = maps:get(lang, State, <<"en">>),
	    {stop, ejabberd_c2s:send(State, xmpp:serr_policy_violation(?BLOCKED_TEXT, Lang))};
	false ->
	    catch ets:insert(?STREAMS, {self(), LServer, IP}),
	    State
    end;
c2s_stream_started(State, _) ->
    State.

c2s_closed(State, _Reason) ->
    catch ets:delete(?STREAMS, self()),
    State.

%% Sent by close_local/3. The hops put the close behind anything this process
%% queued for itself meanwhile: the requester gets its result first.
c2s_handle_info(State, {xmppadm_block_close, 0}) ->
    catch ets:delete(?STREAMS, self()),
    Lang = maps:get(lang, State, <<"en">>),
    {stop, ejabberd_c2s:send(State, xmpp:serr_policy_violation(?BLOCKED_TEXT, Lang))};
c2s_handle_info(State, {xmppadm_block_close, Hops}) ->
    self() ! {xmppadm_block_close, Hops - 1},
    {stop, State};
c2s_handle_info(State, _) ->
    State.

%% Closes this node's live client streams of Host from the given ranges.
-spec close_local(binary(), [{4 | 6, integer(), integer()}], [{4 | 6, integer(), integer()}]) ->
			 non_neg_integer().
close_local(Host, Ranges, Exempt) ->
    Victims = catch_list(fun() -> ets:foldl(
		fun({Pid, H, IP}, Acc) when H == Host ->
			case addr(IP) of
			    undefined -> Acc;
			    Addr ->
				Hit = lists:any(fun(R) -> in_range(Addr, R) end, Ranges)
				    andalso not lists:any(fun(R) -> in_range(Addr, R) end, Exempt),
				case is_process_alive(Pid) of
				    true when Hit -> [Pid | Acc];
				    true -> Acc;
				    false -> ets:delete(?STREAMS, Pid), Acc % ended without c2s_closed
				end
			end;
		   (_, Acc) -> Acc
		end, [], ?STREAMS) end),
    [Pid ! {xmppadm_block_close, 2} || Pid <- Victims],
    length(Victims).

catch_list(F) ->
    try F() catch error:badarg -> [] end.

close_everywhere(Host, Cidrs) ->
    Ranges = [R || C <- Cidrs, {ok, _, R} <- [parse_cidr(C)]],
    Exempt = exempt_ranges(Host),
    Local = close_local(Host, Ranges, Exempt),
    {Counts, _Bad} = ejabberd_cluster:multicall(ejabberd_cluster:get_nodes() -- [node()],
						?MODULE, close_local, [Host, Ranges, Exempt]),
    Local + lists:sum([N || N <- Counts, is_integer(N)]).

%%%===================================================================
%%% Commands
%%%===================================================================
%% Active blocks (expired ones are deleted on the way).
active(Host) ->
    Mod = backend(Host),
    case Mod:all(Host) of
	{ok, Blocks} ->
	    Now = erlang:system_time(second),
	    {Active, Expired} = lists:partition(
				  fun(#xmppadm_block{expires = E}) -> E == undefined orelse E > Now end,
				  Blocks),
	    case Expired of
		[] -> ok;
		_ ->
		    Cidrs = [C || #xmppadm_block{host_cidr = {_, C}} <- Expired],
		    [?INFO_MSG("mod_xmppadm: block of ~ts on ~ts expired", [C, Host]) || C <- Cidrs],
		    _ = Mod:delete(Host, Cidrs)
	    end,
	    Active;
	{error, Reason} ->
	    mod_xmppadm_form:internal("Could not read the blocked addresses: ~p", [Reason])
    end.

%% Returns {Blocked, SessionsClosed, ExemptCovered}.
-spec block(binary(), [binary()], undefined | pos_integer(), binary()) ->
		   {[binary()], non_neg_integer(), [binary()]}.
block(Host, Cidrs, ExpiresIn, Reason) ->
    Now = erlang:system_time(second),
    Current = maps:from_list([{C, B} || #xmppadm_block{host_cidr = {_, C}} = B <- active(Host)]),
    Expires = case ExpiresIn of
		  undefined -> undefined;
		  N -> Now + N
	      end,
    Blocks = [#xmppadm_block{host_cidr = {Host, C}, expires = Expires, reason = Reason,
			     created = case maps:find(C, Current) of
					   {ok, #xmppadm_block{created = T}} -> T;
					   error -> Now
				       end} || C <- Cidrs],
    case (backend(Host)):store(Host, Blocks) of
	ok -> ok;
	{error, Why} -> mod_xmppadm_form:internal("Could not store the blocked addresses: ~p", [Why])
    end,
    [?INFO_MSG("mod_xmppadm: blocking ~ts on ~ts~ts",
	       [C, Host, case Reason of <<>> -> <<>>; _ -> [" (", Reason, ")"] end]) || C <- Cidrs],
    refresh_cluster(Host),
    Closed = close_everywhere(Host, Cidrs),
    Ranges = [R || C <- Cidrs, {ok, _, R} <- [parse_cidr(C)]],
    Covered = [format_cidr(E) || E <- exempt_ranges(Host),
				 lists:any(fun(R) -> overlap(E, R) end, Ranges)],
    {Cidrs, Closed, lists:usort(Covered)}.

%% Returns {Removed, NotFound}.
unblock(Host, Cidrs) ->
    Current = [C || #xmppadm_block{host_cidr = {_, C}} <- active(Host)],
    {Removed, Missing} = lists:partition(fun(C) -> lists:member(C, Current) end, Cidrs),
    case Removed of
	[] -> ok;
	_ ->
	    case (backend(Host)):delete(Host, Removed) of
		ok -> ok;
		{error, Why} ->
		    mod_xmppadm_form:internal("Could not store the blocked addresses: ~p", [Why])
	    end,
	    [?INFO_MSG("mod_xmppadm: unblocking ~ts on ~ts", [C, Host]) || C <- Removed],
	    refresh_cluster(Host)
    end,
    {Removed, Missing}.

%% Active blocks sorted by address: [{Cidr, Expires, Reason, Created}].
list(Host) ->
    lists:sort([{C, E, R, T} || #xmppadm_block{host_cidr = {_, C}, expires = E,
					       reason = R, created = T} <- active(Host)]).
