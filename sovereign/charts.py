"""The report's charts as inline SVG (matplotlib), so the page renders offline and prints."""

from __future__ import annotations

import io

COLOURS = {"F": "#2e7d32", "PF": "#f9a825", "NF": "#c62828"}
REGION = {"F": "#e8f5e9", "PF": "#fff8e1", "NF": "#ffebee"}


def _svg(fig) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]


def _pyplot():
    import matplotlib

    matplotlib.use("svg")
    matplotlib.rcParams["svg.fonttype"] = "none"  # text stays text: searchable and selectable
    import matplotlib.pyplot as plt

    return plt


def pr_cl_scatter(rows: list[dict], edition: int, movers: dict[str, str] | None = None) -> str:
    """PR against CL aggregates, over the regions where FH's rule gives F, PF and NF; the countries that move
    in or out of the list (`movers`: iso2 -> "in" | "out") ringed and named."""
    from matplotlib.patches import Rectangle

    from fiw import methodology as m

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4.6))  # small enough that a phone shows its words at a readable size
    pr_edges = [(-4, 5)] + [(f, (m.PR_BANDS[i - 1][0] - 1) if i else 40) for i, (f, _) in reversed(list(enumerate(m.PR_BANDS)))]
    cl_edges = [(0, 7)] + [(f, (m.CL_BANDS[i - 1][0] - 1) if i else 60) for i, (f, _) in reversed(list(enumerate(m.CL_BANDS)))]
    for lo_p, hi_p in pr_edges:
        for lo_c, hi_c in cl_edges:
            status = m.status(m.pr_rating(lo_p), m.cl_rating(lo_c))
            ax.add_patch(Rectangle((lo_c - 0.5, lo_p - 0.5), hi_c - lo_c + 1, hi_p - lo_p + 1, color=REGION[status], lw=0))
    for status in ("F", "PF", "NF"):
        pts = [r for r in rows if r["status"] == status and r["pr"] is not None]
        ax.scatter([r["cl"] for r in pts], [r["pr"] for r in pts], s=14, c=COLOURS[status],
                   label=f"{m.STATUS_WORDS[status]} ({len(pts)})", edgecolors="white", linewidths=0.4)
    for r in rows:
        direction = (movers or {}).get(r.get("iso2") or "")
        if direction and r["pr"] is not None:
            ax.scatter([r["cl"]], [r["pr"]], s=70, facecolors="none", edgecolors="#111", linewidths=1.2)
            ax.annotate(f"{r.get('fh_name') or r['iso2']} ({'out' if direction == 'out' else 'in'})", (r["cl"], r["pr"]),
                        xytext=(6, 6), textcoords="offset points", fontsize=9, color="#111",
                        bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "#999", "alpha": 0.9})
    ax.set_xlim(-0.5, 60.5)
    ax.set_ylim(-4.5, 40.5)
    ax.set_xlabel("Civil Liberties (0-60)")
    ax.set_ylabel("Political Rights (-4 to 40)")
    ax.set_title(f"Freedom in the World {edition}: scores and the status regions")
    ax.legend(loc="upper left", fontsize=9)
    return _svg(fig)


def score_changes(moves: list[dict], e_before: int, e_after: int) -> str:
    """The largest Total score changes between the two editions."""
    plt = _pyplot()
    moves = list(reversed(moves))
    fig, ax = plt.subplots(figsize=(6, max(2.0, 0.28 * len(moves) + 0.8)))
    values = [r["change"] for r in moves]
    ax.barh([r["name"] for r in moves], values, color=["#c62828" if v < 0 else "#2e7d32" for v in values])
    ax.axvline(0, color="#333", lw=0.6)
    ax.set_xlabel(f"Total score change, {e_before} -> {e_after}")
    ax.tick_params(axis="y", labelsize=9)
    ax.set_title("Largest score moves")
    return _svg(fig)


def excluded_per_year(editions: list[int], current: list[int], alternative: list[int]) -> str:
    """Countries excluded per edition under the policy in force and under an alternative."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.4))
    ax.step(editions, current, where="post", color="#1f4e79", lw=1.8, label="policy in force")
    ax.step(editions, alternative, where="post", color="#c62828", lw=1.4, ls="--", label="alternative")
    ax.set_xlabel("Edition of Freedom in the World")
    ax.set_ylabel("Countries excluded")
    ax.set_ylim(bottom=0)
    ax.grid(axis="y", color="#ddd", lw=0.6)
    ax.legend(loc="lower left", fontsize=9)
    ax.set_title("Countries excluded per edition")
    return _svg(fig)


def difference_timeline(rows: list[dict], first: int, last: int, limit: int = 60) -> str:
    """One line per country the two policies treat differently: a mark for each edition in which only the
    policy in force (blue) or only the alternative (red) excludes it. Past `limit` countries, those that differ
    in the most editions (the tables list every one)."""
    plt = _pyplot()
    shown = sorted(sorted(rows, key=lambda r: -len(r["marks"]))[:limit], key=lambda r: r["name"])
    fig, ax = plt.subplots(figsize=(6, max(1.8, 0.22 * len(shown) + 1.2)), layout="constrained")
    colours = {"current": "#1f4e79", "alternative": "#c62828"}
    labels = {"current": "excluded only by the policy in force", "alternative": "excluded only by the alternative"}
    for side in ("current", "alternative"):
        points = [(e, y) for y, row in enumerate(reversed(shown)) for e, s in row["marks"] if s == side]
        ax.scatter([e for e, _ in points], [y for _, y in points], s=18, marker="s", c=colours[side], lw=0,
                   label=labels[side])
    ax.set_yticks(range(len(shown)), [r["name"] for r in reversed(shown)], fontsize=8)
    ax.set_xlim(first - 1, last + 1)
    ax.set_ylim(-1, max(len(shown), 1))
    ax.grid(axis="x", color="#eee", lw=0.6)
    fig.legend(loc="outside lower center", fontsize=8, ncol=1)
    more = f" ({limit} of {len(rows)}: those differing most often)" if len(rows) > limit else ""
    ax.set_title(("Countries the two policies treat differently" + more) if rows else "The two policies never differ",
                 fontsize=10)
    return _svg(fig)
