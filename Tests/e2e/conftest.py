import os
import shutil
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from memoryplane import BINARY, Server  # noqa: E402


def pytest_sessionstart(session):
    if not os.access(BINARY, os.X_OK):
        pytest.exit(f"{BINARY} is missing; build it first (swift build)", returncode=1)
    for tool in ("redis-server", "redis-cli"):
        if shutil.which(tool) is None:
            pytest.exit(f"{tool} is not installed; run scripts/install-deps.sh", returncode=1)


@pytest.fixture
def server():
    instance = Server()
    try:
        yield instance.start()
    finally:
        instance.cleanup()


@pytest.fixture
def make_server():
    made = []

    def make(**kwargs):
        instance = Server(**kwargs)
        made.append(instance)
        return instance

    try:
        yield make
    finally:
        for instance in made:
            instance.cleanup()
