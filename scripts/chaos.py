#!/usr/bin/env python3
"""`make chaos`: every kind of shape change × each step boundary worth breaking × each fault
(kill -9 of the source primary, the target primary, a replica, `serve`; SIGSTOP of the target or the source),
one fresh server per case. Prints one line per case as it goes and a table at the end (the
README's), and writes the results as JSON.

    python3 scripts/chaos.py [--only KIND[,KIND]] [--faults F[,F]] [--json PATH]
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "e2e"))
from chaos import FAULTS, KINDS, run_case  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", help="comma-separated kinds: " + ", ".join(KINDS))
    parser.add_argument("--faults", help="comma-separated faults: " + ", ".join(FAULTS))
    parser.add_argument("--json", default="chaos-results.json")
    parser.add_argument("--keep", default="/tmp/mp-chaos-failures", help="where failed cases' logs go")
    options = parser.parse_args()
    kinds = [KINDS[k] for k in options.only.split(",")] if options.only else list(KINDS.values())
    faults = options.faults.split(",") if options.faults else FAULTS
    results = []
    started = time.time()
    for kind in kinds:
        for boundary in kind.boundaries:
            for fault in faults:
                outcome = run_case(kind, boundary, fault, keep=options.keep)
                results.append(outcome)
                verdict = "ok  " if outcome.passed else "FAIL"
                print(f"{verdict} {kind.name:16} {str(boundary):40} {fault:13} fired={'yes' if outcome.fired else 'no ':3} "
                      f"{outcome.seconds:5.1f}s acked={outcome.acknowledged:6} lost={outcome.lost} client-errors={outcome.client_errors}"
                      + ("" if outcome.passed else f"  {outcome.problems[:2]}"), flush=True)
    with open(options.json, "w") as file:
        json.dump([outcome.__dict__ for outcome in results], file, indent=1)
    print()
    print("| change | cases | faults fired | passed | acknowledged writes | lost | client errors (faults only) |")
    print("|---|---|---|---|---|---|---|")
    for kind in kinds:
        mine = [r for r in results if r.kind == kind.name]
        print(f"| {kind.name} | {len(mine)} | {sum(r.fired for r in mine)} | {sum(r.passed for r in mine)} | "
              f"{sum(r.acknowledged for r in mine):,} | {sum(r.lost for r in mine)} | {sum(r.client_errors for r in mine)} |")
    failed = [r for r in results if not r.passed]
    print(f"\n{len(results)} cases in {time.time() - started:.0f} s: {len(results) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
