// The console's one script (the pages allow no inline script): screening an uploaded book through the API's
// bounded upload, POST /api/v1/screen/file, then the table, a summary and the screened file as CSV.
"use strict";
(function () {
  const form = document.getElementById("upload");
  if (!form) return;
  const $ = (id) => document.getElementById(id);
  const cell = (value) => {
    const text = value === null || value === undefined ? "" : String(value);
    const safe = /^[=+\-@\t\r]/.test(text) && !/^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$/.test(text.trim())
      ? "'" + text : text;
    return /[",\r\n;]/.test(safe) ? '"' + safe.replace(/"/g, '""') + '"' : safe;
  };
  let link = null;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const params = new URLSearchParams();
    for (const id of ["column", "mandate", "as_of"]) if ($(id).value) params.set(id, $(id).value);
    const body = new FormData();
    body.append("file", $("file").files[0]);
    $("error").hidden = true;
    $("result").hidden = true;
    $("screen").disabled = true;
    try {
      const response = await fetch(`/api/v1/screen/file?${params}`, {method: "POST", body});
      const answer = await response.json();
      if (!response.ok) {
        const detail = answer.detail;
        $("error").textContent = typeof detail === "string" ? detail
          : (detail || []).map((e) => `${(e.loc || []).join(".")}: ${e.msg}`).join("; ") || `HTTP ${response.status}`;
        $("error").hidden = false;
        return;
      }
      const columns = answer.length ? Object.keys(answer[0]) : [];
      const head = document.createElement("tr");
      for (const c of columns) { const th = document.createElement("th"); th.textContent = c; head.appendChild(th); }
      $("screened").tHead.replaceChildren(head);
      const rows = answer.slice(0, 2000).map((r) => {
        const tr = document.createElement("tr");
        tr.className = {eligible: "ok", excluded: "no"}[r.verdict] || "unknown";
        for (const c of columns) {
          const td = document.createElement("td");
          td.textContent = r[c] === null || r[c] === undefined ? "" : String(r[c]);
          td.dataset.label = c;
          if (c === "verdict") td.className = "verdict";
          tr.appendChild(td);
        }
        return tr;
      });
      $("screened").tBodies[0].replaceChildren(...rows);
      const counts = {};
      for (const r of answer) counts[r.verdict] = (counts[r.verdict] || 0) + 1;
      $("summary").replaceChildren(...[["rows", answer.length], ...Object.entries(counts)].map(([k, n]) => {
        const li = document.createElement("li");
        li.textContent = k === "rows" ? form.dataset.rows.replace("{n}", n) : `${k}: ${n}`;
        li.dataset.verdict = k;
        return li;
      }));
      const csv = [columns.map(cell).join(","), ...answer.map((r) => columns.map((c) => cell(r[c])).join(","))].join("\r\n");
      if (link) URL.revokeObjectURL(link);
      link = URL.createObjectURL(new Blob(["\ufeff" + csv], {type: "text/csv"}));
      $("download").href = link;
      $("result").hidden = false;
    } catch (error) {
      $("error").textContent = String(error);
      $("error").hidden = false;
    } finally {
      $("screen").disabled = false;
    }
  });
})();
