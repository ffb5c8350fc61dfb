"""What `setup.sh` of a torch grader zip downloads and unpacks on Gradescope's image (Python 3.10).

    python benchmarks/install_size.py [--python 3.10] [--out FILE]

Resolves the pins of a torch grader zip (`autograder.build.package.PINS["torch"]`) for CPython 3.10 on
x86-64 Linux with pip's own resolver (`pip install --dry-run --report`, nothing installed), then
downloads each resolved wheel alone (`pip download --no-deps`), records its size and the size of
its unpacked files, and deletes it. It does this for the default index and for PyTorch's CPU-only
index (where only torch itself is taken from it, as setup.sh does). An index that cannot be
reached is reported as such, with pip's reason, never as a number. Needs the network; pip runs with
no configuration file and no PIP_* variables, so local mirrors, wheel folders and constraints of the
machine do not stand in for an index.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder.build.package import CPU_INDEX, PINS  # noqa: E402

# Tags a glibc 2.35 machine (Ubuntu 22.04) accepts; pip does not widen an explicit --platform.
PLATFORMS = [f"manylinux_2_{minor}_x86_64" for minor in range(35, 4, -1)] + [
    "manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64", "linux_x86_64"]


def _pip(*args, cwd=None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    return subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", *args], env=env,
                          capture_output=True, text=True, cwd=cwd, timeout=1800)


def _target(python: str) -> list[str]:
    out = ["--python-version", python, "--only-binary=:all:"]
    for p in PLATFORMS:
        out += ["--platform", p]
    return out


def _last_line(proc) -> str:
    """Why pip failed: an unreachable host if it says so, else its first error line."""
    lines = [line.strip() for line in (proc.stderr + proc.stdout).splitlines() if line.strip()]
    for line in lines:
        for sign in ("Failed to resolve", "Failed to establish", "timed out"):
            if sign in line:
                return "index unreachable: " + line[line.index(sign):][:120]
    errors = [line for line in lines if line.startswith("ERROR:")]
    return (errors or lines or [f"exit status {proc.returncode}"])[0]


def resolve(reqs, python, index=None) -> tuple[list, str]:
    """[(name, version)] pip would install, or ([], why not)."""
    with tempfile.TemporaryDirectory() as tmp:
        extra = ["--index-url", index] if index else []
        proc = _pip("install", "--dry-run", "--ignore-installed", *_target(python), "--target", f"{tmp}/t",
                    "--report", f"{tmp}/report.json", *extra, *reqs)
        if proc.returncode != 0:
            return [], _last_line(proc)
        report = json.loads(Path(tmp, "report.json").read_text())
    return [(i["metadata"]["name"], i["metadata"]["version"]) for i in report["install"]], ""


def measure(name, version, python, index=None) -> tuple[int, int, str]:
    """(bytes downloaded, bytes unpacked, file name) of one wheel, or (0, 0, why not)."""
    with tempfile.TemporaryDirectory() as tmp:
        extra = ["--index-url", index] if index else []
        proc = _pip("download", "--no-deps", *_target(python), "-d", tmp, *extra, f"{name}=={version}")
        files = list(Path(tmp).glob("*.whl"))
        if proc.returncode != 0 or not files:
            return 0, 0, _last_line(proc)
        with zipfile.ZipFile(files[0]) as zf:
            unpacked = sum(info.file_size for info in zf.infolist())
        return files[0].stat().st_size, unpacked, files[0].name


def table(title, rows) -> list[str]:
    lines = [title, f"  {'wheel':<72} {'download MB':>12} {'unpacked MB':>12}"]
    for _, _, (down, unpacked, fname) in rows:
        lines.append(f"  {fname:<72} {down / 1e6:12.1f} {unpacked / 1e6:12.1f}")
    lines.append(f"  {'total':<72} {sum(r[2][0] for r in rows) / 1e6:12.1f} {sum(r[2][1] for r in rows) / 1e6:12.1f}")
    return lines


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--python", default="3.10")
    ap.add_argument("--out", help="also write the report to this file")
    args = ap.parse_args(argv)
    reqs = PINS["torch"]
    lines = [f"pins: {' '.join(reqs)}; CPython {args.python}, x86-64 Linux"]

    resolved, why = resolve(reqs, args.python)
    if not resolved:
        lines.append(f"default index: could not resolve: {why}")
    else:
        rows = [(n, v, measure(n, v, args.python)) for n, v in resolved]
        lines += table("default index (what `pip install` of the pins fetches):", rows)
        missing = [f"{n}=={v}: {r[2]}" for n, v, r in rows if not r[0]]
        lines += [f"  not measured: {m}" for m in missing]

    torch_pin = next(r for r in reqs if r.startswith("torch=="))
    down, unpacked, what = measure("torch", torch_pin.split("==")[1], args.python, CPU_INDEX)
    if down:
        lines.append(f"CPU-only index {CPU_INDEX}: {what}: {down / 1e6:.1f} MB download, "
                     f"{unpacked / 1e6:.1f} MB unpacked (its dependencies come from the default index)")
    else:
        lines.append(f"CPU-only index {CPU_INDEX}: not measured ({what})")
    text = "\n".join(lines)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
