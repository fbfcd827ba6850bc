// The workspace's artifacts: a folder tree filtered by name, and a viewer that shows a CSV
// as a table, any other text with line numbers, and finds text inside the open file.
(function () {
  "use strict";
  const panel = document.getElementById("artifacts");
  if (!panel) return;
  const index = panel.dataset.index;
  const filter = document.getElementById("art-filter"), count = document.getElementById("art-count");
  const viewer = document.getElementById("art-viewer"), body = document.getElementById("art-body");
  const nameEl = document.getElementById("art-name"), download = document.getElementById("art-download");
  const find = document.getElementById("art-find"), hitsEl = document.getElementById("art-hits");
  const files = [...panel.querySelectorAll(".art-file")];
  const MAX_LINES = 20000, MAX_ROWS = 2000;
  const url = (path) => "/api/v1/candidate/artifacts/" + index + "/" + path.split("/").map(encodeURIComponent).join("/");

  // ---- the tree: filter by name or folder ---------------------------------------------
  function applyFilter() {
    const q = filter.value.trim().toLowerCase();
    let shown = 0;
    files.forEach((li) => {
      const ok = !q || li.dataset.path.toLowerCase().includes(q);
      li.hidden = !ok; if (ok) shown++;
    });
    [...panel.querySelectorAll(".art-dir")].reverse().forEach((dir) => {
      const any = dir.querySelector(".art-file:not([hidden])");
      dir.hidden = !any;
      if (q) dir.querySelector("details").open = !!any;
    });
    count.textContent = q ? shown + " of " + files.length + " files match" : "";
  }
  filter.addEventListener("input", applyFilter);

  // ---- the viewer ---------------------------------------------------------------------
  function parseCsv(text) {
    const rows = []; let row = [], cell = "", quoted = false;
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (quoted) {
        if (c === '"') { if (text[i + 1] === '"') { cell += '"'; i++; } else quoted = false; }
        else cell += c;
      } else if (c === '"') quoted = true;
      else if (c === ",") { row.push(cell); cell = ""; }
      else if (c === "\n" || c === "\r") {
        if (c === "\r" && text[i + 1] === "\n") i++;
        row.push(cell); rows.push(row); row = []; cell = "";
        if (rows.length > MAX_ROWS) break;
      } else cell += c;
    }
    if (cell !== "" || row.length) { row.push(cell); rows.push(row); }
    return rows;
  }
  function el(tag, cls, text) {
    const e = document.createElement(tag); if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text; return e;
  }
  function note(text) { body.append(el("p", "muted small-note", text)); }
  function showCsv(text) {
    const rows = parseCsv(text);
    const table = el("table", "art-csv");
    const head = el("thead"), tr = el("tr");
    tr.append(el("th", "", "#"));
    (rows[0] || []).forEach((h) => { const th = el("th", "", h); th.scope = "col"; tr.append(th); });
    head.append(tr); table.append(head);
    const tb = el("tbody");
    rows.slice(1, MAX_ROWS + 1).forEach((r, i) => {
      if (r.length === 1 && r[0] === "") return;
      const row = el("tr", "art-unit"); row.append(el("td", "rn", String(i + 1)));
      r.forEach((v) => row.append(el("td", "", v))); tb.append(row);
    });
    table.append(tb); body.append(table);
    if (rows.length > MAX_ROWS) note("The first " + MAX_ROWS + " rows are shown; download the file for all of it.");
  }
  function showLines(text) {
    let lines = text.split(/\r?\n/);
    if (lines.length && lines[lines.length - 1] === "") lines.pop();
    const cut = lines.length > MAX_LINES;
    if (cut) lines = lines.slice(0, MAX_LINES);
    const ol = el("ol", "art-lines");
    lines.forEach((l) => ol.append(el("li", "art-unit", l)));
    body.append(ol);
    if (cut) note("The first " + MAX_LINES + " lines are shown; download the file for all of it.");
  }
  let current = null;
  async function open(path, button) {
    panel.querySelectorAll("button.art-open[aria-current]").forEach((b) => b.removeAttribute("aria-current"));
    button.setAttribute("aria-current", "true");
    current = path;
    viewer.hidden = false; nameEl.textContent = path; download.href = url(path);
    body.replaceChildren(el("p", "muted small-note", "Loading…"));
    let text;
    try {
      const r = await fetch(url(path), {credentials: "same-origin"});
      if (!r.ok) throw new Error(String(r.status));
      text = await r.text();
    } catch (e) { body.replaceChildren(el("p", "error", "Could not load " + path + ".")); return; }
    if (current !== path) return;
    body.replaceChildren();
    if (/\.csv$/i.test(path)) showCsv(text); else showLines(text);
    body.scrollTop = 0; body.scrollLeft = 0;
    search();
    nameEl.focus({preventScroll: true});
    viewer.scrollIntoView({block: "start"});
  }
  panel.addEventListener("click", (e) => {
    const b = e.target instanceof Element ? e.target.closest("button.art-open") : null;
    if (b) open(b.dataset.path, b);
  });
  document.getElementById("art-close").addEventListener("click", () => {
    viewer.hidden = true; current = null;
    const b = panel.querySelector("button.art-open[aria-current]");
    if (b) { b.removeAttribute("aria-current"); b.focus(); }
  });

  // ---- text search inside the open file ---------------------------------------------------
  let hits = [], at = -1;
  function search() {
    const q = find.value.trim().toLowerCase();
    body.querySelectorAll(".hit").forEach((u) => u.classList.remove("hit", "hit-current"));
    hits = []; at = -1;
    if (q) body.querySelectorAll(".art-unit").forEach((u) => {
      if (u.textContent.toLowerCase().includes(q)) { u.classList.add("hit"); hits.push(u); }
    });
    hitsEl.textContent = q ? (hits.length ? hits.length + " matching line" + (hits.length === 1 ? "" : "s") : "no match") : "";
    if (hits.length) go(0);
  }
  function go(i) {
    if (!hits.length) return;
    if (at >= 0) hits[at].classList.remove("hit-current");
    at = (i + hits.length) % hits.length;
    hits[at].classList.add("hit-current");
    hits[at].scrollIntoView({block: "center", inline: "nearest"});
    hitsEl.textContent = (at + 1) + " of " + hits.length + " matching line" + (hits.length === 1 ? "" : "s");
  }
  let debounce = null;
  find.addEventListener("input", () => { clearTimeout(debounce); debounce = setTimeout(search, 150); });
  find.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); go(at + (e.shiftKey ? -1 : 1)); } });
  document.getElementById("art-next").addEventListener("click", () => go(at + 1));
  document.getElementById("art-prev").addEventListener("click", () => go(at - 1));
})();
