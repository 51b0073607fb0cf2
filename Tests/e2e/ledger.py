"""A cluster client that records every acknowledged write, for proving nothing acknowledged is
lost while a cluster changes shape or faults are injected."""
import os
import threading
import time

from redis.cluster import ClusterNode, RedisCluster


class RecordingClient(threading.Thread):
    """Writes `<prefix><n>` = n in turn through redis-py's RedisCluster and reads back an earlier
    key after each write; records every acknowledged write, every wrong read and every error the
    client let through (with `pause` seconds between attempts after an error, so a fault does not
    turn the loop into a spin)."""

    def __init__(self, port, ca=None, prefix="k:", pause=0.01):
        super().__init__(daemon=True)
        self.port, self.ca, self.prefix, self.pause = port, ca, prefix, pause
        self.cluster = self.connect()
        self.acknowledged = {}
        self.errors = []
        self.wrong_reads = []
        self.halt = threading.Event()

    def connect(self):
        tls = {"ssl": True, "ssl_ca_certs": self.ca, "ssl_check_hostname": False} if self.ca else {}
        return RedisCluster(startup_nodes=[ClusterNode("127.0.0.1", self.port)], socket_timeout=5, **tls)

    def run(self):
        n = 0
        while not self.halt.is_set():
            key = f"{self.prefix}{n}"
            try:
                self.cluster.set(key, str(n))
                self.acknowledged[key] = str(n)
                earlier = f"{self.prefix}{n // 2}"
                if earlier in self.acknowledged:
                    value = self.cluster.get(earlier)
                    if value is None or value.decode() != self.acknowledged[earlier]:
                        self.wrong_reads.append((earlier, value))
            except Exception as error:  # noqa: BLE001 — anything the client lets through is an error seen
                self.errors.append(f"{time.time():.3f} {key}: {type(error).__name__}: {error}")
                time.sleep(self.pause)
            n += 1

    def stop(self):
        self.halt.set()
        self.join(timeout=30)

    def missing(self):
        """Acknowledged keys absent or with another value, read by a client of its own through
        the cluster endpoint (the nodes the writer knew may be gone)."""
        reader = self.connect()
        keys = list(self.acknowledged)
        lost = []
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            values = reader.mget_nonatomic(chunk)
            lost += [(k, v) for k, v in zip(chunk, values) if v is None or v.decode() != self.acknowledged[k]]
        reader.close()
        return lost


class AsyncRecordingClient(threading.Thread):
    """The same ledger for an asyncio client library (valkey-glide, coredis), run on an event
    loop of its own thread. `library` is "glide" or "coredis"; TLS verifies against `ca`."""

    def __init__(self, library, port, ca=None, prefix=None, pause=0.01, request_timeout_ms=None):
        super().__init__(daemon=True)
        self.library, self.port, self.ca, self.pause = library, port, ca, pause
        # glide only: None keeps its default (250 ms).
        self.request_timeout_ms = request_timeout_ms
        self.prefix = prefix or f"{library}:"
        self.acknowledged = {}
        self.errors = []
        self.wrong_reads = []
        self.halt = threading.Event()
        self.ready = threading.Event()
        self.failure = None

    def run(self):
        import asyncio
        try:
            asyncio.run(self.loop())
        except Exception as error:  # noqa: BLE001 — a client that cannot even start
            self.failure = error
            self.ready.set()

    async def loop(self):
        async with self.session() as client:
            self.ready.set()
            n = 0
            while not self.halt.is_set():
                key = f"{self.prefix}{n}"
                try:
                    await client.set(key, str(n))
                    self.acknowledged[key] = str(n)
                    earlier = f"{self.prefix}{n // 2}"
                    if earlier in self.acknowledged:
                        value = await client.get(earlier)
                        if value is None or (value.decode() if isinstance(value, bytes) else value) != self.acknowledged[earlier]:
                            self.wrong_reads.append((earlier, value))
                except Exception as error:  # noqa: BLE001 — anything the library lets through is an error seen
                    self.errors.append(f"{time.time():.3f} {key}: {type(error).__name__}: {error}")
                    import asyncio
                    await asyncio.sleep(self.pause)
                n += 1

    def session(self):
        import contextlib
        if self.library == "glide":
            from glide import (AdvancedGlideClusterClientConfiguration, GlideClusterClient, GlideClusterClientConfiguration,
                               NodeAddress, TlsAdvancedConfiguration)

            @contextlib.asynccontextmanager
            async def glide():
                if os.environ.get("MEMORYPLANE_GLIDE_LOG"):
                    from glide import Logger, LogLevel
                    Logger.set_logger_config(LogLevel.INFO, os.environ["MEMORYPLANE_GLIDE_LOG"])
                advanced = None
                if self.ca:
                    advanced = AdvancedGlideClusterClientConfiguration(tls_config=TlsAdvancedConfiguration(root_pem_cacerts=open(self.ca, "rb").read()))
                # Defaults otherwise (unless told, a 250 ms request timeout). MEMORYPLANE_GLIDE_LOG
                # names a file for glide's own log (INFO), to see what it did around an error.
                config = GlideClusterClientConfiguration(
                    [NodeAddress("127.0.0.1", self.port)], use_tls=bool(self.ca), advanced_config=advanced, request_timeout=self.request_timeout_ms)
                client = await GlideClusterClient.create(config)
                try:
                    yield client
                finally:
                    await client.close()
            return glide()
        import coredis
        import ssl
        context = None
        if self.ca:
            context = ssl.create_default_context(cafile=self.ca)
            context.check_hostname = False
        # CONFIG GET is denied to client users (as on MemoryDB): coredis need not ask it.
        return coredis.RedisCluster("127.0.0.1", self.port, ssl=bool(self.ca), ssl_context=context, stream_timeout=5, skip_full_coverage_check=True)

    def start_and_wait(self, timeout=30):
        self.start()
        if not self.ready.wait(timeout) or self.failure:
            raise RuntimeError(f"{self.library} client did not start: {self.failure}")
        return self

    def stop(self):
        self.halt.set()
        self.join(timeout=30)
