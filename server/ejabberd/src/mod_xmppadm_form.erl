%%%----------------------------------------------------------------------
%%% mod_xmppadm_form: the data forms of the xmppadm node contract
%%% (server/CONTRACT.md): input and result forms, reading a submitted form,
%%% and the errors a command throws (turned into IQ errors by mod_xmppadm).
%%%----------------------------------------------------------------------
-module(mod_xmppadm_form).

-export([field/3, field/4, input_form/2, result/2, result_values/1,
	 read/2, require/2, text/2, lines/2, seconds/3, required_seconds/2, boolean/2,
	 fail/3, bad_request/2, internal/2, iso8601/1, sorted_errors/1]).

-include_lib("xmpp/include/xmpp.hrl").

-define(NS, <<"urn:xmppadm:admin:1">>).
%% ~317 years: larger "durations" are surely mistakes
-define(MAX_SECONDS, 10000000000).

%% A field of an input or result form: {Var, Type, Label, Extra}
%% Extra: required | {options, [binary()]} | {value, binary()}.
field(Var, Type, Label) -> field(Var, Type, Label, []).
field(Var, Type, Label, Extra) -> {Var, Type, Label, Extra}.

form_type() ->
    #xdata_field{var = <<"FORM_TYPE">>, type = hidden, values = [?NS]}.

-spec input_form(binary(), list()) -> xdata().
input_form(Title, Fields) ->
    #xdata{type = form, title = Title,
	   fields = [form_type() | [input_field(F) || F <- Fields]]}.

input_field({Var, Type, Label, Extra}) ->
    #xdata_field{var = Var, type = Type, label = Label,
		 required = lists:member(required, Extra),
		 values = [V || {value, V} <- Extra],
		 options = [#xdata_option{value = O}
			    || {options, Os} <- Extra, O <- Os]}.

%% A result form: [{Var, Type, Label, Value}], Value: binary | [binary] | boolean.
-spec result(binary(), list()) -> xdata().
result(Title, Values) ->
    #xdata{type = result, title = Title,
	   fields = [form_type() | [result_field(V) || V <- Values]]}.

result_field({Var, Type, Label, Value}) ->
    #xdata_field{var = Var, type = Type, label = Label, values = values(Value)}.

values(true) -> [<<"1">>];
values(false) -> [<<"0">>];
values(undefined) -> [];
values([]) -> [];
values([B | _] = L) when is_binary(B) -> L;
values(I) when is_integer(I) -> [integer_to_binary(I)];
values(B) when is_binary(B) -> [B].

%% Only the values of a result form (for the API commands).
result_values(#xdata{fields = Fs}) ->
    [{Var, Vs} || #xdata_field{var = Var, values = Vs} <- Fs, Var /= <<"FORM_TYPE">>].

%% The submitted values as a map var -> [value], after the contract's checks
%% on the form itself (its type and FORM_TYPE).
-spec read(undefined | xdata(), list()) -> #{binary() => [binary()]}.
read(undefined, _Fields) -> #{};
read(#xdata{type = Type}, _) when Type /= submit ->
    bad_request("the data form must be of type 'submit', not '~ts'", [Type]);
read(#xdata{fields = Fs}, _Fields) ->
    Map = lists:foldl(
	    fun(#xdata_field{var = <<>>}, M) -> M;
	       (#xdata_field{var = Var, values = Vs}, M) -> M#{Var => Vs}
	    end, #{}, Fs),
    case maps:get(<<"FORM_TYPE">>, Map, []) of
	[] -> Map;
	[<<>>] -> Map;
	[?NS] -> Map;
	[Other | _] -> bad_request("FORM_TYPE must be ~ts, not ~ts", [?NS, Other])
    end.

%% Required fields without a value: "var: Required value missing", all at once.
require(Map, Vars) ->
    sorted_errors([<<Var/binary, ": Required value missing">>
		   || Var <- Vars,
		      [V || V <- maps:get(Var, Map, []), string:trim(V) /= <<>>] == []]).

%% text-single: the value, or undefined when absent or empty.
text(Map, Var) ->
    case maps:get(Var, Map, []) of
	[] -> undefined;
	[<<>> | _] -> undefined;
	[V | _] -> V
    end.

%% text-multi: trimmed values, empty ones dropped.
lines(Map, Var) ->
    Split = lists:flatmap(fun(V) -> binary:split(V, [<<"\n">>, <<"\r">>], [global]) end,
			  maps:get(Var, Map, [])),
    [T || V <- Split, (T = string:trim(V)) /= <<>>].

%% An integer number of seconds >= Min, or undefined when absent or empty.
seconds(Map, Var, Min) ->
    case text(Map, Var) of
	undefined -> undefined;
	V ->
	    case re:run(V, <<"^\\s*[0-9]+\\s*$">>) of
		{match, _} ->
		    N = binary_to_integer(string:trim(V)),
		    if N < Min; N > ?MAX_SECONDS -> bad_seconds(Var, Min, V);
		       true -> N
		    end;
		nomatch -> bad_seconds(Var, Min, V)
	    end
    end.

bad_seconds(Var, Min, V) ->
    bad_request("~ts: must be an integer number of seconds >= ~B, got '~ts'", [Var, Min, V]).

required_seconds(Map, Var) ->
    case seconds(Map, Var, 1) of
	undefined -> bad_request("~ts: Required value missing", [Var]);
	N -> N
    end.

boolean(Map, Var) ->
    case text(Map, Var) of
	undefined -> false;
	<<"1">> -> true;
	<<"true">> -> true;
	<<"0">> -> false;
	<<"false">> -> false;
	V -> bad_request("~ts: not a boolean: '~ts'", [Var, V])
    end.

%% Several field errors at once: "a: ...; b: ...", sorted by text.
sorted_errors([]) -> ok;
sorted_errors(Errors) ->
    fail(bad_request, "~ts", [lists:join(<<"; ">>, lists:sort(Errors))]).

%% Commands throw; mod_xmppadm turns the throw into an IQ error.
fail(Condition, Fmt, Args) ->
    throw({xmppadm_error, Condition, iolist_to_binary(io_lib:format(Fmt, Args))}).

bad_request(Fmt, Args) -> fail(bad_request, Fmt, Args).
internal(Fmt, Args) -> fail(internal, Fmt, Args).

%% ISO 8601 UTC without fractions, or <<>> for none.
iso8601(undefined) -> <<>>;
iso8601(Secs) when is_integer(Secs) ->
    {{Y, Mo, D}, {H, Mi, S}} = calendar:system_time_to_universal_time(Secs, second),
    iolist_to_binary(io_lib:format("~4..0B-~2..0B-~2..0BT~2..0B:~2..0B:~2..0BZ",
				   [Y, Mo, D, H, Mi, S])).
