"""Headless Chromium for the class report: render a page to a PNG and collect what its console said.

    python benchmarks/headless.py PAGE.html OUT.png [--width 1280] [--height 2400]

Uses $CHROMIUM, or chromium, chromium-browser or google-chrome on PATH (Debian: apt-get install
chromium). Console messages come from Chromium's own log (`--enable-logging=stderr --v=0` prints
each as a `:CONSOLE` line); the report loads nothing and runs no script, so any such line is a
fault, a blocked load included (its Content-Security-Policy turns every load into one).

`page_timings` measures how long a page takes to open inside the browser, without devtools: it
renders a copy of the page with its Content-Security-Policy removed and one inline script added
that logs, from the start of navigation, when the DOM was ready, when the load event ended, and
when the second animation frame after it began (the page has been laid out and painted).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def chromium() -> str | None:
    """The headless browser: $CHROMIUM, or chromium, chromium-browser, google-chrome on PATH."""
    for name in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


def render(page: Path, png: Path, width: int = 1280, height: int = 2400, browser: str | None = None):
    """Render `page` headless to `png`; return (seconds, console lines Chromium logged)."""
    browser = browser or chromium()
    if browser is None:
        raise SystemExit("chromium not found: install it (apt-get install chromium) or set CHROMIUM")
    png = Path(png).resolve()
    png.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:  # no shared profile lock
        cmd = [browser, "--headless", "--disable-gpu", "--no-sandbox", "--hide-scrollbars", "--no-first-run",
               f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
               f"--window-size={width},{height}", f"--screenshot={png}", Path(page).resolve().as_uri()]
        start = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        seconds = time.perf_counter() - start
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    if done.returncode or not png.is_file():
        raise RuntimeError(f"chromium exited with {done.returncode}: {done.stderr[-2000:]}")
    return seconds, console


_TIMER = """<script>addEventListener('load', () => requestAnimationFrame(() => requestAnimationFrame(() => {
  const n = performance.getEntriesByType('navigation')[0];
  console.log('TIMING ' + JSON.stringify({dom: n.domContentLoadedEventEnd, load: n.loadEventEnd,
                                         painted: performance.now()}));
})));</script>"""


def page_timings(page: Path, width: int = 1280, height: int = 2400) -> dict:
    """{"dom", "load", "painted"}: milliseconds from navigation start, measured in the browser on a
    copy of `page` with a timing script (see the module docstring)."""
    page = Path(page)
    text = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", page.read_text(encoding="utf-8"))
    timed = page.with_name(f".timed-{page.name}")
    timed.write_text(text.replace("</head>", _TIMER + "</head>", 1), encoding="utf-8")
    try:
        _, console = render(timed, timed.with_suffix(".png"), width, height)
    finally:
        timed.unlink(missing_ok=True)
        timed.with_suffix(".png").unlink(missing_ok=True)
    found = [re.search(r'"TIMING (\{.*?\})"', line) for line in console]
    found = [m for m in found if m]
    if len(found) != 1 or len(console) != 1:
        raise RuntimeError(f"expected one timing line from the browser, got: {console}")
    return json.loads(found[0].group(1))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("page")
    ap.add_argument("png")
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--height", type=int, default=2400)
    args = ap.parse_args()
    seconds, console = render(Path(args.page), Path(args.png), args.width, args.height)
    print(f"rendered {args.page} to {args.png} in {seconds:.2f} s; console: {console or 'nothing'}")
    return 1 if console else 0


if __name__ == "__main__":
    sys.exit(main())
