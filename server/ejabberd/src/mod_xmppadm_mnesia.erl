%%%----------------------------------------------------------------------
%%% mod_xmppadm_mnesia: blocked addresses in a Mnesia table, copied to every
%%% node of the cluster (ejabberd adds a copy when a node joins).
%%%----------------------------------------------------------------------
-module(mod_xmppadm_mnesia).
-behaviour(mod_xmppadm_block).

-export([init/2, all/1, store/2, delete/2]).

-include("mod_xmppadm.hrl").

init(_Host, _Opts) ->
    case ejabberd_mnesia:create(?MODULE, xmppadm_block,
				[{disc_copies, [node()]},
				 {attributes, record_info(fields, xmppadm_block)}]) of
	{atomic, _} -> ok;
	ok -> ok;
	Err -> {error, Err}
    end.

all(Host) ->
    try mnesia:dirty_select(xmppadm_block,
			    [{#xmppadm_block{host_cidr = {Host, '_'}, _ = '_'}, [], ['$_']}]) of
	Blocks -> {ok, Blocks}
    catch _:Reason -> {error, Reason}
    end.

store(_Host, Blocks) ->
    transaction(fun() -> lists:foreach(fun mnesia:write/1, Blocks) end).

delete(Host, Cidrs) ->
    transaction(fun() -> [mnesia:delete({xmppadm_block, {Host, C}}) || C <- Cidrs] end).

transaction(F) ->
    case mnesia:transaction(F) of
	{atomic, _} -> ok;
	{aborted, Reason} -> {error, Reason}
    end.
