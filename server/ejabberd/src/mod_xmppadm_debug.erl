%%%----------------------------------------------------------------------
%%% mod_xmppadm_debug: temporary debug logging of one virtual host into a file
%%% of its own (#debug-log of server/CONTRACT.md), on each Erlang node.
%%%
%%% OTP's logger filters by the primary level before any handler sees an
%%% event, so while any host's debug logging is on, the primary level is all
%%% and every other handler is raised to the level the primary filter gave it:
%%% ejabberd's own logs keep their level while ours write everything.
%%%
%%% One host's lines only: each client stream (c2s, BOSH, WebSocket all run
%%% ejabberd_c2s) tags its process with its host when the stream starts
%%% (logger process metadata xmppadm_host), and a host's handler passes only
%%% events so tagged. Everything a session does in its own process is tagged:
%%% its stanzas in and out, its authentication, the hooks that run for it; a
%%% command's worker process is tagged with the host the command was sent to.
%%% Lines of processes that belong to no host (the listener before the stream
%%% names a host, the router's and session manager's own) are left out.
%%%
%%% "off", the timer, and the end of this process remove the handler, restore
%%% the levels once no host is on, then truncate and delete the file (created
%%% mode 0600). The timers live here, on the server: a dead client cannot
%%% leave logging on.
%%%----------------------------------------------------------------------
-module(mod_xmppadm_debug).
-behaviour(gen_server).

-export([start/2, stop/1, on/2, off/1, status/1, file/1]).
-export([c2s_stream_started/2, host_filter/2, tag/1]).
-export([init/1, handle_call/3, handle_cast/2, handle_info/2, terminate/2, code_change/3]).

-include("logger.hrl").

-define(META, xmppadm_host).

%% hosts: Host => #{expires, timer}; saved and primary: the levels before the first "on"
-record(state, {hosts = #{} :: #{binary() => #{expires := undefined | integer(),
					       timer := undefined | reference()}},
		saved = [] :: [{logger:handler_id(), logger:level() | all | none}],
		primary :: undefined | logger:level() | all | none}).

%%% One process per node, started by the first host that loads mod_xmppadm
%%% and stopped with the last; a host that unloads the module ends its logging.
start(Host, Opts) ->
    ejabberd_hooks:add(c2s_stream_started, Host, ?MODULE, c2s_stream_started, 5),
    case gen_mod:start_child(?MODULE, Host, Opts, ?MODULE) of
	{ok, _} -> ok;
	{error, {already_started, _}} -> ok;
	{error, already_present} ->
	    supervisor:restart_child(ejabberd_gen_mod_sup, ?MODULE), ok;
	Err -> Err
    end.

stop(Host) ->
    ejabberd_hooks:delete(c2s_stream_started, Host, ?MODULE, c2s_stream_started, 5),
    case gen_mod:is_loaded_elsewhere(Host, mod_xmppadm) of
	true -> catch off(Host), ok;
	false -> gen_mod:stop_child(?MODULE)
    end.

%% -> {ok, Previous, Expires} | {error, Text}
on(Host, Duration) -> gen_server:call(?MODULE, {on, Host, Duration}).
%% -> Previous
off(Host) -> gen_server:call(?MODULE, {off, Host}).
%% -> {Active, Expires}
status(Host) -> gen_server:call(?MODULE, {status, Host}).

%% Next to ejabberd's own log. The directory is found out once, when this
%% process starts: ejabberd_logger:get_log_path/0 asks the application
%% controller, which is busy (and waiting for us) while ejabberd stops.
-spec file(binary()) -> binary().
file(Host) ->
    Safe = re:replace(Host, <<"[^A-Za-z0-9.-]">>, <<"_">>, [global, {return, binary}]),
    filename:join(log_dir(), <<"xmppadm-debug-", Safe/binary, ".log">>).

log_dir() ->
    case persistent_term:get({?MODULE, dir}, undefined) of
	undefined ->
	    Dir = unicode:characters_to_binary(filename:dirname(ejabberd_logger:get_log_path())),
	    persistent_term:put({?MODULE, dir}, Dir),
	    Dir;
	Dir -> Dir
    end.

%% c2s_stream_started hook, in the stream's own process: from here on, what
%% this process logs is this host's.
c2s_stream_started(#{lserver := LServer} = State, _StreamStart) ->
    tag(LServer),
    State;
c2s_stream_started(State, _) ->
    State.

%% What the calling process logs from now on is Host's (a stream's process, a
%% command's worker).
tag(Host) ->
    logger:update_process_metadata(#{?META => Host}).

%% A host handler's filter: its host's events only.
host_filter(#{meta := #{?META := Host}} = Event, Host) -> Event;
host_filter(_Event, _Host) -> stop.

%%%===================================================================
init(_) ->
    process_flag(trap_exit, true),
    mod_xmppadm_block:init_tables(),
    _ = log_dir(),
    %% left over from a crash or a kill while on
    [wipe(F) || F <- filelib:wildcard(binary_to_list(filename:join(log_dir(), <<"xmppadm-debug*.log">>)))],
    {ok, #state{}}.

handle_call({on, Host, Duration}, _From, #state{hosts = Hosts} = State) ->
    Previous = maps:is_key(Host, Hosts),
    Started = case Previous of
		  true -> {ok, State#state{hosts = Hosts#{Host := cancel_timer(maps:get(Host, Hosts))}}};
		  false -> start_logging(Host, State)
	      end,
    case Started of
	{ok, #state{hosts = Hosts1} = State1} ->
	    Entry = case Duration of
			undefined -> #{expires => undefined, timer => undefined};
			N -> #{expires => erlang:system_time(second) + N,
			       timer => erlang:start_timer(N * 1000, self(), {expire, Host})}
		    end,
	    {reply, {ok, Previous, maps:get(expires, Entry)}, State1#state{hosts = Hosts1#{Host => Entry}}};
	{error, Text, State1} ->
	    {reply, {error, Text}, State1}
    end;
handle_call({off, Host}, _From, #state{hosts = Hosts} = State) ->
    {reply, maps:is_key(Host, Hosts), stop_logging(Host, State)};
handle_call({status, Host}, _From, #state{hosts = Hosts} = State) ->
    Reply = case Hosts of
		#{Host := #{expires := Expires}} -> {true, Expires};
		_ -> {false, undefined}
	    end,
    {reply, Reply, State};
handle_call(_Request, _From, State) ->
    {reply, {error, badarg}, State}.

handle_cast(_Msg, State) ->
    {noreply, State}.

handle_info({timeout, Timer, {expire, Host}}, #state{hosts = Hosts} = State) ->
    case Hosts of
	#{Host := #{timer := Timer}} ->
	    ?INFO_MSG("mod_xmppadm: the debug logging period of ~ts is over", [Host]),
	    {noreply, stop_logging(Host, State)};
	_ -> {noreply, State}
    end;
handle_info(_Info, State) ->
    {noreply, State}.

terminate(_Reason, #state{hosts = Hosts} = State) ->
    lists:foldl(fun stop_logging/2, State, maps:keys(Hosts)),
    ok.

code_change(_OldVsn, State, _Extra) ->
    {ok, State}.

%%%===================================================================
handler(Host) -> binary_to_atom(<<"xmppadm_debug_", Host/binary>>, utf8).

is_ours(Id) -> lists:prefix("xmppadm_debug", atom_to_list(Id)).

%% The first host to go on lowers the primary level (and raises the others).
lower_levels(#state{hosts = Hosts} = State) when map_size(Hosts) > 0 -> State;
lower_levels(State) ->
    #{level := Primary} = logger:get_primary_config(),
    Saved = [{Id, L} || #{id := Id, level := L} <- logger:get_handler_config(), not is_ours(Id)],
    lists:foreach(
      fun({Id, L}) ->
	      case logger:compare_levels(L, Primary) of
		  lt -> logger:set_handler_config(Id, level, Primary);
		  _ -> ok
	      end
      end, Saved),
    logger:set_primary_config(level, all),
    State#state{saved = Saved, primary = Primary}.

start_logging(Host, State) ->
    File = file(Host),
    wipe(File),
    %% made here, mode 0600, before the handler opens it for appending
    _ = file:write_file(File, <<>>),
    _ = file:change_mode(File, 8#600),
    Template = [time, " [", level, "] ", pid,
		{mfa, ["@", mfa, {line, [":", line], []}], []}, " ", msg, "\n"],
    Config = #{level => all,
	       filters => [{xmppadm_host, {fun ?MODULE:host_filter/2, Host}}],
	       filter_default => stop,
	       config => #{file => binary_to_list(File),
			   modes => [{delayed_write, 4096, 100}],
			   filesync_repeat_interval => no_repeat},
	       formatter => {logger_formatter, #{template => Template, single_line => false,
						 legacy_header => false, time_designator => $\s}}},
    State1 = lower_levels(State),
    case logger:add_handler(handler(Host), logger_std_h, Config) of
	ok ->
	    ?INFO_MSG("mod_xmppadm: debug logging of ~ts to ~ts started", [Host, File]),
	    {ok, State1};
	{error, Reason} ->
	    ?ERROR_MSG("mod_xmppadm: could not log ~ts to ~ts: ~p", [Host, File, Reason]),
	    wipe(File),
	    {error, <<"Could not add a logger handler for ", File/binary>>, restore_levels(State1)}
    end.

stop_logging(Host, #state{hosts = Hosts} = State) ->
    case maps:take(Host, Hosts) of
	error -> State;
	{Entry, Hosts1} ->
	    cancel_timer(Entry),
	    logger:remove_handler(handler(Host)),
	    wipe(file(Host)),
	    ?INFO_MSG("mod_xmppadm: debug logging of ~ts stopped, file removed", [Host]),
	    restore_levels(State#state{hosts = Hosts1})
    end.

%% Back to the levels before the first "on" once no host is on, unless someone
%% changed the primary level meanwhile.
restore_levels(#state{hosts = Hosts} = State) when map_size(Hosts) > 0 -> State;
restore_levels(#state{saved = Saved, primary = Primary} = State) ->
    case logger:get_primary_config() of
	#{level := all} when Primary /= undefined -> logger:set_primary_config(level, Primary);
	_ -> ok
    end,
    [logger:set_handler_config(Id, level, L) || {Id, L} <- Saved,
						lists:member(Id, logger:get_handler_ids())],
    State#state{saved = [], primary = undefined}.

cancel_timer(#{timer := undefined} = Entry) -> Entry;
cancel_timer(#{timer := T} = Entry) ->
    erlang:cancel_timer(T),
    Entry#{timer := undefined, expires := undefined}.

%% Truncate first: the data is gone even if the removal fails.
wipe(File) ->
    _ = file:write_file(File, <<>>, [write]),
    _ = file:delete(File),
    ok.
