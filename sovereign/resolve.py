"""The one resolver: whatever the desk typed (ISO2, ISO3, an FH name, a common spelling, an ISIN, an LEI)
-> a `Target`. `check`, `screen`, `history`, overrides, the API and the lookup page all ask it.

A target names candidate FH entities, not one: a code shared across history (CS was Czechoslovakia to
1992 and Serbia and Montenegro 2003-2006) keeps both, and the answer takes the one the list in force
on the date asked rates. An ISO 3166-3 code (CSK, SUN, YUG, DDR) or a name names only its own entity,
so a former state never answers for another. Stdlib only: this is `check`'s start-up path.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from functools import cache, cached_property

from fiw.errors import NotFound, UserError
from fiw.names import fold
from sovereign import identifiers, paths
from sovereign.store import reads
from sovereign.store.reads import Connection

CODE = re.compile(r"[A-Za-z]{2,3}")


@dataclass(frozen=True)
class Issuer:
    name: str
    lei: str | None
    type: str
    country: str | None
    isin: str | None = None

    @property
    def supranational(self) -> bool:
        """Out of the country rule only when it is one and has no country: a "supranational" the register
        places in a country is judged as that country's debt, so the type can never open a door."""
        return self.type == "supranational" and not self.country

    def as_dict(self) -> dict:
        return {"name": self.name, "lei": self.lei, "type": self.type, "country": self.country, "isin": self.isin}


@dataclass(frozen=True)
class Within:
    """FH covers this place inside its parent's report from `from_edition` (data/assessed_within.csv)."""
    parent_iso2: str
    parent: str
    from_edition: int
    parent_entities: tuple[str, ...]


@dataclass(frozen=True)
class Target:
    """What an identifier names. `entities` empty: a supranational issuer, or `unregistered` says why not known."""
    query: str
    entities: tuple[str, ...]
    iso2: str | None
    name: str
    names: dict[str, str] = field(default_factory=dict, compare=False)  # entity -> FH name, for "not rated"
    issuer: Issuer | None = None
    unregistered: str | None = None
    former: bool = False  # a state that no longer exists: never eligible, whatever the policy says of the unrated
    within: Within | None = None  # a place FH assesses inside another country's report


class Resolver:
    """Reads the mapping, ISO table and aliases once; asks the register per ISIN or LEI."""

    HINTS = 100  # suggestions cost a fuzzy match over every name: a batch of unknowns gets this many, then none

    def __init__(self, conn: Connection):
        self.conn = conn
        self.hints_left = self.HINTS

    @cached_property
    def _mapping(self) -> list[dict]:
        return reads.mapping(self.conn)

    @cached_property
    def _iso(self) -> dict[str, dict]:
        return {r["iso2"]: r for r in reads.iso_codes(self.conn)}

    @cached_property
    def _issuers_by_name(self) -> dict[str, list[dict]]:
        """Issuers by name and short name ("Republic of Turkiye", "EIB"), from the register."""
        index: dict[str, list[dict]] = {}
        for row in reads.issuers(self.conn):
            for name in {fold(row["name"]), fold(row["short_name"] or "")} - {""}:
                index.setdefault(name, []).append(row)
        return index

    @cached_property
    def _by_name(self) -> dict[str, list[dict]]:
        index: dict[str, list[dict]] = {}
        for r in self._mapping:
            index.setdefault(fold(r["fh_name"]), []).append(r)
        return index

    def _rows(self, column: str, code: str) -> list[dict]:
        return [r for r in self._mapping if r[column] == code]

    def resolve(self, query: str) -> Target:
        """Unreadable input (an empty ID, a bad checksum, a name nobody uses) is an error naming it."""
        q = (query or "").strip()
        if not q:
            raise NotFound("an empty identifier names nothing: give an ISIN, an LEI, an ISO code or a country name")
        code = identifiers.compact(q)
        if identifiers.looks_like_isin(q):
            if not identifiers.valid_isin(code):
                raise UserError(f"{query!r}: not a valid ISIN (the check digit does not match)")
            found = reads.security(self.conn, code)
            if found:
                return self._issuer(query, found, code)
            agency = self._iso.get(code[:2])
            note = identifiers.prefix_note(code, agency["name"] if agency else None)
            empty = ("; the issuer register is empty: import one with `sovereign issuers import`"
                     if not reads.register_size(self.conn) else "")
            return Target(query, (), None, code,
                          unregistered=f"ISIN {code} is not in the issuer register; {note}{empty}")
        if identifiers.looks_like_lei(q):
            if not identifiers.valid_lei(code):
                raise UserError(f"{query!r}: not a valid LEI (the check digits do not match)")
            found = reads.issuer(self.conn, code)
            if found:
                return self._issuer(query, found, None)
            return Target(query, (), None, code, unregistered=f"LEI {code} is not in the issuer register")
        folded = fold(q)
        if CODE.fullmatch(q):
            target = self._code(query, q.upper())
            if target:
                return target
            if folded not in names() and folded not in self._issuers_by_name and (len(q) == 2 or q.isupper()):
                raise NotFound(f"{query!r}: no country has the ISO code {q.upper()}")
        hits = self._by_name.get(folded)
        if hits:
            return self._target(query, hits, hits[0]["iso2"], hits[0]["fh_name"])
        issuers = self._issuers_by_name.get(folded)
        if issuers and len(issuers) == 1:
            return self._issuer(query, issuers[0], None)
        if issuers:
            listed = ", ".join(f"{i['name']} ({i['lei'] or i['iso2'] or i['type']})" for i in issuers)
            raise NotFound(f"{query!r} names more than one issuer ({listed}): give its LEI or an ISIN")
        codes = names().get(folded) or self._pattern_codes(folded)
        if len(codes) == 1:
            return self.country(query, codes[0])
        if codes:
            listed = ", ".join(f"{self._name_of(c)} ({c})" for c in codes)
            raise NotFound(f"{query!r} names more than one country ({listed}): give one of them, or its ISO code")
        raise NotFound(f"{query!r}: no country or territory of that name or code, and not an ISIN or LEI"
                       + self._hint(q))

    def _name_of(self, iso2: str) -> str:
        rows = self._rows("iso2", iso2)
        return rows[-1]["fh_name"] if rows else self._iso.get(iso2, {}).get("name", iso2)

    def _pattern_codes(self, folded: str) -> tuple[str, ...]:
        """Vendor styles ("Korea, Rep.", "Iran, Islamic Rep.") by country_converter's patterns, kept as data.
        Never for a name that carries the word of a territory without a code of its own: "Kashmir (India)"
        must not become India."""
        if any(word in folded for word in self._territory_words):
            return ()
        return tuple(sorted({iso2 for iso2, pattern in patterns() if pattern.search(folded)}))

    @cached_property
    def _territory_words(self) -> set[str]:
        country_words = {w for r in self._mapping if r["kind"] == "c" for w in re.findall(r"[a-z]{4,}", fold(r["fh_name"]))}
        return {w for r in self._mapping if r["kind"] == "t" and not r["iso2"]
                for w in re.findall(r"[a-z]{4,}", fold(r["fh_name"])) if w not in country_words}

    def _code(self, query: str, code: str) -> Target | None:
        """ISO2 -> every entity that carried it; ISO3 (incl. ISO 3166-3) -> only its own entity."""
        if len(code) == 2:
            hits = self._rows("iso2", code)
            return self._target(query, hits, code, hits[-1]["fh_name"]) if hits else self._iso_only(query, code)
        hits = self._rows("iso3", code)
        if hits:
            return self._target(query, hits, hits[0]["iso2"], hits[0]["fh_name"])
        iso = next((r for r in self._iso.values() if r["iso3"] == code), None)
        return self._iso_only(query, iso["iso2"]) if iso else None

    def country(self, query: str, iso2: str, issuer: Issuer | None = None) -> Target:
        """A present-day country by its ISO2: every entity of the mapping with that code."""
        hits = self._rows("iso2", iso2)
        if hits:
            return self._target(query, hits, iso2, hits[-1]["fh_name"], issuer)
        target = self._iso_only(query, iso2, issuer)
        if target is None:
            raise NotFound(f"{query!r}: no country has the ISO code {iso2}")
        return target

    def _iso_only(self, query: str, iso2: str, issuer: Issuer | None = None) -> Target | None:
        """A country FH has never rated (Greenland): known, so answered 'not rated', never 'no such country'."""
        iso = self._iso.get(iso2)
        if iso is None:
            return None
        return Target(query, (iso["iso3"],), iso2, iso["name"], {iso["iso3"]: iso["name"]}, issuer)

    def _target(self, query: str, hits: list[dict], iso2: str | None, name: str, issuer: Issuer | None = None) -> Target:
        entities = tuple(dict.fromkeys(r["entity"] for r in hits))
        names = {r["entity"]: r["fh_name"] for r in hits}
        return Target(query, entities, iso2, name, names, issuer, former=iso2 is not None and iso2 not in self._iso,
                      within=self._within(iso2))

    def entity_of(self, fh_name: str) -> str:
        return next((r["entity"] for r in self._mapping if r["fh_name"] == fh_name), fh_name)

    def predecessors(self, entity: str) -> list[tuple[str, str]]:
        """The FH names of the states `entity` succeeded, their predecessors' too: (name, why)."""
        out: list[tuple[str, str]] = []
        todo = [entity]
        while todo:
            for name, note in successors().get(todo.pop(), []):
                if name not in dict(out):
                    out.append((name, note))
                    todo.append(self.entity_of(name))
        return out

    def _within(self, iso2: str | None) -> Within | None:
        row = assessed_within().get(iso2 or "")
        if row is None:
            return None
        parents = tuple(dict.fromkeys(r["entity"] for r in self._rows("iso2", row["parent_iso2"])))
        return Within(row["parent_iso2"], row["parent"], int(row["from_edition"]), parents)

    def _issuer(self, query: str, row: dict, isin: str | None) -> Target:
        issuer = Issuer(row["name"], row["lei"], row["type"], row["iso2"], isin)
        if issuer.supranational:
            return Target(query, (), None, issuer.name, issuer=issuer)
        if not issuer.country:
            return Target(query, (), None, issuer.name, issuer=issuer,
                          unregistered=f"{issuer.name} ({issuer.type}) has no country in the issuer register")
        return self.country(query, issuer.country, issuer)

    def _hint(self, q: str) -> str:
        """Up to three close names; a former state is offered only when no present-day state is close."""
        if self.hints_left <= 0:
            return ""
        import difflib  # only when a name missed: not on `check`'s path for the names that resolve

        self.hints_left -= 1
        former = {r["fh_name"] for r in self._mapping if r["iso2"] and r["iso2"] not in self._iso}
        candidates = sorted({r["fh_name"] for r in self._mapping} | {r["name"] for r in self._iso.values()})
        close = difflib.get_close_matches(q, candidates, n=5, cutoff=0.75)
        present = [c for c in close if c not in former]
        close = (present or close)[:3]
        return f"; did you mean {', '.join(close)}?" if close else ""


def country_code(name: str) -> str | None:
    """A country named in a policy file (ISO2, ISO3, an FH name or a common spelling) -> its ISO2, from the
    bundled mapping and aliases alone (a policy loads before any database is opened)."""
    by_code, by_name = bundled_codes()
    text = name.strip()
    if text.upper() in by_code and CODE.fullmatch(text):
        return by_code[text.upper()]
    return by_name.get(fold(text)) or aliases().get(fold(text))


@cache
def bundled_codes() -> tuple[dict[str, str], dict[str, str]]:
    """ISO2/ISO3 -> ISO2 and folded FH name -> ISO2 from data/countries.csv, read once per process."""
    with open(paths.COUNTRIES, newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["iso2"]]
    by_code = {r["iso2"]: r["iso2"] for r in rows} | {r["iso3"]: r["iso2"] for r in rows}
    return by_code, {fold(r["fh_name"]): r["iso2"] for r in rows}


@cache
def successors() -> dict[str, list[tuple[str, str]]]:
    """Successor entity -> the FH names of the states it succeeded, with why (data/successors.csv)."""
    out: dict[str, list[tuple[str, str]]] = {}
    with open(paths.SUCCESSORS, newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            out.setdefault(r["successor"], []).append((r["predecessor"], r["note"]))
    return out


@cache
def assessed_within() -> dict[str, dict]:
    """Places FH assesses inside another country's report, by ISO2."""
    with open(paths.ASSESSED_WITHIN, newline="", encoding="utf-8") as f:
        return {r["iso2"]: r for r in csv.DictReader(f)}


@cache
def names() -> dict[str, tuple[str, ...]]:
    """Every spelling the name sources give (data/names.csv) -> its ISO2 codes; more than one: ambiguous."""
    with open(paths.NAMES, newline="", encoding="utf-8") as f:
        return {fold(r["name"]): tuple(r["iso2"].split("|")) for r in csv.DictReader(f)}


def aliases() -> dict[str, str]:
    """The spellings that name exactly one country -> its ISO2."""
    return {k: v[0] for k, v in names().items() if len(v) == 1}


@cache
def patterns() -> list[tuple[str, re.Pattern[str]]]:
    """country_converter's patterns (data/name_patterns.csv), compiled only when an exact name missed."""
    with open(paths.NAME_PATTERNS, newline="", encoding="utf-8") as f:
        return [(r["iso2"], re.compile(r["regex"], re.IGNORECASE)) for r in csv.DictReader(f)]
