"""Malformed requests and garbage on the socket get a 4xx JSON error; the server stays healthy
and creates nothing."""
import socket

import pytest
import requests

VALID = {"name": "a", "nodeType": "db.t4g.small", "aclName": "open-access", "tlsEnabled": False}

CASES = [
    ("POST", "/v1/clusters", b"not json", 400),
    ("POST", "/v1/clusters", b'{"name": "a", "nodeType": ', 400),
    ("POST", "/v1/clusters", bytes(range(256)), 400),
    ("POST", "/v1/clusters", b"", 400),
    ("POST", "/v1/clusters", b"[]", 400),
    ("POST", "/v1/clusters", b"null", 400),
    ("POST", "/v1/clusters", b'{"nodeType": "db.t4g.small", "aclName": "open-access"}', 400),
    ("POST", "/v1/clusters", b'{"name": ["a"], "nodeType": "db.t4g.small", "aclName": "open-access"}', 400),
    ("POST", "/v1/clusters", b'{"name": "a", "nodeType": "db.t4g.small", "aclName": "open-access", "numShards": "two"}', 400),
    ("POST", "/v1/clusters", b'{"name": "a", "nodeType": "db.t4g.small", "aclName": "open-access", "numShards": 1e30}', 400),
    ("POST", "/v1/clusters", b'{"name": "a", "nodeType": "db.t4g.small", "aclName": "open-access", "tlsEnabled": 0}', 400),
    ("POST", "/v1/clusters", b'{"name": "a", "nodeType": "db.t4g.small", "aclName": "open-access", "extra": 1}', 400),
    ("POST", "/v1/clusters", b'{"name": "a", "nodeType": "db.t4g.small", "aclName": "open-access", "tlsEnabled": false, "numShards": 0}', 400),
    ("POST", "/v1/clusters", b'{"name": "a", "nodeType": "db.t4g.small", "aclName": "open-access", "tlsEnabled": false, "numReplicasPerShard": 9}', 400),
    ("POST", "/v1/clusters", b'{"name": "A--b", "nodeType": "db.t4g.small", "aclName": "open-access", "tlsEnabled": false}', 400),
    ("POST", "/v1/clusters", b'{"name": "a", "nodeType": "m5.large", "aclName": "open-access", "tlsEnabled": false}', 400),
    ("POST", "/v1/clusters", b'{"name": "a", "nodeType": "db.t4g.small", "aclName": "mine"}', 404),
    ("POST", "/v1/clusters", b'{"name": "a", "nodeType": "db.t4g.small", "aclName": "x", "tlsEnabled": false}', 400),
    ("POST", "/v1/clusters", b'{"name": "a", "nodeType": "db.t4g.small", "aclName": "open-access", "tlsEnabled": "yes"}', 400),
    ("POST", "/v1/clusters", b'{"name": "a", "nodeType": "db.t4g.small", "aclName": "open-access", "tlsEnabled": false, "tags": [1]}', 400),
    ("POST", "/v1/clusters", b'{"name": "a", "nodeType": "db.t4g.small", "aclName": "open-access", "tlsEnabled": false, "port": 70000}', 400),
    ("POST", "/v1/clusters", b"x" * (2 * 1024 * 1024), 413),
    ("GET", "/v1/clusters?maxResults=-1", None, 400),
    ("GET", "/v1/clusters?nextToken=%00%01", None, 400),
    ("GET", "/v1/clusters/does-not-exist", None, 404),
    ("DELETE", "/v1/clusters/does-not-exist", None, 404),
    ("PUT", "/v1/clusters", b"{}", 405),
    ("GET", "/v1/../../etc/passwd", None, 404),
    # Every operation's body is read through its member table: unknown, mistyped, missing.
    ("POST", "/v1/users", b'{"name": "u", "accessString": "on ~* +@all"}', 400),
    ("POST", "/v1/users", b'{"name": "u", "accessString": "on ~* +@all", "authenticationMode": {"type": "no-password", "passwordCount": 1}}', 400),
    ("POST", "/v1/acls", b'{"name": "a", "userNames": "u"}', 400),
    ("POST", "/v1/subnet-groups", b'{"name": "s"}', 400),
    ("POST", "/v1/parameter-groups", b'{"name": "p", "family": "memorydb_redis7", "parameters": {}}', 400),
]


@pytest.mark.parametrize("method,path,body,status", CASES, ids=[f"case{i}" for i in range(len(CASES))])
def test_malformed_requests_get_a_json_error(server, method, path, body, status):
    response = server.request(method, path, data=body, headers={"Content-Type": "application/json"})
    assert response.status_code == status, response.text
    assert 400 <= response.status_code < 500
    error = response.json()["error"]
    assert error["code"] and error["message"]
    assert server.request("GET", "/health").status_code == 200
    assert server.request("GET", "/v1/clusters").json()["clusters"] == []


def test_garbage_on_the_socket_leaves_the_server_healthy(server):
    for payload in [b"\x00\xff" * 1000, b"GET / HTTP/9.9\r\n\r\n", b"POST /v1/clusters HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n{",
                    b"\r\n\r\n\r\n", b"GARBAGE" * 10000]:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
            try:
                s.sendall(payload)
                s.shutdown(socket.SHUT_WR)
                s.recv(65536)
            except OSError:
                pass
    assert requests.get(server.url + "/health", timeout=5).status_code == 200
    assert server.process.poll() is None


def test_malformed_http_gets_a_json_400_naming_the_problem(server):
    import json
    import socket
    for raw, reason in [(b"GET /v1/users HTTP/1.1\r\nHost: x\r\ncontent-length: q\r\n\r\n", "content-length"),
                        (b"GARBAGE\r\n\r\n", "method"), (b"GET / HTTP/1.1\r\nBad Header\r\n\r\n", "header")]:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
            s.sendall(raw)
            reply = b""
            while chunk := s.recv(4096):
                reply += chunk
        head, _, body = reply.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 400") and b"Content-Type: application/json" in head, reply
        assert reason in json.loads(body)["error"]["message"]
    assert server.request("GET", "/health").status_code == 200
