// The candidate workspace: autosave with versions and a local copy, the server-side timer,
// Markdown preview, code editors, integrity events, and the submit confirmation.
(function () {
  "use strict";
  const form = document.getElementById("answer");
  if (!form) return;
  const csrf = document.body.dataset.csrf;
  const index = Number(form.dataset.index);
  const scenario = form.dataset.scenario;
  const storeKey = "burnin:" + form.dataset.attemptKey + ":" + index;
  const statusEl = document.getElementById("save-status");
  let version = Number(form.dataset.version);
  let dirty = false, saving = false, lastSaved = null, retryMs = 2000, debounce = null;

  // ---- reading and writing the form -------------------------------------------------
  function collect() {
    const out = {};
    form.querySelectorAll(".field").forEach((el) => {
      const id = el.dataset.field, type = el.dataset.type;
      if (type === "choice") {
        const c = el.querySelector("input:checked"); out[id] = c ? c.value : null;
      } else if (type === "multi_choice") {
        out[id] = [...el.querySelectorAll("input:checked")].map((i) => i.value);
      } else if (type === "integer" || type === "number") {
        const raw = el.querySelector("input").value.trim();
        out[id] = raw === "" ? null : Number(raw);
      } else if (type === "short_text") {
        out[id] = el.querySelector("input").value;
      } else if (type === "long_text") {
        const areas = el.querySelectorAll("textarea");
        if (areas.length === 1 && !areas[0].name.includes(".")) out[id] = areas[0].value;
        else { out[id] = {}; areas.forEach((t) => { out[id][t.name.split(".")[1]] = t.value; }); }
      } else if (type === "code") {
        out[id] = {};
        el.querySelectorAll("textarea").forEach((t) => { out[id][t.name.split(":").slice(1).join(":")] = t.value; });
      }
    });
    return out;
  }
  function fill(content) {
    form.querySelectorAll(".field").forEach((el) => {
      const id = el.dataset.field, type = el.dataset.type, v = content[id];
      if (type === "choice" || type === "multi_choice") {
        el.querySelectorAll("input").forEach((i) => {
          i.checked = type === "choice" ? v === i.value : Array.isArray(v) && v.includes(i.value);
        });
      } else if (type === "integer" || type === "number" || type === "short_text") {
        el.querySelector("input").value = v == null ? "" : v;
      } else {
        el.querySelectorAll("textarea").forEach((t) => {
          const key = type === "code" ? t.name.split(":").slice(1).join(":") : t.name.split(".")[1];
          const val = typeof v === "string" ? v : (v && key ? v[key] : "") || "";
          if (t._editor) t._editor.setValue(val); else t.value = val;
        });
      }
    });
  }
  function validate() {
    let ok = true;
    form.querySelectorAll(".field[data-type=integer], .field[data-type=number]").forEach((el) => {
      const input = el.querySelector("input"), msg = el.querySelector(".invalid");
      let text = "";
      if (input.value.trim() !== "") {
        const n = Number(input.value);
        if (!Number.isFinite(n)) text = "Enter a number.";
        else if (el.dataset.type === "integer" && !Number.isInteger(n)) text = "Enter a whole number.";
        else if (input.min !== "" && n < Number(input.min)) text = "At least " + input.min + ".";
        else if (input.max !== "" && n > Number(input.max)) text = "At most " + input.max + ".";
      }
      if (msg) msg.textContent = text;
      input.setAttribute("aria-invalid", text ? "true" : "false");
      ok = ok && !text;
    });
    return ok;
  }

  // ---- local copy until the server acknowledges -------------------------------------
  function keepLocal() {
    try { localStorage.setItem(storeKey, JSON.stringify({base: version, content: collect()})); } catch (e) {}
  }
  function dropLocal() { try { localStorage.removeItem(storeKey); } catch (e) {} }
  function readLocal() { try { return JSON.parse(localStorage.getItem(storeKey)); } catch (e) { return null; } }

  // ---- saving -------------------------------------------------------------------------
  function show(text, offline) { statusEl.textContent = text; statusEl.classList.toggle("offline", !!offline); }
  function tick() {
    if (saving) return;
    if (dirty) show("Unsaved changes…");
    else if (lastSaved) show("Saved " + Math.max(0, Math.round((Date.now() - lastSaved) / 1000)) + " s ago");
  }
  function changed() {
    dirty = true; keepLocal(); validate(); tick();
    clearTimeout(debounce); debounce = setTimeout(save, 1200);
  }
  let conflictCopy = null;
  async function save() {
    if (!dirty || saving) return;
    saving = true;
    const content = collect();
    show("Saving…");
    try {
      const r = await fetch("/api/v1/candidate/answers/" + index, {
        method: "PUT", credentials: "same-origin",
        headers: {"content-type": "application/json", "x-csrf-token": csrf},
        body: JSON.stringify({base_version: version, content: content}),
      });
      const body = await r.json().catch(() => ({}));
      if (r.ok) {
        version = body.version; lastSaved = Date.now(); retryMs = 2000;
        if (JSON.stringify(collect()) === JSON.stringify(content)) { dirty = false; dropLocal(); }
        else keepLocal();
        markAnswered(content);
      } else if (r.status === 409 && body.error === "conflict") {
        // A newer version exists (another tab): never overwrite it silently.
        conflictCopy = content; version = body.version; fill(body.content || {});
        dirty = false; dropLocal();
        document.getElementById("conflict").hidden = false;
      } else if (r.status === 409 && body.error === "attempt_closed") {
        window.location = "/take/done"; return;
      } else if (r.status === 401 || r.status === 403) {
        show("Your session ended: open your invitation link again.", true);
      } else {
        show((body.detail || "Not saved") + "", true);
      }
    } catch (e) {
      show("Offline – retrying", true);
      setTimeout(save, retryMs); retryMs = Math.min(retryMs * 2, 30000);
    } finally { saving = false; }
  }
  document.getElementById("restore-mine").addEventListener("click", () => {
    if (!conflictCopy) return;
    fill(conflictCopy); conflictCopy = null;
    document.getElementById("conflict").hidden = true; changed();
  });
  function markAnswered(content) {
    const answered = Object.values(content).some((v) => v !== null && v !== "" &&
      !(Array.isArray(v) && !v.length) && !(typeof v === "object" && !Array.isArray(v) && !Object.values(v).some((x) => x)));
    const mark = document.querySelectorAll(".take-nav li")[index]?.querySelector(".done-mark");
    if (mark) { mark.dataset.answered = answered ? "yes" : "no"; mark.textContent = answered ? "✓ answered" : "not answered"; }
  }

  // Restore an unsent local copy made from the version the server still has.
  const local = readLocal();
  if (local && local.base === version) { fill(local.content); dirty = true; save(); }
  else if (local) dropLocal();

  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  setInterval(() => { tick(); if (dirty) save(); }, 5000);
  window.addEventListener("online", save);
  window.addEventListener("beforeunload", (e) => { if (dirty) { keepLocal(); e.preventDefault(); } });
  document.addEventListener("visibilitychange", () => { if (document.hidden) save(); });

  // ---- timer against the server's deadline ------------------------------------------
  const root = document.querySelector(".take");
  const deadline = Date.parse(root.dataset.deadline);
  const skew = Date.parse(root.dataset.serverNow) - Date.now();
  const timerEl = document.getElementById("timer");
  let finishing = false;
  function clock() {
    const left = Math.max(0, deadline - (Date.now() + skew));
    const s = Math.floor(left / 1000);
    timerEl.textContent = (s >= 3600 ? Math.floor(s / 3600) + ":" : "") +
      String(Math.floor((s % 3600) / 60)).padStart(2, "0") + ":" + String(s % 60).padStart(2, "0");
    timerEl.parentElement.classList.toggle("low", s < 300);
    if (left <= 0 && !finishing) {
      finishing = true; dirty = true;
      save().finally(() => { window.location = "/take/done"; });
    }
  }
  clock(); setInterval(clock, 1000);

  // ---- Markdown preview and code editors ----------------------------------------------
  form.querySelectorAll("textarea[data-markdown]").forEach((t) => {
    const btn = document.createElement("button");
    btn.type = "button"; btn.className = "small secondary"; btn.textContent = "Preview";
    const out = document.createElement("div");
    out.className = "md-preview"; out.hidden = true; out.setAttribute("aria-live", "polite");
    t.after(btn, out);
    btn.addEventListener("click", async () => {
      if (!out.hidden) { out.hidden = true; btn.textContent = "Preview"; return; }
      const r = await fetch("/api/v1/candidate/markdown", {method: "POST", credentials: "same-origin",
        headers: {"content-type": "application/json", "x-csrf-token": csrf}, body: JSON.stringify({text: t.value})});
      out.innerHTML = r.ok ? (await r.json()).html : "Preview unavailable";  // sanitized by the server
      out.hidden = false; btn.textContent = "Hide preview";
    });
  });
  if (window.BurninEditor) {
    form.querySelectorAll("textarea.code").forEach((t) => {
      t._editor = window.BurninEditor.create(t, {language: t.dataset.language || "python"});
    });
  }

  // ---- integrity signals: inform reviewers, never score -------------------------------
  function signal(kind, data) {
    fetch("/api/v1/candidate/events", {method: "POST", credentials: "same-origin", keepalive: true,
      headers: {"content-type": "application/json", "x-csrf-token": csrf},
      body: JSON.stringify({kind: kind, scenario_id: scenario, data: data || {}})}).catch(() => {});
  }
  form.addEventListener("paste", (e) => {
    const text = (e.clipboardData && e.clipboardData.getData("text")) || "";
    signal("paste", {field: (e.target.name || ""), chars: text.length});
  });
  document.addEventListener("visibilitychange", () => signal(document.hidden ? "focus_loss" : "focus_gain"));

  // ---- submit with a list of what is unanswered ---------------------------------------
  const dialog = document.getElementById("submit-dialog");
  document.getElementById("submit-open").addEventListener("click", async () => {
    await save();
    const r = await fetch("/api/v1/candidate/attempt", {credentials: "same-origin"});
    const st = r.ok ? await r.json() : {scenarios: []};
    const missing = st.scenarios.filter((s) => !s.answered).map((s) => s.title);
    const box = document.getElementById("unanswered");
    box.replaceChildren();
    if (missing.length) {
      const p = document.createElement("p"); p.textContent = "Not answered yet:";
      const ul = document.createElement("ul");
      missing.forEach((m) => { const li = document.createElement("li"); li.textContent = m; ul.append(li); });
      box.append(p, ul);
    }
    dialog.showModal();
  });
  document.getElementById("submit-cancel").addEventListener("click", () => dialog.close());
})();

// ---- notebook and Run: code executes only in the candidate's sandbox ------------------
(function () {
  "use strict";
  const nb = document.getElementById("notebook");
  if (!nb) return;
  const csrf = document.body.dataset.csrf;
  const index = nb.dataset.index;
  const cells = document.getElementById("nb-cells");
  const code = document.getElementById("nb-code");
  const status = document.getElementById("nb-status");
  let editor = null;
  if (window.BurninEditor) editor = window.BurninEditor.create(code, {language: "python"});
  const post = (url, body) => fetch(url, {method: "POST", credentials: "same-origin",
    headers: {"content-type": "application/json", "x-csrf-token": csrf},
    body: body === undefined ? undefined : JSON.stringify(body)});

  function el(tag, cls, text) {
    const e = document.createElement(tag); if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text; return e;
  }
  function renderCell(cell) {
    const box = el("div", "nb-cell s-" + cell.status);
    box.append(el("div", "nb-prompt", "[" + (cell.execution_count ?? " ") + "] " + cell.status));
    box.append(el("pre", "nb-src", cell.code));
    (cell.outputs || []).forEach((o) => {
      if (o.type === "stream") box.append(el("pre", "nb-out" + (o.name === "stderr" ? " err" : ""), o.text));
      else if (o.type === "error") box.append(el("pre", "nb-out err", o.ename + ": " + o.evalue + "\n" + o.traceback));
      else if (o.type === "result") {
        if (o.png) { const img = el("img"); img.src = "data:image/png;base64," + o.png; img.alt = "cell output"; box.append(img); }
        else if (o.html) { const d = el("div", "nb-html"); d.innerHTML = o.html; box.append(d); }  // sanitized by the server
        else box.append(el("pre", "nb-out", o.text));
      }
    });
    cells.append(box);
  }
  fetch("/api/v1/candidate/notebook/" + index, {credentials: "same-origin"})
    .then((r) => r.ok ? r.json() : {cells: []}).then((d) => d.cells.forEach(renderCell));

  async function runCell() {
    const src = editor ? editor.getValue() : code.value;
    if (!src.trim()) return;
    status.textContent = "Running… (first run starts your kernel)";
    try {
      const r = await post("/api/v1/candidate/notebook/" + index + "/execute", {code: src});
      const body = await r.json();
      if (!r.ok) { status.textContent = body.detail || "Could not run"; return; }
      renderCell({...body, code: src});
      status.textContent = body.status === "ok" ? "Done in " + body.duration_ms + " ms" :
        body.status + (body.detail ? ": " + body.detail : "");
    } catch (e) { status.textContent = "Offline – the cell did not run"; }
  }
  document.getElementById("nb-run").addEventListener("click", runCell);
  nb.addEventListener("keydown", (e) => { if (e.key === "Enter" && e.shiftKey) { e.preventDefault(); runCell(); } });
  document.getElementById("nb-interrupt").addEventListener("click", () => post("/api/v1/candidate/notebook/" + index + "/interrupt"));
  document.getElementById("nb-restart").addEventListener("click", async () => {
    await post("/api/v1/candidate/notebook/" + index + "/restart");
    status.textContent = "Kernel restarted: variables are gone, the history stays.";
  });

  const runBtn = document.getElementById("run-code");
  if (runBtn) runBtn.addEventListener("click", async () => {
    const out = document.getElementById("run-output");
    const files = {};
    document.querySelectorAll("textarea.code").forEach((t) => { files[t.name.split(":").slice(1).join(":")] = t.value; });
    out.hidden = false; out.textContent = "Running…";
    const r = await post("/api/v1/candidate/run/" + index, {files: files});
    const b = await r.json();
    out.textContent = r.ok ? ("[" + b.status + ", exit " + b.exit_code + ", " + b.wall_s + " s]\n" + b.stdout +
      (b.stderr ? "\n--- stderr ---\n" + b.stderr : "") + (b.truncated ? "\n[output cut]" : "")) : (b.detail || "Could not run");
  });
})();
