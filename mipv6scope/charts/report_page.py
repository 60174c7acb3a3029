"""The HTML report: one self-contained page an engineer attaches to a ticket.

``report_page(report)`` gives the page as text: a header (capture files, frame
counts, time span in UTC, the nodes by role), the summary (one row per mobile
node, each linking to its section), the findings with frame numbers, the four
charts (sequence, timeline, handoffs, overview, through `build.build_figure`)
and one section per mobile node (``<section id="node-...">``) with its
handoffs (and count/median/p95/max), registrations, bindings, route
optimisation and tunnels. The tables hold the rows and columns of the CLI's
csv views (`report_tables`).

The page is offline by default: plotly.js is embedded once in the head and
every chart is a ``<div>`` plus a ``Plotly.newPlot`` call. Same report, same
bytes: fixed div ids, nothing from the clock. Every capture-derived string
(names, addresses, messages, Info lines in the charts' hover text) is shown
escaped. With many nodes the node sections are collapsed and only the
busiest node gets a sequence chart.
"""

from __future__ import annotations

import re
from collections import Counter
from ipaddress import IPv6Address
from typing import Any

from .. import __version__
from ..render import views_text as vt
from ..render.summary_text import story_line, summary_records
from ..report.model import MobileNode, Report
from ..safe_text import format_utc, raw_seconds, utc_moment
from . import report_tables as rt
from .build import build_figure
from .export import PLOTLYJS_MODES, figure_div, plotlyjs_head
from .options import ChartInputError, ChartOptions

SEQUENCE_EACH_MAX = 5    # up to this many nodes: a sequence chart per node
OPEN_SECTIONS_MAX = 10   # up to this many nodes: node sections start open
ROLE_LIST_MAX = 12       # longer role lists are folded in a <details>
CHART_CONFIG = {"displaylogo": False, "responsive": True}
CHART_TITLES = {
    "timeline": "Timeline: bindings, route optimisation, handoffs and findings per mobile node",
    "handoffs": "Handoffs: registration time, disruption time and packets lost",
    "overview": "Overview: signalling and tunnelled traffic over time",
}
# raw characters a JSON string in a <script> may hold that `rt.visible` would show escaped
_SCRIPT_UNSAFE = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029"
                            "\u202a-\u202e\u2066-\u2069]")


def report_page(report: Report, plotlyjs: str = "inline") -> str:
    """The whole report as one HTML page (text; write it as UTF-8).

    ``plotlyjs``: "inline" embeds plotly.js once (the page works offline and
    fetches nothing), "cdn" loads it from plotly's CDN, "directory" from a
    ``plotly.min.js`` beside the page (the caller writes that file, as
    `export.write_html` does). The same report gives the same text."""
    if plotlyjs not in PLOTLYJS_MODES:
        raise ValueError(f"plotlyjs must be one of {', '.join(PLOTLYJS_MODES)}, not {plotlyjs!r}")
    files = ", ".join(report.capture.files)
    parts = [
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>mipv6scope report: {rt.esc(files)}</title>\n<style>{CSS}</style>\n",
        plotlyjs_head(plotlyjs),
        f"<script>{NAV_JS}</script>\n</head>\n<body>\n",
        _header(report),
        _nav(report),
        "<main>\n",
        _summary(report),
        _findings(report),
        _charts(report),
        _nodes(report),
        "</main>\n",
        f"<footer>Made by mipv6scope {rt.esc(__version__)} from the capture alone; "
        "all times UTC.</footer>\n</body>\n</html>\n",
    ]
    return "".join(parts)


# -- head ---------------------------------------------------------------------------------

# -- header -------------------------------------------------------------------------------

def _utc(ts: float | None) -> str:
    if ts is None:
        return "-"
    if utc_moment(ts) is None:
        return raw_seconds(ts)  # not a date (before 1970, after 9999, not finite)
    return format_utc(ts, "%Y-%m-%d %H:%M:%S.%f", 3) + " UTC"


def _address_list(addresses: tuple[IPv6Address, ...], names: dict[IPv6Address, str],
                  extra: dict[IPv6Address, str] | None = None) -> str:
    """Addresses (with their names and extra text) as a list, folded when long."""
    if not addresses:
        return "<dd>none</dd>"
    items = []
    for a in addresses:
        name = f' <span class="name">{rt.esc(names[a])}</span>' if a in names else ""
        more = f' <span class="note">{rt.esc(extra[a])}</span>' if extra and extra.get(a) else ""
        items.append(f'<li><span class="addr">{rt.esc(a)}</span>{name}{more}</li>')
    listing = '<ul class="roles">' + "".join(items) + "</ul>"
    if len(addresses) > ROLE_LIST_MAX:
        listing = f"<details><summary>{len(addresses)} addresses</summary>{listing}</details>"
    return f"<dd>{len(addresses)}{listing}</dd>"


def _header(report: Report) -> str:
    cap = report.capture
    names = report.node_names()
    prefixes = {ar.address: "prefixes " + ", ".join(ar.prefixes)
                for ar in report.access_router_prefixes if ar.prefixes}
    frames = (f"{cap.frames} frames: {cap.decoded} decoded, {cap.malformed} malformed, "
              f"{cap.skipped} skipped")
    rows = [
        ("capture files", "<ul class=\"files\">" + "".join(f"<li>{rt.esc(f)}</li>" for f in cap.files)
         + "</ul>"),
        ("frames", rt.esc(frames) + (' <span class="sev sev-error">PARTIAL: reading was '
                                     "interrupted</span>" if cap.partial else "")),
        ("time span", f"{rt.esc(_utc(cap.first_ts))} \u2013 {rt.esc(_utc(cap.last_ts))}"
         + (f" ({cap.last_ts - cap.first_ts:.3f} s)"
            if cap.first_ts is not None and cap.last_ts is not None else "")),
    ]
    if cap.skip_reasons:
        rows.append(("skipped", rt.esc(", ".join(f"{r}: {n}" for r, n in
                                                 Counter(cap.skip_reasons).most_common()))))
    if cap.esp_no_key:
        rows.append(("encrypted, no key", f"{cap.esp_no_key} ESP frames (see --esp-sa)"))
    rows.extend(("capture issue", f'<span class="sev sev-warning">{rt.esc(issue)}</span>')
                for issue in cap.capture_issues)
    facts = "".join(f"<dt>{rt.esc(k)}</dt><dd>{v}</dd>" for k, v in rows)
    roles = (f"<dt>mobile nodes</dt><dd>{len(report.mobile_nodes)} "
             "(see <a href=\"#summary\">summary</a>)</dd>"
             f"<dt>home agents</dt>{_address_list(report.home_agents, names)}"
             f"<dt>correspondents</dt>{_address_list(report.correspondents, names)}"
             f"<dt>access routers</dt>{_address_list(report.access_routers, names, prefixes)}")
    return ("<header>\n<h1>Mobile IPv6 capture report</h1>\n"
            f'<div class="facts"><dl>{facts}</dl><dl>{roles}</dl></div>\n</header>\n')


def _nav(report: Report) -> str:
    return ('<nav><a href="#summary">Summary</a><a href="#findings">Findings '
            f"({len(report.findings)})</a><a href=\"#charts\">Charts</a>"
            f"<a href=\"#nodes\">Mobile nodes ({len(report.mobile_nodes)})</a></nav>\n")


# -- summary and findings -------------------------------------------------------------------

SUMMARY_KEYS = ("home_address", "name", "home_agent", "care_of_addresses", "handoffs",
                "median_registration_ms", "lost_to_old_care_of", "ro_correspondents",
                "ro_active_share", "findings")


def _anchors(report: Report) -> dict[str, str]:
    """Every home address (text) -> the anchor of its node's section."""
    return {str(hoa): rt.node_anchor(node.home_address) for node in report.mobile_nodes
            for hoa in node.home_addresses or (node.home_address,)}


def _summary(report: Report) -> str:
    anchors = _anchors(report)
    out = ['<section id="summary">\n<h2>Summary</h2>\n']
    if report.mobile_nodes:
        out.append("<p>One row per mobile node (as <code>summary --format csv</code>); "
                   "a home address leads to the node's section.</p>\n")
        html_table, _ = rt.table(summary_records(report), rt.columns_for(SUMMARY_KEYS), "summary",
                                 links={"home_address": anchors.get})
        out.append(html_table)
    else:
        out.append("<p class=\"none\">No mobile node in the capture (no Mobility Header, "
                   "tunnel or home address option seen).</p>\n")
    if report.findings:
        counts = Counter((f.code, f.severity, f.rfc) for f in report.findings)
        order = {s: i for i, s in enumerate(vt.SEVERITY_ORDER)}
        rows = [{"code": code, "severity": sev, "findings": n, "rfc": rfc}
                for (code, sev, rfc), n in sorted(counts.items(),
                                                  key=lambda kv: (order.get(kv[0][1], 9), kv[0][0]))]
        out.append(f"<h3>Findings by code ({len(report.findings)} in all)</h3>\n")
        out.append(rt.table(rows, rt.columns_for(("code", "severity", "findings", "rfc")),
                            "finding-codes")[0])
    return "".join(out) + "</section>\n"


def _findings(report: Report) -> str:
    out = ['<section id="findings">\n<h2>Findings</h2>\n']
    if not report.findings:
        return out[0] + '<p class="none">No findings.</p>\n</section>\n'
    out.append("<p>Sorted by time, as <code>findings --format csv</code>; frames are "
               "the capture's frame numbers (1-based), to look up in Wireshark.</p>\n")
    anchors = _anchors(report)
    out.append(rt.table(vt.finding_rows(report), rt.view_columns("findings"), "findings",
                        links={"node": lambda v: anchors.get(v) if v else None})[0])
    return "".join(out) + "</section>\n"


# -- charts ---------------------------------------------------------------------------------

def busiest_node(report: Report) -> MobileNode | None:
    """The mobile node with the most handoffs (then registrations; the first
    in report order on a tie), or None when there is none."""
    if not report.mobile_nodes:
        return None
    return max(report.mobile_nodes, key=lambda n: (len(n.handoffs), len(n.registrations)))


def _figure_html(report: Report, options: ChartOptions, div_id: str) -> str:
    """One chart's ``<div>`` and script, or a short note when the report
    cannot give that chart (`ChartInputError`)."""
    try:
        fig = build_figure(report, options)
    except ChartInputError as exc:
        return f'<p class="nodata" id="{div_id}-none">No data for this chart: {rt.esc(exc)}</p>\n'
    div = figure_div(fig, div_id, config=CHART_CONFIG)
    # plotly escapes < > / in its JSON; make bidi and C1 characters inert too
    return _SCRIPT_UNSAFE.sub(lambda m: f"\\u{ord(m[0]):04x}", div) + "\n"


def _charts(report: Report) -> str:
    out = ['<section id="charts">\n<h2>Charts</h2>\n']
    nodes = list(report.mobile_nodes)
    if len(nodes) <= SEQUENCE_EACH_MAX:
        chosen, note = nodes, "one per mobile node"
    else:
        busiest = busiest_node(report)
        chosen = [busiest] if busiest is not None else []
        note = (f"only the node with the most handoffs; the capture has {len(nodes)} mobile "
                "nodes: <code>mipv6scope chart --mn HOA</code> draws any other")
    if not chosen:
        out.append('<h3>Sequence</h3>\n<p class="nodata" id="chart-sequence-none">No data for '
                   "this chart: no mobile node in the capture.</p>\n")
    for node in chosen:
        anchor = rt.node_anchor(node.home_address)
        div_id = "chart-sequence" if len(chosen) == 1 else "chart-sequence-" + anchor[len("node-"):]
        label = rt.esc(node.home_address) + (f" ({rt.esc(node.name)})" if node.name else "")
        out.append(f'<figure class="chart"><figcaption>Sequence of <a href="#{anchor}" '
                   f'class="addr">{label}</a> ({note})</figcaption>\n')
        out.append(_figure_html(report, ChartOptions(kind="sequence", mn=(str(node.home_address),)),
                                div_id))
        out.append("</figure>\n")
    for kind, title in CHART_TITLES.items():
        out.append(f'<figure class="chart"><figcaption>{rt.esc(title)}</figcaption>\n')
        out.append(_figure_html(report, ChartOptions(kind=kind), f"chart-{kind}"))
        out.append("</figure>\n")
    return "".join(out) + "</section>\n"


# -- node sections --------------------------------------------------------------------------

NODE_VIEWS = (  # (view, heading, row builder)
    ("handoffs", "Handoffs", vt.handoff_rows),
    ("registrations", "Registrations", vt.registration_rows),
    ("bindings", "Bindings", vt.binding_rows),
    ("ro", "Route optimisation", vt.ro_rows),
)


def _group_by_node(report: Report) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """view -> first home address (text) -> that node's rows, in report order.
    Tunnels go to the node owning their home address ("" when none does)."""
    grouped: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for view, _, rows in NODE_VIEWS:
        per: dict[str, list[dict[str, Any]]] = grouped.setdefault(view, {})
        for row in rows(report):
            per.setdefault(row["node"], []).append(row)
    owner = {hoa: str(node.home_address) for node in report.mobile_nodes
             for hoa in map(str, node.home_addresses or (node.home_address,))}
    tunnels: dict[str, list[dict[str, Any]]] = grouped.setdefault("tunnels", {})
    for row in vt.tunnel_rows(report):
        tunnels.setdefault(owner.get(row["home_address"], ""), []).append(row)
    return grouped


def _node_facts(node: MobileNode, names: dict[IPv6Address, str]) -> str:
    def addr(a: IPv6Address) -> str:
        name = f' <span class="name">{rt.esc(names[a])}</span>' if a in names else ""
        return f'<span class="addr">{rt.esc(a)}</span>{name}'

    facts = [("home agent", addr(node.home_agent) if node.home_agent is not None else "-"),
             ("home addresses", ", ".join(addr(a) for a in node.home_addresses
                                          or (node.home_address,))),
             ("care-of addresses", ", ".join(addr(a) for a in node.care_of_addresses) or "-")]
    if node.identified_by:
        facts.append(("identified by", rt.esc(", ".join(node.identified_by))))
    if node.mobile_router:
        facts.append(("mobile router (NEMO)", rt.esc(", ".join(node.mobile_network_prefixes) or "-")))
    return '<dl class="node-facts">' + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts) + "</dl>"


def _node_section(node: MobileNode, record: dict[str, Any], grouped: dict[str, Any],
                  names: dict[IPv6Address, str], is_open: bool) -> str:
    key = str(node.home_address)
    name = f' <span class="name">{rt.esc(node.name)}</span>' if node.name else ""
    out = [f'<section id="{rt.node_anchor(node.home_address)}" class="node">'
           f'<details{" open" if is_open else ""}><summary><span class="addr">{rt.esc(key)}'
           f"</span>{name} <span class=\"story\">{rt.esc(story_line(record))}</span></summary>\n"
           f'<div class="node-body" data-node="{rt.esc(key)}"'
           + (f' data-node-name="{rt.esc(node.name)}"' if node.name else "") + ">\n",
           _node_facts(node, names), "\n"]
    empty = []
    for view, heading, _ in (*NODE_VIEWS, ("tunnels", "Tunnels", None)):
        rows = grouped[view].get(key, [])
        if not rows:
            empty.append(heading.lower())
            continue
        out.append(f"<h4>{heading} ({len(rows)})</h4>\n")
        out.append(rt.table(rows, rt.view_columns(view, in_node=True), view)[0])
        if view == "handoffs":
            out.append(rt.table(rt.handoff_stats_rows(rows), rt.STATS_COLUMNS, "handoff-stats")[0])
    if empty:
        out.append(f'<p class="none">None seen: {", ".join(empty)}.</p>\n')
    return "".join(out) + "</div></details></section>\n"


def _nodes(report: Report) -> str:
    out = ['<section id="nodes">\n<h2>Mobile nodes</h2>\n']
    if not report.mobile_nodes:
        return out[0] + '<p class="none">No mobile node in the capture.</p>\n</section>\n'
    is_open = len(report.mobile_nodes) <= OPEN_SECTIONS_MAX
    if not is_open:
        out.append(f"<p>{len(report.mobile_nodes)} mobile nodes: click a node to unfold it, or "
                   "follow its home address from the <a href=\"#summary\">summary</a>.</p>\n")
    grouped = _group_by_node(report)
    names = report.node_names()
    for node, record in zip(report.mobile_nodes, summary_records(report), strict=True):
        out.append(_node_section(node, record, grouped, names, is_open))
    orphans = grouped["tunnels"].get("")
    if orphans:
        out.append(f'<section id="other-tunnels"><h3>Tunnels of no mobile node ({len(orphans)})'
                   "</h3>\n" + rt.table(orphans, rt.view_columns("tunnels"), "tunnels")[0]
                   + "</section>\n")
    return "".join(out) + "</section>\n"


# -- style and behaviour ----------------------------------------------------------------------

# Opens the <details> of a node section when the page is opened at, or jumps to, its anchor.
NAV_JS = ("function mipv6scopeOpen(){var h=location.hash.slice(1);"
          "var t=h&&document.getElementById(decodeURIComponent(h));"
          "var d=t&&t.querySelector('details');if(d){d.open=true;t.scrollIntoView();}}"
          "window.addEventListener('hashchange',mipv6scopeOpen);"
          "window.addEventListener('DOMContentLoaded',mipv6scopeOpen);")

CSS = """
:root{--fg:#1d2330;--muted:#5b6475;--line:#d9dee7;--band:#f5f7fa;--accent:#1f5fbf;
--err:#b3261e;--err-bg:#fde8e7;--warn:#8a5a00;--warn-bg:#fff3d6;--info:#1f5fbf;--info-bg:#e6effc}
*{box-sizing:border-box}
body{margin:0;color:var(--fg);background:#fff;font:14px/1.45 system-ui,-apple-system,"Segoe UI",
Roboto,"Helvetica Neue",Arial,sans-serif}
header,main,footer{max-width:1500px;margin:0 auto;padding:0 24px}
header{padding-top:20px}
h1{font-size:22px;margin:0 0 12px}
h2{font-size:18px;margin:28px 0 10px;padding-bottom:4px;border-bottom:2px solid var(--line)}
h3{font-size:15px;margin:18px 0 8px}
h4{font-size:13px;margin:14px 0 6px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
a{color:var(--accent);text-decoration:none}a:hover{text-decoration:underline}
code,.addr,td{font-family:ui-monospace,"SFMono-Regular","DejaVu Sans Mono",Menlo,Consolas,monospace}
code{font-size:12.5px;background:var(--band);padding:0 3px;border-radius:3px}
.facts{display:flex;flex-wrap:wrap;gap:8px 48px}
.facts dl,.node-facts{display:grid;align-content:start;grid-template-columns:max-content 1fr;gap:3px 14px;margin:0}
dt{color:var(--muted)}dd{margin:0}
ul.files,ul.roles{margin:0;padding:0;list-style:none}
ul.roles li{font-size:13px}
.name{font-weight:600}.name::before{content:"\\201c"}.name::after{content:"\\201d"}
.note,.story{color:var(--muted)}
nav{position:sticky;top:0;z-index:10;background:#fff;border-bottom:1px solid var(--line);
margin-top:14px;padding:8px 24px;display:flex;gap:22px;font-weight:600}
.scroll{overflow-x:auto;margin:0 0 10px;border:1px solid var(--line);border-radius:4px}
.scroll.tall{max-height:560px;overflow-y:auto}
thead th{position:sticky;top:0;z-index:1}
table{border-collapse:collapse;width:100%;font-size:12.5px}
th{font:600 12px system-ui,sans-serif;text-align:left;color:var(--muted);background:var(--band);
padding:5px 8px;border-bottom:1px solid var(--line);white-space:nowrap}
td{padding:3px 8px;border-bottom:1px solid #eef1f5;vertical-align:top;white-space:nowrap}
td.w{white-space:normal;min-width:14em;max-width:44em}
tbody tr:nth-child(even){background:#fafbfc}tbody tr:hover{background:#eef4ff}
th.n,td.n{text-align:right}
.sev{display:inline-block;padding:0 6px;border-radius:3px;font:600 11.5px system-ui,sans-serif;
border:1px solid currentColor}
.sev-error{color:var(--err);background:var(--err-bg)}.sev-error::before{content:"\\2716  "}
.sev-warning{color:var(--warn);background:var(--warn-bg)}.sev-warning::before{content:"\\25B2  "}
.sev-info{color:var(--info);background:var(--info-bg)}.sev-info::before{content:"\\2139  "}
figure.chart{overflow-x:auto;margin:0 0 22px;border:1px solid var(--line);border-radius:4px;padding:8px}
figcaption{font-weight:600;margin:0 0 6px}
.nodata,.none{color:var(--muted);font-style:italic}
section{scroll-margin-top:44px}
section.node details{border:1px solid var(--line);border-radius:4px;margin:0 0 6px}
section.node summary{cursor:pointer;padding:6px 10px;background:var(--band)}
section.node details[open] summary{border-bottom:1px solid var(--line)}
.node-body{padding:8px 12px}
.scroll:has(>table.handoff-stats){display:inline-block;max-width:100%}
table.handoff-stats{width:auto}
footer{color:var(--muted);font-size:12px;padding:24px}
"""
