"""A real S3-protocol server on loopback for tests (moto's standalone server).

The server speaks HTTP on 127.0.0.1 at a port the OS picks, so several test
processes never collide. moto keeps its state per process: give every test
its own bucket (``unique_bucket``) rather than relying on a fresh server.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

REGION = "us-east-1"
ACCESS_KEY_ID = "test"
SECRET_ACCESS_KEY = "test"


@contextmanager
def running_s3_server() -> Iterator[str]:
    """Run moto's S3 server on a free loopback port; yield its endpoint URL."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def unused_loopback_url() -> str:
    """An http URL on a loopback port where nothing listens (for 'store down' tests)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def unique_bucket(prefix: str = "test") -> str:
    """A bucket name no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


def s3_client(endpoint_url: str) -> Any:
    """A plain boto3 client on the test server, to look behind the store's back."""
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY_ID,
        aws_secret_access_key=SECRET_ACCESS_KEY,
    )
