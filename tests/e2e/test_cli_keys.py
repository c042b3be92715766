"""``dsac-asr keys create/list/revoke`` on the default SQLite store under DSAC_DATA_DIR."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dsac_asr.cli_keys import keys_app
from dsac_asr.jobs.store import JobStore

pytestmark = pytest.mark.e2e


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("DSAC_DATABASE_URL", raising=False)
    monkeypatch.setenv("DSAC_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def keys(*args: str) -> tuple[int, str, str]:
    """Run ``dsac-asr keys ARGS``; exit code, stdout, stderr."""
    result = CliRunner().invoke(keys_app, list(args))
    return result.exit_code, result.stdout, result.stderr


def open_store(data_dir: Path) -> JobStore:
    return JobStore.open(f"sqlite:///{data_dir / 'dsac.sqlite3'}")


def test_create_prints_the_key_once(data_dir: Path) -> None:
    code, out, err = keys("create", "--tenant", "acme", "--bucket", "calls")
    assert code == 0, err
    api_key = next(line.split()[-1] for line in out.splitlines() if line.startswith("api key"))
    assert "not shown again" in err
    store = open_store(data_dir)
    tenant = store.authenticate(api_key)
    assert tenant is not None and (tenant.name, tenant.buckets) == ("acme", ("calls",))
    store.close()
    _, listed, _ = keys("list")
    assert api_key[:12] in listed and api_key not in listed


def test_create_json(data_dir: Path) -> None:
    code, out, err = keys("create", "--tenant", "acme", "--json")
    assert code == 0, err
    payload = json.loads(out)
    assert set(payload) == {"tenant", "api_key", "webhook_secret"}
    assert payload["tenant"] == "acme" and payload["api_key"].startswith("dsac_")
    secret = payload["webhook_secret"]
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) >= 24


def test_second_create_grants_buckets_and_adds_a_key(data_dir: Path) -> None:
    first = json.loads(keys("create", "--tenant", "acme", "--bucket", "a", "--json")[1])
    second = json.loads(
        keys("create", "--tenant", "acme", "--bucket", "b", "--bucket", "a", "--json")[1]
    )
    assert first["api_key"] != second["api_key"]
    assert first["webhook_secret"] == second["webhook_secret"]
    store = open_store(data_dir)
    for payload in (first, second):
        tenant = store.authenticate(payload["api_key"])
        assert tenant is not None and tenant.buckets == ("a", "b")
    store.close()


def test_list_and_revoke(data_dir: Path) -> None:
    acme = json.loads(keys("create", "--tenant", "acme", "--json")[1])["api_key"]
    globex = json.loads(keys("create", "--tenant", "globex", "--json")[1])["api_key"]
    listed = json.loads(keys("list", "--json")[1])
    assert [(row["tenant"], row["prefix"], row["revoked"]) for row in listed] == [
        ("acme", acme[:12], None),
        ("globex", globex[:12], None),
    ]
    code, out, _ = keys("revoke", acme[:12])
    assert code == 0 and acme[:12] in out
    store = open_store(data_dir)
    assert store.authenticate(acme) is None and store.authenticate(globex) is not None
    store.close()
    only_acme = json.loads(keys("list", "--tenant", "acme", "--json")[1])
    assert len(only_acme) == 1 and only_acme[0]["revoked"] is not None
    table = keys("list")[1]
    assert "acme" in table and "globex" in table


def test_revoke_by_id(data_dir: Path) -> None:
    keys("create", "--tenant", "acme")
    key_id = json.loads(keys("list", "--json")[1])[0]["id"]
    assert keys("revoke", key_id)[0] == 0
    assert json.loads(keys("list", "--json")[1])[0]["revoked"] is not None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("revoke", "dsac_unknown1"), "no API key"),
        (("create", "--tenant", "Not Valid"), "invalid tenant name"),
        (("list", "--tenant", "nobody"), "no tenant named"),
    ],
)
def test_errors_are_reported(data_dir: Path, args: tuple[str, ...], message: str) -> None:
    code, out, err = keys(*args)
    assert code == 1 and message in err and "Traceback" not in out + err


def test_read_only_and_read_write_grants(data_dir: Path) -> None:
    """``--bucket B`` keeps its meaning (read and write); ``B:ro`` reads only;
    naming a bucket again changes its mode."""
    code, out, err = keys("create", "--tenant", "acme", "--bucket", "shared:ro", "--bucket", "own")
    assert code == 0, err
    assert "shared (read only), own" in out
    store = open_store(data_dir)
    tenant = store.find_tenant("acme")
    assert tenant is not None
    assert not tenant.can_write("shared") and tenant.can_write("own")
    store.close()
    code, out, err = keys("create", "--tenant", "acme", "--bucket", "shared:rw")
    assert code == 0, err
    assert "shared, own" in out
    code, _, err = keys("create", "--tenant", "acme", "--bucket", "shared:write")
    assert code == 1 and "ro or rw" in err
