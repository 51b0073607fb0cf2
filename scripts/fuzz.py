"""`make fuzz`: schemathesis, with every check, against a real `memoryplane serve` described by
api-spec/openapi.yaml. Bounded in time (FUZZ_SECONDS, default 600); the server, its nodes and its
data directory are removed afterwards whatever happens. Exit code: schemathesis's own.

Usage: python3 scripts/fuzz.py [--seconds 600] [extra schemathesis arguments...]
"""
import argparse
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "Tests", "e2e"))
import memoryplane  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("FUZZ_SECONDS", "600")))
    args, extra = parser.parse_known_args()
    server = memoryplane.Server()
    # A small node-port range: clusters the fuzzer creates are real, so their number is bounded
    # by the ports (the server answers InsufficientClusterCapacityFault past them).
    server.range = memoryplane.free_range(size=40)
    server.start()
    try:
        key, secret = server.credentials
        command = ["schemathesis", "run", os.path.join(ROOT, "api-spec", "openapi.yaml"), "--url", server.url,
                   "--checks", "all", "--max-time", str(args.seconds), "--auth", f"{key}:{secret}",
                   "--request-timeout", "30", "--workers", "2", *extra]
        print(" ".join(command).replace(secret, "***"), flush=True)
        # The hooks name the server's rules that the schema cannot state (see the file).
        env = dict(os.environ, SCHEMATHESIS_HOOKS="schemathesis_hooks", MEMORYPLANE_FUZZ_KEY=key, MEMORYPLANE_FUZZ_SECRET=secret,
                   PYTHONPATH=os.path.join(ROOT, "api-spec") + os.pathsep + os.environ.get("PYTHONPATH", ""))
        return subprocess.run(command, timeout=args.seconds + 600, env=env).returncode
    finally:
        server.cleanup()


if __name__ == "__main__":
    sys.exit(main())
