%%%----------------------------------------------------------------------
%%% mod_xmppadm_sql: blocked addresses in the SQL table xmppadm_blocks,
%%% created by ejabberd's own schema update (update_sql_schema, on by
%%% default), and the SQL queries of the purge of offline messages.
%%% expires is 0 for "never"; times are Unix seconds.
%%%----------------------------------------------------------------------
-module(mod_xmppadm_sql).
-behaviour(mod_xmppadm_block).

-export([init/2, all/1, store/2, delete/2, sql_schemas/0]).
-export([offline_users/1]).

-include("mod_xmppadm.hrl").
-include("ejabberd_sql_pt.hrl").

init(Host, _Opts) ->
    ejabberd_sql_schema:update_schema(Host, ?MODULE, sql_schemas()),
    ok.

sql_schemas() ->
    [#sql_schema{
	version = 1,
	tables =
	    [#sql_table{
		name = <<"xmppadm_blocks">>,
		columns =
		    [#sql_column{name = <<"vhost">>, type = text},
		     #sql_column{name = <<"cidr">>, type = text},
		     #sql_column{name = <<"expires">>, type = bigint},
		     #sql_column{name = <<"reason">>, type = text},
		     #sql_column{name = <<"created">>, type = bigint}],
		indices = [#sql_index{columns = [<<"vhost">>, <<"cidr">>],
				      unique = true}]}]}].

all(Host) ->
    case ejabberd_sql:sql_query(
	   Host,
	   ?SQL("select @(cidr)s, @(expires)d, @(reason)s, @(created)d"
		" from xmppadm_blocks where vhost=%(Host)s")) of
	{selected, Rows} ->
	    {ok, [#xmppadm_block{host_cidr = {Host, C},
				 expires = case E of 0 -> undefined; _ -> E end,
				 reason = R, created = T} || {C, E, R, T} <- Rows]};
	Err -> {error, Err}
    end.

store(Host, Blocks) ->
    F = fun() ->
		lists:foreach(
		  fun(#xmppadm_block{host_cidr = {_, C}, expires = E0, reason = R, created = T}) ->
			  E = case E0 of undefined -> 0; _ -> E0 end,
			  ?SQL_UPSERT_T("xmppadm_blocks",
					["!vhost=%(Host)s",
					 "!cidr=%(C)s",
					 "expires=%(E)d",
					 "reason=%(R)s",
					 "created=%(T)d"])
		  end, Blocks)
	end,
    transaction(Host, F).

delete(Host, Cidrs) ->
    F = fun() ->
		[ejabberd_sql:sql_query_t(
		   ?SQL("delete from xmppadm_blocks where vhost=%(Host)s and cidr=%(C)s"))
		 || C <- Cidrs]
	end,
    transaction(Host, F).

transaction(Host, F) ->
    case ejabberd_sql:sql_transaction(Host, F) of
	{atomic, _} -> ok;
	Err -> {error, Err}
    end.

%% Users of Host with offline messages (mod_offline_sql's table).
offline_users(Host) ->
    case ejabberd_sql:sql_query(
	   Host,
	   ?SQL("select @(username)s from spool where %(Host)H group by username")) of
	{selected, Rows} -> {ok, [U || {U} <- Rows]};
	Err -> {error, Err}
    end.
