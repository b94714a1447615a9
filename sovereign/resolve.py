"""The one resolver: whatever the desk typed (ISO2, ISO3, an ISO numeric or ISO 3166-3 code, an FH name, a
common spelling, an ISIN, an LEI) -> a `Target`. `check`, `screen`, `history`, overrides, the API and the
lookup page ask `Resolver`; policy files, the register and `issuers add --country` ask `country_code`; both
answer through one function, `Gazetteer.place`.

A target names candidate FH entities, not one: a code shared across history (CS was Czechoslovakia to
1992 and Serbia and Montenegro 2003-2006) keeps both, and the answer takes the one the list in force
on the date asked rates. An ISO 3166-3 code (CSK, SUN, YUG, DDR) or a name names only its own state, so a
state never answers for another that merely carried its code (a name adds the state it continues, North
Vietnam for Vietnam, which answers for it before it existed only where that is stricter).
Stdlib only: this is `check`'s start-up path, which is also why the value types are NamedTuples (a frozen
dataclass costs several times more to define at import) except `Target`, whose `names` stays out of comparisons.

A vendor's style ("Korea, Rep.") is matched by country_converter's patterns, but a pattern answers only
when every word typed belongs to that country's own names or is a word that names no place ("rep", "the"):
"North Cyprus", "Guinea Ecuatorial", "Niger Delta" or "State of Georgia" is never the country inside it.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from datetime import date
from functools import cache, cached_property
from typing import NamedTuple

from fiw.errors import NotFound, UserError
from fiw.names import fold
from sovereign import identifiers, paths
from sovereign.store import reads
from sovereign.store.reads import Connection


class NoSuchPlace(NotFound):
    """Nothing the gazetteer knows: a resolver adds its spelling suggestions to this refusal only."""


CODE = re.compile(r"[A-Za-z]{2,3}")


class Issuer(NamedTuple):
    """An issuer as the register records it: its country decides, never its type alone."""
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


class Within(NamedTuple):
    """FH covers this place inside another report from `from_edition` (data/assessed_within.csv)."""
    parent: str  # FH's name of the report that covers it
    from_edition: int
    parent_entities: tuple[str, ...]
    own_code: bool  # has its own ISO code (Puerto Rico): judged as its parent; without one it is no issuer


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
    kind: str = "country"  # "territory" when every entity it names is one: kept when FH does not rate it
    continued: tuple[str, ...] = ()  # entities of states a named state continues: they answer only if stricter


MAX_IDENTIFIER = 200  # the longest official name is under 80 characters; longer input is refused unread
NUMERIC = re.compile(r"[0-9]{1,3}")
CODE4 = re.compile(r"[A-Za-z]{4}")
WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
ARTICLE = re.compile(r"^(?:the|het|de|die|der|la|le|les|el|los|las|l')\s+|,\s*(?:the|het|de|die|la|le|el)$")
# Words that name no place and may stand beside any country's name; every other word must be the country's own.
FILLER = frozenset("the of and a an de du des la le les el los las het der die und et y d l govt government "
                   "sovereign".split())
# A vendor's abbreviations, read as the words a country's own names spell out ("Korea, Rep.", "Congo, Dem. Rep.").
ABBREVIATIONS = {"rep": ("republic",), "dem": ("democratic",), "fed": ("federal", "federation", "federated"),
                 "is": ("islands", "island"), "isl": ("islands", "island"), "st": ("saint",), "sar": ("special",)}
COMPASS = frozenset("""north northern south southern east eastern west western upper lower central new
noord noordelijk zuid zuidelijk oost oostelijk west westelijk boven opper neder beneden midden nieuw
nord nördlich süd südlich ost östlich ober unter nieder mittel neu
nord sud est ouest haut haute bas basse nouveau nouvelle
norte sur este oeste alto bajo nuevo nueva""".split())


class Place(NamedTuple):
    """What a country name or code names: the mapping's rows for it (empty: a country FH never rated)."""
    iso2: str | None
    rows: tuple[dict, ...]
    name: str
    continued: tuple[str, ...] = ()  # entities among `rows` that are states the named one continues


class Gazetteer:
    """Names and codes -> places, over one mapping and ISO table (the database's, or the bundled files')."""

    def __init__(self, mapping: list[dict], iso: list[dict]):
        self.mapping = [dict(r) for r in mapping]
        self.iso = {r["iso2"]: dict(r) for r in iso}

    @cached_property
    def by_name(self) -> dict[str, list[dict]]:
        """Folded FH names -> rows: built when a name is asked, not for a code or an ISIN (`check`'s start-up)."""
        out: dict[str, list[dict]] = {}
        for r in self.mapping:
            out.setdefault(fold(r["fh_name"]), []).append(r)
        return out

    @classmethod
    @cache
    def bundled(cls) -> Gazetteer:
        """From data/ alone: a policy loads, and a register is read, before any database is opened."""
        with open(paths.COUNTRIES, newline="", encoding="utf-8") as f:
            mapping = [{k: v or None for k, v in r.items()} for r in csv.DictReader(f)]
        present = [r for rows in codes().values() for r in rows if not r["former_iso3"]]
        threes = {r["iso2"]: r["code"] for r in present if r["code"].isalpha()}
        iso = [{"iso2": r["iso2"], "iso3": threes[r["iso2"]], "name": r["name"]} for r in present if r["code"].isdigit()]
        return cls(mapping, [*iso, {"iso2": "XK", "iso3": "XKX", "name": "Kosovo"}])

    def _rows(self, column: str, code: str) -> tuple[dict, ...]:
        return tuple(r for r in self.mapping if r[column] == code)

    def exact(self, text: str) -> bool:
        """Whether `text` is a code or a name some source gives (no pattern involved)."""
        try:
            return self._exact(text.strip()) is not None
        except NotFound:
            return True

    def place(self, text: str) -> Place:
        """The one algorithm: codes, then names the sources give, then (guarded) patterns. Two places: an
        error listing both; nothing: an error naming the input."""
        q = bounded(text)
        hit = self._exact(q)
        if hit is not None:
            return hit
        if CODE.fullmatch(q) and (len(q) == 2 or q.isupper()) or NUMERIC.fullmatch(q):
            raise NotFound(f"{q!r}: no country has the ISO code {q.upper()}")
        return self._pattern(q)

    def _exact(self, q: str) -> Place | None:
        folded = fold(q)
        if NUMERIC.fullmatch(q):
            return self._former(q, q.zfill(3))
        if CODE.fullmatch(q):
            hit = self._code(q.upper())
            if hit is not None:
                return hit
        for key in dict.fromkeys((folded, ARTICLE.sub("", folded).strip())):
            rows = self.by_name.get(key)
            if rows:
                return self.continued(Place(rows[0]["iso2"], tuple(rows), rows[0]["fh_name"]))
            fh_name = fh_aliases().get(key)
            if fh_name:
                rows = self.by_name[fold(fh_name)]
                return self.continued(Place(rows[0]["iso2"], tuple(rows), rows[0]["fh_name"]))
            codes = names().get(key)
            if codes:
                return self._one(q, codes)
        if CODE4.fullmatch(q):
            return self._former(q, q.upper())
        return None

    def _one(self, q: str, codes: tuple[str, ...]) -> Place:
        if len(codes) > 1:
            listed = ", ".join(f"{self.name_of(c)} ({c})" for c in codes)
            raise NotFound(f"{q!r} names more than one country ({listed}): give one of them, or its ISO code")
        return self.state(q, codes[0])

    def _code(self, code: str) -> Place | None:
        """ISO2 -> every entity that carried it; ISO3 (incl. ISO 3166-3) -> only its own entity; a withdrawn
        code (ZR, BUR) -> the state it named, or its successor when FH rated that state under another code."""
        if len(code) == 2:
            hits = self._rows("iso2", code)
            if hits:
                return Place(code, hits, present_name(hits))
            return self._iso_only(code) or self._former(code, code)
        hits = self._rows("iso3", code)
        if hits:
            return Place(hits[0]["iso2"], hits, hits[0]["fh_name"])
        iso = next((r for r in self.iso.values() if r["iso3"] == code), None)
        return self._iso_only(iso["iso2"]) if iso else self._former(code, code)

    def _former(self, typed: str, code: str) -> Place | None:
        """An ISO numeric code, or a withdrawn ISO 3166 code (data/codes.csv)."""
        found = codes().get(code, ())
        iso3s = dict.fromkeys(c["former_iso3"] for c in found if c["former_iso3"])
        states = tuple(r for iso3 in iso3s for r in self._rows("iso3", iso3))
        if states:
            return Place(states[0]["iso2"], states, " or ".join(dict.fromkeys(r["fh_name"] for r in states)))
        successors = sorted({c["iso2"] for c in found if c["iso2"]})
        if len(successors) == 1:
            return self.country(typed, successors[0])
        if found:
            raise NotFound(f"{typed!r}: the withdrawn ISO code of {found[0]['name']}, which has no single successor"
                           " FH rates: give the country's present code")
        return None

    def _iso_only(self, iso2: str) -> Place | None:
        """A country FH has never rated (Greenland): known, so answered 'not rated', never 'no such country'."""
        iso = self.iso.get(iso2)
        return Place(iso2, (), iso["name"]) if iso else None

    def country(self, query: str, iso2: str) -> Place:
        hits = self._rows("iso2", iso2)
        if hits:
            return Place(iso2, hits, present_name(hits))
        place = self._iso_only(iso2)
        if place is None:
            raise NotFound(f"{query!r}: no country has the ISO code {iso2}")
        return place

    def state(self, query: str, iso2: str) -> Place:
        """A name of a present-day state (not a code): the state and the states it continues, never another
        state that carried its code ("Socialist Republic of Vietnam" is never South Vietnam, which had VN too)."""
        place = self.country(query, iso2)
        return self.continued(place) if place.rows else place

    def continued(self, place: Place) -> Place:
        """A named state's place, without a ceased state that only shared its code, with the states it continues
        (data/successors.csv: North Vietnam for Vietnam, the USSR for Russia), so a name asked on a date before the
        state existed also hears what FH said of the state it then was (only where that is stricter: `lookup.answer`).
        A state that split (Czechoslovakia) is continued by neither part."""
        ended = ceased_states()
        own = tuple(r for r in place.rows if r["fh_name"] not in ended) or place.rows
        named = {r["fh_name"] for r in own}
        todo = list(dict.fromkeys(r["entity"] for r in own))
        added: list[str] = []
        while todo:
            for name, _ in successors().get(todo.pop(), []):
                end = ended.get(name)
                if name in named or (end is not None and "|" in end.successor):
                    continue
                named.add(name)
                held = {r["entity"] for r in own}  # FH's own series (West Germany under Germany) is there already
                more = tuple(r for r in self.by_name.get(fold(name), ()) if r["entity"] not in held)
                own += more
                added += [r["entity"] for r in more]
                todo += [r["entity"] for r in more]
        return Place(place.iso2, own, place.name, tuple(dict.fromkeys(added)))

    def name_of(self, iso2: str) -> str:
        rows = self._rows("iso2", iso2)
        return present_name(rows) if rows else self.iso.get(iso2, {}).get("name", iso2)

    def _pattern(self, q: str) -> Place:
        """Vendor styles ("Korea, Rep.", "Iran, Islamic Rep.") by country_converter's patterns, kept as data.
        A pattern answers only when every other word typed is the country's own or names no place."""
        folded = fold(q)
        hits = sorted({iso2 for iso2, pattern in patterns() if pattern.search(folded)})
        if len(hits) > 1:
            return self._one(q, tuple(hits))
        if not hits:
            raise NoSuchPlace(f"{q!r}: no country or territory of that name or code, and not an ISIN or LEI")
        iso2 = hits[0]
        own = own_words().get(iso2, frozenset())
        foreign = [w for w in WORD.findall(folded)
                   if w not in own and w not in FILLER and not own.intersection(ABBREVIATIONS.get(w, ()))]
        if foreign:
            others = sorted({c for w in foreign for c in word_places().get(w, ()) if not c.startswith("~")} - {iso2})
            named = f" ({', '.join(f'{self.name_of(c)} ({c})' for c in others[:4])})" if others else ""
            raise NotFound(f"{q!r} is not a name of {self.name_of(iso2)} ({iso2}): {', '.join(map(repr, foreign))} "
                           f"names another place{named} or nothing we know; give the place's FH name or ISO code")
        return self.state(q, iso2)


def present_name(rows: tuple[dict, ...]) -> str:
    """The FH name a code is known by today: not a state it succeeded or one that ceased ("Yemen", not "Yemen, N.")."""
    former = {name for pairs in successors().values() for name, _ in pairs} | set(ceased_states())
    present = [r["fh_name"] for r in rows if r["fh_name"] not in former]
    return (present or [r["fh_name"] for r in rows])[-1]


def bounded(text: str | None) -> str:
    """The identifier, stripped; refused at once when empty or longer than any name (before any pattern)."""
    q = (text or "").strip()
    if not q:
        raise NotFound("an empty identifier names nothing: give an ISIN, an LEI, an ISO code or a country name")
    if len(q) > MAX_IDENTIFIER:
        raise UserError(f"an identifier of {len(q):,} characters ({q[:24]!r}...): no ISIN, LEI, code or country "
                        f"name is longer than {MAX_IDENTIFIER}")
    return q


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
    def gazetteer(self) -> Gazetteer:
        return Gazetteer(self._mapping, list(self._iso.values()))

    @cached_property
    def _issuers_by_name(self) -> dict[str, list[dict]]:
        """Issuers by name and short name ("Republic of Turkiye", "EIB"), from the register."""
        index: dict[str, list[dict]] = {}
        for row in reads.issuers(self.conn):
            for name in {fold(row["name"]), fold(row["short_name"] or "")} - {""}:
                index.setdefault(name, []).append(row)
        return index

    def resolve(self, query: str) -> Target:
        """Unreadable input (an empty ID, a bad checksum, a name nobody uses) is an error naming it."""
        q = bounded(query)
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
        # An issuer's name answers only where no code or name of a place does: a code never reads the register.
        issuers = None if self.gazetteer.exact(q) else self._issuers_by_name.get(fold(q))
        if issuers:
            if len(issuers) == 1:
                return self._issuer(query, issuers[0], None)
            listed = ", ".join(f"{i['name']} ({i['lei'] or i['iso2'] or i['type']})" for i in issuers)
            raise NotFound(f"{query!r} names more than one issuer ({listed}): give its LEI or an ISIN")
        try:
            place = self.gazetteer.place(q)
        except NoSuchPlace as exc:
            raise NotFound(f"{exc}{self._hint(q)}") from None
        return self._target(query, place)

    def country(self, query: str, iso2: str, issuer: Issuer | None = None) -> Target:
        """A present-day country by its ISO2: every entity of the mapping with that code."""
        return self._target(query, self.gazetteer.country(query, iso2), issuer)

    def _target(self, query: str, place: Place, issuer: Issuer | None = None) -> Target:
        if not place.rows:
            iso = self._iso[place.iso2 or ""]
            return Target(query, (iso["iso3"],), place.iso2, iso["name"], {iso["iso3"]: iso["name"]}, issuer)
        entities = tuple(dict.fromkeys(r["entity"] for r in place.rows))
        names = {r["entity"]: r["fh_name"] for r in place.rows}
        iso2 = place.iso2
        kind = "territory" if all(r["kind"] == "t" for r in place.rows) else "country"
        return Target(query, entities, iso2, place.name, names, issuer, former=iso2 is not None and iso2 not in self._iso,
                      within=self._within(place), kind=kind, continued=place.continued)

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

    def _within(self, place: Place) -> Within | None:
        row = next((assessed_within()[r["fh_name"]] for r in place.rows if r["fh_name"] in assessed_within()), None)
        if row is None or row["answer"] != "parent":
            return None
        parents = tuple(dict.fromkeys(r["entity"] for r in self._mapping if r["fh_name"] == row["parent"]))
        return Within(row["parent"], int(row["from_edition"]), parents, bool(place.iso2))

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
    """A country named in a policy file or an issuer register (any code or spelling `check` reads) -> its
    ISO2, through the same `Gazetteer.place` over the bundled mapping (a policy loads before any database)."""
    try:
        return Gazetteer.bundled().place(name).iso2
    except UserError:
        return None


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
    """Places FH stopped rating apart, by FH name: covered in another report (`answer` = parent), or with
    no FH source for that and so answered like any territory FH does not rate (`answer` = unrated)."""
    with open(paths.ASSESSED_WITHIN, newline="", encoding="utf-8") as f:
        return {r["name"]: r for r in csv.DictReader(f)}


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


@cache
def fh_aliases() -> dict[str, str]:
    """Spellings of one FH entity the name sources lack: former states, Gaza (data/fh_aliases.csv)."""
    with open(paths.FH_ALIASES, newline="", encoding="utf-8") as f:
        return {fold(r["alias"]): r["fh_name"] for r in csv.DictReader(f)}


@cache
def codes() -> dict[str, list[dict]]:
    """ISO numeric and ISO 3166-3 codes (data/codes.csv) -> the states they named and their successors."""
    out: dict[str, list[dict]] = {}
    with open(paths.CODES, newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            out.setdefault(r["code"], []).append(r)
    return out


@cache
def word_places() -> dict[str, frozenset[str]]:
    """Each word of every spelling -> the countries whose names carry it. A compass word counts only from a
    short name ("South Africa", "Afrique du Sud"), not from a long official one ("... and Northern Ireland")."""
    out: dict[str, set[str]] = {}
    spellings = [(name, iso2s) for name, iso2s in names().items()]
    with open(paths.COUNTRIES, newline="", encoding="utf-8") as f:
        spellings += [(fold(r["fh_name"]), (r["iso2"] or f"~{r['entity']}",)) for r in csv.DictReader(f)]
    for name, iso2s in spellings:
        words = WORD.findall(name)
        for word in words:
            if word in COMPASS and len(words) > 3:
                continue
            out.setdefault(word, set()).update(iso2s)
    return {w: frozenset(c) for w, c in out.items()}


@cache
def own_words() -> dict[str, frozenset[str]]:
    """ISO2 -> the words its own names are made of (a territory's name is not its parent's)."""
    out: dict[str, set[str]] = {}
    for word, places in word_places().items():
        for iso2 in places:
            out.setdefault(iso2, set()).add(word)
    return {c: frozenset(w) for c, w in out.items()}


class Ceased(NamedTuple):
    """A state that no longer exists (data/ceased.csv): it issues nothing after `on`; its debt passed on."""
    fh_name: str
    on: date
    successor: str  # FH names, "|" between several
    source: str

    @property
    def reason(self) -> str:
        heirs = self.successor.split("|")
        said = "its successors are" if len(heirs) > 1 else "its successor is"
        return f"not eligible: {self.fh_name} ceased to exist on {self.on.isoformat()}; {said} {' and '.join(heirs)}"


@cache
def ceased_states() -> dict[str, Ceased]:
    """FH name -> when that state ceased to exist."""
    with open(paths.CEASED, newline="", encoding="utf-8") as f:
        return {r["fh_name"]: Ceased(r["fh_name"], date.fromisoformat(r["ceased"]), r["successor"], r["source"])
                for r in csv.DictReader(f)}


def ceased(target: Target, on: date) -> Ceased | None:
    """When every state `target` can name had ceased to exist by `on`: the last of them to go."""
    ends = [ceased_states().get(name) for name in set(target.names.values())]
    known = [e for e in ends if e is not None]
    if not ends or len(known) < len(ends) or any(e.on > on for e in known):
        return None
    return max(known, key=lambda e: e.on)


def after_ceasing(target: Target, answer: dict, on: date) -> dict:
    """From the day a state ceased to exist it is never eligible, whatever its last rating or the policy says: the
    state that answered (South Vietnam under VN in 1976), else every state the target can name."""
    return ceased_answer(answer, (ceased_by(answer["name"], on) if answer["name"] else None) or ceased(target, on))


def ceased_by(fh_name: str, on: date) -> Ceased | None:
    """When the state FH names `fh_name` ceased to exist, if it had by `on` (a list's row, not a typed name)."""
    end = ceased_states().get(fh_name)
    return end if end is not None and end.on <= on else None


def ceased_answer(answer: dict, end: Ceased | None) -> dict:
    """An answer (a lookup's or a list's row) for a state that ceased to exist: not eligible, saying so."""
    if end is None:
        return answer
    return answer | {"eligible": False, "name": end.fh_name, "reasons": [*answer["reasons"][:-1], end.reason]}
