// Filters the scenario picker rows in place; selections are kept because rows are only hidden.
(function () {
  const q = document.getElementById("bank-q");
  if (!q) return;
  const ids = ["bank-skill", "bank-layer", "bank-difficulty", "bank-minutes"];
  const [skill, layer, difficulty, minutes] = ids.map((id) => document.getElementById(id));
  function apply() {
    const text = q.value.trim().toLowerCase();
    document.querySelectorAll("#picker tbody tr").forEach((tr) => {
      const d = tr.dataset;
      const ok = (!text || d.text.includes(text)) &&
        (!skill.value || d.skills.split(" ").includes(skill.value)) &&
        (!layer.value || d.layers.split(" ").includes(layer.value)) &&
        (!difficulty.value || d.difficulty === difficulty.value) &&
        (!minutes.value || Number(d.minutes) <= Number(minutes.value));
      tr.hidden = !ok && !tr.querySelector("input[type=checkbox]").checked;
    });
  }
  [q, skill, layer, difficulty, minutes].forEach((el) => el.addEventListener("input", apply));
})();
