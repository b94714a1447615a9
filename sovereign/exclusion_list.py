"""The yearly public list: the countries whose government bonds we exclude, in Dutch or English, with the
basis of each exclusion, the dates, and Freedom House's credit. FH's status words stay FH's in both."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path
from typing import Any

from fiw import words
from fiw.errors import UserError
from fiw.methodology import STATUS_WORDS
from sovereign import clock, lookup, paths
from sovereign.anchors import anchor
from sovereign.store.reads import Connection

TEXT: dict[str, dict[str, Any]] = {
    "en": {
        "title": "Countries excluded from our government bond investments",
        "intro": "We do not lend to governments that do not respect basic political rights and civil liberties. "
                 "We exclude the bonds of every country that Freedom House rates Not Free in its annual report "
                 "Freedom in the World, and of countries our responsible-investment committee excludes.",
        "effective": "In force from", "approved": "Approved", "edition": "Based on",
        "country": "Country", "basis": "Basis", "status": "Freedom House status", "since": "Excluded from",
        "divest": "Sold by", "fh": "Rated Not Free by Freedom House", "committee":
        "Excluded by our responsible-investment committee", "count": "{n} countries",
        "history": "Freedom House's publication of {edition} on {date}; no separate approval was recorded",
        "not_rated": "not rated", "unrated": "Not rated by Freedom House in {title}",
        "fh_status": "Rated {status} by Freedom House",
        "source": "Source: Freedom House, {title}.", "statuses": "Statuses are Freedom House's (Free, Partly Free, "
                                                                  "Not Free).",
        "anchor": "Audit trail head {head} (row {row})", "anchor_list": "; list version {v} digest {v}:{digest}",
        "anchor_check": "Check with",
        "lang": "en", "months": ("January", "February", "March", "April", "May", "June", "July", "August",
                                 "September", "October", "November", "December"),
    },
    "nl": {
        "title": "Landen waarvan wij geen staatsobligaties kopen",
        "intro": "Wij lenen niet aan overheden die de politieke rechten en burgerlijke vrijheden van hun burgers "
                 "niet respecteren. Wij sluiten de obligaties uit van ieder land dat Freedom House in zijn "
                 "jaarlijkse rapport Freedom in the World als Not Free beoordeelt, en van landen die onze "
                 "commissie verantwoord beleggen uitsluit.",
        "effective": "Van kracht vanaf", "approved": "Goedgekeurd", "edition": "Gebaseerd op",
        "country": "Land", "basis": "Grond", "status": "Status volgens Freedom House", "since": "Uitgesloten vanaf",
        "divest": "Verkocht uiterlijk", "fh": "Door Freedom House beoordeeld als Not Free", "committee":
        "Uitgesloten door onze commissie verantwoord beleggen", "count": "{n} landen",
        "history": "de publicatie van {edition} door Freedom House op {date}; er is geen afzonderlijke goedkeuring "
                   "vastgelegd",
        "not_rated": "niet beoordeeld", "unrated": "Niet beoordeeld door Freedom House in {title}",
        "fh_status": "Door Freedom House beoordeeld als {status}",
        "source": "Bron: Freedom House, {title}.", "statuses": "De statussen zijn die van Freedom House (Free, "
                                                                 "Partly Free, Not Free).",
        "anchor": "Kop van het auditspoor {head} (rij {row})",
        "anchor_list": "; controlegetal van lijstversie {v}: {v}:{digest}", "anchor_check": "Controleer met",
        "lang": "nl", "months": ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
                                 "september", "oktober", "november", "december"),
    },
}


def long_date(value: str | None, language: str) -> str:
    """'2027-03-01' -> '1 maart 2027' (nl) or '1 March 2027' (en)."""
    if not value:
        return ""
    day = date.fromisoformat(value[:10])
    return f"{day.day} {TEXT[language]['months'][day.month - 1]} {day.year}"


def country_names(language: str) -> dict[str, str]:
    with open(paths.COUNTRY_NAMES, newline="", encoding="utf-8") as f:
        return {r["iso2"]: r[language] for r in csv.DictReader(f) if r[language]}


def build(conn: Connection, language: str, edition: int | None = None) -> dict:
    """The published list of an edition (default: the one in force today) as `listing.on_date` gives it, its
    exclusions named in `language`, sorted as a reader of that language looks them up. A committee exclusion
    shows its public reason in that language, never the internal note."""
    from sovereign import listing
    from sovereign.pipeline import HISTORY
    from sovereign.store import reads

    if language not in TEXT:
        raise UserError(f"--lang {language!r}: expected nl or en")
    t = TEXT[language]
    if edition is None:
        found = listing.on_date(conn)
    else:  # an earlier year's list as it stood when it took effect, not with today's committee decisions
        picked = lookup.pick_version(conn, edition)
        found = listing.on_date(conn, date.fromisoformat(picked["effective_from"]))
        if found.version["id"] != picked["id"]:
            found = listing.Listing(picked, found.on, None, False, None, listing.entries_on(conn, picked, found.on))
    version = found.version
    names = country_names(language)
    overrides = {o["id"]: o for o in reads.overrides(conn)}
    rows = []
    for entry in found.excluded():
        if entry["kind"] != "country":
            continue  # the list names countries; territories are judged in the desk's answers
        basis = []
        if entry["fh_excluded"]:
            fiw = words.title(version["edition"])
            basis.append(f"{t['fh']} ({fiw})" if entry["status"] == "NF" else
                         t["unrated"].format(title=fiw) if entry["status"] is None else
                         f"{t['fh_status'].format(status=STATUS_WORDS[entry['status']])} ({fiw})")
        since = entry["no_new_buys_from"]
        for oid in entry["by_committee"]:
            public = overrides[oid][f"public_reason_{language}"]
            basis.append(f"{t['committee']}: {public}" if public else t["committee"])
            since = since or overrides[oid]["valid_from"]
        rows.append({"iso2": entry["iso2"], "country": names.get(entry["iso2"], entry["name"]), "basis": basis,
                     "status": STATUS_WORDS.get(entry["status"] or "", t["not_rated"]),
                     "since": since, "divest_by": entry["divest_by"], "since_text": long_date(since, language),
                     "divest_text": long_date(entry["divest_by"], language)})
    rows.sort(key=lambda r: r["country"].casefold())
    history = version["approved_by"] == HISTORY
    approved = None if history or not version["published_at"] else clock.day_of(version["published_at"]).isoformat()
    title = words.title(version["edition"])
    return {"text": t, "version": version["id"], "edition": version["edition"], "language": language,
            "effective_from": version["effective_from"], "effective_text": long_date(version["effective_from"], language),
            "approved": approved, "approved_text": long_date(approved, language),
            "basis_text": t["history"].format(edition=title, date=long_date(version["effective_from"], language))
            if history else None,
            "attribution": t["source"].format(title=title), "rows": rows,
            "anchor": anchored(anchor(conn, version["id"]), t)}


def anchored(a: dict, t: dict) -> dict:
    """The anchor in the reader's language: `line` the sentence with its commands (the commands are commands, the
    same in every language), `words` and `commands` apart for the page to set the commands as code."""
    words = t["anchor"].format(head=a["audit_head"], row=a["audit_row"])
    commands = [f"sovereign audit verify --head {a['audit_head'][:16]}"]
    if a["list_digest"]:
        words += t["anchor_list"].format(v=a["list_version"], digest=a["list_digest"])
        commands.append(f"sovereign verify --digest {a['list_version']}:{a['list_digest'][:16]}")
    return a | {"words": words, "check": t["anchor_check"], "commands": commands,
                "line": f"{words}. {t['anchor_check']}: {'; '.join(commands)}."}


def to_csv(result: dict) -> str:
    """Opens in Excel as set up in the reader's language: `;` and a UTF-8 byte-order mark for Dutch (where the
    comma is the decimal sign), `,` for English; the BOM in both, so names keep their accents."""
    from sovereign.present import csv_text

    t = result["text"]
    rows: list[list] = [[r["iso2"], r["country"], r["status"], r["basis"], r["since"], r["divest_by"] or "",
                         words.title(result["edition"])] for r in result["rows"]]
    rows += [[], [result["anchor"]["line"]], [result["attribution"]]]
    return csv_text(["iso2", t["country"], t["status"], t["basis"], t["since"], t["divest"], t["edition"]], rows,
                    delimiter=";" if result["language"] == "nl" else ",", newline="\r\n", bom=True)


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
