%%%----------------------------------------------------------------------
%%% mod_xmppadm_debug: temporary debug logging into a file of its own
%%% (#debug-log of server/CONTRACT.md), one per Erlang node.
%%%
%%% OTP's logger filters by the primary level before any handler sees an
%%% event, so "on" lowers the primary level to all and raises every other
%%% handler to the level the primary filter gave it: ejabberd's own logs keep
%%% their level while our handler writes everything. "off", the timer, and
%%% the end of this process restore the levels, then truncate and delete the
%%% file. The timer lives here, on the server: a dead client cannot leave it on.
%%%----------------------------------------------------------------------
-module(mod_xmppadm_debug).
-behaviour(gen_server).

-export([start/2, stop/1, on/1, off/0, status/0, file/0]).
-export([init/1, handle_call/3, handle_cast/2, handle_info/2, terminate/2, code_change/3]).

-include("logger.hrl").

-define(HANDLER, xmppadm_debug).

-record(state, {active = false :: boolean(),
		expires :: undefined | integer(),
		timer :: undefined | reference(),
		saved = [] :: [{logger:handler_id(), logger:level() | all | none}],
		primary :: undefined | logger:level() | all | none}).

%%% One process per node, started by the first host that loads mod_xmppadm
%%% and stopped with the last.
start(Host, Opts) ->
    case gen_mod:start_child(?MODULE, Host, Opts, ?MODULE) of
	{ok, _} -> ok;
	{error, {already_started, _}} -> ok;
	{error, already_present} ->
	    supervisor:restart_child(ejabberd_gen_mod_sup, ?MODULE), ok;
	Err -> Err
    end.

stop(Host) ->
    case gen_mod:is_loaded_elsewhere(Host, mod_xmppadm) of
	true -> ok;
	false -> gen_mod:stop_child(?MODULE)
    end.

%% -> {Previous, Expires}
on(Duration) -> gen_server:call(?MODULE, {on, Duration}).
%% -> Previous
off() -> gen_server:call(?MODULE, off).
%% -> {Active, Expires}
status() -> gen_server:call(?MODULE, status).

%% Next to ejabberd's own log. Found out once, when this process starts:
%% ejabberd_logger:get_log_path/0 asks the application controller, which is
%% busy (and waiting for us) while ejabberd stops.
-spec file() -> binary().
file() ->
    case persistent_term:get({?MODULE, file}, undefined) of
	undefined ->
	    File = unicode:characters_to_binary(
		     filename:join(filename:dirname(ejabberd_logger:get_log_path()),
				   "xmppadm-debug.log")),
	    persistent_term:put({?MODULE, file}, File),
	    File;
	File -> File
    end.

%%%===================================================================
init(_) ->
    process_flag(trap_exit, true),
    mod_xmppadm_block:init_tables(),
    _ = file(),
    wipe(), % left over from a crash or a kill while active
    {ok, #state{}}.

handle_call({on, Duration}, _From, #state{active = Active} = State) ->
    State1 = case Active of
		 true -> cancel_timer(State);
		 false -> start_logging(State)
	     end,
    case State1 of
	#state{active = true} ->
	    {Expires, Timer} = case Duration of
				   undefined -> {undefined, undefined};
				   N ->
				       {erlang:system_time(second) + N,
					erlang:start_timer(N * 1000, self(), expire)}
			       end,
	    {reply, {ok, Active, Expires}, State1#state{expires = Expires, timer = Timer}};
	_ ->
	    {reply, {error, <<"Could not add a logger handler for ", (file())/binary>>}, State1}
    end;
handle_call(off, _From, #state{active = Active} = State) ->
    {reply, Active, stop_logging(State)};
handle_call(status, _From, #state{active = Active, expires = Expires} = State) ->
    {reply, {Active, Expires}, State};
handle_call(_Request, _From, State) ->
    {reply, {error, badarg}, State}.

handle_cast(_Msg, State) ->
    {noreply, State}.

handle_info({timeout, Timer, expire}, #state{timer = Timer} = State) ->
    ?INFO_MSG("mod_xmppadm: the debug logging period is over", []),
    {noreply, stop_logging(State)};
handle_info(_Info, State) ->
    {noreply, State}.

terminate(_Reason, State) ->
    stop_logging(State),
    ok.

code_change(_OldVsn, State, _Extra) ->
    {ok, State}.

%%%===================================================================
start_logging(State) ->
    File = file(),
    wipe(),
    #{level := Primary} = logger:get_primary_config(),
    Saved = [{Id, L} || #{id := Id, level := L} <- logger:get_handler_config(), Id /= ?HANDLER],
    lists:foreach(
      fun({Id, L}) ->
	      case logger:compare_levels(L, Primary) of
		  lt -> logger:set_handler_config(Id, level, Primary);
		  _ -> ok
	      end
      end, Saved),
    Template = [time, " [", level, "] ", pid,
		{mfa, ["@", mfa, {line, [":", line], []}], []}, " ", msg, "\n"],
    Config = #{level => all,
	       config => #{file => binary_to_list(File),
			   modes => [{delayed_write, 4096, 100}],
			   filesync_repeat_interval => no_repeat},
	       formatter => {logger_formatter, #{template => Template, single_line => false,
						 legacy_header => false, time_designator => $\s}}},
    case logger:add_handler(?HANDLER, logger_std_h, Config) of
	ok ->
	    logger:set_primary_config(level, all),
	    ?INFO_MSG("mod_xmppadm: debug logging to ~ts started", [File]),
	    State#state{active = true, saved = Saved, primary = Primary};
	{error, Reason} ->
	    ?ERROR_MSG("mod_xmppadm: could not log to ~ts: ~p", [File, Reason]),
	    restore(Saved, undefined),
	    State
    end.

stop_logging(#state{active = false} = State) ->
    cancel_timer(State);
stop_logging(#state{saved = Saved, primary = Primary} = State) ->
    State1 = cancel_timer(State),
    logger:remove_handler(?HANDLER),
    restore(Saved, Primary),
    wipe(),
    ?INFO_MSG("mod_xmppadm: debug logging to ~ts stopped, file removed", [file()]),
    State1#state{active = false, expires = undefined, saved = [], primary = undefined}.

%% Back to the levels before "on", unless someone changed the primary level meanwhile.
restore(Saved, Primary) ->
    case logger:get_primary_config() of
	#{level := all} when Primary /= undefined -> logger:set_primary_config(level, Primary);
	_ -> ok
    end,
    [logger:set_handler_config(Id, level, L) || {Id, L} <- Saved,
						lists:member(Id, logger:get_handler_ids())],
    ok.

cancel_timer(#state{timer = undefined} = State) -> State;
cancel_timer(#state{timer = T} = State) ->
    erlang:cancel_timer(T),
    State#state{timer = undefined, expires = undefined}.

%% Truncate first: the data is gone even if the removal fails.
wipe() ->
    File = file(),
    _ = file:write_file(File, <<>>, [write]),
    _ = file:delete(File),
    ok.
