"""``report.html``: one self-contained page (inline CSS, charts as base64 PNG, no script).

It opens with the verdict and the three most serious findings; the details follow:
gates, reconciliation per class, the precincts that went wrong by name, statewide
totals, schedule fidelity, Locust's request table and the charts. It prints on A4/Letter.
"""

from __future__ import annotations

import base64
import struct
from collections.abc import Iterable, Sequence, Sized
from html import escape
from typing import Any

from caucus_rehearsal.attacks import ATTACKS
from caucus_rehearsal.published import PUBLISHABLE
from caucus_rehearsal.reports.fidelity import Fidelity
from caucus_rehearsal.reports.figures import Chart
from caucus_rehearsal.reports.findings import Finding, unit_name
from caucus_rehearsal.reports.integrity import LABELS as INTEGRITY_LABELS
from caucus_rehearsal.reports.integrity import METRICS as INTEGRITY_METRICS
from caucus_rehearsal.reports.metrics import GateResult, hotline
from caucus_rehearsal.reports.public import Window
from caucus_rehearsal.reports.reconcile import CLASSES, Reconciliation
from caucus_rehearsal.reports.security import security
from caucus_rehearsal.rundir.reader import RunDir
from caucus_rehearsal.rundir.zero import SKIP_FLAG
from caucus_rehearsal.simulator.units import format_clock

ROWS_OPEN = 20
"""Rows of each class's table shown open; the rest are in a collapsed ``<details>``."""

ROWS_SHOWN = 2000
"""Rows of a class's table on the page at most (precincts.csv has them all)."""

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:1100px;
margin:1.5em auto;padding:0 1em;color:#212121;line-height:1.4}
h1{margin-bottom:.2em}h2{border-bottom:2px solid #e0e0e0;padding-bottom:.2em;margin-top:1.6em}
.meta{color:#616161;font-size:.9em}
.verdict{font-size:1.6em;font-weight:700;padding:.5em .8em;border-radius:6px;margin:.6em 0}
.pass{background:#e8f5e9;color:#1b5e20;border:2px solid #2e7d32}
.fail{background:#ffebee;color:#b71c1c;border:2px solid #c62828}
.inconclusive{background:#fff8e1;color:#8d6e00;border:2px solid #f9a825}
.error{background:#ede7f6;color:#4a148c;border:2px solid #6a1b9a}
.partial{background:#fff8e1;border:2px solid #f9a825;padding:.5em .8em;border-radius:6px}
ul.top li{font-size:1.1em;margin:.3em 0}
table{border-collapse:collapse;margin:.5em 0;font-size:.9em}
th,td{border:1px solid #e0e0e0;padding:.25em .6em;text-align:left;vertical-align:top}
th{background:#f5f5f5}td.num{text-align:right;font-variant-numeric:tabular-nums}
td.r-pass{color:#1b5e20;font-weight:600}td.r-fail{color:#b71c1c;font-weight:700}
td.r-na{color:#757575}td.r-inconclusive{color:#8d6e00;font-weight:700}
figure{margin:1em 0;page-break-inside:avoid;break-inside:avoid}
figure img{max-width:100%;height:auto;border:1px solid #eeeeee}
figcaption{color:#616161;font-size:.9em}
summary{cursor:pointer;color:#1565c0;margin:.3em 0}
@media print{body{max-width:none;margin:0}h2{page-break-after:avoid;break-after:avoid}
table,tr{page-break-inside:avoid;break-inside:avoid}.verdict{border-width:3px}}
"""


def _table(head: Sequence[str], rows: Iterable[Sequence[Any]], num: Sequence[int] = ()) -> str:
    out = ["<table><thead><tr>", *(f"<th>{escape(h)}</th>" for h in head), "</tr></thead><tbody>"]
    for row in rows:
        out.append("<tr>")
        for i, cell in enumerate(row):
            attr = ' class="num"' if i in num else ""
            out.append(f"<td{attr}>{escape(str(cell))}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _value(v: float | None) -> str:
    if v is None:
        return "not measured"
    if v == float("inf"):
        return "never"
    return f"{v:.4g}"


def _png_size(png: bytes) -> tuple[int, int]:
    """Width and height of a PNG from its IHDR chunk."""
    width, height = struct.unpack(">II", png[16:24])
    return int(width), int(height)


def _gates(gates: list[GateResult]) -> str:
    if not gates:
        return "<p>The scenario defines no gates.</p>"
    rows = []
    for g in gates:
        note = g.note + (f" — not judged: {g.why}" if g.why else "")
        rows.append((str(g.gate), _value(g.value), f"{g.gate.op} {g.gate.threshold:g}",
                     g.status, note))
    body = _table(("gate", "value", "threshold", "result", "how read"), rows, num=(1,))
    for word, css in (("pass", "r-pass"), ("fail", "r-fail"), ("not measured", "r-na"),
                      ("inconclusive", "r-inconclusive")):
        body = body.replace(f"<td>{word}</td>", f'<td class="{css}">{word}</td>')
    return body


def _units(rec: Reconciliation) -> str:
    """Per class (in :data:`CLASSES` order) the units that were not published correctly:
    the first :data:`ROWS_OPEN` shown, the rest (up to :data:`ROWS_SHOWN`) collapsed."""
    bad = [u for u in rec.units if u.klass != "published_correctly"]
    if not bad:
        return "<p>Every precinct was published exactly as the truth.</p>"
    head = ("precinct", "what happened", "channel", "acknowledged")
    out = []
    for klass, label in CLASSES.items():
        units = [u for u in bad if u.klass == klass]
        if not units:
            continue
        rows = [(unit_name(u), u.reason, u.channel or "-",
                 format_clock(u.ack_min) if u.ack_min is not None else "-") for u in units]
        out.append(f"<h3 id='class-{klass}'>{escape(label.capitalize())}: {len(units)}</h3>")
        out.append(_table(head, rows[:ROWS_OPEN]))
        rest = rows[ROWS_OPEN:ROWS_SHOWN]
        if rest:
            out.append(f"<details><summary>Show the other {len(rest)}"
                       + (f" (of {len(rows) - ROWS_OPEN}; all are in precincts.csv)"
                          if len(rows) > ROWS_SHOWN else "")
                       + "</summary>" + _table(head, rest) + "</details>")
    return "\n".join(out)


def _hotline(run: RunDir) -> str:
    h = hotline(run.events).figures()
    rows = [
        ("chairs an operator answered", h["chairs_answered"]),
        ("chairs who dialled but were never answered", h["chairs_never_answered"]),
        ("wait, median (first dial to answer, busy signals and redials included), min",
         h["wait_median_min"]),
        ("wait, longest, min", h["wait_max_min"]),
        ("single holds (one call on hold)", h["holds"]),
        ("hold, median, min", h["hold_median_min"]),
        ("hold, longest, min", h["hold_max_min"]),
        ("holds abandoned", h["abandoned_holds"]),
        ("busy signals", h["busy_signals"]),
    ]
    if not h["chairs_answered"] and not h["busy_signals"] and not h["holds"]:
        return "<p>No hotline call was recorded.</p>"
    return ("<p>A chair's <b>wait</b> runs from its first dial to an operator answering; "
            "a <b>hold</b> is one call's time on hold.</p>"
            + _table(("figure", "value"), rows, num=(1,)))


def _statewide(rec: Reconciliation) -> str:
    sw = rec.statewide
    rows = []
    for cand in sw.truth.get("sde", {}):
        row: list[Any] = [cand]
        for key in ("first", "final", "sde"):
            t = sw.truth.get(key, {}).get(cand, 0.0)
            p = sw.published.get(key, {}).get(cand)
            fmt = "{:.4f}" if key == "sde" else "{:.0f}"
            row += [fmt.format(t), "-" if p is None else fmt.format(p)]
        rows.append(row)
    head = ("candidate", "first (truth)", "first (published)", "final (truth)",
            "final (published)", "SDE (truth)", "SDE (published)")
    published = " / ".join(sw.published_winner) or (
        "none (nothing published)" if "sde" in sw.published else "not published by the target")
    leader = (f"<p>SDE leader: truth <b>{escape(' / '.join(sw.truth_winner) or '-')}</b>, "
              f"published <b>{escape(published)}</b>"
              + (" — <b>the winner differs</b>." if sw.winner_differs else ".") + "</p>")
    return leader + _table(head, rows, num=(1, 2, 3, 4, 5, 6))


def _fidelity(fid: Fidelity) -> str:
    """How faithfully the run kept its modelled schedule (docs/time.md)."""
    if fid.faithful:
        head = (f"<p>The run kept its schedule: 99% of requests went at most "
                f"{fid.late_p99_min:.2g} simulated minutes after their due moment (bound "
                f"{fid.as_json()['bound_late_p99_min']:g}), and the hotline pool took "
                f"{fid.pool_late} of {fid.calls} calls late.</p>")
    else:
        head = ("<p><b>The run did not keep its schedule:</b> "
                + escape("; ".join(fid.reasons)) + ". Gates whose result this could have "
                "decided are inconclusive.</p>")
    rows = [(k.replace("_", " "), "-" if v is None else v)
            for k, v in fid.as_json().items() if k not in ("faithful", "reasons")]
    return head + _table(("figure", "value"), rows, num=(1,))


def _consistency(rec: Reconciliation) -> str:
    """Each check of the published results against themselves and the roster."""
    c = rec.consistency
    if not c.checked:
        return "<p>Not checked: no snapshot of the published results.</p>"

    def result(found: Sized | None, what: str) -> str:
        if found is None:
            return "not checked (the target does not publish them)"
        return f"{len(found)} {what}" if len(found) else "consistent"

    rows = [
        ("statewide totals equal the sum of the published precincts",
         result(c.statewide, "totals differ")),
        ("county totals equal the sum of their published precincts",
         result(c.counties, "totals differ")),
        ("every published precinct is in the roster",
         result(c.phantoms, "not in the roster")),
        ("every precinct is published once", result(c.duplicates, "published more than once")),
        ("SDE follow from the published delegates under the rules",
         result(c.sde, "precincts off the rule")),
    ]
    out = _table(("check", "result"), rows)
    details = [e.text() for e in (c.statewide or ()) + (c.counties or ())]
    details += [f"{p}: not in the roster" + (f" (repeats {c.phantom_copies[p]})"
                                             if p in c.phantom_copies else "")
                for p in c.phantoms]
    details += [f"{p}: listed {n} times" for p, n in c.duplicates.items()]
    details += [f"{uid}: " + "; ".join(d.text("rule", "published") for d in diffs)
                for uid, diffs in (c.sde or {}).items()]
    return out + _details(details)


def _details(texts: list[str]) -> str:
    """A list: the first :data:`ROWS_OPEN` shown, the rest (to :data:`ROWS_SHOWN`) collapsed."""
    if not texts:
        return ""
    out = "<ul>" + "".join(f"<li>{escape(t)}</li>" for t in texts[:ROWS_OPEN]) + "</ul>"
    rest = texts[ROWS_OPEN:ROWS_SHOWN]
    if rest:
        out += (f"<details><summary>Show {len(rest)} more</summary><ul>"
                + "".join(f"<li>{escape(t)}</li>" for t in rest) + "</ul></details>")
    return out


def _security(run: RunDir) -> str:
    """What each kind of attack got from the target."""
    s = security(run)
    if not s.any:
        return "<p>No attack was made (the scenario's <code>[adversaries]</code> send none).</p>"
    rows = [(kind, t["sent"], t["refused"], t["accepted"], t["failed"], ATTACKS[kind])
            for kind, t in s.tried.items()]
    out = ("<p>An accepted attack is the target's failure; a refusal is it doing its "
           "job.</p>" + _table(("attack", "sent", "refused", "accepted", "failed", "what"),
                               rows, num=(1, 2, 3, 4)))
    figures = [("writes accepted with another precinct's session", len(s.unauthorized)),
               ("wrong PINs accepted", len(s.wrong_pins)),
               ("replays stored again as a new version", len(s.replays_stored)),
               ("replays accepted without saying whether stored again", s.replays_unclear),
               ("malformed bodies accepted", len(s.malformed)),
               ("most wrong PINs in a row without a lockout"
                + (f" (at {s.guessing[0]})" if s.guessing[1] else ""), s.guessing[1]),
               ("precincts whose chair an attacker locked out", len(s.chairs_locked_out))]
    return out + _table(("figure", "value"), figures, num=(1,))
def _zero_state(rec: Reconciliation) -> str:
    """The published results before the first report, against the roster."""
    z = rec.zero_state
    if not z.recorded:
        return ("<p>Not checked: the run recorded no read of the published results before "
                "the night (zero_state.json).</p>")
    if z.skipped:
        return f"<p>Not checked: the run was told not to ({SKIP_FLAG}).</p>"
    when = "" if z.read_min is None else f" at {format_clock(z.read_min)}"
    if z.failed:
        return (f"<p><b>The published results could not be read before the night</b>{when}: "
                f"{escape(z.failed)}.</p>")

    def result(found: Sized, what: str, fine: str = "none") -> str:
        return f"{len(found)} {what}" if len(found) else fine

    rows = [
        ("every unit of the roster listed", result(z.missing, "not listed", "yes")
         if z.zero_rows else "not checked (the adapter returns no zero rows)"),
        ("units showing counts, delegates, SDE or reporting (leftovers)",
         result(z.leftovers, "units")),
        ("units outside the roster", result(z.outside, "units")),
        ("precincts reporting, statewide totals, winner", result(z.totals, "not zero", "zero")),
        ("the live feed's format (its fields, its candidates)",
         result(z.format, "entries differ", "the same") if z.format_checked
         else "not compared (no snapshot of the live feed)"),
    ]
    out = (f"<p>Read{when}, after provisioning and before the first report: "
           f"{z.listed} units listed.</p>" + _table(("check", "result"), rows))
    return out + _details([f"{u}: {w}" for u, w in z.leftovers.items()]
                          + [f"{u}: not listed" for u in z.missing]
                          + [f"{u}: not in the roster" for u in z.outside] + list(z.totals)
                          + [f"{u} {w}" for u, w in z.format.items()])


def _feed_over_time(rec: Reconciliation) -> str:
    """Each integrity check over the snapshots, and every violation with its moment."""
    h = rec.integrity
    if not h.snapshots:
        return "<p>Not checked: no snapshot of the published results.</p>"
    rows = []
    for metric in INTEGRITY_METRICS:
        found = h.of(metric)
        result = (f"not checked ({h.unmeasured[metric]})" if metric in h.unmeasured
                  else f"{h.value(metric)}, first at {format_clock(found[0].sim_min)}"
                  if found else "never")
        rows.append((INTEGRITY_LABELS[metric], result))
    head = (f"<p>{h.snapshots} published states compared, each with the one before and with "
            "itself" + (f"; {h.torn} not compared for totals (totals and precincts of two "
                        "states)" if h.torn else "") + ".</p>")
    return head + _table(("violation", "seen"), rows) + _details(
        [f"{format_clock(v.sim_min)}: {v.text}" for v in h.violations])


def _checked(run: RunDir) -> str:
    """What the target publishes (its adapter's declaration): what the report checked."""
    rows = [(label, "checked" if word in run.published_fields
             else "not checked: the target does not publish it")
            for word, label in PUBLISHABLE.items()]
    return ("<p>What the target publishes, as its adapter declares; the report compares "
            "these and nothing else.</p>" + _table(("published", "checked"), rows))


def _public(view: list[Window]) -> str:
    """What the public saw: reads, failures, latency, staleness and the chairs' writes,
    per surge and outside the surges."""
    if not view:
        return "<p>No reads of the published results (the scenario has no [demand]).</p>"
    rows = []
    for w in view:
        j = w.as_json()
        span = f"{j['from']}–{j['to']}" if j["from"] else ""
        rows.append((w.name, span, j["reads_due"], j["reads_served"], j["reads_dropped"],
                     j["reads_failed"], "-" if j["read_p99_ms"] is None else j["read_p99_ms"],
                     "-" if j["staleness_p99_s"] is None else j["staleness_p99_s"],
                     "-" if j["chair_write_p95_ms"] is None else j["chair_write_p95_ms"]))
    return ("<p>The public's and the media's reads (<code>[demand]</code>, at their real "
            "rate for each modelled moment), per surge and outside them. Latency runs from "
            "each read's due moment; a read the load generator could not send is dropped, "
            "never sent late.</p>"
            + _table(("window", "clock", "due", "served", "dropped", "failed",
                      "read p99 ms", "staleness p99 s", "chair write p95 ms"), rows,
                     num=(2, 3, 4, 5, 6, 7, 8)))


def _locust(run: RunDir) -> str:
    if not run.locust_stats:
        return ""
    cols = ("Type", "Name", "Request Count", "Failure Count", "50%", "95%", "99%")
    rows = [[r.get(c, "") for c in cols] for r in run.locust_stats]
    return "<h2>Requests (Locust)</h2>" + _table(
        ("type", "name", "requests", "failures", "p50 ms", "p95 ms", "p99 ms"), rows,
        num=(2, 3, 4, 5, 6))


def render(run: RunDir, rec: Reconciliation, gates: list[GateResult], found: list[Finding],
           fidelity: Fidelity, charts: list[Chart], verdict: str,
           faults: str = "none", view: list[Window] | None = None) -> str:
    """The whole page as a string."""
    name = str(run.run.get("scenario", run.path.name))
    top = "".join(f"<li>{escape(f.text)}</li>" for f in found[:3])
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Rehearsal report: {escape(name)} — {verdict.upper()}</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1>Rehearsal report: {escape(name)}</h1>",
        f"<p class='meta'>Run directory {escape(run.path.resolve().name)} · status "
        f"{escape(run.status)} · target {escape(str(run.run.get('target', '-')))} · server "
        f"faults: {escape(faults)} · "
        f"{len(rec.units)} units</p>",
        f"<div class='verdict {verdict}' id='verdict'>Verdict: {verdict.upper()}</div>",
    ]
    if run.partial:
        parts.append("<p class='partial'><b>Partial run.</b> The run did not finish "
                     f"(status '{escape(run.status)}'); the report covers what was recorded.</p>")
    parts += ["<h2>Most important findings</h2>", f"<ul class='top'>{top}</ul>",
              "<h2>Gates</h2>", _gates(gates), "<h2>What was checked</h2>", _checked(run),
              "<h2>Reconciliation</h2>",
              _table(("class", "units"), [(CLASSES[k], v) for k, v in rec.counts.items()],
                     num=(1,)),
              "<h2>Precincts not published correctly</h2>", _units(rec),
              "<h2>Statewide totals</h2>", _statewide(rec),
              "<h2>Published consistency</h2>", _consistency(rec),
              "<h2>Security</h2>", _security(run),
              "<h2>Zero state</h2>", _zero_state(rec),
              "<h2>The feed over time</h2>", _feed_over_time(rec),
              "<h2>Hotline</h2>", _hotline(run),
              "<h2>What the public saw</h2>", _public(view or []),
              "<h2>Schedule fidelity</h2>", _fidelity(fidelity),
              _locust(run), "<h2>Charts</h2>"]
    for c in charts:
        w, h = _png_size(c.png)
        data = base64.b64encode(c.png).decode("ascii")
        parts.append(f"<figure id='chart-{c.name}'><img alt='{escape(c.title)}' width='{w}' "
                     f"height='{h}' src='data:image/png;base64,{data}'>"
                     f"<figcaption><b>{escape(c.title)}.</b> {escape(c.caption)}</figcaption>"
                     "</figure>")
    parts += ["<h2>All findings</h2><ul>", *(f"<li>{escape(f.text)}</li>" for f in found),
              "</ul></body></html>"]
    return "\n".join(parts) + "\n"
