// The scenario picker: filters rows in place (selections are kept because rows are only
// hidden), says when no scenario matches, and totals the minutes of the picked scenarios
// against the assessment's time limit.
(function () {
  const q = document.getElementById("bank-q");
  if (!q) return;
  const ids = ["bank-skill", "bank-layer", "bank-difficulty", "bank-minutes", "bank-role",
    "bank-scale"];
  const [skill, layer, difficulty, minutes, role, scale] =
    ids.map((id) => document.getElementById(id));
  const empty = document.getElementById("picker-empty");
  const total = document.getElementById("picker-total");
  const limit = document.getElementById("time_limit_min");
  const rows = () => Array.from(document.querySelectorAll("#picker tbody tr[data-minutes]"));
  function apply() {
    const text = q.value.trim().toLowerCase();
    let shown = 0;
    rows().forEach((tr) => {
      const d = tr.dataset;
      const ok = (!text || d.text.includes(text)) &&
        (!skill.value || d.skills.split(" ").includes(skill.value)) &&
        (!layer.value || d.layers.split(" ").includes(layer.value)) &&
        (!difficulty.value || d.difficulty === difficulty.value) &&
        (!minutes.value || Number(d.minutes) <= Number(minutes.value)) &&
        (!role || !role.value || d.roles.split(" ").includes(role.value)) &&
        (!scale || !scale.value || d.scales.split(" ").includes(scale.value));
      tr.hidden = !ok && !tr.querySelector("input[type=checkbox]").checked;
      if (!tr.hidden) shown += 1;
    });
    if (empty) empty.hidden = shown > 0;
  }
  function sum() {
    if (!total) return;
    const picked = rows().filter((tr) => tr.querySelector("input[type=checkbox]").checked);
    const mins = picked.reduce((n, tr) => n + Number(tr.dataset.minutes), 0);
    const lim = Number(limit && limit.value) || 0;
    total.textContent = picked.length === 0
      ? "No scenario picked yet: pick at least one."
      : `${picked.length} scenario${picked.length === 1 ? "" : "s"} picked: about ${mins} minutes of work` +
        (lim ? ` for a time limit of ${lim} minutes` + (mins > lim ? ": more than the limit allows." : ".") : ".");
    total.classList.toggle("over", lim > 0 && mins > lim);
  }
  [q, skill, layer, difficulty, minutes, role, scale].forEach(
    (el) => el && el.addEventListener("input", apply));
  document.getElementById("picker").addEventListener("change", sum);
  if (limit) limit.addEventListener("input", sum);
  apply();
  sum();
})();
