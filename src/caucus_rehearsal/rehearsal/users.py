"""The Locust side of a rehearsal: user classes and the event listeners that wire them.

``locustfile.py`` imports :class:`ChairUser` and :class:`AdversaryUser` from here;
importing this module registers the listeners:

- ``init_command_line_parser``: the custom arguments (``options``);
- ``init`` (master or local): fixed user counts from the scenario, the hotline pool
  keeper, the chairs-done tally, the run directory's writer (:mod:`.recorder`), and the
  scenario file's text for the workers; (worker or local): the hotline phone;
- ``test_start`` (master or local): the night (:mod:`.nights`: its run directory,
  ``--t0``; a restart from the web UI is a fresh night or refused), optional
  provisioning, the run directory's starting files; (worker or local): the process's
  shard, its event shipper (:mod:`.shipper`) and its share of the public's reads
  (:mod:`.public`);
- ``report_to_master`` (worker): its reads since the last report;
- ``test_stopping`` / ``test_stop`` (master or local): every process's last records,
  then the run directory's end; ``quitting``: that end written before the process exits;
- each process stops its part when its chairs are done; the master (or local runner)
  quits when every process's chairs are done (in the web UI: stops, ready for a restart);
- a process that cannot set up its part or write its records stops itself with one
  line (:mod:`.failures`).
"""

from __future__ import annotations

import gc
import sys
import time
from typing import Any

import gevent
from gevent import GreenletExit
from gevent.pool import Group
from locust import FastHttpUser, constant, events, task
from locust.exception import StopUser
from locust.runners import MasterRunner, WorkerRunner

from caucus_rehearsal.errors import RehearsalError
from caucus_rehearsal.rehearsal import failures, nights, options
from caucus_rehearsal.rehearsal.boundary import guarded
from caucus_rehearsal.rehearsal.chair import run_chair, start_moment
from caucus_rehearsal.rehearsal.clock import SimClock
from caucus_rehearsal.rehearsal.context import RunContext, run_scenario
from caucus_rehearsal.rehearsal.hotline_link import HotlinePhone, PoolKeeper
from caucus_rehearsal.rehearsal.night import build_night
from caucus_rehearsal.rehearsal.photo import make_photos
from caucus_rehearsal.rehearsal.process_state import state_of
from caucus_rehearsal.rehearsal.public import PublicDemand
from caucus_rehearsal.rehearsal.recorder import RunRecorder
from caucus_rehearsal.rehearsal.shipper import EventShipper
from caucus_rehearsal.simulator.loader import load_scenario, resolve
from caucus_rehearsal.simulator.roster import build_roster
from caucus_rehearsal.simulator.scenario import Scenario, check_speed


def context(environment: Any) -> RunContext:
    """This process's :class:`RunContext` for the current night, built on first use.

    When it cannot be built (the adapter does not load here, the scenario the master
    shipped does not load) the process stops itself with one line (:mod:`.failures`)
    and every user that asks ends quietly (``GreenletExit``: Locust logs a traceback
    for a ``StopUser`` raised in ``on_start``), never a retry loop.
    """
    st = state_of(environment)
    opts = environment.parsed_options
    if opts.night == 0 or environment.process_exit_code is not None:
        raise GreenletExit()  # a refused restart (nights.py), or stopping (failures.fail)
    ctx = st.ctx
    if ctx is not None and st.ctx_night != opts.night:
        # A restart from the web UI: a fresh night (nights.py); the last one's reads end.
        if st.demand is not None:
            st.demand.stop()
        ctx = st.ctx = st.demand = None
    if ctx is None:
        runner = environment.runner
        if isinstance(runner, WorkerRunner):
            worker, workers = runner.worker_index, max(1, int(opts.expect_workers or 1))
        else:
            worker, workers = 0, 1
        if st.shipper is None:
            st.shipper = EventShipper(environment, worker)
        st.shipper.begin(opts.night)
        try:
            ctx = RunContext(opts, environment.host or "", worker, workers, st.shipper)
        except (RehearsalError, OSError, ValueError) as exc:
            failures.fail(environment, exc)
            raise GreenletExit() from None
        st.ctx, st.ctx_night = ctx, opts.night
        gevent.spawn(_watch, environment, ctx, st.shipper, opts.night)
    return ctx


def _watch(environment: Any, ctx: RunContext, shipper: EventShipper, night: int) -> None:
    """Keep the live counters fresh; once this process's chairs are all done, send
    their records and then say so (until a restart replaces ``ctx``)."""
    reported = False
    while state_of(environment).ctx is ctx:
        shipper.set_counters(ctx.counters())
        if not reported and ctx.all_chairs_done and time.time() > ctx.clock.t0_wall:
            reported = True
            shipper.flush()  # the same channel, in order: the records before the news
            environment.runner.send_message("chairs_done",
                                            {"worker": ctx.worker, "night": night})
        gevent.sleep(0.5)


@events.init_command_line_parser.add_listener  # type: ignore[untyped-decorator]
def _on_parser(parser: Any) -> None:
    options.add_arguments(parser)


@events.init.add_listener  # type: ignore[untyped-decorator]
def _on_init(environment: Any, **_: Any) -> None:
    runner = environment.runner
    opts = environment.parsed_options
    if runner is None or opts is None:
        return
    if not isinstance(runner, WorkerRunner):
        try:
            scenario = load_scenario(opts.scenario, list(opts.scenario_set or []))
            if opts.speed:
                check_speed(opts.speed)
            nights.check_options(environment)
        except RehearsalError as exc:
            # Plain `locust` gets the same one-line error as `rehearse`, not a traceback.
            print(f"locust: error: {exc}", file=sys.stderr)
            sys.exit(exc.exit_code)
        _setup_night(environment, scenario)
        st = state_of(environment)
        runner.register_message("chairs_done", _on_chairs_done)
        if isinstance(runner, MasterRunner):
            runner.register_message(failures.FAILURE_MESSAGE, failures.on_worker_failure)
        st.recorder = RunRecorder(environment)
        st.recorder.keeper = st.keeper
        _ship_scenario(opts)
    if not isinstance(runner, MasterRunner):
        state_of(environment).phone = HotlinePhone(environment)
    if isinstance(runner, WorkerRunner):
        environment.events.report_to_master.add_listener(
            lambda client_id, data, **_: _report_reads(environment, data))


def _setup_night(environment: Any, scenario: Scenario) -> None:
    """Master or local: the fixed user counts and an empty hotline pool for a night."""
    opts = environment.parsed_options
    ChairUser.fixed_count = _unit_count(scenario)
    AdversaryUser.fixed_count = 1 if _has_adversaries(scenario) else 0
    needed = ChairUser.fixed_count + AdversaryUser.fixed_count
    if ChairUser in (environment.user_classes or []) and (
            not opts.num_users or opts.num_users < needed):
        opts.num_users = needed
    if ChairUser in (environment.user_classes or []):
        # Every chair slot must exist before the night starts (t0 is seconds away).
        opts.spawn_rate = max(float(opts.spawn_rate or 0), float(needed))
    st = state_of(environment)
    parties = [u.unit_id for u in build_roster(scenario).units] \
        if ChairUser in (environment.user_classes or []) else []
    if AdversaryUser in (environment.user_classes or []) and _has_nuisance(scenario):
        parties.append(NUISANCE_PARTY)
    h = scenario.hotline
    if st.keeper is None:
        st.keeper = PoolKeeper(environment, h.lines, h.operators, parties,
                               lambda: _clock(opts, scenario),
                               scenario.live.request_timeout * 60, h.hold_capacity)
    else:
        st.keeper.reset(h.lines, h.operators, parties, lambda: _clock(opts, scenario),
                        h.hold_capacity)
    st.done_workers.clear()


def _ship_scenario(opts: Any) -> None:
    """Put the scenario file's text in the options Locust ships to the workers, so a
    worker needs no file of the master's (``context.run_scenario``)."""
    opts.scenario_text = resolve(opts.scenario).read_text(encoding="utf-8")


def _clock(opts: Any, scenario: Scenario) -> SimClock | None:
    """The run's clock once the night's start (``--t0``) is known."""
    t0 = float(opts.t0 or 0.0)
    return SimClock(t0, float(opts.speed or scenario.live.speed), scenario.live.start) \
        if t0 > 0 else None


def _unit_count(scenario: Scenario) -> int:
    return len(build_roster(scenario).units)


def _has_nuisance(scenario: Scenario) -> bool:
    a = scenario.adversaries
    return a.nuisance_rate_per_min > 0 and a.nuisance_start is not None


def _has_adversaries(scenario: Any) -> bool:
    a = scenario.adversaries
    return bool(a.nuisance_rate_per_min or a.bad_login_rate_per_min or a.brute_force_attackers
                or a.replay_rate_per_min or a.cross_precinct_rate_per_min
                or a.malformed_rate_per_min)


def _on_chairs_done(environment: Any, msg: Any) -> None:
    st = state_of(environment)
    if msg.data.get("night") != st.starts:
        return  # late news of an earlier night
    st.done_workers.add(int(msg.data["worker"]))
    runner = environment.runner
    workers = runner.worker_count if isinstance(runner, MasterRunner) else 1
    if len(st.done_workers) >= workers:
        # Headless: the run is over. The web UI stays up (and the workers with it) for a
        # restart, which plays a fresh night (nights.py).
        gevent.spawn_later(0.2, runner.quit if environment.parsed_options.headless
                           else runner.stop)


@events.test_start.add_listener  # type: ignore[untyped-decorator]
def _on_test_start(environment: Any, **_: Any) -> None:
    opts = environment.parsed_options
    if isinstance(environment.runner, WorkerRunner) or opts is None:
        return
    try:  # the web UI may have changed the scenario since the last start
        _ship_scenario(opts)
        scenario = run_scenario(opts)
    except (RehearsalError, OSError) as exc:
        failures.fail(environment, exc)
        return
    if not nights.begin(environment, scenario.name, _unit_count(scenario)):
        return
    restart = state_of(environment).starts > 1
    if restart:
        _setup_night(environment, scenario)
    if opts.provision:
        from caucus_rehearsal.rehearsal.provision import provision_target

        try:
            provision_target(opts, environment.host or "", reset=restart)
        except RehearsalError as exc:
            failures.fail(environment, exc)
            return
    runner = environment.runner
    workers = max(1, int(opts.expect_workers or 1)) if isinstance(runner, MasterRunner) else 1
    recorder = state_of(environment).recorder
    if recorder is not None:
        clock = _clock(opts, scenario) or SimClock(
            float(opts.t0), float(opts.speed or scenario.live.speed), scenario.live.start)
        try:
            recorder.begin(build_night(scenario), clock, workers)
        except (RehearsalError, OSError) as exc:
            failures.fail(environment, exc)


@events.test_start.add_listener  # type: ignore[untyped-decorator]
def _build_shard(environment: Any, **_: Any) -> None:
    """Workers and the local process build their night before any user spawns."""
    if isinstance(environment.runner, MasterRunner) or environment.parsed_options is None:
        return
    try:
        ctx = context(environment)
    except GreenletExit:
        return  # the process is stopping itself (failures.fail said why)
    # The hotline pool decides nothing until it knows when each unit may first call.
    state_of(environment).hotline_phone().bounds(
        (plan.unit_id, start_moment(ctx, plan)) for plan in ctx.owned)
    if ctx.scenario.app.photo:
        make_photos(plan.unit_id for plan in ctx.owned)
    timeout_s = ctx.scenario.live.request_timeout * 60
    for cls in (ChairUser, AdversaryUser):
        cls.network_timeout = cls.connection_timeout = timeout_s
    st = state_of(environment)
    demand = st.demand = PublicDemand(environment, ctx)
    shipper = st.shipper
    if shipper is not None:
        shipper.reads = demand.stats
        shipper.on_flush.append(demand.stop)
        if st.recorder is not None:  # a single process: the recorder takes its reads
            st.recorder.local_reads = shipper.take_reads
    demand.start()
    _freeze_heap()


def _report_reads(environment: Any, data: dict[str, Any]) -> None:
    """A worker's reads since its last report go to the master with its statistics."""
    shipper = state_of(environment).shipper
    if shipper is not None:
        data["reads"], data["night"] = shipper.take_reads(), shipper.night


@events.test_stopping.add_listener  # type: ignore[untyped-decorator]
def _on_stopping(environment: Any, **_: Any) -> None:
    """The master (or local process) collects every process's last records; a worker
    stopping on its own sends what it holds."""
    st = state_of(environment)
    if st.recorder is not None:
        st.recorder.drain()
    elif st.shipper is not None:
        if st.demand is not None:
            st.demand.stop()
        st.shipper.flush()


@events.test_stop.add_listener  # type: ignore[untyped-decorator]
def _on_stop(environment: Any, **_: Any) -> None:
    recorder = state_of(environment).recorder
    if recorder is not None:
        recorder.finish()


@events.quitting.add_listener  # type: ignore[untyped-decorator]
def _on_quitting(environment: Any, **_: Any) -> None:
    """Locust quits (SIGTERM, the end of ``--run-time``): the run's end is written first,
    also when the stop was already under way (Locust then skips ``test_stop``)."""
    recorder = state_of(environment).recorder
    if recorder is not None:
        recorder.close()


@events.spawning_complete.add_listener  # type: ignore[untyped-decorator]
def _on_spawned(**_: Any) -> None:
    _freeze_heap()


def _freeze_heap() -> None:
    """Move everything built so far (the night, the users) out of the collector's sight.

    A full collection over the 1,765-unit night and its users stalls the event loop for
    a few hundred ms (measured: a 270 ms send-lag spike at iowa-2020 speed 60); frozen
    objects are never traversed again, so later collections stay short.
    """
    gc.collect()
    gc.freeze()


class ChairUser(FastHttpUser):
    """A slot for precinct chairs: normally exactly one unit's chair.

    Each slot claims one unit of its process's shard; after the night's start it also
    takes any unit no slot claimed (when Locust gave this process fewer slots than it
    owns units), so every owned unit plays exactly once.
    """

    fixed_count = 0
    wait_time = constant(0)
    network_timeout = 10.0
    connection_timeout = 10.0

    @task
    def night(self) -> None:
        ctx = context(self.environment)
        phone = state_of(self.environment).hotline_phone()
        group = Group()
        plan = ctx.claim()
        if plan is not None:
            group.spawn(guarded, ctx.log, plan.unit_id, "chair", "app", run_chair,
                        self.client, ctx, phone, plan)
        gevent.sleep(max(0.0, ctx.clock.t0_wall - time.time()))
        while (plan := ctx.claim()) is not None:
            group.spawn(guarded, ctx.log, plan.unit_id, "chair", "app", run_chair,
                        self.client, ctx, phone, plan)
        group.join()
        raise StopUser()


from caucus_rehearsal.rehearsal.adversaries import (  # noqa: E402
    NUISANCE_PARTY,
    AdversaryUser,
)

__all__ = ["AdversaryUser", "ChairUser", "context"]
