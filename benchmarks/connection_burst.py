"""A burst of concurrent connections, each sending one request, against the API's /health and,
in the same run, against Hummingbird's own hello-world app with the framework's defaults.

Every connection is opened at once (asyncio, one process), sends `GET /health`, and reads the
reply; its latency runs from the start of connect to the end of the reply, so SYN retries
caused by an overflowing listen backlog show up as they would for a real client.

Usage: python3 benchmarks/connection_burst.py [--connections 1000] [--rounds 5]
"""
import argparse
import asyncio
import os
import resource
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "e2e"))
import memoryplane  # noqa: E402

REQUEST = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"


async def one(port):
    started = time.perf_counter()
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 30)
        writer.write(REQUEST)
        await writer.drain()
        reply = await asyncio.wait_for(reader.read(), 30)
        writer.close()
        ok = reply.startswith(b"HTTP/1.1 200")
    except (OSError, asyncio.TimeoutError):
        ok = False
    return time.perf_counter() - started, ok


async def burst(port, connections):
    results = await asyncio.gather(*(one(port) for _ in range(connections)))
    return [latency for latency, _ in results], sum(1 for _, ok in results if ok)


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def measure(port, connections, rounds):
    p50s, p99s, failures = [], [], 0
    for _ in range(rounds):
        latencies, ok = asyncio.run(burst(port, connections))
        failures += connections - ok
        p50s.append(percentile(latencies, 0.50))
        p99s.append(percentile(latencies, 0.99))
        time.sleep(0.5)
    return statistics.median(p50s), statistics.median(p99s), failures


def wait_listening(port, process):
    import socket
    for _ in range(300):
        if process.poll() is not None:
            raise RuntimeError("server exited")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("server did not listen")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=memoryplane.BINARY)
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4 * args.connections)), hard))

    server = memoryplane.Server()
    server.start()
    hello_port = memoryplane.free_port()
    # The baseline is its own executable, built beside the product (`make bench`).
    hello_binary = os.path.join(os.path.dirname(os.path.abspath(args.binary)), "bench-hello")
    hello = subprocess.Popen([hello_binary, str(hello_port)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_listening(hello_port, hello)
        asyncio.run(burst(server.port, 50))  # warm both up
        asyncio.run(burst(hello_port, 50))
        api = measure(server.port, args.connections, args.rounds)
        baseline = measure(hello_port, args.connections, args.rounds)
    finally:
        hello.kill()
        hello.wait()
        server.cleanup()
    print(f"burst of {args.connections} concurrent connections, one GET each, median of {args.rounds} rounds")
    print(f"  memoryplane /health:             p50 {api[0] * 1000:7.1f} ms   p99 {api[1] * 1000:7.1f} ms   failed {api[2]}")
    print(f"  hummingbird hello (defaults):    p50 {baseline[0] * 1000:7.1f} ms   p99 {baseline[1] * 1000:7.1f} ms   failed {baseline[2]}")
    print(f"  p99 ratio (memoryplane / hello): {api[1] / baseline[1]:.2f}x")


if __name__ == "__main__":
    main()
