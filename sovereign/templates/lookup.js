// The desk's lookup page: ask the API, fill the card. Served as a file: the page allows no inline script.
const WORDS = JSON.parse(document.getElementById("status-words").textContent);
const VERDICTS = {eligible: "Eligible", excluded: "Not eligible", unknown: "Unknown: not eligible"};
const $ = (id) => document.getElementById(id);
$("lookup").addEventListener("submit", async (event) => {
  event.preventDefault();
  const params = new URLSearchParams();
  if ($("mandate").value) params.set("mandate", $("mandate").value);
  if ($("as_of").value) params.set("as_of", $("as_of").value);
  const card = $("card");
  card.style.display = "block";
  const response = await fetch(`/api/v1/check/${encodeURIComponent($("q").value.trim())}?${params}`);
  const a = await response.json();
  if (!response.ok) {
    card.className = "err";
    $("verdict").textContent = "Cannot answer";
    $("title").textContent = a.detail || `HTTP ${response.status}`;
    for (const id of ["todo", "status", "scores", "reasons", "divest", "list", "upcoming", "pending"]) $(id).textContent = "";
    return;
  }
  card.className = {eligible: "ok", excluded: "no", unknown: "unknown"}[a.verdict];
  $("verdict").textContent = VERDICTS[a.verdict];
  $("todo").textContent = a.verdict === "unknown"
    ? "Not eligible until it is known: add the issuer to the issuer register (sovereign issuers import), then ask again." : "";
  $("title").textContent = `${a.name} (${a.iso2 || "no ISO code"})${a.mandate ? " for mandate " + a.mandate : ""}`;
  $("status").textContent = a.status ? WORDS[a.status]
    : {unresolved: "unknown issuer", supranational: "out of scope (supranational)"}[a.kind] || "not rated";
  $("scores").textContent = a.pr === null ? (a.pr_rating ? `PR rating ${a.pr_rating}, CL rating ${a.cl_rating}` : "–")
    : `PR ${a.pr}/40, CL ${a.cl}/60, total ${a.total}/100 (ratings ${a.pr_rating}/${a.cl_rating})`;
  $("reasons").textContent = a.reasons.join("; ");
  $("divest").textContent = a.divest_by ? `${a.divest_by} (no new buys from ${a.no_new_buys_from})` : "–";
  $("list").innerHTML = "";
  const link = document.createElement("a");
  link.href = `/reports/${a.edition}`;
  link.textContent = `Freedom in the World ${a.edition}, list version ${a.list_version}, effective ${a.effective_from}`
    + (a.in_force ? "" : ` (${a.state}: not in force)`);
  $("list").appendChild(link);
  const up = a.upcoming;
  const staged = up && up.divest_by && up.verdict === "excluded"
    ? `; no new buys from ${up.no_new_buys_from}, divest by ${up.divest_by}` : "";
  const committee = up && up.list_version === a.list_version && (up.by_committee || []).length;
  $("upcoming").textContent = !up ? "–" : committee && up.verdict === "excluded"
    ? `Excluded by the committee from ${up.effective_from} (override ${up.by_committee.join(", ")})${staged}`
    : `From ${up.effective_from}, list version ${up.list_version} (Freedom in the World ${up.edition}): `
      + `${VERDICTS[up.verdict]}${staged}`;
  const review = a.pending;
  $("pending").textContent = review ? `${review.state} list ${review.list_version} (Freedom in the World `
    + `${review.edition}): ${review.change || "would answer " + VERDICTS[review.verdict]}` : "–";
});
