"""The benchmark's results as Markdown: printed, and written into
docs/benchmarks.md between its results markers."""

from __future__ import annotations

import statistics
from pathlib import Path

COMPUTE_TARGET = 3.0  # app compute ÷ SQL compute floor, at most
FINALISE_TARGET = 1.5  # app finalise ÷ SQL finalise floor, at most
DASHBOARD_SCALING_TARGET = 1.3  # dashboard at the largest ÷ smallest size
API_TARGET = 0.3  # API list requests/s ÷ health requests/s, at least
EMAILS_RATIO_TARGET = 0.5  # month-end emails/s ÷ raw smtplib emails/s
MONTH_END_TARGET = 60.0  # seconds
HTML_LIMIT = 100_000  # bytes

START = "<!-- results: written by make bench --write; do not edit below -->"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


def _met(ok: bool) -> str:
    return "met" if ok else "**not met**"


def _ratio(result: dict, app: str, floor: str) -> tuple[float, float, float]:
    """Median app ÷ median floor, and the spread of the rounds' ratios."""
    times = result["times"]
    rounds = [a / f for a, f in zip(times[app], times[floor], strict=True)]
    median = statistics.median(times[app]) / statistics.median(times[floor])
    return median, min(rounds), max(rounds)


def lines(results: list[dict], load: dict | None, emails: dict | None) -> list[str]:
    out = [
        "#### Compute and finalise against their SQL floors, and the dashboard",
        "",
        "Medians of the rounds; in brackets the lowest and highest ratio of "
        "a single round.",
        "",
        "| scale | teams | agreements in force | lines | rows written "
        "| SQL compute floor | app compute | ratio "
        "| SQL finalise floor | app finalise | ratio "
        "| dashboard built | kept | queries |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        m = r["medians"]
        c, c_lo, c_hi = _ratio(r, "compute", "compute_floor")
        f, f_lo, f_hi = _ratio(r, "finalise", "finalise_floor")
        d = r["dashboard"]
        out.append(
            f"| {r['scale']:g}× | {r['teams']:,} | {r['cards']:,} | {r['lines']:,} "
            f"| {sum(r['written'].values()):,} "
            f"| {_ms(m['compute_floor'])} | {_ms(m['compute'])} "
            f"| {c:.1f}× ({c_lo:.1f}–{c_hi:.1f}) "
            f"| {_ms(m['finalise_floor'])} | {_ms(m['finalise'])} "
            f"| {f:.1f}× ({f_lo:.1f}–{f_hi:.1f}) "
            f"| {_ms(d['seconds'])} | {_ms(d.get('kept_seconds', 0))} "
            f"| {d['queries']} |"
        )
    first = results[0]
    out += [
        "",
        f"{first['engine']}, {first['months']} months of figures, "
        f"{len(first['times']['compute'])} rounds; month {first['month']}. "
        "Both floors were checked row for row against the app before they "
        "were timed.",
        "",
        "#### Against the targets",
        "",
    ]
    for r in results:
        c = _ratio(r, "compute", "compute_floor")[0]
        f = _ratio(r, "finalise", "finalise_floor")[0]
        out.append(
            f"- {r['scale']:g}×: compute {c:.1f}× its floor (target ≤ "
            f"{COMPUTE_TARGET:g}×): {_met(c <= COMPUTE_TARGET)}; finalise "
            f"{f:.1f}× its floor (target ≤ {FINALISE_TARGET:g}×): "
            f"{_met(f <= FINALISE_TARGET)}"
        )
    if len(results) > 1:
        small, large = results[0], results[-1]
        growth = large["dashboard"]["seconds"] / small["dashboard"]["seconds"]
        out.append(
            f"- dashboard at {large['scale']:g}× ÷ at {small['scale']:g}×: "
            f"{growth:.2f}× (target ≤ {DASHBOARD_SCALING_TARGET:g}×): "
            f"{_met(growth <= DASHBOARD_SCALING_TARGET)}"
        )
    if load:
        out += ["", *load_lines(load)]
    if emails:
        out += ["", *email_lines(emails)]
    return out


def load_lines(load: dict) -> list[str]:
    out = [
        "#### Under concurrent load",
        "",
        f"gunicorn, {load['workers']} sync workers, production settings, on "
        f"loopback; {load['connections']} concurrent connections, one route "
        f"at a time in alternating phases of {load['seconds']:g} s, "
        f"{load['rounds']} rounds, as an executive ({load['teams']} teams, "
        f"{load['agreements']} agreements).",
        "",
        "| route | requests | requests/s | p50 | p95 | p99 | errors |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, r in load["routes"].items():
        out.append(
            f"| {name} `{r['path']}` | {r['requests']:,} | {r['rate']:.1f} "
            f"| {_ms(r['p50'])} | {_ms(r['p95'])} | {_ms(r['p99'])} "
            f"| {r['errors']} |"
        )
    routes = load["routes"]
    health = routes["health"]["rate"]

    def share(name: str) -> float:
        return routes[name]["rate"] / health if health and name in routes else 0

    out += [
        "",
        f"- dashboard ÷ health: {share('dashboard'):.3f}× kept, "
        f"{share('dashboard built'):.3f}× built for every request",
        f"- API list ÷ health: {share('api'):.3f}× kept (target ≥ {API_TARGET:g}×): "
        f"{_met(share('api') >= API_TARGET)}; {share('api built'):.3f}× built for "
        "every request",
    ]
    return out


def email_lines(emails: dict) -> list[str]:
    if emails.get("skipped"):
        return ["#### Month-end emails", "", f"Skipped: {emails['skipped']}"]
    raw, month_end = emails["raw"], emails["month_end"]
    ratio, (low, high) = emails["ratio"], emails["ratio_range"]
    sizes = month_end["html_sizes"]
    lost = month_end["sent"] - month_end["received"]
    return [
        "#### Month-end emails against a raw SMTP sink",
        "",
        f"An aiosmtpd sink in its own process on loopback. Raw: {raw['count']:,} "
        f"scorecard emails ({raw['bytes'] // 1024} KiB each) sent by one "
        "smtplib connection. Month end: `month_close` of the organisation "
        f"({emails['teams']} teams, {emails['agreements']} agreements), "
        f"{emails['workers']} Celery worker processes on Redis. "
        f"{emails['rounds']} alternating rounds of both: medians, and the "
        "ratio of each round's month end to its raw loop; the counts are "
        "every round's added up.",
        "",
        "| measure | result |",
        "|---|---|",
        f"| raw smtplib | {raw['rate']:.1f} emails/s |",
        f"| month end, sending | {month_end['rate']:.1f} emails/s "
        f"= {ratio:.2f}× raw ({low:.2f}–{high:.2f}) "
        f"(target ≥ {EMAILS_RATIO_TARGET:g}×): "
        f"{_met(ratio >= EMAILS_RATIO_TARGET)} |",
        f"| month end, whole | {month_end['seconds']:.1f} s: finalise and plan "
        f"{month_end['close_seconds']:.1f} s, then sending "
        f"(target < {MONTH_END_TARGET:g} s): "
        f"{_met(month_end['seconds'] < MONTH_END_TARGET)} |",
        f"| deliveries | {month_end['sent']:,} sent, {month_end['failed']} failed, "
        f"{month_end['skipped']} skipped |",
        f"| sink received | {month_end['received']:,} messages, "
        f"{month_end['distinct']:,} distinct: {abs(lost)} "
        f"{'lost' if lost >= 0 else 'extra'}, "
        f"{month_end['received'] - month_end['distinct']} duplicated: "
        f"{_met(lost == 0 and month_end['received'] == month_end['distinct'])} |",
        f"| HTML size min / median / max | {sizes[0] / 1000:.1f} / "
        f"{sizes[1] / 1000:.1f} / {sizes[2] / 1000:.1f} KB "
        f"(target < {HTML_LIMIT // 1000} KB): {_met(sizes[2] < HTML_LIMIT)} |",
    ]


def write(path: Path, command: str, machine: str, body: list[str]) -> None:
    """Replace everything below the results marker of ``path``."""
    text = path.read_text(encoding="utf-8")
    head = text.split(START)[0].rstrip() + "\n\n" if START in text else text
    if START not in text:
        head = text.rstrip() + "\n\n## Results\n\n"
    path.write_text(
        f"{head}{START}\n\n`{command}`\n\n{machine}\n\n" + "\n".join(body) + "\n",
        encoding="utf-8",
    )
