"""The class report as one static HTML page: inline CSS and SVG, no script, nothing fetched.

Its Content-Security-Policy forbids every load, so a browser that opens it fetches nothing and
would log any attempt as an error. Every string that comes from a submission or a results file
(names, messages, hints) is HTML-escaped; links to results files are percent-encoded. Sections
have stable ids (summary, distribution, tests, diagnoses, failures, time, students) and the
numbers are plain text in table cells, so a test can read them back.
"""

from __future__ import annotations

from html import escape
from urllib.parse import quote

__all__ = ["render"]

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
MAX_LIMITED = 50  # rows of the "hit a limit" table

STYLE = """
:root { --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; --pass: #2f8a4c; --fail: #c8453b;
        --hidden: #e3a008; --accent: #3563b5; --soft: #f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif;
       color: var(--ink); background: #fff; }
header { background: #24292f; color: #fff; padding: 18px 32px 14px; }
header h1 { margin: 0 0 4px; font-size: 22px; font-weight: 600; }
header p { margin: 0; color: #c9d1d9; }
nav { background: #32383f; padding: 6px 32px; }
nav a { color: #e6edf3; margin-right: 18px; text-decoration: none; font-size: 13px; }
main { max-width: 1180px; margin: 0 auto; padding: 8px 32px 48px; }
section { margin-top: 28px; }
h2 { font-size: 17px; margin: 0 0 4px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
p.note { color: var(--muted); margin: 4px 0 10px; }
dl.cards { display: flex; flex-wrap: wrap; gap: 10px; margin: 12px 0 0; }
dl.cards div { border: 1px solid var(--line); border-radius: 6px; padding: 8px 14px; min-width: 108px;
               background: var(--soft); }
dl.cards dt { color: var(--muted); font-size: 12px; }
dl.cards dd { margin: 0; font-size: 21px; font-weight: 600; }
table { border-collapse: collapse; width: 100%; margin-top: 8px; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 12px; color: var(--muted); font-weight: 600; background: var(--soft); }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.r { white-space: nowrap; }
tr.weak td { background: #fff8e1; }
code, .msg { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
.msg { color: var(--muted); overflow-wrap: anywhere; }
.hint { display: block; color: var(--muted); margin-top: 2px; }
td.k { white-space: nowrap; }
.also { display: block; color: var(--muted); font-size: 12px; white-space: normal; }
.bar { display: inline-flex; width: 110px; height: 10px; border-radius: 3px; background: #eaeef2;
       overflow: hidden; vertical-align: middle; margin-right: 6px; }
.bar span { display: block; height: 100%; }
.p { background: var(--pass); } .h { background: var(--hidden); } .f { background: var(--fail); }
.s { background: var(--accent); }
.key span { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin: 0 4px 0 12px; }
tr.zero-row td:nth-child(3) { color: var(--fail); font-weight: 600; }
svg#histogram { width: 100%; height: auto; max-width: 1116px; }
svg text { font: 11px system-ui, sans-serif; fill: var(--muted); }
"""


def _e(text) -> str:
    return escape(str(text), quote=True)


def _score(x: float) -> str:
    return f"{x:g}"


def _pct(share: float) -> str:
    return f"{100 * share:.0f}%"


def _bar(*parts) -> str:
    """A horizontal bar of (css class, share) parts."""
    inner = "".join(f'<span class="{c}" style="width:{100 * max(0.0, s):.2f}%"></span>' for c, s in parts if s > 0)
    return f'<span class="bar">{inner}</span>'


def _table(table_id: str, head: list, rows: list, classes=None) -> str:
    """A table; a header starting with '#' is a numeric column (right-aligned), one ending with
    'rate' or 'share' holds a bar (kept on one line)."""
    cols = ["n" if h.startswith("#") else "r" if h.endswith(("rate", "share")) else "k" if h in ("kind", "function")
            else "" for h in head]
    ths = "".join(f'<th class="{c}">{_e(h.lstrip("#"))}</th>' for c, h in zip(cols, head))
    body = []
    for i, row in enumerate(rows):
        cls = f' class="{classes[i]}"' if classes and classes[i] else ""
        body.append(f"<tr{cls}>" + "".join(f'<td class="{c}">{cell}</td>' for c, cell in zip(cols, row)) + "</tr>")
    return f'<table id="{table_id}"><thead><tr>{ths}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def _summary(r) -> str:
    cards = [("submissions", len(r.outcomes)), ("students", r.students), ("mean", f"{r.stat('mean'):.2f}"),
             ("median", _score(r.stat("median"))), ("min", _score(r.stat("min"))), ("max", _score(r.stat("max"))),
             ("full marks", r.full_marks), ("zero", r.zeros), ("not graded", r.not_graded)]
    items = "".join(f"<div><dt>{_e(k)}</dt><dd>{_e(v)}</dd></div>" for k, v in cards)
    return (f'<section id="summary"><h2>Summary</h2><p class="note">Scores out of {_score(r.max_score)}; '
            f'a group submission counts once among the submissions and once per student among the students.</p>'
            f'<dl class="cards">{items}</dl></section>')


def _histogram_svg(r) -> str:
    w, h, left, bottom, top = 1100, 250, 40, 30, 30  # the top margin holds the mean's label
    bins = r.histogram
    most = max((n for _, _, n in bins), default=0) or 1
    bw = (w - left - 10) / max(1, len(bins))
    parts = [f'<svg id="histogram" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" '
             f'aria-label="number of submissions by score" xmlns="http://www.w3.org/2000/svg">',
             f'<line x1="{left}" y1="{h - bottom}" x2="{w - 10}" y2="{h - bottom}" stroke="#8c959f"/>']
    for i, (lo, hi, n) in enumerate(bins):
        bh = (h - bottom - top) * n / most
        x, y = left + i * bw, h - bottom - bh
        parts.append(f'<rect class="bin" data-count="{n}" x="{x + 1:.1f}" y="{y:.1f}" width="{bw - 2:.1f}" '
                     f'height="{bh:.1f}" fill="#3563b5"><title>{_e(_score(lo))} to {_e(_score(hi))}: {n}</title></rect>')
        if n:
            parts.append(f'<text x="{x + bw / 2:.1f}" y="{y - 4:.1f}" text-anchor="middle">{n}</text>')
    step = max(1, len(bins) // 11)
    for i in range(0, len(bins) + 1, step):
        x = left + i * bw
        label = _score(round(bins[i][0] if i < len(bins) else bins[-1][1], 2))
        parts.append(f'<text x="{x:.1f}" y="{h - bottom + 15}" text-anchor="middle">{label}</text>')
    if r.scores and r.max_score:
        mx = left + (w - left - 10) * r.stat("mean") / r.max_score
        parts.append(f'<line x1="{mx:.1f}" y1="4" x2="{mx:.1f}" y2="{h - bottom}" stroke="#c8453b" '
                     f'stroke-dasharray="4 3"/><text x="{mx + 4:.1f}" y="12">mean {r.stat("mean"):.1f}</text>')
    parts.append('<text x="4" y="12">count</text></svg>')
    return (f'<section id="distribution"><h2>Score distribution</h2>{"".join(parts)}</section>')


def _tests(r) -> str:
    rows, classes = [], []
    for t in r.tests:
        total = t.passed + t.failed
        share, hidden = (t.passed / total, t.hidden_only / total) if total else (0.0, 0.0)
        rows.append([_e(t.name), _score(t.points), str(t.passed), str(t.failed),
                     _bar(("p", share), ("h", hidden), ("f", 1 - share - hidden)) + _pct(share),
                     str(t.hidden_only), _pct(hidden)])
        classes.append("weak" if hidden >= 0.1 else "")
    key = ('<span class="key"><span class="p"></span>passed<span class="h"></span>failed only on hidden cases'
           '<span class="f"></span>failed a public case</span>')
    return (f'<section id="tests"><h2>Tests</h2><p class="note">Pass rate of each test over the graded submissions. '
            f'Highlighted: 10% or more failed only on hidden cases, so the public cases did not warn them. {key}</p>'
            + _table("tests-table", ["test", "#points", "#passed", "#failed", "pass rate", "#hidden only",
                                     "#hidden only share"], rows, classes) + "</section>")


def _diagnoses(r) -> str:
    head = ('<section id="diagnoses"><h2>Diagnoses</h2><p class="note">Failures that match a catalogued mistake '
            '(<code>mutant:</code>) or a pattern (<code>pattern:</code>). Students counts submissions, each once, under '
            'the first function (in the order of the tests) whose tests show it; where it also showed in the tests of '
            'functions that call that one is listed below it.</p>')
    if not r.diagnoses:
        return head + '<p id="no-diagnoses">No failure matched a catalogued mistake or a pattern.</p></section>'
    rows = [[f'<code>{_e(d.id)}</code><span class="hint">{_e(d.hint)}</span>',
             f"<code>{_e(d.function)}</code>" + (f'<span class="also">also seen in ' + ", ".join(
                 f"<code>{_e(g)}</code> ({n})" for g, n in sorted(d.also.items())) + "</span>" if d.also else ""),
             str(d.students), _bar(("s", d.share)) + _pct(d.share)] for d in r.diagnoses]
    return head + _table("diagnoses-table", ["diagnosis and its hint", "function", "#students", "share"],
                         rows) + "</section>"


def _failures(r) -> str:
    head = ('<section id="failures"><h2>Most common undiagnosed failures</h2><p class="note">Failed tests that no '
            'diagnosis explains, grouped by the function blamed and the kind of failure (a failure that only follows '
            'from another function\'s, because a test calls it or it hung earlier, is counted where it starts).</p>')
    if not r.failures:
        return head + '<p id="no-failures">Every failure was diagnosed.</p></section>'
    rows = [[f"<code>{_e(g.function)}</code>", _e(g.kind), str(g.students), _bar(("f", g.share)) + _pct(g.share),
             str(len(g.tests)), f'<span class="msg">{_e(g.example)}</span>'] for g in r.failures]
    return head + _table("failures-table", ["function", "kind", "#students", "share", "#tests", "example"],
                         rows) + "</section>"


def _link(o) -> str:
    return f'<a href="results/{_e(quote(o.key))}.json">results</a>'


def _time(r) -> str:
    slow = [[_e(o.student), f"{o.elapsed:.1f}", _score(o.score), _link(o)] for o in r.slowest]
    shown = r.limited[:MAX_LIMITED]
    limited = [[_e(o.student), _e("; ".join(f"{what} ({n} test{'s' * (n > 1)}{', ' + f if f else ''})"
                                            for (what, f), n in sorted(hit.items()))), _link(o)] for o, hit in shown]
    more = (f'<p class="note">... and {len(r.limited) - len(shown)} more.</p>' if len(r.limited) > len(shown) else "")
    hit = (_table("limits-table", ["student", "limits hit", "results"], limited) if limited
           else '<p id="no-limits">No submission hit a limit.</p>')
    return (f'<section id="time"><h2>Time and limits</h2><p class="note">The slowest submissions (seconds of grading), '
            f'and those that hit a time limit, the time budget, a memory limit, or died.</p>'
            + _table("slowest-table", ["student", "#seconds", "#score", "results"], slow)
            + f"<h3>Hit a limit: {len(r.limited)}</h3>{hit}{more}</section>")


def _students(r) -> str:
    rows, classes = [], []
    for o in r.outcomes:
        group = " + ".join(m.name for m in o.members) if len(o.members) > 1 else ""
        for m in o.members:
            rows.append([_e(m.name), _e(group), _score(o.score), _score(o.max_score),
                         f'<span class="msg">{_e(r.reasons.get(o.key, ""))}</span>', _link(o)])
            classes.append("" if o.score > 0 else "zero-row")
    return (f'<section id="students"><h2>Students, lowest score first</h2><p class="note">A group submission gives '
            f'each of its students a row. The reason says why points were lost when a submission scored 0 or '
            f'could not be read.</p>'
            + _table("students-table", ["student", "group", "#score", "#max", "reason", "results"], rows, classes)
            + "</section>")


def render(r) -> str:
    """The whole page for a report.ClassReport."""
    title = f"Class report: {r.title}" if r.title else "Class report"
    graded = f"{r.graded} graded" + (f", {r.not_graded} could not be graded" if r.not_graded else "")
    nav = "".join(f'<a href="#{i}">{t}</a>' for i, t in [
        ("summary", "Summary"), ("distribution", "Distribution"), ("tests", "Tests"), ("diagnoses", "Diagnoses"),
        ("failures", "Undiagnosed failures"), ("time", "Time and limits"), ("students", "Students")])
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_e(title)}</title><style>{STYLE}</style></head><body>"
            f"<header><h1>{_e(title)}</h1><p>{len(r.outcomes)} submissions from {r.students} students; "
            f"{graded}.</p></header><nav>{nav}</nav><main>"
            + _summary(r) + _histogram_svg(r) + _tests(r) + _diagnoses(r) + _failures(r) + _time(r) + _students(r)
            + "</main></body></html>\n")
