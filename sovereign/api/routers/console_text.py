"""The console's words in Dutch and English. Freedom House's status words (Free, Partly Free, Not Free) are
FH's and stay untranslated in both."""

from __future__ import annotations

LANGUAGES = ("en", "nl")

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "console": "Console", "desk": "Check", "batch": "Many identifiers", "upload": "Screen a book",
        "proposals": "Proposals", "overrides": "Overrides", "versions": "Versions", "runs": "Runs",
        "audit": "Audit trail", "public": "Public list", "sign_in": "Sign in", "sign_out": "Sign out",
        "signed_in_as": "Signed in as", "via_proxy": "through single sign-on", "via_token": "with a token",
        "token": "Your personal token", "token_help": "The token an operator gave you (sovereign tokens add NAME). "
        "You sign in once; the session lasts 12 hours.",
        "untrusted_proxy": "A sign-on header arrived from an address that is not a trusted proxy "
                           "(SOVEREIGN_TRUSTED_PROXIES): it was ignored.",
        "unknown_email": "The e-mail address your sign-on gave is not in the register of people "
                         "(sovereign people add NAME --email E --role R).",
        "shared_email": "More than one person in the register has your e-mail address: ask an operator to fix it.",
        "bad_token": "That token is not valid, was revoked, or is the shared admin token (it signs no one in).",
        "no_role": "no role", "role": "Role",
        "in_force": "In force", "awaiting": "Awaiting a decision", "none_awaiting": "No list awaits a decision.",
        "edition": "Edition", "version": "List version", "state": "State", "effective": "Effective from",
        "open_pack": "Open the approval pack", "approvals": "Approvals", "approved_by": "Approved by",
        "for_date": "for", "minutes": "Minutes", "recorded": "Recorded", "still_needed": "Still needed",
        "approve": "Approve", "approve_help": "Your approval is recorded under your name. The list takes effect "
        "when {n} different committee members approve the same date.",
        "needed_n": "{n} more committee member(s), different from those above, approving the same date",
        "needed_none": "none: the list is in force", "accept_held": "I have reviewed why it was held",
        "desk_cannot": "Only committee members approve and decide; you can read everything here.",
        "done_publish": "List version {v} is in force from {date}, approved by {who}.",
        "done_approval": "Your approval of list version {v} for {date} is recorded; {n} more needed.",
        "refused": "Refused", "already_approved": "{who} has already approved list version {v} for {date}: "
                   "the same person approving the same date again counts once; a different committee member "
                   "approving the same date puts it in force.",
        "already_approved_revoke": "{who} has already approved revoking override {id} for {date}: the same person "
                   "approving the same date again counts once; a different committee member approving the same "
                   "date puts it in force.",
        "newer_proposed": "List version {v} is no longer the newest proposal of its edition: reload the page.",
        "country": "Country", "from": "From", "until": "Until", "state_on": "State on", "show": "Show",
        "decided_by": "Decided by", "internal_note": "Internal note", "public_nl": "Public reason (Dutch)",
        "public_en": "Public reason (English)", "add_override": "Exclude a country", "add": "Add",
        "revoke": "Revoke", "revoke_reason": "Why revoked", "revoke_from": "Revoked from",
        "in_error": "Entered in error (removed from its first day)", "revoked_by": "Revoked by",
        "pending_revocation": "Revocation awaiting approvals", "backdate_reason": "Why back-dated (if before today)",
        "done_override": "Override {id} recorded: {country} excluded from {date}.",
        "done_revoke": "Override {id} revoked from {date}.",
        "done_revoke_approval": "Your approval to revoke override {id} from {date} is recorded; {n} more needed.",
        "filters": "Filters", "text": "Contains", "download_csv": "Download CSV", "download_xlsx": "Download XLSX",
        "rows": "{n} rows", "when": "When", "who": "Who", "what": "What", "subject": "Subject", "outcome": "Outcome",
        "message": "Message", "reason": "Reason", "action": "Action", "id": "Id", "command": "Command",
        "trigger": "Trigger", "started": "Started", "finished": "Finished", "counts": "Eligible / excluded",
        "approved": "Approved", "withdrawn": "Withdrawn",
        "check_title": "May we buy this issuer?", "identifier": "Country, ISIN or LEI", "mandate": "Mandate",
        "house_policy": "house policy", "as_of": "As of", "check": "Check",
        "eligible": "Eligible", "excluded": "Not eligible", "unknown": "Unknown: not eligible",
        "eligible_until": "Eligible until {until}", "excluded_until": "Not eligible until {until}",
        "excluded_from": "excluded from {date}", "eligible_from": "eligible again from {date}",
        "no_new_buys": "no new buys from {date}", "divest_by": "divest by {date}",
        "by_committee": "by the committee", "status": "Status", "scores": "Scores", "why": "Why",
        "coming": "Coming", "under_review": "Under review", "list": "List", "not_rated": "not rated",
        "unknown_todo": "Not eligible until it is known: add the issuer to the issuer register, then ask again.",
        "cannot_answer": "Cannot answer", "no_change_coming": "No change announced",
        "batch_title": "Many identifiers at once", "batch_help": "Paste a column from Excel: one identifier a line "
        "(country, ISIN or LEI), up to {n}.", "answer": "Answer", "query": "Identifier", "name": "Name",
        "verdict": "Verdict", "pending": "Pending", "answered": "{n} identifiers answered",
        "upload_title": "Screen a holdings book", "upload_help": "A CSV, XLSX or Parquet file with a header row "
        "and a column of ISINs, LEIs or countries. It is screened by the same bounded upload as the API "
        "(POST /api/v1/screen/file).", "file": "File", "column": "Identifier column (optional)",
        "screen": "Screen", "summary": "Summary", "download_screened": "Download the screened file (CSV)",
        "country_title": "{name}: history", "chart_title": "PR, CL and total by edition",
        "excluded_by_versions": "List versions that excluded it", "successors": "Predecessor states",
        "no_rows": "None.", "pr": "PR", "cl": "CL", "total": "Total", "predecessor": "Predecessor",
        "public_title": "The public list, as published", "open_public": "Open the public page",
        "statuses": "Statuses are Freedom House's: Free, Partly Free, Not Free.",
        "not_found": "Not found", "error": "Cannot do that",
        "home_title": "The committee's and the desk's console", "language": "Language",
        "recent": "Recent decisions",
        "held_review": "List version {v} was held ({reason}): review why, then tick that you have and approve again.",
    },
    "nl": {
        "console": "Console", "desk": "Controleren", "batch": "Veel codes", "upload": "Portefeuille screenen",
        "proposals": "Voorstellen", "overrides": "Uitsluitingen door de commissie", "versions": "Versies",
        "runs": "Uitvoeringen", "audit": "Auditspoor", "public": "Publieke lijst", "sign_in": "Inloggen",
        "sign_out": "Uitloggen", "signed_in_as": "Ingelogd als", "via_proxy": "via single sign-on",
        "via_token": "met een token",
        "token": "Uw persoonlijke token", "token_help": "Het token dat een beheerder u gaf (sovereign tokens add "
        "NAAM). U logt één keer in; de sessie duurt 12 uur.",
        "untrusted_proxy": "Er kwam een inlogkop van een adres dat geen vertrouwde proxy is "
                           "(SOVEREIGN_TRUSTED_PROXIES): die is genegeerd.",
        "unknown_email": "Het e-mailadres van uw single sign-on staat niet in het register van personen "
                         "(sovereign people add NAAM --email E --role R).",
        "shared_email": "Meer dan één persoon in het register heeft uw e-mailadres: vraag een beheerder dit te "
                        "herstellen.",
        "bad_token": "Dat token is ongeldig, ingetrokken, of het gedeelde beheertoken (daarmee logt niemand in).",
        "no_role": "geen rol", "role": "Rol",
        "in_force": "Van kracht", "awaiting": "Wacht op een besluit", "none_awaiting": "Er wacht geen lijst op een besluit.",
        "edition": "Editie", "version": "Lijstversie", "state": "Stand", "effective": "Van kracht vanaf",
        "open_pack": "Open het goedkeuringsdossier (in het Engels)", "approvals": "Goedkeuringen",
        "approved_by": "Goedgekeurd door",
        "for_date": "voor", "minutes": "Notulen", "recorded": "Vastgelegd", "still_needed": "Nog nodig",
        "approve": "Goedkeuren", "approve_help": "Uw goedkeuring wordt onder uw naam vastgelegd. De lijst gaat in "
        "wanneer {n} verschillende commissieleden dezelfde datum goedkeuren.",
        "needed_n": "nog {n} commissielid/-leden, anders dan hierboven, dat dezelfde datum goedkeurt",
        "needed_none": "geen: de lijst is van kracht", "accept_held": "Ik heb bekeken waarom de lijst is aangehouden",
        "desk_cannot": "Alleen commissieleden keuren goed en besluiten; u kunt hier alles lezen.",
        "done_publish": "Lijstversie {v} is van kracht vanaf {date}, goedgekeurd door {who}.",
        "done_approval": "Uw goedkeuring van lijstversie {v} voor {date} is vastgelegd; er zijn er nog {n} nodig.",
        "refused": "Geweigerd", "already_approved": "{who} heeft lijstversie {v} al goedgekeurd voor {date}: "
                   "dezelfde persoon die dezelfde datum opnieuw goedkeurt telt één keer; een ander commissielid "
                   "dat dezelfde datum goedkeurt brengt haar in werking.",
        "already_approved_revoke": "{who} heeft het intrekken van uitsluiting {id} al goedgekeurd voor {date}: "
                   "dezelfde persoon die dezelfde datum opnieuw goedkeurt telt één keer; een ander commissielid "
                   "dat dezelfde datum goedkeurt brengt het in werking.",
        "newer_proposed": "Lijstversie {v} is niet meer het nieuwste voorstel van haar editie: laad de pagina opnieuw.",
        "country": "Land", "from": "Vanaf", "until": "Tot en met", "state_on": "Stand op", "show": "Toon",
        "decided_by": "Besloten door", "internal_note": "Interne notitie", "public_nl": "Publieke reden (Nederlands)",
        "public_en": "Publieke reden (Engels)", "add_override": "Een land uitsluiten", "add": "Toevoegen",
        "revoke": "Intrekken", "revoke_reason": "Reden van intrekking", "revoke_from": "Ingetrokken vanaf",
        "in_error": "Ten onrechte ingevoerd (vanaf de eerste dag verwijderd)", "revoked_by": "Ingetrokken door",
        "pending_revocation": "Intrekking wacht op goedkeuringen",
        "backdate_reason": "Reden voor terugwerkende kracht (vóór vandaag)",
        "done_override": "Uitsluiting {id} vastgelegd: {country} uitgesloten vanaf {date}.",
        "done_revoke": "Uitsluiting {id} ingetrokken vanaf {date}.",
        "done_revoke_approval": "Uw goedkeuring om uitsluiting {id} in te trekken vanaf {date} is vastgelegd; er "
                                "zijn er nog {n} nodig.",
        "filters": "Filters", "text": "Bevat", "download_csv": "CSV downloaden", "download_xlsx": "XLSX downloaden",
        "rows": "{n} rijen", "when": "Wanneer", "who": "Wie", "what": "Wat", "subject": "Onderwerp",
        "outcome": "Uitkomst", "message": "Bericht", "reason": "Reden", "action": "Handeling", "id": "Nr",
        "command": "Opdracht", "trigger": "Aanleiding", "started": "Begonnen", "finished": "Klaar",
        "counts": "Toegestaan / uitgesloten", "approved": "Goedgekeurd", "withdrawn": "Teruggetrokken",
        "check_title": "Mogen we deze uitgevende instelling kopen?", "identifier": "Land, ISIN of LEI",
        "mandate": "Mandaat", "house_policy": "huisbeleid", "as_of": "Per datum", "check": "Controleren",
        "eligible": "Toegestaan", "excluded": "Niet toegestaan", "unknown": "Onbekend: niet toegestaan",
        "eligible_until": "Toegestaan tot en met {until}", "excluded_until": "Niet toegestaan tot en met {until}",
        "excluded_from": "uitgesloten vanaf {date}", "eligible_from": "weer toegestaan vanaf {date}",
        "no_new_buys": "geen nieuwe aankopen vanaf {date}", "divest_by": "verkopen uiterlijk {date}",
        "by_committee": "door de commissie", "status": "Status", "scores": "Scores", "why": "Waarom",
        "coming": "Komt eraan", "under_review": "In behandeling", "list": "Lijst", "not_rated": "niet beoordeeld",
        "unknown_todo": "Niet toegestaan zolang het onbekend is: voeg de uitgevende instelling toe aan het "
                        "register en vraag het opnieuw.",
        "cannot_answer": "Geen antwoord mogelijk", "no_change_coming": "Geen wijziging aangekondigd",
        "batch_title": "Veel codes tegelijk", "batch_help": "Plak een kolom uit Excel: één code per regel (land, "
        "ISIN of LEI), tot {n}.", "answer": "Antwoord", "query": "Code", "name": "Naam", "verdict": "Oordeel",
        "pending": "In behandeling", "answered": "{n} codes beantwoord",
        "upload_title": "Een portefeuille screenen", "upload_help": "Een CSV-, XLSX- of Parquet-bestand met een "
        "kopregel en een kolom met ISIN's, LEI's of landen. Het gaat door dezelfde begrensde upload als de API "
        "(POST /api/v1/screen/file).", "file": "Bestand", "column": "Kolom met codes (optioneel)",
        "screen": "Screenen", "summary": "Samenvatting", "download_screened": "Het gescreende bestand downloaden (CSV)",
        "country_title": "{name}: geschiedenis", "chart_title": "PR, CL en totaal per editie",
        "excluded_by_versions": "Lijstversies die het uitsloten", "successors": "Voorgaande staten",
        "no_rows": "Geen.", "pr": "PR", "cl": "CL", "total": "Totaal", "predecessor": "Voorganger",
        "public_title": "De publieke lijst, zoals gepubliceerd", "open_public": "Open de publieke pagina",
        "statuses": "De statussen zijn die van Freedom House: Free, Partly Free, Not Free.",
        "not_found": "Niet gevonden", "error": "Dat kan niet",
        "home_title": "De console van de commissie en de desk", "language": "Taal",
        "recent": "Recente besluiten",
        "held_review": "Lijstversie {v} is aangehouden ({reason}): bekijk waarom, vink aan dat u dat deed en keur "
                       "opnieuw goed.",
    },
}

# The product's own values shown in a table or beside a name (a version's state, a role, how a run started and
# ended, an audit action), word for word; a value not listed is shown as recorded.
VALUES: dict[str, dict[str, str]] = {
    "en": {},
    "nl": {
        "proposed": "voorgesteld", "held": "aangehouden", "published": "gepubliceerd",
        "committee": "commissie", "desk": "desk", "ops": "beheer",
        "manual": "handmatig", "scheduled": "gepland", "api": "API", "restore": "herstel", "startup": "bij het starten",
        "ok": "gelukt", "unchanged": "ongewijzigd", "failed": "mislukt", "refused": "geweigerd",
        "interrupted": "afgebroken",
        "approve": "goedkeuring", "approve revocation": "goedkeuring van een intrekking", "publish": "publicatie",
        "withdraw": "terugtrekking", "override add": "uitsluiting toegevoegd", "override revoke": "uitsluiting ingetrokken",
        "person add": "persoon toegevoegd", "person remove": "persoon verwijderd", "person update": "persoon bijgewerkt",
        "token add": "token uitgegeven", "token revoke": "token ingetrokken", "issuers add": "uitgevende instelling "
        "toegevoegd", "issuers import": "register van uitgevende instellingen ingelezen", "issuers remove":
        "uitgevende instelling verwijderd", "refresh": "verversing", "import": "inlezen", "key": "sleutel",
        "bundled history": "meegeleverde geschiedenis (publicatie van FH)",
    },
}


def value(text: str | None, lang: str) -> str:
    """One of the product's own values in the page's language (`VALUES`); an audit action the API took says so."""
    if text is None:
        return ""
    words = VALUES[lang]
    if text.startswith("api ") and text[4:] in words:
        return f"API: {words[text[4:]]}"
    return words.get(text, text)


VERDICT_KEYS = {"eligible": "eligible", "excluded": "excluded", "unknown": "unknown"}

# The product's own words for states and changes (`overrides.state`, `lookup.pending_change`, a version's state),
# longest first so that "revoked from its first day" is not read as "revoked".
WORDS_NL = (
    ("revoked from its first day", "ingetrokken vanaf de eerste dag"), ("revoked from", "ingetrokken vanaf"),
    ("revoked", "ingetrokken"), ("coming: from", "komt: vanaf"), ("active", "actief"), ("ended", "beëindigd"),
    ("would re-admit", "zou weer toelaten"), ("would exclude", "zou uitsluiten"), ("no change", "geen wijziging"),
    ("cannot place it", "niet te plaatsen"), ("proposed", "voorgesteld"), ("held", "aangehouden"),
    ("published", "gepubliceerd"),
)
ISO_DATE = r"\b(\d{4}-\d{2}-\d{2})\b"


def said(text: str | None, lang: str) -> str:
    """One of the product's state or change phrases in the page's language, its dates written out."""
    import re

    from sovereign.exclusion_list import long_date

    out = text or ""
    if lang == "nl":
        pattern = "|".join(re.escape(en) for en, _ in WORDS_NL)
        out = re.sub(pattern, lambda m: dict(WORDS_NL)[m.group(0)], out)
    return re.sub(ISO_DATE, lambda m: long_date(m.group(1), lang), out)


# The product's reasons (eligibility, committee overrides, mandates, ceased states, the issuer register), sentence
# by sentence in Dutch; `{gN}` is the pattern's N-th group, `{dN}` the same group as a date written out. A reason
# no pattern reads is shown as recorded.
REASONS_NL: tuple[tuple[str, str], ...] = (
    (r"Not rated in (.+)", "Niet beoordeeld in {g1}"),
    (r"Excluded by committee override (\d+) \((.*), from (\d{4}-\d{2}-\d{2})(?: until (\d{4}-\d{2}-\d{2}))?\): (.*)",
     "Uitgesloten door de commissie: uitsluiting {g1} ({g2}, vanaf {d3}{until4}): {g5}"),
    (r"mandate (\S+): (Free|Partly Free|Not Free) in (.+) is excluded", "mandaat {g1}: {g2} in {g3} is uitgesloten"),
    (r"mandate (\S+): Total (\d+)/(\d+) is below the minimum of (\d+)",
     "mandaat {g1}: totaal {g2}/{g3} ligt onder het minimum van {g4}"),
    (r"mandate (\S+): (PR|CL) (\d+)/(\d+) is below the minimum of (\d+)",
     "mandaat {g1}: {g2} {g3}/{g4} ligt onder het minimum van {g5}"),
    (r"mandate (\S+): country excluded by name", "mandaat {g1}: land bij naam uitgesloten"),
    (r"mandate (\S+): not rated in (.+)", "mandaat {g1}: niet beoordeeld in {g2}"),
    (r"not eligible: (.+) ceased to exist on (\d{4}-\d{2}-\d{2}); its successors? (?:is|are) (.+)",
     "niet toegestaan: {g1} bestaat niet meer sinds {d2}; opvolger: {and3}"),
    (r"ISIN (\S+) is not in the issuer register; its prefix (\S+) is the numbering agency's country"
     r"(?: \((.+?)\))?, not necessarily the issuer's(; the issuer register is empty.*)?",
     "ISIN {g1} staat niet in het register van uitgevende instellingen; het voorvoegsel {g2} is het land van het "
     "nummeringsbureau{paren3}, niet noodzakelijk dat van de uitgevende instelling{empty4}"),
    (r"--(?:effective-from|from) (\d{4}-\d{2}-\d{2}) is before today \((\d{4}-\d{2}-\d{2})\): .*",
     "{d1} ligt vóór vandaag ({d2}): de desk kreeg op die dagen antwoord uit andere lijsten; vul de reden voor "
     "terugwerkende kracht in"),
    (r"--effective-from (\d{4}-\d{2}-\d{2}) is before the list in force from (\d{4}-\d{2}-\d{2}); .*",
     "{d1} ligt vóór de lijst die van kracht is sinds {d2}: een nieuwe lijst gaat niet in vóór de lijst die zij "
     "opvolgt"),
    (r"LEI (\S+) is not in the issuer register", "LEI {g1} staat niet in het register van uitgevende instellingen"),
    (r"'(.+)': not a valid ISIN \(the check digit does not match\)", "'{g1}': geen geldige ISIN (het controlecijfer "
     "klopt niet)"),
    (r"'(.+)': not a valid LEI \(the check digits do not match\)", "'{g1}': geen geldige LEI (de controlecijfers "
     "kloppen niet)"),
)


def reason(text: str, lang: str) -> str:
    """One of the product's reasons in the page's language (`REASONS_NL`)."""
    import re

    from sovereign.exclusion_list import long_date

    if lang != "nl":
        return text
    for pattern, template in REASONS_NL:
        found = re.fullmatch(pattern, text)
        if found is None:
            continue
        groups = {str(i): found.group(i) or "" for i in range(1, found.re.groups + 1)}
        fields = {f"g{i}": g for i, g in groups.items()}
        fields |= {f"d{i}": long_date(g, lang) for i, g in groups.items() if re.fullmatch(ISO_DATE, g)}
        fields |= {f"until{i}": f" tot en met {fields[f'd{i}']}" if f"d{i}" in fields else "" for i in groups}
        fields |= {f"and{i}": g.replace(" and ", " en ") for i, g in groups.items()}
        fields |= {f"paren{i}": f" ({g})" if g else "" for i, g in groups.items()}
        fields |= {f"empty{i}": "; het register is leeg: lees er een in met `sovereign issuers import`" if g else ""
                   for i, g in groups.items()}
        return template.format(**fields)
    return text
