"""Convert blind answers into calibration files (bands by role) and grade them."""
import json, sys, os
from pathlib import Path
sys.path.insert(0, "/tmp")
SRC = Path("/tmp/blind/serving-to-slo")
DST = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/tmp/slo_root/serving_to_slo/calibration")
BANDS = {"strong": (80, 100), "medium": (30, 65), "wrong": (0, 30), "keyword_stuffed": (0, 15),
         "textbook": (0, 35), "structured_only": (20, 55), "echo": (0, 20)}
DESC = {"strong": "Strong", "medium": "Medium", "wrong": "Wrong: confident, a wrong model of the problem",
        "keyword_stuffed": "Keyword-stuffed: jargon, no derivation", "textbook": "Textbook: a generic plan that ignores the variant",
        "structured_only": "Structured only: the strong answer's fields, one-line write-up",
        "echo": "Echo: numbers copied from the prompt"}
for f in sorted(SRC.glob("s*_*.json")):
    d = json.load(open(f))
    seed = int(f.name.split("_")[0][1:])
    name = f.stem.split("_", 1)[1]
    note = d.get("notes", "")
    if name == "paraphrase":
        out = {"of": f"blind_s{seed}_strong_1.json", "note": "same facts, other words (written blind from the candidate view)",
               "answers": d["answers"]}
        (DST / f"blind_s{seed}_strong_1.paraphrase.json").write_text(json.dumps(out, indent=2) + "\n")
        continue
    role = name.rsplit("_", 1)[0] if name.startswith("strong") else name
    if name == "strong_1" and seed == 3:
        role_out = "reference"
    else:
        role_out = role
    lo, hi = BANDS[role]
    out = {"scenario": "serving-to-slo", "seed": seed, "role": role_out,
           "description": f"{DESC[role]} (written blind from the candidate view): {note}",
           "answers": d["answers"], "band": {"min": lo, "max": hi}}
    (DST / f"blind_s{seed}_{name}.json").write_text(json.dumps(out, indent=2) + "\n")
    print("wrote", f"blind_s{seed}_{name}.json", role_out)
