"""A fast subset of the fault matrix (`make chaos` runs all of it, see chaos.py): one fault at
each of the boundaries where a crash once left a cluster stuck or a client erring. Each case
must end with the cluster available in the layout asked for, `redis-cli --cluster check`
clean, every acknowledged write readable, and nothing of removed nodes left."""
import os

import pytest

from chaos import KINDS, Boundary, run_case

CASES = [
    # The target dies with the source holding its clients for the hand-over: the source gives
    # the slots to it (it holds every key) and it claims them when it is back.
    ("reshard-up", Boundary("handover.copying"), "kill-target"),
    # The source dies after the target claimed: the target has every key; the restarted
    # source's stale claim loses to the target's epoch, and nothing stray stays behind.
    ("reshard-up", Boundary("handover.claimed"), "kill-source"),
    # serve dies while the source waits for the target's decision: the source calls it off.
    ("reshard-up", Boundary("handover.copying"), "kill-serve"),
    # The target hangs mid-hand-over: killed as hung, restarted, the move finished.
    ("reshard-down", Boundary("handover.copying"), "stop-target"),
    # serve dies with the old primary paused during a lossless failover.
    ("failover", Boundary("promote.paused"), "kill-serve"),
    # serve dies as it retires a replica (a request once brought removed nodes back).
    ("replicas-down", Boundary("step.before", "retire node"), "kill-serve"),
]


@pytest.mark.parametrize("kind,boundary,fault", CASES, ids=[f"{k}-{b}-{f}" for k, b, f in CASES])
def test_a_fault_at_a_step_boundary_loses_nothing_and_converges(kind, boundary, fault):
    outcome = run_case(KINDS[kind], boundary, fault, keep=os.environ.get("MEMORYPLANE_KEEP_LOGS"))
    assert outcome.fired, f"the boundary {boundary} was never reached"
    assert outcome.problems == [], outcome.problems
    assert outcome.lost == 0 and outcome.acknowledged > 100
