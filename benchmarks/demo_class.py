"""A demo class for the class report: rnn submissions with planted bugs, graded by one command.

    python benchmarks/demo_class.py [--out demo/rnn] [--count 48] [--jobs 2] [--screenshot docs/class-report.png]
    make demo                                     (the same, with the defaults)

Writes OUT/submissions/ as an unzipped Gradescope export (`submission_<id>/` folders and
`submission_metadata.yml`, with one group submission and names in several scripts), grades it with
`autograder grade-batch rnn OUT/submissions --out OUT`, and, with --screenshot, renders
OUT/report.html with headless Chromium to a PNG. Each submission is the reference solution with at
most one planted bug:
- each mistake of assignments/rnn/mutants.yaml, once or twice (the catalogue's odd entries twice);
- five mistakes outside the catalogue that the engine's patterns describe (an unsummed bias
  gradient, a transposed gradient, two gradients returned in each other's place, a flipped sign,
  a gradient divided by the batch size);
- one each of: a syntax error, an empty folder, a corrupt zip, a missing file, a function that
  hangs, one that raises, one left unimplemented, a crash of the whole process, the untouched
  starter (nothing implemented);
- the rest (at least 4) unchanged.
`make_class` returns what was planted where; tests/batch/test_class_report.py checks that the report's
diagnosis counts equal it.
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from headless import render  # noqa: E402

FIRST = ["Zoë", "José", "Łukasz", "Siobhán", "Nguyễn", "Søren", "Ayşe", "Đorđe", "Olúwaseun", "François",
         "Mária", "Björn", "Chloé", "Dmitrij", "Ngozi", "Priya", "Kenji", "Amélie", "Tomás", "Ana", "Ben",
         "Carla", "David", "Eva", "Farid", "Greta", "Hugo", "Ines", "Jonas", "Kai", "Lena", "Milan"]
LAST = ["Ní Bhriain", "Álvarez", "Żak", "Thị Lan", "Østergaard", "Yılmaz", "Petrović", "Adébáyọ̀", "Lefèvre",
        "Kovács", "Öberg", "Dubois", "Sokolov", "Okafor", "Raman", "Satō", "Moreau", "Ruiz", "Lee", "Brown"]
# A bug planted without the catalogue: (label, file, function, line inserted at the top of its body).
# Each ends the same way in every test that calls the function, and no diagnosis explains it.
INSERTED = [
    ("hangs", "rnn_layers.py", "clip_grad_norm", "while True:\n        pass"),
    ("raises", "rnn_layers.py", "lstm_step_backward",
     "raise ValueError(f'expected dnext_h of shape <N, H>, got {dnext_h.shape}')"),
    ("unimplemented", "rnn_layers.py", "temporal_affine_backward",
     "raise NotImplementedError('temporal_affine_backward: not implemented yet')"),
    ("crashes", "rnn_layers.py", "gru_step_forward", "import os; os.abort()"),
]
# Mistakes outside the catalogue that the engine's patterns describe: (pattern, file, function, old, new).
PATTERNED = [
    ("batch_axis", "rnn_layers.py", "rnn_step_backward", "db = da.sum(axis=0)             # (H,)", "db = da"),
    ("transposed", "rnn_layers.py", "rnn_step_backward", "dWh = prev_h.T @ da             # (H, H)",
     "dWh = da.T @ prev_h"),
    ("swapped", "rnn_layers.py", "lstm_step_backward", "return dx, dprev_h, dprev_c, dWx, dWh, db",
     "return dx, dprev_c, dprev_h, dWx, dWh, db"),
    ("sign", "rnn_layers.py", "word_embedding_backward", "np.add.at(dW, x, dout)", "np.add.at(dW, x, -dout)"),
    ("factor", "rnn_layers.py", "temporal_affine_backward", "dw = x.reshape(-1, D).T @ dout.reshape(-1, M)",
     "dw = x.reshape(-1, D).T @ dout.reshape(-1, M) / len(x)"),
]
WHOLE = ["syntax error", "empty folder", "corrupt zip", "missing file", "starter"]  # one submission each


def _names(count: int) -> list[str]:
    return [f"{FIRST[i % len(FIRST)]} {LAST[(i * 7) % len(LAST)]}" for i in range(count)]


def _insert(text: str, function: str, line: str) -> str:
    """`text` with `line` first in the solution block of `function` (after its docstring)."""
    at = text.index(f"def {function}(")
    begin = text.index("# BEGIN SOLUTION\n", at) + len("# BEGIN SOLUTION\n")
    indent = " " * (len(text[:begin - len("# BEGIN SOLUTION\n")].rsplit("\n", 1)[1]))
    return text[:begin] + indent + line + "\n" + text[begin:]


def plants(count: int, buggy_fill: bool = False) -> list:
    """What each of `count` submissions gets: ("mutant", mutant), ("pattern", entry), ("inserted", entry),
    ("whole", label) or ("reference", None), in submission order. Beyond the planted set, submissions are the
    reference, or with `buggy_fill` every other one has a catalogued mistake (the catalogue in turn)."""
    import yaml

    mutants = yaml.safe_load((ROOT / "assignments" / "rnn" / "mutants.yaml").read_text())
    todo = [("mutant", m) for i, m in enumerate(mutants) for _ in range(1 + i % 2)]
    todo += [("pattern", e) for e in PATTERNED] + [("inserted", e) for e in INSERTED] + [("whole", w) for w in WHOLE]
    if count < len(todo) + 4:
        raise SystemExit(f"--count {count}: the planted bugs need {len(todo)} submissions, and 4 unchanged ones")
    todo += [("mutant", mutants[(i // 2) % len(mutants)]) if buggy_fill and i % 2 else ("reference", None)
             for i in range(count - len(todo))]
    random.Random(17).shuffle(todo)  # spread over the class, the same way every time
    return todo


def make_class(dest, count: int = 48, buggy_fill: bool = False) -> dict:
    """Write the class into `dest` (an export folder); return {submission entry: (kind, what)}, where
    what is the mutant's name, the pattern, the inserted bug's label, the whole-submission label, or ""."""
    import yaml

    dest = Path(dest)
    dest.mkdir(parents=True)
    solution, starter = ROOT / "solutions" / "rnn", ROOT / "starter" / "rnn"
    files = ["rnn_layers.py", "captioning_rnn.py"]
    names, meta, planted = _names(count + 1), {}, {}
    todo = plants(count, buggy_fill)
    group = next(i for i, (kind, _) in enumerate(todo) if kind == "mutant")  # a group of two students
    for i, (kind, what) in enumerate(todo):
        entry = f"submission_{1001 + i}"
        texts = {f: (solution / f).read_text() for f in files}
        label = ""
        if kind == "mutant":
            label = what["name"]
            assert texts[what["file"]].count(what["old"]) == 1, label
            texts[what["file"]] = texts[what["file"]].replace(what["old"], what["new"])
        elif kind == "pattern":
            label, file, _, old, new = what
            assert texts[file].count(old) == 1, label
            texts[file] = texts[file].replace(old, new)
        elif kind == "inserted":
            label, file, function, line = what
            texts[file] = _insert(texts[file], function, line)
        elif kind == "whole":
            label = what
            if what == "syntax error":
                texts["rnn_layers.py"] = texts["rnn_layers.py"].replace("def sigmoid(x):", "def sigmoid(x)", 1)
            elif what == "starter":
                texts = {f: (starter / f).read_text() for f in files}
            elif what in ("empty folder", "corrupt zip"):
                texts = {}
            elif what == "missing file":
                del texts["captioning_rnn.py"]
        if label == "corrupt zip":
            entry += ".zip"
            (dest / entry).write_bytes(b"PK\x03\x04 this upload was cut short")
        else:
            (dest / entry).mkdir()
            for f, text in texts.items():
                (dest / entry / f).write_text(text, encoding="utf-8")
        people = [names[i]] + ([names[count]] if i == group else [])
        meta[entry] = {":submitters": [{":name": p, ":sid": f"{2024000 + names.index(p)}",
                                        ":email": f"student{names.index(p)}@example.edu"} for p in people],
                       ":status": "processed"}
        planted[entry] = (kind, label)
    (dest / "submission_metadata.yml").write_text(yaml.safe_dump(meta, allow_unicode=True, sort_keys=True),
                                                   encoding="utf-8")
    return planted


def expected_diagnoses(planted: dict) -> Counter:
    """(diagnosis id, function) -> submissions, for the planted mistakes: catalogued ones under the
    function the catalogue names, patterned ones under the function they were planted in."""
    import yaml

    where = {m["name"]: m["function"] for m in yaml.safe_load((ROOT / "assignments" / "rnn" / "mutants.yaml").read_text())}
    where.update({e[0]: e[2] for e in PATTERNED})
    return Counter((f"{kind}:{label}", where[label]) for kind, label in planted.values() if kind in ("mutant", "pattern"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="demo/rnn", help="OUT: submissions/ and the grade-batch outputs go here")
    ap.add_argument("--count", type=int, default=48)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--screenshot", metavar="PNG", help="also render OUT/report.html to this PNG")
    args = ap.parse_args()
    out = Path(args.out)
    if out.exists():
        shutil.rmtree(out)
    planted = make_class(out / "submissions", args.count)
    print(f"wrote {len(planted)} submissions to {out / 'submissions'}: "
          + ", ".join(f"{n} {k}" for k, n in Counter(k for k, _ in planted.values()).items()))
    code = subprocess.call([sys.executable, "-m", "autograder", "grade-batch", "rnn", str(out / "submissions"),
                            "--out", str(out), "--jobs", str(args.jobs)], cwd=ROOT)
    if code == 0 and args.screenshot:
        seconds, console = render(out / "report.html", Path(args.screenshot))
        print(f"rendered {out / 'report.html'} to {args.screenshot} in {seconds:.2f} s; console: {console or 'nothing'}")
    return code


if __name__ == "__main__":
    sys.exit(main())
