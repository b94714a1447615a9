"""What the command line says when something is off: the words name what is wrong, once."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from tests.conftest import Cli


@pytest.mark.parametrize("value,words", [
    ("2025-02-30", "that day does not exist: February 2025 has 28 days"),
    ("2024-02-30", "that day does not exist: February 2024 has 29 days"),
    ("2025-04-31", "that day does not exist: April 2025 has 30 days"),
    ("2025-13-01", "that day does not exist: there is no month 13"),
    ("0000-01-01", "that day does not exist: there is no year 0"),
    ("30-02-2025", "expected a date as YYYY-MM-DD"),
    ("yesterday", "expected a date as YYYY-MM-DD"),
])
def test_a_date_that_does_not_exist_is_said_so(cli, value, words):
    code, out, err = cli("check", "NL", "--as-of", value)
    assert code == 2 and out == ""
    assert err == f"error: --as-of {value!r}: {words}\n"


def test_a_folder_given_as_the_database_is_named_a_folder(tmp_path):
    for args in (("check", "NL"), ("refresh", "--source", "bundled"), ("versions",)):
        code, out, err = Cli(tmp_path)(*args)
        assert code == 2 and "disk I/O" not in err and "unable to open" not in err
        assert err == f"error: {tmp_path} is a folder, not a database file: give the file (--db or SOVEREIGN_DB), " \
                      f"such as {tmp_path / 'sovereign.db'}\n"
    assert list(tmp_path.iterdir()) == []


def test_a_refused_connection_is_called_refused_and_said_once(fresh_db):
    with socket.socket() as s:  # a port that was free a moment ago: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code, out, err = Cli(fresh_db)("refresh", "--source", "web", "--base-url", f"http://127.0.0.1:{port}",
                                   "--min-interval", "0", "--timeout", "5")
    assert code == 2
    assert "connection refused" in err and "timeout" not in err
    assert err.count("refused") == 1, err


@pytest.mark.parametrize("args", [("list",), ("list", "--format", "json"), ("check", "NL", "TR"), ("audit",),
                                  ("history", "CN", "--format", "csv"), ("runs",), ("check", "NL", "--format", "csv")])
def test_output_into_a_reader_that_has_gone_ends_quietly(loaded_db, args):
    """`sovereign list | head -1`, with the reader gone before the first line is written."""
    proc = subprocess.Popen([sys.executable, "-m", "sovereign", "--db", str(loaded_db), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(30) == 141 and err == ""  # as a shell tool stopped by SIGPIPE: no traceback, no message
