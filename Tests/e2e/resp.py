"""A small RESP client for tests and benchmarks: plain or TLS, cluster-aware (follows MOVED and
ASK), and a writer that records every acknowledged write so a test can prove none was lost.

It is deliberately minimal and honest: a write counts as acknowledged only when the node replied
+OK to it; a connection error, a timeout, -CLUSTERDOWN or any other error is not an
acknowledgement, and the writer retries the same key (with a new value) until one is.
"""
import socket
import ssl
import threading
import time

CRC16_TABLE = []
for _byte in range(256):
    _crc = _byte << 8
    for _ in range(8):
        _crc = ((_crc << 1) ^ 0x1021) if _crc & 0x8000 else (_crc << 1)
    CRC16_TABLE.append(_crc & 0xFFFF)


def key_slot(key):
    data = key.encode() if isinstance(key, str) else key
    start = data.find(b"{")
    if start >= 0:
        end = data.find(b"}", start + 1)
        if end > start + 1:
            data = data[start + 1:end]
    crc = 0
    for byte in data:
        crc = ((crc << 8) & 0xFFFF) ^ CRC16_TABLE[((crc >> 8) ^ byte) & 0xFF]
    return crc % 16384


class ReplyError(Exception):
    pass


class Connection:
    def __init__(self, host, port, tls_ca=None, timeout=2.0):
        sock = socket.create_connection((host, port), timeout=timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if tls_ca:
            context = ssl.create_default_context(cafile=tls_ca)
            context.check_hostname = False
            sock = context.wrap_socket(sock)
        self.sock = sock
        self.buffer = b""
        self.address = (host, port)
        # When true, bulk strings come back as bytes (for DUMP payloads).
        self.raw = False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    @staticmethod
    def encode(*args):
        parts = [b"*%d\r\n" % len(args)]
        for arg in args:
            data = arg.encode() if isinstance(arg, str) else (str(arg).encode() if not isinstance(arg, bytes) else arg)
            parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
        return b"".join(parts)

    def command(self, *args):
        self.sock.sendall(self.encode(*args))
        return self._read()

    def pipeline(self, commands):
        """Sends every command at once and returns the replies (errors as ReplyError values)."""
        self.sock.sendall(b"".join(self.encode(*command) for command in commands))
        replies = []
        for _ in commands:
            try:
                replies.append(self._read())
            except ReplyError as error:
                replies.append(error)
        return replies

    def _line(self):
        while b"\r\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line

    def _exact(self, size):
        while len(self.buffer) < size + 2:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed")
            self.buffer += chunk
        data, self.buffer = self.buffer[:size], self.buffer[size + 2:]
        return data

    def _read(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise ReplyError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            size = int(rest)
            if size < 0:
                return None
            data = self._exact(size)
            return data if self.raw else data.decode(errors="replace")
        if kind == b"*":
            size = int(rest)
            return None if size < 0 else [self._read() for _ in range(size)]
        raise ConnectionError(f"unexpected reply {line!r}")


class ClusterClient:
    """Sends each key's command to the node serving its slot, learning slots from MOVED."""

    def __init__(self, host, port, user=None, password=None, tls_ca=None, timeout=2.0):
        self.entry = (host, port)
        self.user, self.password, self.tls_ca, self.timeout = user, password, tls_ca, timeout
        self.slots = {}
        self.connections = {}

    def connection(self, address):
        connection = self.connections.get(address)
        if connection is None:
            connection = Connection(*address, tls_ca=self.tls_ca, timeout=self.timeout)
            if self.password:
                connection.command("AUTH", *( [self.user] if self.user else []), self.password)
            self.connections[address] = connection
        return connection

    def drop(self, address):
        connection = self.connections.pop(address, None)
        if connection:
            connection.close()

    def close(self):
        for address in list(self.connections):
            self.drop(address)

    def execute(self, key, *args):
        """One attempt (following at most 5 redirections); raises on anything but a reply."""
        slot = key_slot(key)
        address = self.slots.get(slot, self.entry)
        asking = False
        for _ in range(5):
            try:
                connection = self.connection(address)
                if asking:
                    connection.command("ASKING")
                return connection.command(*args)
            except ReplyError as error:
                message = str(error)
                if message.startswith("MOVED ") or message.startswith("ASK "):
                    host_port = message.split()[2]
                    host, port = host_port.rsplit(":", 1)
                    target = (host or "127.0.0.1", int(port))
                    if message.startswith("MOVED "):
                        self.slots[slot] = target
                    address, asking = target, message.startswith("ASK ")
                    continue
                raise
            except (OSError, ConnectionError):
                self.drop(address)
                self.slots.pop(slot, None)
                raise
        raise ReplyError("too many redirections")


class AcknowledgedWriter(threading.Thread):
    """Writes key-0, key-1, ... in turn, each with a fresh value, until stopped; records every
    write the cluster acknowledged with +OK and the longest time writes were refused."""

    def __init__(self, client, prefix="ack", pause=0.0):
        super().__init__(daemon=True)
        self.client = client
        self.prefix = prefix
        self.pause = pause
        self.acknowledged = {}
        self.stop_event = threading.Event()
        self.failures = 0
        self.outages = []  # (start, end) of every stretch without an acknowledgement
        self._last_ok = None
        self._outage_start = None

    def run(self):
        index = 0
        attempt = 0
        while not self.stop_event.is_set():
            key = f"{self.prefix}-{index}"
            value = f"v{index}-{attempt}"
            try:
                reply = self.client.execute(key, "SET", key, value)
            except Exception:
                reply = None
            now = time.monotonic()
            if reply == "OK":
                self.acknowledged[key] = value
                if self._outage_start is not None:
                    self.outages.append((self._outage_start, now))
                    self._outage_start = None
                self._last_ok = now
                index += 1
                attempt = 0
            else:
                self.failures += 1
                attempt += 1
                if self._outage_start is None:
                    self._outage_start = self._last_ok if self._last_ok is not None else now
                time.sleep(0.002)
            if self.pause:
                time.sleep(self.pause)

    def stop(self):
        self.stop_event.set()
        self.join(timeout=10)

    def longest_outage(self):
        return max((end - start for start, end in self.outages), default=0.0)

    def missing(self, reader):
        """Keys acknowledged whose value is not what was acknowledged, read through `reader`."""
        lost = []
        for key, value in self.acknowledged.items():
            for _ in range(20):
                try:
                    got = reader.execute(key, "GET", key)
                    break
                except Exception:
                    time.sleep(0.1)
            else:
                got = None
            if got != value:
                lost.append((key, value, got))
        return lost


def unix_connection(path):
    """A connection to a Unix socket (a scratch redis-server in a test)."""
    connection = Connection.__new__(Connection)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(path)
    connection.sock, connection.buffer, connection.address, connection.raw = sock, b"", path, False
    return connection


def slot_owners(entry):
    """{slot: (host, port)} of the primaries, from CLUSTER SLOTS asked of `entry`."""
    owners = {}
    for first, last, primary, *_ in entry.command("CLUSTER", "SLOTS"):
        for slot in range(first, last + 1):
            owners[slot] = (primary[0] or "127.0.0.1", primary[1])
    return owners


def fill(host, port, count, prefix="key", tls_ca=None, user=None, password=None, batch=2000):
    """Writes `count` keys (prefix-0 ... ) straight to their primaries, pipelined."""
    entry = Connection(host, port, tls_ca=tls_ca)
    owners = slot_owners(entry)
    entry.close()
    connections = {}
    pending = {}
    for index in range(count):
        key = f"{prefix}-{index}"
        address = owners[key_slot(key)]
        pending.setdefault(address, []).append(("SET", key, f"value-{index}"))
        if len(pending[address]) >= batch:
            _flush(connections, address, pending.pop(address), tls_ca)
    for address, commands in pending.items():
        _flush(connections, address, commands, tls_ca)
    for connection in connections.values():
        connection.close()


def _flush(connections, address, commands, tls_ca):
    if address not in connections:
        connections[address] = Connection(*address, tls_ca=tls_ca)
    replies = connections[address].pipeline(commands)
    bad = [reply for reply in replies if reply != "OK"]
    if bad:
        raise ReplyError(f"{len(bad)} writes refused: {bad[:3]}")


def dump_all(connection):
    """{key: DUMP payload} of every key a node holds, listed with SCAN."""
    connection.raw = True
    found = {}
    cursor = b"0"
    while True:
        cursor, keys = connection.command("SCAN", cursor, "COUNT", "1000")
        if keys:
            payloads = connection.pipeline([("DUMP", key) for key in keys])
            for key, payload in zip(keys, payloads):
                found[key] = payload
        if cursor == b"0":
            break
    connection.raw = False
    return found
