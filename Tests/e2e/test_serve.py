"""`serve` itself: credentials on by default, kept private, refused when wrong."""
import os
import stat
import subprocess

import pytest
import requests

from memoryplane import BINARY


def test_credentials_are_created_private_and_required(server):
    mode = stat.S_IMODE(os.stat(os.path.join(server.data_dir, "credentials")).st_mode)
    assert mode == 0o600
    assert stat.S_IMODE(os.stat(server.data_dir).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(os.path.join(server.data_dir, "memoryplane.sqlite")).st_mode) == 0o600
    key, secret = server.credentials
    assert secret not in server.read_log()
    assert requests.get(server.url + "/health", timeout=5).status_code == 200
    anonymous = requests.get(server.url + "/v1/clusters", timeout=5)
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "InvalidCredentialsException"
    assert "credentials" in anonymous.json()["error"]["message"]
    assert requests.get(server.url + "/v1/clusters", auth=(key, "wrong"), timeout=5).status_code == 401
    assert requests.get(server.url + "/v1/clusters", auth=(key, secret), timeout=5).status_code == 200


def test_restart_keeps_the_same_credentials(make_server):
    first = make_server().start()
    keys = first.credentials
    first.kill()
    first.start()
    assert first.credentials == keys


def test_auth_none_is_refused_off_loopback():
    result = subprocess.run([BINARY, "serve", "--host", "0.0.0.0", "--auth", "none", "--data-dir", "/nonexistent"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert "loopback" in result.stderr


def test_bad_flags_are_refused_with_a_reason():
    for args, fragment in [(["--node-port-range", "9000-8000"], "node-port-range"),
                           (["--node-port-range", "60000-60010"], "bus ports"),
                           (["--account-id", "12"], "account-id"),
                           (["--engine-path", "/nonexistent/redis"], "engine-path")]:
        result = subprocess.run([BINARY, "serve", "--data-dir", "/tmp/mp-never-created", *args],
                                capture_output=True, text=True, timeout=30)
        assert result.returncode != 0, args
        assert fragment in result.stderr, (args, result.stderr)
    assert not os.path.exists("/tmp/mp-never-created"), "a refused start must not create the data directory"


def test_keys_can_be_given_by_environment(make_server):
    server = make_server()
    os.environ["MEMORYPLANE_ACCESS_KEY_ID"] = "AKMPCIPIPELINE0001"
    os.environ["MEMORYPLANE_SECRET_ACCESS_KEY"] = "ci-secret-0123456789abcdef"
    try:
        server.start()
    finally:
        del os.environ["MEMORYPLANE_ACCESS_KEY_ID"]
        del os.environ["MEMORYPLANE_SECRET_ACCESS_KEY"]
    assert server.credentials == ("AKMPCIPIPELINE0001", "ci-secret-0123456789abcdef")
    assert stat.S_IMODE(os.stat(os.path.join(server.data_dir, "credentials")).st_mode) == 0o600
    assert requests.get(server.url + "/v1/clusters", auth=server.credentials, timeout=5).status_code == 200
    assert "ci-secret-0123456789abcdef" not in server.read_log()


def test_half_a_key_pair_is_refused():
    env = dict(os.environ, MEMORYPLANE_ACCESS_KEY_ID="AKMPCIPIPELINE0001")
    env.pop("MEMORYPLANE_SECRET_ACCESS_KEY", None)
    result = subprocess.run([BINARY, "serve", "--data-dir", "/tmp/mp-never-created"], capture_output=True, text=True, timeout=30, env=env)
    assert result.returncode != 0
    assert "both" in result.stderr
    assert not os.path.exists("/tmp/mp-never-created")


def test_a_second_server_on_the_same_data_dir_refuses_to_start(make_server):
    first = make_server().start()
    second = make_server(data_dir=first.data_dir)
    with pytest.raises(RuntimeError) as refused:
        second.start(timeout=15)
    assert second.process.returncode not in (0, None)
    assert "memoryplane.lock" in str(refused.value) and str(first.process.pid) in str(refused.value)
    # The first one is untouched and still serving.
    assert first.request("GET", "/v1/clusters").status_code == 200
