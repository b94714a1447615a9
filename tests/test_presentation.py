"""Every command that prints rows, in every format: read back with readers of our own choosing (the csv module,
json, openpyxl), never with the code that wrote them."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sovereign.cells import neutral
from tests.conftest import Cli, copy_db

FORMULA = '=HYPERLINK("http://attacker.example/x","Details")'
ISSUER = "@SUM(1+1) Funding Agency"

# (arguments, the columns of its CSV and XLSX); None: every key of the rows, as `history` gives them
COMMANDS = {
    "list": (("list", "--excluded"), "iso2"),
    "check": (("check", "NL", "TR", "CN"), "query"),
    "history": (("history", "Hong Kong"), "edition"),
    "versions": (("versions",), "version"),
    "runs": (("runs",), "when"),
    "override list": (("override", "list"), "id"),
    "issuers list": (("issuers", "list"), "name"),
    "people list": (("people", "list"), "name"),
    "tokens list": (("tokens", "list"), "id"),
    "audit": (("audit",), "id"),
}
ROW_CODES = {"check": {1}}  # TR and CN are excluded: exit 1 whatever the format


@pytest.fixture(scope="module")
def books(tmp_path_factory, loaded_db) -> Cli:
    """A database whose every listing has rows, one of them text a spreadsheet would run."""
    from sovereign import paths

    cli = Cli(copy_db(loaded_db, tmp_path_factory.mktemp("present") / "sovereign.db"))
    for args in (("issuers", "import", str(paths.ISSUERS)),
                 ("issuers", "add", ISSUER, "--country", "RU", "--type", "agency"),
                 ("override", "add", "CN", "--reason", FORMULA, "--by", "Committee chair"),
                 ("people", "add", "Anna de Vries", "--email", "anna@example.nl", "--role", "committee"),
                 ("tokens", "add", "Anna de Vries")):
        code, _, err = cli(*args)
        assert code == 0, err
    return cli


def _json_rows(cli: Cli, name: str) -> list[dict]:
    args, _ = COMMANDS[name]
    code, out, err = cli(*args, "--format", "json")
    assert code in ROW_CODES.get(name, {0}), err
    rows = json.loads(out)
    assert rows, f"{name}: the fixture should give rows"
    return rows


@pytest.mark.parametrize("name", COMMANDS)
def test_each_row_command_in_each_format_reads_back_with_the_same_rows(books, tmp_path, name):
    args, first = COMMANDS[name]
    expected = _json_rows(books, name)
    ok = ROW_CODES.get(name, {0})

    code, out, err = books(*args, "--format", "csv")
    assert code in ok, err
    read = list(csv.reader(io.StringIO(out)))
    header, body = read[0], read[1:]
    assert header[0] == first and len(body) == len(expected) and {len(r) for r in body} == {len(header)}
    assert [r[0] for r in body] == ["" if e.get(first) is None else str(neutral(e[first])) for e in expected]

    code, out, err = books(*args)  # the default: the table people read (audit's default stays CSV)
    assert code in ok, err
    assert out.strip()

    for suffix in (".csv", ".json", ".xlsx", ".txt"):
        path = tmp_path / f"{name.replace(' ', '-')}{suffix}"
        code, out, err = books(*args, "-o", str(path))
        assert code in ok, err
        assert f"Wrote {path}" in err and path.is_file() and not list(tmp_path.glob(".*.partial"))
        if suffix == ".csv":
            with path.open(encoding="utf-8-sig", newline="") as f:  # a file people open: BOM for Excel
                back = list(csv.reader(f))
            assert back[0] == header and len(back) == len(expected) + 1
        elif suffix == ".json":
            assert json.loads(path.read_text(encoding="utf-8")) == expected
        elif suffix == ".xlsx":
            sheet = openpyxl.load_workbook(path).worksheets[0]
            cells = [[c.value for c in row] for row in sheet.iter_rows()]
            assert cells[0] == header and len(cells) == len(expected) + 1
            assert sheet.freeze_panes == "A2"
        else:
            assert path.read_text(encoding="utf-8").strip()


def test_csv_and_xlsx_carry_formula_text_as_text(books, tmp_path):
    """What the committee or an issuer register typed reaches a spreadsheet as text, in both formats, from the
    list of overrides and the issuer register alike."""
    for args, column, text in ((("override", "list"), "reason", FORMULA), (("issuers", "list"), "name", ISSUER)):
        code, out, err = books(*args, "--format", "csv")
        assert code == 0, err
        cells = [r[column] for r in csv.DictReader(io.StringIO(out))]
        assert "'" + text in cells and text not in cells
        path = tmp_path / f"{args[0]}.xlsx"
        code, _, err = books(*args, "-o", str(path))
        assert code == 0, err
        sheet = openpyxl.load_workbook(path).worksheets[0]
        at = [c.value for c in sheet[1]].index(column)
        found = [row[at] for row in sheet.iter_rows(min_row=2)]
        assert "'" + text in [c.value for c in found]
        assert all(c.data_type != "f" for c in found)
    code, out, _ = books("override", "list", "--format", "json")  # JSON is data, not a sheet: as typed
    assert json.loads(out)[-1]["reason"] == FORMULA


def test_a_workbook_keeps_numbers_and_dates_typed(books, tmp_path):
    path = tmp_path / "versions.xlsx"
    assert books("versions", "-o", str(path))[0] == 0
    sheet = openpyxl.load_workbook(path).worksheets[0]
    header = [c.value for c in sheet[1]]
    first = {h: c for h, c in zip(header, sheet[2], strict=True)}
    assert isinstance(first["edition"].value, int) and isinstance(first["eligible"].value, int)
    assert first["effective_from"].is_date and first["effective_from"].value == datetime(1973, 2, 28)
    assert first["recorded"].is_date  # a moment: date and time, in UTC
    path = tmp_path / "list.xlsx"
    assert books("list", "-o", str(path))[0] == 0
    sheet = openpyxl.load_workbook(path).worksheets[0]
    header = [c.value for c in sheet[1]]
    row = {h: c.value for h, c in zip(header, next(sheet.iter_rows(min_row=2)), strict=True)}
    assert isinstance(row["total"], int) and isinstance(row["eligible"], bool)


@pytest.mark.parametrize(("args", "said"), [
    (("list", "-o", "x.json", "--format", "csv"), "is a JSON file, but --format csv was given"),
    (("runs", "-o", "x.csv", "--format", "xlsx"), "is a CSV file, but --format xlsx was given"),
    (("check", "NL", "--json", "-o", "x.csv"), "is a CSV file, but --format json was given"),
    (("history", "NL", "--json", "--format", "csv"), "--json and --format csv disagree"),
    (("people", "list", "-o", "x.dat"), "expected a file ending in .txt, .csv, .json, .xlsx"),
    (("audit", "--format", "xlsx"), "--format xlsx needs -o FILE.xlsx"),
    (("diff", "-o", "x.xlsx", "--format", "md"), "is an XLSX workbook, but --format md was given"),
    (("diff", "-o", "x.csv"), "expected a file ending in .json, .xlsx, .md, .html"),
    (("impact", "book.csv", "--value-column", "Value", "-o", "x.html", "--format", "json"),
     "is an HTML page, but --format json was given"),
    (("export", "restricted", "-o", "r.csv", "--format", "xlsx"), "is a CSV file, but --format xlsx was given"),
])
def test_a_suffix_that_contradicts_the_format_is_refused_and_nothing_is_written(cli, tmp_path, monkeypatch, args,
                                                                                 said):
    monkeypatch.chdir(tmp_path)
    code, out, err = cli(*args)
    assert code == 2 and said in err and "Traceback" not in err and out == ""
    assert not list(tmp_path.iterdir())


def test_a_report_takes_its_format_from_the_suffix(cli, tmp_path):
    """`diff -o changes.xlsx` is a workbook, not Markdown in a file called .xlsx."""
    path = tmp_path / "changes.xlsx"
    code, _, err = cli("diff", "--from", "2025", "--to", "2026", "-o", str(path))
    assert code == 0, err
    assert f"Wrote {path}" in err
    book = openpyxl.load_workbook(path)
    assert "Summary" in book.sheetnames and book["Summary"]["A1"].value == "What"
    path = tmp_path / "changes.json"
    code, _, err = cli("diff", "--from", "2025", "--to", "2026", "-o", str(path))
    assert code == 0, err
    assert json.loads(path.read_text(encoding="utf-8"))["to"]["edition"] == 2026


def test_the_old_spellings_still_answer(cli):
    assert cli.json("check", "NL", "--json")[1][0]["verdict"] == "eligible"
    assert cli.json("history", "NL", "--json")[1] == cli.json("history", "NL", "--format", "json")[1]
    code, out, _ = cli("audit")
    assert code == 0 and out.startswith("id,recorded_at,actor,action")  # `audit > trail.csv` as before


TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30)


@pytest.mark.pure
@given(st.lists(st.lists(st.one_of(TEXT, st.integers(), st.floats(allow_nan=False), st.none()), min_size=3,
                         max_size=3), max_size=6))
def test_csv_holds_every_cell_and_no_cell_a_spreadsheet_would_run(rows):
    from sovereign.cells import NUMBER, TRIGGERS
    from sovereign.present import csv_text

    back = list(csv.reader(io.StringIO(csv_text(["a", "b", "c"], rows), newline="")))
    assert back[0] == ["a", "b", "c"] and len(back) == len(rows) + 1
    for row, read in zip(rows, back[1:], strict=True):
        assert read == ["" if v is None else str(neutral(v)) for v in row]
        for v, cell in zip(row, read, strict=True):
            if isinstance(v, str):
                assert not cell.startswith(TRIGGERS) or NUMBER.match(cell.strip())


@pytest.mark.pure
@given(st.lists(st.text(st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from("\t\r=+-@"),
                        min_size=1, max_size=20), min_size=1, max_size=6))
def test_a_workbook_holds_text_as_text(tmp_path_factory, texts):
    """Every text as text (a carriage return comes back as a line feed: XML's own rule for line ends)."""
    from sovereign.present import write_xlsx

    path = tmp_path_factory.mktemp("wb") / "t.xlsx"
    write_xlsx(path, "t", ["text"], [{"text": t} for t in texts])
    cells = list(openpyxl.load_workbook(path).worksheets[0].iter_rows(min_row=2))
    assert len(cells) == len(texts)
    for t, (cell,) in zip(texts, cells, strict=True):
        assert cell.data_type != "f" and cell.value == neutral(t).replace("\r\n", "\n").replace("\r", "\n")


def test_a_file_named_by_its_suffix_keeps_its_folder_clean_when_the_folder_is_missing(cli, tmp_path):
    path = tmp_path / "no" / "such" / "folder" / "runs.csv"
    code, out, err = cli("runs", "-o", str(path))
    assert code == 2 and "cannot write" in err and "Wrote" not in err and not path.parent.exists()


@pytest.mark.pure
def test_a_cell_longer_than_a_spreadsheet_holds_is_refused_not_cut(tmp_path):
    from fiw.errors import UserError
    from sovereign.present import MAX_CELL, write_xlsx

    with pytest.raises(UserError, match=r"row 2, reason: 32,768 characters"):
        write_xlsx(tmp_path / "t.xlsx", "t", ["id", "reason"], [{"id": 1, "reason": "ok"},
                                                                {"id": 2, "reason": "x" * (MAX_CELL + 1)}])
