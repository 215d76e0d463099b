"""A real S3-compatible server for the object-storage tests: moto's server mode, started on
a free loopback port (nothing inside logscope or the S3 driver is mocked), its fixtures, and
an upload helper. Shared by tests/test_cloud.py and tests/follow/test_tail_remote.py."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server(extra_env: dict[str, str]) -> Iterator[str]:
    """`python -m moto.server` on a free loopback port; its URL once it answers."""
    port = free_port()
    env = {**os.environ, **extra_env}
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("the moto S3 server did not start")
        yield url
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture(scope="module")
def s3() -> Iterator[str]:
    yield from server({})


@pytest.fixture
def aws(s3: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Credentials and endpoint from the standard AWS variables, as a CI job sets them."""
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": s3,
    }.items():
        monkeypatch.setenv(key, value)
    return s3


def upload(folder: Path, url: str) -> None:
    import s3fs

    fs = s3fs.S3FileSystem(skip_instance_cache=True)
    bucket = url.removeprefix("s3://").split("/")[0]
    if not fs.exists(bucket):
        fs.mkdir(bucket)
    fs.put(str(folder), url.removeprefix("s3://"), recursive=True)


@pytest.fixture
def denied(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A server that checks credentials (moto with authentication on after its first call,
    which creates the bucket `private`), and keys it does not know (secret: not-a-secret)."""
    import boto3

    for url in server({"INITIAL_NO_AUTH_ACTION_COUNT": "1"}):
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAUNKNOWN000000000")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-a-secret")
        monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        monkeypatch.setenv("AWS_ENDPOINT_URL", url)
        boto3.client("s3").create_bucket(Bucket="private")
        yield url
