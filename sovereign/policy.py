"""The exclusion policy file: base rule, anomaly gate, mandates; loaded and checked.

The base rule excludes FH's Not Free countries. Mandates (client accounts) only tighten: a policy
file whose mandate would admit anything the base excludes is refused when it is loaded. No polars
here: desk lookups load the policy on their fast path.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from fiw import methodology as m
from fiw.errors import UserError

# Each table's keys and the TOML type each value must have; ranges are checked in check_policy.
BASE_KEYS = {"exclude_status": "strings", "unrated": "string", "territories": "string", "divest_days": "integer",
             "auto_publish": "boolean", "approvals_required": "integer", "min_total": "integer",
             "persistence": "integer", "decline_points": "integer", "decline_editions": "integer"}
GATE_KEYS = {"max_status_change_share": "number", "max_entity_change": "integer"}
MANDATE_KEYS = {"description": "string", "exclude_status": "strings", "min_total": "integer", "min_pr": "integer",
                "min_cl": "integer", "exclude_countries": "strings", "unrated": "string", "persistence": "integer",
                "decline_points": "integer", "decline_editions": "integer"}
TYPES = {
    "string": lambda v: isinstance(v, str),
    "strings": lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
}


# Rules added after lists were built, at the value that leaves every list as it was. At that value they are
# left out of the recorded policy and its digest, so the stored lists keep their policy.
RULE_DEFAULTS: dict[str, Any] = {"min_total": None, "persistence": 1, "decline_points": None, "decline_editions": None}
MANDATE_RULE_DEFAULTS: dict[str, Any] = {"persistence": None, "decline_points": None, "decline_editions": None}
LATER_KEYS = {"approvals_required": 1}
MAX_PERSISTENCE = 10
MAX_DECLINE_EDITIONS = 20


@dataclass(frozen=True)
class Mandate:
    name: str
    description: str = ""
    exclude_status: tuple[str, ...] = ()
    min_total: int | None = None
    min_pr: int | None = None
    min_cl: int | None = None
    exclude_countries: tuple[str, ...] = ()
    unrated: str = "exclude"
    persistence: int | None = None        # unset: the base rule's
    decline_points: int | None = None
    decline_editions: int | None = None

    @property
    def needs_history(self) -> bool:
        return (self.persistence or 1) > 1 or self.decline_points is not None


@dataclass(frozen=True)
class Policy:
    exclude_status: tuple[str, ...] = ("NF",)
    unrated: str = "exclude"
    territories: str = "own"
    divest_days: int = 90
    auto_publish: bool = False
    approvals_required: int = 1
    max_status_change_share: float = 0.10
    max_entity_change: int = 3
    min_total: int | None = None          # the score buffer: excluded below this Total, whatever the status
    persistence: int = 1                  # re-admitted only after this many consecutive editions above the line
    decline_points: int | None = None     # excluded after losing more than this many Total points ...
    decline_editions: int | None = None   # ... over this many editions
    mandates: tuple[Mandate, ...] = field(default_factory=tuple)

    @property
    def needs_history(self) -> bool:
        """Rules that read the previous editions (persistence, decline) are set."""
        return self.persistence > 1 or self.decline_points is not None

    @property
    def digest(self) -> str:
        """Changes when a rule changes. Keys added after lists were built count only when they differ from
        their default, so adding one does not make every stored list look built under another policy."""
        import hashlib

        settled = {k: v for k, v in recorded(self).items() if not (k in LATER_KEYS and v == LATER_KEYS[k])}
        text = json.dumps(settled, sort_keys=True, default=list)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def mandate(self, name: str) -> Mandate:
        for mandate in self.mandates:
            if mandate.name == name:
                return mandate
        known = ", ".join(x.name for x in self.mandates) or "none"
        raise UserError(f"unknown mandate {name!r}; the policy defines: {known}")


def load_policy(path: Path, country_code: Callable[[str], str | None]) -> Policy:
    """Read and check a policy file; every problem names the file, the table and the key. `country_code`
    turns a mandate's country names into ISO2 codes (the resolver's; passed in, so the policy never reaches
    the store)."""
    import tomllib

    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{path}: no such policy file") from None
    except UnicodeDecodeError:
        raise UserError(f"{path}: not UTF-8 text; save the policy file as UTF-8") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot read the policy file ({exc.strerror or exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{path}: not valid TOML ({exc})") from None
    name = Path(path).name
    unknown = set(raw) - {"base", "gate", "mandates"}
    if unknown:
        raise UserError(f"{name}: unknown table(s) {sorted(unknown)}; expected base, gate, mandates")
    base = _table(name, "[base]", raw.get("base", {}), BASE_KEYS)
    gate = _table(name, "[gate]", raw.get("gate", {}), GATE_KEYS)
    if not isinstance(raw.get("mandates", {}), dict):
        raise UserError(f"{name}: mandates must be tables such as [mandates.strict_pf]")
    mandates = []
    for mname, spec in raw.get("mandates", {}).items():
        spec = _table(name, f"[mandates.{mname}]", spec, MANDATE_KEYS)
        spec = _frozen(spec)
        if "exclude_countries" in spec:
            spec["exclude_countries"] = _country_codes(name, mname, spec["exclude_countries"], country_code)
        mandates.append(Mandate(name=mname, **spec))
    policy = Policy(**_frozen(base | gate), mandates=tuple(mandates))
    check_policy(policy, name)
    return policy


def _table(file: str, table: str, spec: object, keys: dict[str, str]) -> dict:
    """A table of known keys whose values have the expected TOML types."""
    if not isinstance(spec, dict):
        raise UserError(f"{file}: {table} must be a table of keys, found {spec!r}")
    unknown = sorted(set(spec) - set(keys))
    if unknown:
        raise UserError(f"{file}: {table} has unknown key(s) {unknown}; allowed: {sorted(keys)}")
    for key, value in spec.items():
        if not TYPES[keys[key]](value):
            raise UserError(f"{file}: {table} {key}: expected a {keys[key].replace('strings', 'list of strings')}, "
                            f"found {value!r}")
    return spec


ONLY_TIGHTEN = "a mandate can only tighten"
UNRATED = ("exclude", "eligible")


def check_policy(policy: Policy, file: str = "policy") -> None:
    """Values in range, and no mandate looser than the base rule."""
    def bad(where: str, text: str) -> UserError:
        return UserError(f"{file}: {where}: {text}")

    if not set(policy.exclude_status) <= set(m.STATUSES):
        raise bad("[base] exclude_status", f"expected a list of F, PF, NF, found {list(policy.exclude_status)}")
    if "NF" not in policy.exclude_status:
        raise bad("[base] exclude_status", "the house policy excludes Not Free (NF); it cannot be left out")
    if policy.unrated not in UNRATED:
        raise bad("[base] unrated", f"expected 'exclude' or 'eligible', found {policy.unrated!r}")
    if policy.territories not in ("own", "stricter"):
        raise bad("[base] territories", f"expected 'own' or 'stricter', found {policy.territories!r}")
    if not isinstance(policy.divest_days, int) or not 0 <= policy.divest_days <= 3650:
        raise bad("[base] divest_days", f"expected whole days 0-3650, found {policy.divest_days!r}")
    if policy.approvals_required not in (1, 2):
        raise bad("[base] approvals_required", f"expected 1 or 2, found {policy.approvals_required!r}")
    if not isinstance(policy.auto_publish, bool):
        raise bad("[base] auto_publish", f"expected true or false, found {policy.auto_publish!r}")
    if policy.min_total is not None and not 0 <= policy.min_total <= 100:
        raise bad("[base] min_total", f"expected a whole score 0-100, found {policy.min_total!r}")
    check_history_rules(bad, "[base]", policy)
    if not 0 < policy.max_status_change_share <= 1:
        raise bad("[gate] max_status_change_share", f"expected a share between 0 and 1, found {policy.max_status_change_share!r}")
    for mandate in policy.mandates:
        where = f"[mandates.{mandate.name}]"
        if not set(mandate.exclude_status) <= set(m.STATUSES):
            raise bad(f"{where} exclude_status", f"expected a list of F, PF, NF, found {list(mandate.exclude_status)}")
        if mandate.exclude_status and not set(policy.exclude_status) <= set(mandate.exclude_status):
            loosened = sorted(set(policy.exclude_status) - set(mandate.exclude_status))
            raise bad(f"{where} exclude_status", f"would admit {loosened}, which the base rule excludes; {ONLY_TIGHTEN}")
        if mandate.unrated not in UNRATED:
            raise bad(f"{where} unrated", f"expected 'exclude' or 'eligible', found {mandate.unrated!r}")
        if mandate.unrated == "eligible" and policy.unrated == "exclude":
            raise bad(f"{where} unrated", f"would admit unrated countries, which the base rule excludes; {ONLY_TIGHTEN}")
        for key, hi in (("min_total", 100), ("min_pr", 40), ("min_cl", 60)):
            value = getattr(mandate, key)
            if value is not None and (not isinstance(value, int) or not 0 <= value <= hi):
                raise bad(f"{where} {key}", f"expected a whole score 0-{hi}, found {value!r}")
        if None not in (policy.min_total, mandate.min_total) and mandate.min_total < policy.min_total:  # type: ignore[operator]
            raise bad(f"{where} min_total", f"would admit a Total of {mandate.min_total}, below the base rule's "
                      f"{policy.min_total}; {ONLY_TIGHTEN}")
        check_history_rules(bad, where, mandate)
        if mandate.persistence is not None and mandate.persistence < policy.persistence:
            raise bad(f"{where} persistence", f"would re-admit after {mandate.persistence} edition(s), sooner than the "
                      f"base rule's {policy.persistence}; {ONLY_TIGHTEN}")
        if None not in (policy.decline_points, mandate.decline_points) and not (
                mandate.decline_editions == policy.decline_editions
                and mandate.decline_points <= policy.decline_points):  # type: ignore[operator]
            raise bad(f"{where} decline_points", f"must keep the base rule's decline over {policy.decline_editions} "
                      f"editions with at most {policy.decline_points} points (found {mandate.decline_points} over "
                      f"{mandate.decline_editions}); {ONLY_TIGHTEN}")


def check_history_rules(bad: Any, where: str, rules: Policy | Mandate) -> None:
    """Persistence in whole editions; a decline needs both its points and its editions."""
    if rules.persistence is not None and (not isinstance(rules.persistence, int)
                                          or not 1 <= rules.persistence <= MAX_PERSISTENCE):
        raise bad(f"{where} persistence", f"expected whole editions 1-{MAX_PERSISTENCE} (1: re-admitted at once), "
                  f"found {rules.persistence!r}")
    if (rules.decline_points is None) != (rules.decline_editions is None):
        raise bad(f"{where} decline_points", "a decline needs both decline_points and decline_editions, found "
                  f"decline_points = {rules.decline_points!r}, decline_editions = {rules.decline_editions!r}")
    if rules.decline_points is not None and not 0 <= rules.decline_points <= 100:
        raise bad(f"{where} decline_points", f"expected whole points 0-100, found {rules.decline_points!r}")
    if rules.decline_editions is not None and not 1 <= rules.decline_editions <= MAX_DECLINE_EDITIONS:
        raise bad(f"{where} decline_editions", f"expected whole editions 1-{MAX_DECLINE_EDITIONS}, "
                  f"found {rules.decline_editions!r}")


def recorded(policy: Policy) -> dict[str, Any]:
    """The policy as recorded with a list: the later rules only where they are set."""
    def settle(spec: dict, defaults: dict[str, Any]) -> dict:
        return {k: v for k, v in spec.items() if not (k in defaults and v == defaults[k])}

    out = settle(asdict(policy), RULE_DEFAULTS)
    out["mandates"] = [settle(m, MANDATE_RULE_DEFAULTS) for m in out["mandates"]]
    return out


def policy_text(policy: Policy) -> str:
    return json.dumps(recorded(policy), sort_keys=True, default=list)


def stored_policy(text: str) -> Policy:
    """The policy a list version was built under, from its stored `policy_text`; defaults fill what older
    versions did not record."""
    raw = json.loads(text or "{}")
    mandates = tuple(Mandate(**_frozen(spec)) for spec in raw.pop("mandates", ()))
    known = {f.name for f in fields(Policy)}
    return Policy(**_frozen({k: v for k, v in raw.items() if k in known}), mandates=mandates)


def _country_codes(file: str, mandate: str, names: tuple[str, ...], country_code: Callable[[str], str | None]
                   ) -> tuple[str, ...]:
    """A mandate's named countries as ISO2 codes; a name nobody knows refuses the policy (it would exclude
    nothing, silently)."""
    codes, unknown = [], []
    for name in names:
        code = country_code(name)
        (codes.append(code) if code else unknown.append(name))
    if unknown:
        raise UserError(f"{file}: [mandates.{mandate}] exclude_countries: {unknown} name no country we know; "
                        "give ISO codes (TR) or FH's names (Turkey)")
    return tuple(codes)


def _frozen(spec: dict) -> dict[str, Any]:
    """TOML and JSON lists as tuples, so a policy stays hashable and its digest stable."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in spec.items()}
