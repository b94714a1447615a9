"""The yearly public list: the countries whose government bonds we exclude, in Dutch or English, with the
basis of each exclusion, the dates, and Freedom House's credit. FH's status words stay FH's in both."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

from fiw import words
from fiw.errors import UserError
from sovereign import lookup, paths
from sovereign.store import reads
from sovereign.store.reads import Connection

TEXT = {
    "en": {
        "title": "Countries excluded from our government bond investments",
        "intro": "We do not lend to governments that do not respect basic political rights and civil liberties. "
                 "We exclude the bonds of every country that Freedom House rates Not Free in its annual report "
                 "Freedom in the World, and of countries our responsible-investment committee excludes.",
        "effective": "In force from", "approved": "Approved", "edition": "Based on",
        "country": "Country", "basis": "Basis", "fh": "Rated Not Free by Freedom House", "committee":
        "Excluded by our responsible-investment committee", "count": "{n} countries",
        "lang": "en",
    },
    "nl": {
        "title": "Landen waarvan wij geen staatsobligaties kopen",
        "intro": "Wij lenen niet aan overheden die de politieke rechten en burgerlijke vrijheden van hun burgers "
                 "niet respecteren. Wij sluiten de obligaties uit van ieder land dat Freedom House in zijn "
                 "jaarlijkse rapport Freedom in the World als Not Free beoordeelt, en van landen die onze "
                 "commissie verantwoord beleggen uitsluit.",
        "effective": "Van kracht vanaf", "approved": "Goedgekeurd", "edition": "Gebaseerd op",
        "country": "Land", "basis": "Grond", "fh": "Door Freedom House beoordeeld als Not Free", "committee":
        "Uitgesloten door onze commissie verantwoord beleggen", "count": "{n} landen",
        "lang": "nl",
    },
}


def country_names(language: str) -> dict[str, str]:
    with open(paths.COUNTRY_NAMES, newline="", encoding="utf-8") as f:
        return {r["iso2"]: r[language] for r in csv.DictReader(f) if r[language]}


def build(conn: Connection, language: str, edition: int | None = None) -> dict:
    """The published list of an edition (default: the one in force today), its exclusions named in
    `language`, sorted as a reader of that language looks them up."""
    if language not in TEXT:
        raise UserError(f"--lang {language!r}: expected nl or en")
    version = lookup.pick_version(conn, edition, None)
    on = date.fromisoformat(version["effective_from"]) if edition else date.today()
    names = country_names(language)
    listed = max(on, date.fromisoformat(version["effective_from"]))
    override_from = {o["iso2"]: o["valid_from"] for o in reads.active_overrides(conn, listed.isoformat())}
    rows = []
    for entry in lookup.list_entries(conn, version, max(on, date.fromisoformat(version["effective_from"])),
                                     excluded_only=True):
        if entry["kind"] != "country":
            continue  # the list names countries; territories are judged in the desk's answers
        committee = [r for r in entry["reasons"] if r.startswith("Excluded by committee override")]
        basis = []
        if entry["status"] in ("NF",) or not committee:
            basis.append(f"{TEXT[language]['fh']} ({words.title(version['edition'])})")
        basis += [f"{TEXT[language]['committee']}: {r.split('): ', 1)[-1]}" for r in committee]
        by_fh = entry["status"] == "NF" or not committee  # in force with the list; an override from its own date
        since = version["effective_from"] if by_fh else max(version["effective_from"],
                                                             override_from.get(entry["iso2"], ""))
        rows.append({"iso2": entry["iso2"], "country": names.get(entry["iso2"], entry["name"]), "basis": basis,
                     "effective_from": since})
    rows.sort(key=lambda r: r["country"].casefold())
    return {"text": TEXT[language], "version": version["id"], "edition": version["edition"],
            "effective_from": version["effective_from"], "approved": (version["published_at"] or "")[:10],
            "attribution": words.attribution(version["edition"]), "rows": rows}


def to_csv(result: dict) -> str:
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n")
    t = result["text"]
    out.writerow(["iso2", t["country"], t["basis"], t["effective"], t["edition"]])
    for r in result["rows"]:
        out.writerow([r["iso2"], r["country"], "; ".join(r["basis"]), r["effective_from"],
                      words.title(result["edition"])])
    out.writerow([])
    out.writerow([result["attribution"]])
    return buf.getvalue()


def to_html(result: dict) -> str:
    from sovereign.templating import environment

    env = environment()
    return env.get_template("exclusion_list.html.j2").render(r=result, t=result["text"])


def to_pdf(html: str, out: Path) -> None:
    """Printed by headless Chromium (Debian's chromium package), A4."""
    import shutil
    import subprocess
    import tempfile

    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if browser is None:
        raise UserError("a PDF is printed by Chromium, which is not installed (Debian: apt-get install chromium); "
                        "write .html and print that instead")
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "list.html"
        page.write_text(html, encoding="utf-8")
        done = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                               "--disable-background-networking", "--disable-component-update", "--disable-sync",
                               f"--user-data-dir={tmp}/profile", "--no-pdf-header-footer",
                               f"--print-to-pdf={out}", page.as_uri()], capture_output=True, text=True, timeout=120)
    if done.returncode != 0 or not out.exists():
        raise UserError(f"Chromium could not print {out}: {done.stderr.strip()[-300:]}")
    whole_pdf(out)


def whole_pdf(path: Path) -> None:
    """Read back what Chromium wrote: a PDF begins with %PDF- and ends with %%EOF. Chromium reports success
    for a file the disk had no room to finish, so a file cut short is named here, never announced as written."""
    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(5)
        f.seek(max(0, size - 2048))
        tail = f.read()
    if head != b"%PDF-" or b"%%EOF" not in tail:
        raise UserError(f"the PDF Chromium printed is incomplete ({size:,} bytes, no end of file): the disk may be "
                        "full; nothing was written")
