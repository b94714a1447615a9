"""Read replicas: two real `serve` processes on two files; a write on the primary reaches the replica at once,
and the replica refuses every write route."""

from __future__ import annotations

import time

import httpx
import pytest

from sovereign import clock
from tests.conftest import Cli, india_not_free_2027
from tests.test_service import Server as Serve

TOKEN = "replica-test-token"


def _metric(text: str, name: str) -> float:
    return next(float(line.split()[-1]) for line in text.splitlines() if line.startswith(name + " "))


@pytest.mark.slow
def test_a_publish_on_the_primary_reaches_the_replica_which_refuses_every_write(fresh_db, tmp_path):
    replica = tmp_path / "replica" / "replica.db"
    env = {"SOVEREIGN_REPLICAS": str(replica), "SOVEREIGN_ADMIN_TOKEN": TOKEN}
    code, out, err = Cli(fresh_db)("replicate", env=env)
    assert code == 0 and f"Pushed {fresh_db} to 1 replica(s)" in out, err
    code, out, err = Cli(fresh_db)("import", str(india_not_free_2027(tmp_path)), env=env)  # a write: pushed too
    assert code == 0, err
    anna = {"Authorization": f"Bearer {Cli(fresh_db)('tokens', 'add', 'Anna de Vries', env=env)[1].strip()}"}
    primary, copy = Serve(fresh_db, env=env), Serve(replica, "--read-only", env={
        "SOVEREIGN_ADMIN_TOKEN": TOKEN, "SOVEREIGN_KEY_FILE": str(fresh_db.parent / "sovereign.key")})  # the key kept apart
    try:
        auth = {"Authorization": f"Bearer {TOKEN}"}
        before = httpx.get(copy.url + "/api/v1/check/IN").json()
        assert before["eligible"] and before["edition"] == 2026
        assert before["pending"]["change"] == "would exclude"  # the import reached it
        published = httpx.post(primary.url + "/api/v1/admin/publish", headers=anna,
                               json={"effective_from": clock.today().isoformat(), "minutes": "RIC item 4"})
        assert published.status_code == 200, published.text
        done = time.monotonic()
        while True:
            answer = httpx.get(copy.url + "/api/v1/check/IN").json()
            if answer["list_version"] == published.json()["list_version"]:
                break
            assert time.monotonic() - done < 1.0, "the replica still answers from the old copy after a second"
            time.sleep(0.02)
        assert not answer["eligible"] and answer["edition"] == 2027
        assert answer == httpx.get(primary.url + "/api/v1/check/IN").json()
        metrics = httpx.get(copy.url + "/metrics", headers=auth).text  # a scraper with a token, as on the primary
        assert _metric(metrics, "sovereign_list_version") == published.json()["list_version"]
        assert _metric(metrics, "sovereign_read_only") == 1 and 0 <= _metric(metrics, "sovereign_copy_age_seconds") < 60
        assert _metric(httpx.get(primary.url + "/metrics", headers=auth).text, "sovereign_read_only") == 0
        # every route that is not a read is refused, a valid token or not
        schema = httpx.get(copy.url + "/openapi.json").json()
        writes = [(method.upper(), path.replace("{override_id}", "1")) for path, ops in schema["paths"].items()
                  for method in ops if method != "get" and not path.startswith(("/api/v1/screen", "/api/v1/impact"))]
        assert ("POST", "/api/v1/admin/publish") in writes and len(writes) >= 4
        for method, path in writes + [("PUT", "/api/v1/admin/overrides"), ("DELETE", "/api/v1/check/IN")]:
            refused = httpx.request(method, copy.url + path, headers=auth, json={})
            assert refused.status_code == 403, (method, path)
            assert "read-only replica" in refused.json()["detail"] and refused.headers["x-sovereign-read-only"] == "1"
            assert refused.headers["x-content-type-options"] == "nosniff"
        screened = httpx.post(copy.url + "/api/v1/screen", json={"ids": ["IN", "NL"]})
        assert screened.status_code == 200 and [r["verdict"] for r in screened.json()] == ["excluded", "eligible"]
    finally:
        primary.stop()
        copy.stop()
    assert sorted(p.name for p in replica.parent.iterdir()) == ["replica.db"]  # nothing written beside the copy


def test_a_read_only_process_opens_no_write_connection_and_a_broken_replica_is_said(fresh_db, tmp_path, monkeypatch):
    from fiw.errors import UserError
    from sovereign import replicas, store

    monkeypatch.setenv("SOVEREIGN_READ_ONLY", "1")
    with pytest.raises(UserError, match="read-only replica"), store.writer(fresh_db):
        pass
    monkeypatch.delenv("SOVEREIGN_READ_ONLY")
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    code, out, err = Cli(fresh_db)("override", "add", "IN", "--reason", "x", "--by", "RI",
                                   env={"SOVEREIGN_REPLICAS": str(blocker / "replica.db")})
    assert code == 0 and "Override 1" in out, err
    assert f"warning: replica {blocker / 'replica.db'} not updated" in err
    assert [why is None for _, why in replicas.push(fresh_db, [tmp_path / "r.db"])] == [True]
    code, _, err = Cli(fresh_db)("replicate")
    assert code == 2 and "no replicas" in err
