"""Builds data/names.csv, data/name_patterns.csv, data/codes.csv and data/country_names.csv: the spellings
and codes people paste, and each country's name in the languages the public list is published in, from
sources made for it.

    .venv/bin/pip install -e ".[build]" && .venv/bin/python scripts/build_names.py

- pycountry: ISO 3166 names, official names, common names (current countries only);
- CLDR territory names through Babel, in English, Dutch, German, French and Spanish (with their variants);
- pycountry's ISO 3166-1 numeric codes and ISO 3166-3 (withdrawn) codes: data/codes.csv;
- country_converter's short and official names, and its regular expressions for the styles vendors use
  (World Bank "Korea, Rep.", IMF, UN "Bolivia (Plurinational State of)"), written as data;
- data/aliases_curated.csv: what those miss (PRC, DRC, Turkiye...) and the names that mean different
  places to different vendors ("Congo"), which must stay an error that lists the candidates.

The lookup path reads only the CSVs (stdlib); none of these libraries loads when `check` starts.
A name two sources give to different countries is written with both codes: it is ambiguous, never a guess.
"""

from __future__ import annotations

import csv
import importlib.util
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
LANGUAGES = ("en", "nl", "de", "fr")  # the public list's languages (data/country_names.csv)
NAME_LANGUAGES = (*LANGUAGES, "es")  # the spellings the desk may paste


def fold(name: str) -> str:
    import sys

    sys.path.insert(0, str(ROOT))
    from fiw.names import fold as fiw_fold

    return fiw_fold(name)


def main() -> None:
    import pycountry
    from babel import Locale

    current = {c.alpha_2 for c in pycountry.countries} | {"XK"}
    names: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))  # folded -> iso2 -> sources
    shown: dict[str, str] = {}

    def add(name: str | None, iso2: str, source: str) -> None:
        if not name or iso2 not in current:
            return
        key = fold(name)
        shown.setdefault(key, name.strip())
        names[key][iso2].add(source)

    for c in pycountry.countries:
        for attr in ("name", "official_name", "common_name"):
            add(getattr(c, attr, None), c.alpha_2, "pycountry")
    for language in NAME_LANGUAGES:
        for code, name in Locale.parse(language).territories.items():
            if len(code) == 2 and code.isalpha():
                add(name, code, f"cldr-{language}")
        for code, name in getattr(Locale.parse(language), "territories_variants", {}).items():
            add(name, code, f"cldr-{language}")
    folder = Path(importlib.util.find_spec("country_converter").submodule_search_locations[0])
    patterns = []
    with open(folder / "country_data.tsv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            iso2 = row["ISO2"]
            add(row["name_short"], iso2, "country_converter")
            add(row["name_official"], iso2, "country_converter")
            if iso2 in current and row["regex"]:
                patterns.append((iso2, row["regex"]))
    with open(DATA / "aliases_curated.csv", newline="", encoding="utf-8") as f:
        curated = list(csv.DictReader(f))
    for row in curated:
        key = fold(row["alias"])
        shown[key] = row["alias"]
        names[key] = defaultdict(set, {code: {"curated"} for code in row["iso2"].split("|")})
    with open(DATA / "names.csv", "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(["name", "iso2", "sources"])
        for key in sorted(names):
            codes = names[key]
            out.writerow([shown[key], "|".join(sorted(codes)),
                          " ".join(sorted({s for v in codes.values() for s in v}))])
    with open(DATA / "country_names.csv", "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(["iso2", *LANGUAGES])
        territories = {language: Locale.parse(language).territories for language in LANGUAGES}
        for iso2 in sorted(current):
            out.writerow([iso2, *(territories[language].get(iso2, "") for language in LANGUAGES)])
    with open(DATA / "name_patterns.csv", "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(["iso2", "regex"])
        out.writerows(sorted(patterns))
    codes = write_codes(pycountry, current)
    print(f"{len(names)} names, {len(patterns)} patterns, {codes} codes")


def write_codes(pycountry, current: set[str]) -> int:
    """ISO 3166-1 numeric codes and ISO 3166-3 codes (four letters, and the withdrawn alpha-2, alpha-3 and
    numeric codes they replace) -> the state they named (`former_iso3`) and its successor's ISO2 (the last two
    letters of the four-letter code; none when ISO gives HH or XX: no single successor)."""
    rows = [(code, c.alpha_2, "", c.name) for c in pycountry.countries for code in (c.numeric, c.alpha_3)]
    for c in pycountry.historic_countries:
        successor = c.alpha_4[2:] if c.alpha_4[2:] in current else ""
        for code in (c.alpha_4, c.alpha_3, getattr(c, "alpha_2", None), getattr(c, "numeric", None)):
            if code:
                rows.append((code, successor, c.alpha_3, c.name))
    with open(DATA / "codes.csv", "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(["code", "iso2", "former_iso3", "name"])
        out.writerows(sorted(set(rows)))
    return len(rows)


if __name__ == "__main__":
    main()
