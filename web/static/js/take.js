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
          if (t._editor) t._editor.setValue(val, {silent: true}); else t.value = val;
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
  let conflicted = false, failed = "";
  function tick() {
    if (saving) return;
    if (conflicted) show("Not saved: another tab saved a newer version (shown now).", true);
    else if (failed) show(failed, true);
    else if (dirty) show("Unsaved changes…");
    else if (lastSaved) {
      const s = Math.max(0, Math.round((Date.now() - lastSaved) / 1000));
      show(s < 5 ? "Saved" : "Saved " + (s < 90 ? s + " s" : Math.round(s / 60) + " min") + " ago");
    }
  }
  function changed() {
    dirty = true; conflicted = false; keepLocal(); validate(); tick();
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
      failed = "";
      if (r.ok) {
        version = body.version; lastSaved = Date.now(); retryMs = 2000; conflicted = false;
        if (JSON.stringify(collect()) === JSON.stringify(content)) { dirty = false; dropLocal(); }
        else keepLocal();
        markAnswered(content);
      } else if (r.status === 409 && body.error === "conflict") {
        // A newer version exists (another tab): never overwrite it silently.
        conflictCopy = content; version = body.version; fill(body.content || {});
        dirty = false; dropLocal(); conflicted = true;
        document.getElementById("conflict").hidden = false;
        markAnswered(body.content || {});
      } else if (r.status === 409 && body.error === "attempt_closed") {
        window.location = "/take/done"; return;
      } else if (r.status === 401 || r.status === 403) {
        failed = "Your session ended: open your invitation link again.";
      } else {
        failed = "Not saved: " + (body.detail || "the server refused it (" + r.status + ")");
      }
    } catch (e) {
      failed = "Offline – retrying";
      setTimeout(save, retryMs); retryMs = Math.min(retryMs * 2, 30000);
    } finally { saving = false; tick(); }
  }
  document.getElementById("restore-mine").addEventListener("click", () => {
    if (!conflictCopy) return;
    fill(conflictCopy); conflictCopy = null; conflicted = false;
    document.getElementById("conflict").hidden = true; changed();
  });
  // The same rule as the server's (attempts.service.answered): blank text, empty
  // write-up sections and code still equal to the starter file do not count.
  const starters = {};
  form.querySelectorAll("textarea.code[data-starter]").forEach((t) => {
    starters[t.name.split(":").slice(1).join(":")] = t.dataset.starter;
  });
  function filled(v, key) {
    if (v === null || v === undefined) return false;
    if (typeof v === "string") return v.trim() !== "" && !(key in starters && v.trim() === starters[key].trim());
    if (Array.isArray(v)) return v.length > 0;
    if (typeof v === "object") return Object.entries(v).some(([k, x]) => filled(x, k));
    return true;
  }
  function markAnswered(content) {
    const answered = Object.values(content).some((v) => filled(v, ""));
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

  // ---- the split between the prompt and the answer: drag, or arrow keys; remembered --
  const work = document.getElementById("take-work"), splitter = document.getElementById("splitter");
  if (work && splitter) {
    const KEY = "burnin:split", MIN = 25, MAX = 75;
    const setSplit = (pct, keep) => {
      pct = Math.round(Math.min(MAX, Math.max(MIN, pct)));
      work.style.setProperty("--split", pct + "%");
      splitter.setAttribute("aria-valuenow", String(pct));
      splitter.setAttribute("aria-valuetext", "prompt " + pct + "%, answer " + (100 - pct) + "%");
      if (keep) { try { localStorage.setItem(KEY, String(pct)); } catch (e) {} }
    };
    let saved = NaN;
    try { saved = Number(localStorage.getItem(KEY)); } catch (e) {}
    setSplit(Number.isFinite(saved) && saved > 0 ? saved : 50, false);
    splitter.addEventListener("keydown", (e) => {
      const now = Number(splitter.getAttribute("aria-valuenow"));
      const step = e.shiftKey ? 10 : 5;
      let next = null;
      if (e.key === "ArrowLeft" || e.key === "ArrowDown") next = now - step;
      else if (e.key === "ArrowRight" || e.key === "ArrowUp") next = now + step;
      else if (e.key === "Home") next = MIN;
      else if (e.key === "End") next = MAX;
      else if (e.key === "Enter") next = 50;
      if (next !== null) { e.preventDefault(); setSplit(next, true); }
    });
    splitter.addEventListener("pointerdown", (e) => {
      e.preventDefault(); splitter.setPointerCapture(e.pointerId); splitter.classList.add("dragging");
      const box = work.getBoundingClientRect();
      const move = (ev) => setSplit((ev.clientX - box.left) / box.width * 100, false);
      const up = (ev) => {
        splitter.releasePointerCapture(ev.pointerId); splitter.classList.remove("dragging");
        splitter.removeEventListener("pointermove", move); splitter.removeEventListener("pointerup", up);
        setSplit(Number(splitter.getAttribute("aria-valuenow")), true);
      };
      splitter.addEventListener("pointermove", move); splitter.addEventListener("pointerup", up);
    });
  }
  // On a narrow screen the scenario list starts folded, so the prompt is on the first screen.
  const list = document.getElementById("take-list");
  if (list && window.matchMedia("(max-width: 1100px)").matches) list.open = false;

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
  // Boxes that scroll sideways or down can be reached by keyboard: editors' text areas say
  // they are focusable, and a wide table or code block in the prompt takes a tab stop.
  function reachable() {
    document.querySelectorAll(".cm-content[contenteditable=true]").forEach((c) => { c.tabIndex = 0; });
    document.querySelectorAll(".prompt pre, .prompt table").forEach((b) => {
      if (b.scrollWidth > b.clientWidth + 1 && !b.hasAttribute("tabindex")) b.tabIndex = 0;
    });
  }
  reachable(); window.addEventListener("resize", reachable);

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
  const runBtn = document.getElementById("nb-run"), rerunBtn = document.getElementById("nb-rerun");
  const restartBtn = document.getElementById("nb-restart");
  let editor = null;
  if (window.BurninEditor) editor = window.BurninEditor.create(code, {language: "python"});
  nb.querySelectorAll(".cm-content[contenteditable=true]").forEach((c) => { c.tabIndex = 0; });
  const post = (url, body) => fetch(url, {method: "POST", credentials: "same-origin",
    headers: {"content-type": "application/json", "x-csrf-token": csrf},
    body: body === undefined ? undefined : JSON.stringify(body)});

  const LABEL = {ok: "ok", error: "error", timeout: "stopped: time or CPU limit", dead: "kernel died", process_limit: "stopped: process limit",
    output_limit: "output cut at the limit", running: "running", not_run: "not run"};
  function el(tag, cls, text) {
    const e = document.createElement(tag); if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text; return e;
  }
  function elapsed(ms) {
    if (ms == null) return "";
    return ms < 1000 ? ms + " ms" : (ms / 1000).toFixed(ms < 10000 ? 2 : 1) + " s";
  }
  function renderCell(cell, replacing) {
    const box = el("div", "nb-cell s-" + cell.status);
    const head = el("div", "nb-prompt");
    head.append(el("span", "nb-count", "[" + (cell.execution_count ?? " ") + "]"),
      el("span", "nb-state", LABEL[cell.status] || cell.status));
    const time = el("span", "nb-time", cell.status === "running" ? elapsed(Date.now() - cell.t0) : elapsed(cell.duration_ms));
    head.append(time);
    box.append(head);
    if (cell.kernel_restarted) {
      box.append(el("p", "nb-note", "A fresh kernel ran this cell: the previous one had stopped (" +
        cell.kernel_restarted + "). Variables from earlier cells are gone; Re-run all rebuilds them."));
    }
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
    if (cell.detail && cell.status !== "ok") box.append(el("p", "nb-note", cell.detail));
    if (!(replacing instanceof Element)) cells.append(box);
    else replacing.replaceWith(box);
    box._time = time;
    return box;
  }
  let history = [];
  fetch("/api/v1/candidate/notebook/" + index, {credentials: "same-origin"})
    .then((r) => r.ok ? r.json() : {cells: []})
    .then((d) => { history = d.cells.concat(history); d.cells.forEach((c) => renderCell(c)); });

  // One cell at a time: Run and Re-run all are disabled while a cell runs, Interrupt stays on.
  let busy = false;
  function setBusy(on, what) {
    busy = on;
    runBtn.disabled = on; rerunBtn.disabled = on; restartBtn.disabled = on;
    runBtn.textContent = on ? "Running…" : "Run cell";
    nb.setAttribute("aria-busy", on ? "true" : "false");
    if (on && what) status.textContent = what;
  }
  function summary(done) {
    if (done.status === "ok") return "Done in " + elapsed(done.duration_ms) + ".";
    if (done.status === "dead" || done.status === "process_limit")
      return (done.status === "dead" ? "The kernel died" : "Stopped at the process limit") +
        (done.detail ? " (" + done.detail + ")" : "") + ". The next Run starts a fresh kernel; Re-run all rebuilds your variables.";
    return (LABEL[done.status] || done.status) + (done.detail ? ": " + done.detail : "") + ".";
  }

  // While the server starts this candidate's kernel it streams their place and an estimate.
  function ordinal(n) {
    const s = ["th", "st", "nd", "rd"], v = n % 100;
    return n + (s[(v - 20) % 10] || s[v] || s[0]);
  }
  function waitText(p) {
    const pos = Number(p.position), eta = Math.max(1, Math.round(Number(p.eta_s)));
    if (!Number.isFinite(pos) || !Number.isFinite(eta)) return "Starting your sandbox…";
    const about = "about " + eta + " s";
    if (p.state === "starting") return "Starting your sandbox: it is on its way, " + about + ".";
    return "Starting your sandbox: " + ordinal(pos) + " in line, " + about + ".";
  }

  // Runs one cell and resolves to its final status; the cell never stays "running".
  async function execute(src) {
    const live = {code: src, status: "running", execution_count: null, outputs: [], t0: Date.now()};
    let box = renderCell(live);
    const ticker = setInterval(() => { box._time.textContent = elapsed(Date.now() - live.t0); }, 500);
    const finish = (fields) => { Object.assign(live, fields); box = renderCell(live, box); return live.status; };
    try {
      const r = await fetch("/api/v1/candidate/notebook/" + index + "/execute", {
        method: "POST", credentials: "same-origin",
        headers: {"content-type": "application/json", "x-csrf-token": csrf, "accept": "application/x-ndjson"},
        body: JSON.stringify({code: src})});
      if (!r.ok) {
        const b = await r.json().catch(() => ({}));
        box.remove();
        status.textContent = r.status === 429 ? "Something else is still running (another tab or a Run): wait for it, or press Interrupt."
          : r.status === 409 ? "Time is up: this attempt is closed." : (b.detail || "Could not run (" + r.status + ")");
        return "not_run";
      }
      const reader = r.body.getReader(), decoder = new TextDecoder();
      let buf = "", result = null;
      for (;;) {
        const {value, done} = await reader.read();
        if (done) break;
        buf += decoder.decode(value, {stream: true});
        let nl;
        while ((nl = buf.indexOf("\n")) >= 0) {
          const line = buf.slice(0, nl); buf = buf.slice(nl + 1);
          if (!line.trim()) continue;
          const msg = JSON.parse(line);
          if (msg.progress) {
            // Said once by the live region; shown in the waiting cell too (not announced twice).
            status.textContent = waitText(msg.progress);
            if (!box._wait) { box._wait = el("p", "nb-note nb-wait"); box._wait.setAttribute("aria-hidden", "true"); box.append(box._wait); }
            box._wait.textContent = waitText(msg.progress);
          }
          else if (msg.output) { live.outputs.push(msg.output); box = renderCell(live, box); }
          else if (msg.done) {
            result = msg.done; finish(msg.done);
            history.push(msg.done);
            status.textContent = summary(msg.done);
          } else if (msg.error) {
            result = {status: "not_run"};
            finish({status: "not_run", detail: msg.detail || msg.error});
            status.textContent = msg.detail || msg.error;
          }
        }
      }
      if (!result) { finish({status: "not_run", detail: "the connection closed before the cell finished"}); return "not_run"; }
      return result.status;
    } catch (e) {
      finish({status: "not_run", detail: "offline: the cell did not run"});
      status.textContent = "Offline – the cell did not run";
      return "not_run";
    } finally { clearInterval(ticker); }
  }

  async function runCell() {
    if (busy) { status.textContent = "A cell is still running: wait for it, or press Interrupt."; return; }
    const src = editor ? editor.getValue() : code.value;
    if (!src.trim()) return;
    setBusy(true, "Running… (the first cell starts your kernel)");
    try { await execute(src); } finally { setBusy(false); }
  }
  async function rerunAll() {
    if (busy) return;
    const todo = history.filter((c) => c.status === "ok").map((c) => c.code);
    if (!todo.length) { status.textContent = "No cell has run successfully yet: nothing to re-run."; return; }
    setBusy(true);
    try {
      for (let i = 0; i < todo.length; i++) {
        status.textContent = "Re-running cell " + (i + 1) + " of " + todo.length + "…";
        const st = await execute(todo[i]);
        if (st !== "ok") { status.textContent = "Re-run all stopped at cell " + (i + 1) + " of " + todo.length + " (" + (LABEL[st] || st) + ")."; return; }
      }
      status.textContent = "Re-ran " + todo.length + " cell" + (todo.length === 1 ? "" : "s") + ": your variables are back.";
    } finally { setBusy(false); }
  }
  runBtn.addEventListener("click", runCell);
  rerunBtn.addEventListener("click", rerunAll);
  nb.addEventListener("keydown", (e) => { if (e.key === "Enter" && e.shiftKey) { e.preventDefault(); runCell(); } });
  document.getElementById("nb-interrupt").addEventListener("click", () => {
    post("/api/v1/candidate/notebook/" + index + "/interrupt");
    if (busy) status.textContent = "Interrupting…";
  });
  restartBtn.addEventListener("click", async () => {
    restartBtn.disabled = true;
    const r = await post("/api/v1/candidate/notebook/" + index + "/restart").catch(() => null);
    restartBtn.disabled = busy;
    status.textContent = r && r.ok ? "Kernel restarted: variables are gone, the history stays. Re-run all rebuilds them."
      : "Could not restart the kernel.";
  });

  const runCode = document.getElementById("run-code");
  if (runCode) runCode.addEventListener("click", async () => {
    const out = document.getElementById("run-output");
    const files = {};
    document.querySelectorAll("textarea.code").forEach((t) => { files[t.name.split(":").slice(1).join(":")] = t.value; });
    out.hidden = false; out.textContent = "Running…"; runCode.disabled = true;
    try {
      const r = await post("/api/v1/candidate/run/" + index, {files: files});
      const b = await r.json().catch(() => ({}));
      out.textContent = r.ok ? ("[" + b.status + ", exit " + b.exit_code + ", " + b.wall_s + " s]\n" + b.stdout +
        (b.stderr ? "\n--- stderr ---\n" + b.stderr : "") + (b.truncated ? "\n[output cut]" : ""))
        : r.status === 429 ? "Something else is still running: wait for it, then run again." : (b.detail || "Could not run (" + r.status + ")");
    } catch (e) { out.textContent = "Offline – the code did not run"; }
    finally { runCode.disabled = false; }
  });
})();
