%% The Erlang/OTP peer of bench/supervisor.bench.ts: the same cases on OTP's own supervisor.
%%
%% bench/supervisor.bench.ts compiles this module with erlc into a temporary directory and runs
%%   erl -noshell -pa DIR -eval 'sup_bench:main([Task, ...]).' -s init stop
%% Each task prints one line "OTP {json}" on stdout; a failed task prints
%% "OTP {"type":"error",...}". Tasks:
%%   {warmup, Crashes}
%%       crash+restart cycles on a throw-away supervisor (no output but a "warmup" line).
%%   {restart, N, Rounds, Batches, BatchSize, Prefill, Crash}
%%       Rounds times: a fresh one_for_one supervisor (intensity 10,000,000, period 3,600 s =
%%       3,600,000 ms) with one permanent gen_server child; pre-fill its restart window with N
%%       restarts, then time Batches batches of BatchSize crash+restart cycles. Prefill is `real`
%%       (N crashes) or `inject` (N restart timestamps written into the supervisor's state, see
%%       prefill/4). Crash is `cast` (the child raises in handle_cast: an error exit, as the
%%       overseer child throws in an action) or `kill` (exit(Pid, kill)). One cycle ends when the
%%       new child's init has sent {started, Pid} to this process.
%%   {dynamic, N}
%%       a simple_one_for_one supervisor; N sequential supervisor:start_child/2 calls of idle
%%       temporary gen_servers; reports ns per child, memory per child, and the time to stop it.
%%
%% The supervisor callback module and the gen_server callback module are both this module:
%% init/1 tells them apart by its argument (the gen_server behaviour attribute is left out only
%% because two behaviours that both require init/1 make erlc warn).
-module(sup_bench).
-behaviour(supervisor).

-export([main/1]).
-export([init/1]).                                       % supervisor and gen_server
-export([start_worker/1, start_idle/0]).                 % child start functions
-export([handle_call/3, handle_cast/2, handle_info/2, terminate/2, code_change/3]).  % gen_server

-define(INTENSITY, 10000000).
-define(PERIOD_S, 3600).                                 % OTP's period is in seconds
%% Field positions in OTP 25's #state{} record of supervisor.erl (checked at run time by restarts/1).
-define(STATE_SIZE, 12).
-define(INTENSITY_POS, 6).
-define(PERIOD_POS, 7).
-define(RESTARTS_POS, 8).

%%% ------------------------------------------------------------------ entry

main(Tasks) ->
    %% OTP would log a crash report and a supervisor report per crash; the overseer side emits
    %% telemetry to no subscriber. Both sides pay only the "is anyone listening" check.
    ok = logger:set_primary_config(level, none),
    lists:foreach(fun run_task/1, Tasks).

run_task(Task) ->
    try
        run(Task)
    catch
        Class:Reason:Stack ->
            emit(#{type => error, task => fmt("~p", [Task]),
                   reason => fmt("~p:~p ~p", [Class, Reason, lists:sublist(Stack, 5)])})
    end.

run({warmup, Crashes}) ->
    {Sup, Pid} = start_static(),
    _ = crash_n(Pid, Crashes, cast),
    stop_sup(Sup),
    emit(#{type => warmup, crashes => Crashes});
run({restart, N, Rounds, Batches, Size, Prefill, Crash}) ->
    Rounds1 = [restart_round(N, Batches, Size, Prefill, Crash) || _ <- lists:seq(1, Rounds)],
    Samples = lists:append([S || {S, _} <- Rounds1]),
    Windows = [W || {_, W} <- Rounds1],
    emit(#{type => restart, n => N, prefill => Prefill, crash => Crash, batch => Size,
           rounds => Rounds, samples => Samples, window_after => lists:max(Windows)});
run({dynamic, N}) ->
    {ok, Sup} = supervisor:start_link(?MODULE, dynamic),
    unlink(Sup),
    Before = memory_after_gc(Sup),
    T0 = erlang:monotonic_time(nanosecond),
    ok = start_children(Sup, N),
    T1 = erlang:monotonic_time(nanosecond),
    After = memory_after_gc(Sup),
    Active = proplists:get_value(active, supervisor:count_children(Sup)),
    Active =:= N orelse error({active, Active, expected, N}),
    SupMemory = element(2, erlang:process_info(Sup, memory)),
    T2 = erlang:monotonic_time(nanosecond),
    stop_sup(Sup),
    T3 = erlang:monotonic_time(nanosecond),
    {TotalBefore, ProcsBefore} = Before,
    {TotalAfter, ProcsAfter} = After,
    emit(#{type => dynamic, n => N,
           ns_per_child => (T1 - T0) / N,
           bytes_per_child => (TotalAfter - TotalBefore) / N,
           process_bytes_per_child => (ProcsAfter - ProcsBefore) / N,
           supervisor_bytes => SupMemory,
           stop_ms => (T3 - T2) / 1.0e6}).

%%% ------------------------------------------------------------------ restart case

restart_round(N, Batches, Size, Prefill, Crash) ->
    {Sup, Pid0} = start_static(),
    Pid1 = prefill(Prefill, Sup, Pid0, N),
    {Pid2, Samples} = measure(Pid1, Batches, Size, Crash, []),
    Window = length(restarts(Sup)),
    Expected = N + Batches * Size,
    Window =:= Expected orelse error({restart_window, Window, expected, Expected}),
    true = is_process_alive(Pid2),
    stop_sup(Sup),
    {Samples, Window}.

%% N restarts in the window before measuring.
prefill(real, _Sup, Pid, N) ->
    crash_n(Pid, N, cast);
prefill(inject, Sup, Pid, N) when N > 3 ->
    %% OTP's supervisor copies and counts its whole restart list on every restart
    %% (lists:takewhile/2 then length/1 in add_restart/1), so a restart costs O(restarts in the
    %% window) and N real restarts O(N^2): too slow to pre-fill 100,000. Do 3 real restarts (to
    %% find and check the field), then write the other N - 3 timestamps (monotonic seconds,
    %% newest first, as add_restart/3 keeps them) straight into the supervisor's state: the state
    %% is then what N real restarts within the same second would have left.
    Pid1 = crash_n(Pid, 3, cast),
    3 = length(restarts(Sup)),
    Now = erlang:monotonic_time(1),
    _ = sys:replace_state(Sup, fun(State) ->
        setelement(?RESTARTS_POS, State, lists:duplicate(N - 3, Now) ++ element(?RESTARTS_POS, State))
    end),
    N = length(restarts(Sup)),
    Pid1.

%% The restart timestamps held by supervisor Sup, after checking the record layout.
restarts(Sup) ->
    State = sys:get_state(Sup),
    (is_tuple(State) andalso tuple_size(State) =:= ?STATE_SIZE andalso element(1, State) =:= state
     andalso element(?INTENSITY_POS, State) =:= ?INTENSITY andalso element(?PERIOD_POS, State) =:= ?PERIOD_S)
        orelse error({unexpected_supervisor_state_layout, erlang:system_info(otp_release)}),
    Restarts = element(?RESTARTS_POS, State),
    true = is_list(Restarts),
    Restarts.

measure(Pid, 0, _Size, _Crash, Acc) ->
    {Pid, lists:reverse(Acc)};
measure(Pid, Batches, Size, Crash, Acc) ->
    T0 = erlang:monotonic_time(nanosecond),
    Pid1 = crash_n(Pid, Size, Crash),
    T1 = erlang:monotonic_time(nanosecond),
    measure(Pid1, Batches - 1, Size, Crash, [(T1 - T0) / Size | Acc]).

%% K crash+restart cycles; returns the pid of the child now running.
crash_n(Pid, 0, _Crash) ->
    Pid;
crash_n(Pid, K, Crash) ->
    crash(Pid, Crash),
    receive
        {started, New} when New =/= Pid -> crash_n(New, K - 1, Crash)
    after 10000 ->
        error({no_restart_within_10s, K})
    end.

crash(Pid, cast) -> gen_server:cast(Pid, crash);
crash(Pid, kill) -> exit(Pid, kill).

start_static() ->
    {ok, Sup} = supervisor:start_link(?MODULE, {static, self()}),
    unlink(Sup),
    receive
        {started, Pid} -> {Sup, Pid}
    after 5000 ->
        error(child_did_not_start)
    end.

%%% ------------------------------------------------------------------ dynamic case

start_children(_Sup, 0) ->
    ok;
start_children(Sup, K) ->
    {ok, _} = supervisor:start_child(Sup, []),
    start_children(Sup, K - 1).

memory_after_gc(Sup) ->
    erlang:garbage_collect(Sup),
    erlang:garbage_collect(),
    {erlang:memory(total), erlang:memory(processes)}.

%%% ------------------------------------------------------------------ helpers

stop_sup(Sup) ->
    Ref = monitor(process, Sup),
    exit(Sup, shutdown),
    receive
        {'DOWN', Ref, process, Sup, _} -> ok
    after 120000 ->
        error(supervisor_did_not_stop)
    end,
    flush().

flush() ->
    receive _ -> flush() after 0 -> ok end.

fmt(Format, Args) ->
    unicode:characters_to_binary(io_lib:format(Format, Args)).

emit(Map) ->
    io:format("OTP ~ts~n", [json(Map)]).

json(Map) when is_map(Map) ->
    Fields = [[json(key(K)), $:, json(V)] || {K, V} <- lists:sort(maps:to_list(Map))],
    [${, lists:join($,, Fields), $}];
json(List) when is_list(List) ->
    [$[, lists:join($,, [json(V) || V <- List]), $]];
json(true) -> "true";
json(false) -> "false";
json(Atom) when is_atom(Atom) -> json(atom_to_binary(Atom, utf8));
json(Int) when is_integer(Int) -> integer_to_list(Int);
json(Float) when is_float(Float) -> float_to_list(Float, [{decimals, 3}, compact]);
json(Bin) when is_binary(Bin) -> [$", escape(Bin), $"].

key(K) when is_atom(K) -> atom_to_binary(K, utf8);
key(K) -> K.

escape(Bin) ->
    << <<(escape_char(C))/binary>> || <<C/utf8>> <= Bin >>.

escape_char($") -> <<"\\\"">>;
escape_char($\\) -> <<"\\\\">>;
escape_char(C) when C < 16#20 -> list_to_binary(io_lib:format("\\u~4.16.0b", [C]));
escape_char(C) -> <<C/utf8>>.

%%% ------------------------------------------------------------------ supervisor and gen_server callbacks

init({static, Bench}) ->
    Flags = #{strategy => one_for_one, intensity => ?INTENSITY, period => ?PERIOD_S},
    Child = #{id => worker, start => {?MODULE, start_worker, [Bench]},
              restart => permanent, shutdown => brutal_kill, type => worker},
    {ok, {Flags, [Child]}};
init(dynamic) ->
    %% Mirrors overseer's dynamic supervisor defaults (intensity 1, period 5000 ms) and the
    %% overseer children: temporary, default worker shutdown (5000 ms).
    Flags = #{strategy => simple_one_for_one, intensity => 1, period => 5},
    Child = #{id => idle, start => {?MODULE, start_idle, []},
              restart => temporary, shutdown => 5000, type => worker},
    {ok, {Flags, [Child]}};
init({worker, Bench}) ->
    Bench ! {started, self()},
    {ok, Bench};
init(idle) ->
    {ok, idle}.

start_worker(Bench) ->
    gen_server:start_link(?MODULE, {worker, Bench}, []).

start_idle() ->
    gen_server:start_link(?MODULE, idle, []).

handle_call(_Request, _From, State) ->
    {reply, ok, State}.

handle_cast(crash, _State) ->
    erlang:error(crash);
handle_cast(_Message, State) ->
    {noreply, State}.

handle_info(_Message, State) ->
    {noreply, State}.

terminate(_Reason, _State) ->
    ok.

code_change(_OldVsn, State, _Extra) ->
    {ok, State}.
