"""Records that cannot be rewritten unseen: list digests and the audit chain keyed with a secret kept outside
the database, so write access to the database alone cannot forge a list or the trail."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import stat
from collections.abc import Callable

from fastapi.testclient import TestClient

from sovereign import macs
from sovereign.api import create_app
from sovereign.settings import Settings
from sovereign.store import reads
from sovereign.store.schema import MIGRATIONS, statements
from tests.conftest import Cli


def unkeyed_digest(conn: sqlite3.Connection, version: int) -> None:
    """A list version's digest recomputed the way it was before digests were keyed: no key needed."""
    entries = [dict(r) for r in conn.execute(f"SELECT {', '.join(reads.ENTRY_COLUMNS)} FROM list_entries "
                                             "WHERE version_id = ?", [version])]
    conn.execute("UPDATE version_checks SET digest = ? WHERE version_id = ?", [reads.entries_check(entries), version])


def rechain(conn: sqlite3.Connection, hash_of: Callable[[str, dict], str], reason: str | None = None) -> None:
    """What a writer of the file can do to the trail: every row's hash made again with `hash_of(prev, row)` from
    the first row on, the override's reason first replaced by `reason`; the append-only guard put back after."""
    conn.execute("DROP TRIGGER audit_append_only_update")
    prev = macs.GENESIS
    for row in [dict(r) for r in conn.execute("SELECT * FROM audit ORDER BY id")]:
        if reason is not None and row["action"] == "override add":
            row["reason"] = reason
        row["prev_hash"], row["hash"] = prev, hash_of(prev, row)
        conn.execute("UPDATE audit SET reason = ?, prev_hash = ?, hash = ? WHERE id = ?",
                     [row["reason"], row["prev_hash"], row["hash"], row["id"]])
        prev = row["hash"]
    conn.execute("CREATE TRIGGER audit_append_only_update BEFORE UPDATE ON audit "
                 "BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END")


# the schema step that keyed the records (schema 11): a database "before keys" stands at the step before it
KEYS_STEP = next(i for i, script in enumerate(MIGRATIONS) if "CREATE TABLE keyring" in script)


def before_keys(conn: sqlite3.Connection) -> None:
    """The tables as the sovereign before keys left them: every digest unkeyed, no keyring, no MAC columns."""
    for version in [r[0] for r in conn.execute("SELECT id FROM list_versions")]:
        unkeyed_digest(conn, version)
    conn.execute("DROP TABLE keyring")
    for table in ("issuers", "securities", "tokens"):
        conn.execute(f"ALTER TABLE {table} DROP COLUMN mac")
    assert KEYS_STEP == len(MIGRATIONS) - 1, "a schema step came after the keys step: undo it here as well"
    conn.execute(f"PRAGMA user_version = {KEYS_STEP}")


def forge_in_force(db, version: int = 53) -> None:
    """What someone with write access to the file alone can do: re-admit TR, CN and RU in the list in force and
    recompute the digest the way it was computed before it was keyed."""
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    with conn:
        conn.execute("UPDATE list_entries SET eligible = 1, reasons = '[]' WHERE iso2 IN ('TR', 'CN', 'RU') "
                     "AND version_id = ?", [version])
        unkeyed_digest(conn, version)
    conn.close()


def test_a_list_forged_with_a_recomputed_digest_is_never_an_answer(fresh_db):
    cli = Cli(fresh_db)
    in_force = cli.json("check", "TR", "--json")[1][0]["list_version"]
    forge_in_force(fresh_db, in_force)
    code, out, err = cli("check", "TR", "CN", "RU")
    assert code == 2 and "ELIGIBLE" not in out.upper() and f"list version {in_force}" in err
    assert "does not match the digest" in err and "Traceback" not in err
    code, report = cli.json("verify", "--json")
    assert code == 1 and [v["list_version"] for v in report["tampered_versions"]] == [in_force]
    with TestClient(create_app(Settings.load(db=fresh_db))) as client:
        r = client.get("/api/v1/check/TR")
        assert r.status_code == 503 and f"list version {in_force}" in r.json()["detail"]
        assert client.get("/health").json()["status"] == "not ok"


def test_the_key_is_made_once_beside_the_database_with_mode_600(tmp_path, fresh_db):
    key = fresh_db.parent / "sovereign.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert Settings.load(db=fresh_db).key_file == key
    assert Settings.load(db=fresh_db).key_file == Settings.load(db=str(fresh_db)).key_file
    elsewhere = tmp_path / "keys" / "other.key"
    db = tmp_path / "new" / "sovereign.db"
    env = {"SOVEREIGN_KEY_FILE": str(elsewhere)}
    code, _, err = Cli(db)("refresh", env=env)
    assert code == 0, err
    assert elsewhere.exists() and stat.S_IMODE(elsewhere.stat().st_mode) == 0o600
    assert not (db.parent / "sovereign.key").exists()  # the variable names it, tests and the CLI alike
    assert Settings.load(db=db).key_file == db.parent / "sovereign.key"
    code, _, err = Cli(db)("audit", "verify")  # without the variable: the default place, which holds no key
    assert code == 2 and "sovereign.key is missing" in err
    code, out, _ = Cli(db)("audit", "verify", env=env)
    assert code == 0 and "Audit trail: OK" in out


def test_a_missing_or_wrong_key_is_an_error_never_a_new_key(fresh_db, tmp_path):
    cli = Cli(fresh_db)
    key = fresh_db.parent / "sovereign.key"
    saved = key.read_bytes()
    key.unlink()
    for args in (("check", "NL"), ("verify",), ("audit", "verify"),
                 ("override", "add", "FR", "--reason", "x", "--by", "RI")):
        code, out, err = cli(*args)
        assert code == 2 and f"key file {key} is missing" in err and "never makes a new key" in err, args
        assert not key.exists() and "Traceback" not in err
    other = tmp_path / "other" / "sovereign.key"
    other.parent.mkdir()
    other.write_text(hashlib.sha256(b"guess").hexdigest() + "\n")
    other.chmod(0o600)
    code, _, err = cli("check", "NL", env={"SOVEREIGN_KEY_FILE": str(other)})
    assert code == 2 and "but this database was keyed with key" in err
    with TestClient(create_app(Settings.load(db=fresh_db))) as client:  # the service finds it the same way
        r = client.get("/api/v1/check/NL")
        assert r.status_code == 503 and "key file" in r.json()["detail"] and not key.exists()
        assert client.get("/health").status_code == 503  # not "ok" while no answer can be given
    key.write_bytes(saved)
    key.chmod(0o644)
    code, _, err = cli("check", "NL")
    assert code == 2 and "chmod 600" in err
    key.chmod(0o600)
    assert cli("check", "NL")[0] == 0


def test_a_keyed_chain_cannot_be_rewritten_without_the_key(fresh_db):
    """Every row rewritten and re-chained with the old unkeyed hash: the keyed chain notices."""
    from sovereign.audit import chain_hash

    cli = Cli(fresh_db)
    assert cli("override", "add", "FR", "--reason", "committee decision", "--by", "RI")[0] == 0
    assert cli("audit", "verify")[0] == 0
    conn = sqlite3.connect(fresh_db)
    conn.row_factory = sqlite3.Row
    with conn:
        rechain(conn, chain_hash, reason="nothing was decided")
    conn.close()
    code, out, _ = cli("audit", "verify")
    assert code == 1 and "edited after it was recorded" in out


def old_database(fresh_db) -> None:
    """The database as the sovereign before keys wrote it: unkeyed digests, no keyring, no key file."""
    conn = sqlite3.connect(fresh_db)
    conn.row_factory = sqlite3.Row
    with conn:
        conn.execute("DROP TRIGGER audit_append_only_update")
        conn.execute("DROP TRIGGER audit_append_only_delete")
        conn.execute("DELETE FROM audit")
        before_keys(conn)
    conn.close()
    (fresh_db.parent / "sovereign.key").unlink()


def test_an_older_database_is_rekeyed_as_found_and_says_so(fresh_db):
    old_database(fresh_db)
    conn = sqlite3.connect(fresh_db)
    with conn:  # a list edited before the upgrade is not taken as found
        conn.execute("UPDATE list_entries SET eligible = 1 WHERE iso2 = 'CN' AND version_id = 2")
    conn.close()
    cli = Cli(fresh_db)
    code, out, err = cli("override", "add", "FR", "--reason", "committee decision", "--by", "RI")
    assert code == 0, err
    key = fresh_db.parent / "sovereign.key"
    assert key.exists() and stat.S_IMODE(key.stat().st_mode) == 0o600
    code, trail = cli.json("audit", "--format", "json")
    rekey = next(r for r in trail if r["action"] == "rekey")
    assert rekey["details"]["versions_refused"] == [2] and 53 in rekey["details"]["versions_rekeyed"]
    assert "list versions 2 did not match their digest" in rekey["reason"]
    code, out, _ = cli("audit", "verify")
    assert code == 0 and "Audit trail: OK" in out
    code, report = cli.json("verify", "--json")
    assert code == 1 and [v["list_version"] for v in report["tampered_versions"]] == [2]
    assert cli("check", "TR")[0] == 1


def test_records_stripped_of_their_key_record_are_not_rekeyed_as_found(fresh_db):
    """Someone who can write the file removes the keyring and recomputes unkeyed digests: with the key file
    present, nothing is re-keyed as found; lookups and writes refuse."""
    forge_in_force(fresh_db)
    conn = sqlite3.connect(fresh_db)
    with conn:
        conn.execute("DELETE FROM keyring")
    conn.close()
    cli = Cli(fresh_db)
    code, _, err = cli("override", "add", "FR", "--reason", "x", "--by", "RI")
    assert code == 2 and "not keyed" in err and "already exists" in err
    code, out, err = cli("check", "TR")
    assert code == 2 and "no record of the key" in err
    conn = sqlite3.connect(fresh_db)
    assert conn.execute("SELECT COUNT(*) FROM keyring").fetchone()[0] == 0
    conn.close()


def test_a_new_database_records_its_key_in_the_trail(tmp_path):
    db = tmp_path / "sovereign.db"
    conn = sqlite3.connect(db)
    for script in MIGRATIONS:
        for statement in statements(script):
            conn.execute(statement)
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS)}")
    conn.commit()
    conn.close()
    cli = Cli(db)
    code, _, err = cli("tokens", "add", "Anna de Vries")
    assert code == 0, err
    code, trail = cli.json("audit", "--format", "json")
    assert [r["action"] for r in trail] == ["key", "person add", "token add"]  # a token holder is a person
    assert json.dumps(trail).count((tmp_path / "sovereign.key").read_text().strip()) == 0  # the key is not in it


def head_in(text: str) -> str:
    import re

    return re.search(r"Audit trail head ([0-9a-f]{64})", text).group(1)


def test_the_head_and_the_list_digest_are_printed_outside_and_checked_against(fresh_db, tmp_path):
    cli = Cli(fresh_db)
    log = tmp_path / "sovereign.log"
    code, _, err = cli("--log-file", str(log), "override", "add", "FR", "--reason", "committee decision", "--by", "RI")
    assert code == 0, err
    logged = [line for line in log.read_text().splitlines() if "audit trail head" in line]
    assert len(logged) == 1 and "(override add: override 1: FR)" in logged[0]
    public = tmp_path / "list.csv"
    assert cli("exclusion-list", "--lang", "en", "-o", str(public))[0] == 0
    printed = public.read_text(encoding="utf-8-sig")
    head = head_in(printed)
    assert logged[0].endswith(head)
    version, digest = __import__("re").search(r"list version (\d+) digest \d+:([0-9a-f]{64})", printed).groups()
    pack = tmp_path / "pack.html"
    assert cli("report", "-o", str(pack))[0] == 0
    assert head in pack.read_text(encoding="utf-8") and digest in pack.read_text(encoding="utf-8")
    code, out, _ = cli("audit", "verify", "--head", head)
    assert code == 0 and "the anchor is row" in out
    assert cli("verify", "--digest", f"{version}:{digest[:16]}")[0] == 0
    assert cli("override", "add", "IN", "--reason", "later decision", "--by", "RI")[0] == 0
    code, out, _ = cli("audit", "verify", "--head", head[:16])
    assert code == 0 and "1 row(s) recorded since" in out
    code, _, err = cli("audit", "verify", "--head", "not-a-head")
    assert code == 2 and "expected the chain head as printed" in err

    # The last rows removed, the anchored one among them: the chain that is left is whole, the anchor is not in it
    conn = sqlite3.connect(fresh_db)
    with conn:
        conn.execute("DROP TRIGGER audit_append_only_delete")
        conn.execute("DELETE FROM audit WHERE id >= (SELECT MAX(id) - 1 FROM audit)")
    conn.close()
    code, out, _ = cli("audit", "verify", "--head", head)
    assert code == 1 and f"the anchored head {head[:16]} is not in the audit trail" in out
    code, out, _ = cli("audit", "verify")
    assert code == 1 and "have no row in the audit trail (override add 1, 2" in out


def test_a_chain_rewritten_whole_with_the_key_is_caught_against_the_anchor(fresh_db):
    """What a holder of both the key and the file can do: rewrite and re-chain every row. Only an anchor printed
    before the rewrite catches it; so does a list digest printed before the list was rewritten."""
    from sovereign import keys
    from sovereign.audit import row_hash
    from sovereign.store import writes

    cli = Cli(fresh_db)
    assert cli("override", "add", "FR", "--reason", "committee decision", "--by", "RI")[0] == 0
    head = cli("audit", "verify")[1].split("Head ")[1].strip(". \n")
    version = cli.json("check", "TR", "--json")[1][0]["list_version"]
    digest = reads.version_check(sqlite3.connect(fresh_db), version)
    key = keys.load(fresh_db.parent / "sovereign.key")
    conn = sqlite3.connect(fresh_db)
    conn.row_factory = sqlite3.Row
    with conn:
        rechain(conn, lambda prev, row: row_hash(key, prev, row["id"], row), reason="nothing was decided")
    conn.close()
    forge_in_force(fresh_db, version)
    with __import__("sovereign").store.writer(fresh_db) as db, db.atomic():
        writes._prove(db, version)  # the holder of the key re-proves the forged list too
    assert cli("audit", "verify")[0] == 0 and cli("check", "TR")[0] == 0  # nothing inside the file can tell
    code, out, _ = cli("audit", "verify", "--head", head)
    assert code == 1 and "is not in the audit trail" in out
    code, out, _ = cli("verify", "--digest", f"{version}:{digest}")
    assert code == 1 and f"list version {version} is not the list whose digest was printed" in out


def test_decisions_in_force_without_a_row_in_the_trail_fail_audit_verify(fresh_db):
    conn = sqlite3.connect(fresh_db)
    with conn:
        conn.execute("DROP TRIGGER audit_append_only_delete")
        conn.execute("DELETE FROM audit WHERE action NOT IN ('key')")
    conn.close()
    code, out, _ = Cli(fresh_db)("audit", "verify")
    published = sqlite3.connect(fresh_db).execute("SELECT COUNT(*) FROM list_versions WHERE state = 'published'")
    assert code == 1 and f"{published.fetchone()[0]} decision(s) in the database have no row in the audit trail" in out


def test_verify_compares_stored_scores_with_the_archived_payloads(fresh_db, tmp_path):
    cli = Cli(fresh_db)
    assert cli("refresh")[0] == 0  # the bundled payload archived beside this copy
    conn = sqlite3.connect(fresh_db)
    name, total, cl = conn.execute("SELECT fh_name, total, cl FROM scores WHERE iso2 = 'TR' AND edition = 2026").fetchone()
    with conn:  # the scores rewritten to agree with themselves: FH's rules alone cannot tell
        conn.execute("UPDATE scores SET total = 80, pr = 35, cl = 45, pr_rating_pub = 1, cl_rating_pub = 2, "
                     "pr_rating_calc = 1, cl_rating_calc = 2, pr_rating = 1, cl_rating = 2, status_pub = 'F', "
                     "status_calc = 'F', status = 'F' WHERE iso2 = 'TR' AND edition = 2026")
    conn.close()
    code, report = cli.json("verify", "--json")
    assert code == 1 and not report["errors"]
    rows = {(r["edition"], r["fh_name"], r["field"]): (r["stored"], r["payload"]) for r in report["archive"]["contradicted"]}
    assert rows[(2026, name, "total")] == ("80", str(total)) and rows[(2026, name, "status")][0] == "F"
    code, out, _ = cli("verify")
    assert code == 1 and f"2026 {name} cl stored 45, payload {cl}" in out
    assert "contradicted by the archived FH payload" in out

    archived = next((fresh_db.parent / "archive").iterdir())
    original = archived.read_bytes()
    archived.write_bytes(original.replace(b",NF,", b",PF,", 1))
    assert archived.read_bytes() != original
    code, out, _ = cli("verify")
    assert code == 1 and f"archived as {archived}" in out and "sha256 no longer matches" in out, out


# ---- backup and restore ----

def rewrite_backup(folder, change) -> None:
    """What someone with write access to the backups can do: change the copy and recompute backup.json's hash."""
    copy = folder / "sovereign.db"
    conn = sqlite3.connect(copy)
    conn.row_factory = sqlite3.Row
    with conn:
        change(conn)
    conn.close()
    manifest = json.loads((folder / "backup.json").read_text())
    manifest["sha256"] = hashlib.sha256(copy.read_bytes()).hexdigest()
    (folder / "backup.json").write_text(json.dumps(manifest))


def test_a_restore_is_verified_whole_recorded_and_keeps_what_it_replaced(fresh_db, tmp_path):
    from tests.conftest import db_fingerprint

    cli = Cli(fresh_db)
    assert cli("refresh")[0] == 0  # the payload archive beside this database, brought into the backup
    backup = tmp_path / "backups" / "b1"
    assert cli("backup", str(backup))[0] == 0
    assert cli("override", "add", "IN", "--reason", "after the backup", "--by", "RI")[0] == 0
    assert cli("override", "add", "FR", "--reason", "after the backup too", "--by", "RI")[0] == 0
    before = db_fingerprint(fresh_db)
    code, out, err = cli("restore", str(backup), "--yes")
    assert code == 0, err
    assert "rolled back: override add 1, 2" in out and "verified whole first" in out
    kept = list(backup.glob("replaced-*-sovereign.db"))
    assert len(kept) == 1 and db_fingerprint(kept[0]) == before and f"kept as {kept[0]}" in out
    assert cli.json("check", "IN", "--json")[1][0]["verdict"] == "eligible"
    code, runs = cli.json("runs", "--format", "json")
    assert runs[-1]["what"] == "restore" and "rolled back: override add 1, 2" in runs[-1]["message"]
    code, out, _ = cli("audit", "verify")
    assert code == 0 and "Audit trail: OK" in out
    code, trail = cli.json("audit", "--format", "json")
    record = trail[-1]
    assert record["action"] == "restore" and record["actor"] and record["details"]["backup"] == str(backup)
    assert record["details"]["rolled_back"] == {"override add": [1, 2]}
    assert record["details"]["kept_as"] == str(kept[0]) and record["details"]["made_at"]


def test_a_backup_rewritten_consistently_or_failing_its_digests_is_refused(fresh_db, tmp_path):
    from tests.conftest import db_fingerprint

    cli = Cli(fresh_db)
    assert cli("override", "add", "IN", "--reason", "live decision", "--by", "RI")[0] == 0
    backup = tmp_path / "b"
    assert cli("backup", str(backup))[0] == 0
    before = db_fingerprint(fresh_db)
    version = cli.json("check", "TR", "--json")[1][0]["list_version"]

    def readmit(conn):  # entries changed and the unkeyed digest recomputed, backup.json's hash too
        conn.execute("UPDATE list_entries SET eligible = 1 WHERE iso2 = 'TR' AND version_id = ?", [version])
        entries = [dict(r) for r in conn.execute(f"SELECT {', '.join(reads.ENTRY_COLUMNS)} FROM list_entries "
                                                 "WHERE version_id = ?", [version])]
        conn.execute("UPDATE version_checks SET digest = ? WHERE version_id = ?", [reads.entries_check(entries), version])

    rewrite_backup(backup, readmit)
    code, _, err = cli("restore", str(backup), "--yes")
    assert code == 2 and "fails verification, so nothing was replaced" in err
    assert f"list version {version} does not match its digest" in err and "Traceback" not in err
    assert db_fingerprint(fresh_db) == before and not list(backup.glob("replaced-*"))
    assert not list(fresh_db.parent.glob(".sovereign.db.restoring*"))
    assert cli.json("check", "IN", "--json")[1][0]["verdict"] == "excluded"  # the live decision stands

    backup2 = tmp_path / "b2"
    assert cli("backup", str(backup2))[0] == 0
    rewrite_backup(backup2, lambda conn: conn.execute("UPDATE list_entries SET eligible = 1 WHERE iso2 = 'CN'"))
    code, _, err = cli("restore", str(backup2), "--yes")
    assert code == 2 and "does not match its digest" in err and db_fingerprint(fresh_db) == before


def test_a_foreign_file_is_never_restored(fresh_db, tmp_path):
    from tests.conftest import db_fingerprint

    cli = Cli(fresh_db)
    before = db_fingerprint(fresh_db)
    folder = tmp_path / "foreign"
    folder.mkdir()
    other = sqlite3.connect(folder / "sovereign.db")  # another application's database, user_version and all
    other.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
    other.execute(f"PRAGMA user_version = {len(MIGRATIONS)}")
    other.commit()
    other.close()
    digest = hashlib.sha256((folder / "sovereign.db").read_bytes()).hexdigest()
    (folder / "backup.json").write_text(json.dumps({"sha256": digest, "made_at": "2026-01-01"}))
    code, _, err = cli("restore", str(folder), "--yes")
    assert code == 2 and "not a sovereign database of a known schema" in err
    (folder / "sovereign.db").write_bytes(b"name,iso2\nTurkey,TR\n")
    digest = hashlib.sha256((folder / "sovereign.db").read_bytes()).hexdigest()
    (folder / "backup.json").write_text(json.dumps({"sha256": digest, "made_at": "2026-01-01"}))
    code, _, err = cli("restore", str(folder), "--yes")
    assert code == 2 and "not a SQLite database" in err
    assert db_fingerprint(fresh_db) == before and not list(folder.glob("replaced-*"))


def test_a_backup_from_before_keys_is_restored_only_as_found_and_says_so(fresh_db, tmp_path):
    from sovereign.audit import chain_hash

    cli = Cli(fresh_db)
    backup = tmp_path / "old-backup"
    assert cli("backup", str(backup))[0] == 0

    def unkeyed(conn):
        before_keys(conn)
        rechain(conn, chain_hash)  # the chain as it was

    rewrite_backup(backup, unkeyed)
    code, _, err = cli("restore", str(backup), "--yes")
    assert code == 2 and "taken before its digests were keyed" in err and "--as-found" in err
    code, out, err = cli("restore", str(backup), "--yes", "--as-found")
    assert code == 0, err
    code, trail = cli.json("audit", "--format", "json")
    assert [r["action"] for r in trail][-2:] == ["rekey", "restore"]
    assert trail[-2]["reason"].startswith("a backup restored by an operator")
    assert trail[-1]["details"]["taken_as_found"] is True and "taken as found" in trail[-1]["reason"]
    assert cli("audit", "verify")[0] == 0 and cli("check", "TR")[0] == 1


def test_any_single_change_to_a_list_or_its_decision_fails_its_digest(fresh_db):
    """Property: whichever entry, column or decision field is changed, to whatever value, the version no longer
    proves itself (checked inside a transaction that is rolled back, so every example starts clean)."""
    from hypothesis import HealthCheck, given, reject, settings
    from hypothesis import strategies as st

    conn = sqlite3.connect(fresh_db, isolation_level=None)
    conn.row_factory = sqlite3.Row
    version = dict(reads.version(conn, 53))
    assert reads.version_matches(conn, version)
    entities = [r[0] for r in conn.execute("SELECT entity FROM list_entries WHERE version_id = 53")]
    canonical = reads.canonical(reads.entries(conn, 53))
    values = st.one_of(st.none(), st.integers(-1, 100), st.text(max_size=12), st.sampled_from(["F", "PF", "NF", "[]"]))

    @settings(max_examples=80, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.sampled_from(entities), st.sampled_from([c for c in reads.ENTRY_COLUMNS if c != "entity"]), values,
           st.sampled_from(["effective_from", "state", "approved_by", "edition"]), values, st.booleans())
    def changed(entity, column, value, field, other, in_entries):
        conn.execute("BEGIN")
        try:
            if in_entries:
                try:
                    conn.execute(f"UPDATE list_entries SET {column} = ? WHERE version_id = 53 AND entity = ?",
                                 [value, entity])
                except sqlite3.IntegrityError:
                    reject()  # the schema refuses it anyway (a NOT NULL column)
                same = reads.canonical(reads.entries(conn, 53)) == canonical
                row = version
            else:
                same = other == version[field]
                row = version | {field: other}
            assert reads.version_matches(conn, row) == same
        finally:
            conn.execute("ROLLBACK")

    try:
        changed()
    finally:
        conn.close()


def test_the_register_cannot_be_rewritten_to_admit_a_not_free_sovereign(desk):
    """Turkey's bond tied to Germany's issuer, or Turkey's issuer moved to Germany, with SQL alone: no answer."""
    assert desk.json("check", "US900123AB18", "--json")[1][0]["verdict"] == "excluded"
    conn = sqlite3.connect(desk.db)
    with conn:
        conn.execute("UPDATE securities SET issuer_id = (SELECT id FROM issuers WHERE lei = 'DEFINANZAGSMPL000024') "
                     "WHERE isin = 'US900123AB18'")
    conn.close()
    code, out, err = desk("check", "US900123AB18")
    assert code == 2 and "ELIGIBLE" not in out.upper() and "ISIN US900123AB18 and its issuer" in err
    with TestClient(create_app(Settings.load(db=desk.db))) as client:
        assert client.get("/api/v1/check/US900123AB18").status_code == 503
    conn = sqlite3.connect(desk.db)
    with conn:
        conn.execute("UPDATE securities SET issuer_id = (SELECT id FROM issuers WHERE lei = 'TRHAZINESMPL00000012') "
                     "WHERE isin = 'US900123AB18'")  # put back as it was: proved again
    assert desk.json("check", "US900123AB18", "--json")[1][0]["verdict"] == "excluded"
    with conn:
        conn.execute("UPDATE issuers SET iso2 = 'DE' WHERE lei = 'TRHAZINESMPL00000012'")
    conn.close()
    code, out, err = desk("check", "XS2100000012")
    assert code == 2 and "ELIGIBLE" not in out.upper() and "changed outside sovereign" in err


def test_an_admin_token_written_or_unrevoked_with_sql_authenticates_nobody(fresh_db):
    cli = Cli(fresh_db)
    anna = cli("tokens", "add", "Anna")[1].strip()
    body = {"country": "FR", "reason": "committee decision"}
    with TestClient(create_app(Settings.load(db=fresh_db))) as client:
        assert client.post("/api/v1/admin/overrides", json=body,
                           headers={"Authorization": f"Bearer {anna}"}).status_code == 200
    assert cli("tokens", "revoke", "Anna")[0] == 0
    conn = sqlite3.connect(fresh_db)
    with conn:
        conn.execute("UPDATE tokens SET revoked_at = NULL")  # un-revoked
        conn.execute("INSERT INTO tokens (person, hash, created_at) VALUES ('Mallory', ?, '2026-01-01')",
                     [hashlib.sha256(b"mallory").hexdigest()])  # planted
    conn.close()
    with TestClient(create_app(Settings.load(db=fresh_db))) as client:
        for token in (anna, "mallory"):
            r = client.post("/api/v1/admin/overrides", json=body, headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 401, token
