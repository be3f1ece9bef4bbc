#!/usr/bin/env python3
"""Turns scripts/bench.sh's raw figures into medians, docs/benchmark.md, one plot's data per link
(RUN_DIR/plot-LINK.dat) and the key=value lines (printed last). Stdlib only, so it runs on a bare
Debian python3.

Raw lines: `hand` and `ours` (single moves; `series=big` for the big containers), `svc`, `ten`,
`status`, `comp` (ours under each checkpoint compression) and `fail`; `meta` lines describe the run.
A part of the benchmark that failed left a `fail` line instead of its figures; a key whose parts
all failed is printed as `KEY=failed reason="..."`, and every failure is listed in the page.

usage: report.py RESULTS RUNS_DIR MARKDOWN RUN_DIR
"""
import json
import math
import os
import re
import statistics
import sys

results_path, runs_dir, md_path, run_dir = sys.argv[1:5]
MB = 1024 * 1024  # every MB here is a MiB, as the client prints it
NAN = float("nan")

meta, hand, ours, ten, svc, status, fails, comp = {}, [], [], [], [], [], [], []
big_hand, big_ours = [], []  # the big containers' single moves (series=big)
with open(results_path) as f:
    for line in f:
        line = line.rstrip("\n")
        if not line.strip():
            continue
        # A failure's reason is free text: everything after " reason=".
        reason = None
        if " reason=" in line:
            line, reason = line.split(" reason=", 1)
        kind, *pairs = line.split()
        row = dict(p.split("=", 1) for p in pairs if "=" in p)
        if kind == "meta":
            meta.update(row)
            continue
        for k, v in row.items():
            try:
                row[k] = float(v) if "." in v else int(v)
            except ValueError:
                pass
        row.setdefault("link", "none")
        if reason is not None:
            row["reason"] = reason
        if row.get("series") == "big":
            {"hand": big_hand, "ours": big_ours}[kind].append(row)
            continue
        {"hand": hand, "ours": ours, "ten": ten, "svc": svc, "status": status, "fail": fails, "comp": comp}[kind].append(row)

links = [x for x in meta.get("links", "none").split(",") if x]
for r in hand + ours + svc:
    if r["link"] not in links:
        links.append(r["link"])
workloads = sorted({r["mb"] for r in hand} | {r["mb"] for r in ours}
                   | {int(x) for x in meta.get("workloads", "").split(",") if x})
big_mb = max(workloads, default=256)
small_mb = min(workloads, default=0)
svc_mb = int(meta.get("service_mb", 256))
n_ten = int(meta.get("ten", 10))
full = big_mb == 256 and small_mb == 0  # the workloads the targets are written for


def med(values):
    values = list(values)
    return statistics.median(values) if values else NAN


def ok(v):
    return v == v  # not NaN


def rows(table, link, mb=None):
    return [r for r in table if r["link"] == link and (mb is None or r["mb"] == mb)]


def stats_of(prefix, which):
    try:
        with open(os.path.join(runs_dir, f"{prefix}-{which}.json")) as f:
            doc = json.load(f)
    except (OSError, ValueError):
        return {}
    flat = {k: v for k, v in doc.items() if isinstance(v, (int, float))}
    for c in doc.get("container_statistics", []):
        flat.update({k: v for k, v in c.items() if isinstance(v, (int, float))})
        flat.update(c.get("criu_statistics", {}))
    return flat


def rate(r, ms_key):
    return r["bytes"] / MB / (r[ms_key] / 1000) if r.get(ms_key, 0) > 0 else NAN


def growth(r):
    return max(r["hwm_a_kb"] - r["rss_a_kb"], r["hwm_b_kb"] - r["rss_b_kb"]) / 1024


# Per link and workload medians; each derived per-repeat figure is computed first, then its median taken.
def single_moves(h, o, prefix):
    """The figures of one link and workload's by-hand (h) and ours (o) moves; prefix names their stats files."""
    ck = [stats_of(f"{prefix}-{r['rep']}", "checkpoint") for r in h]
    rs = [stats_of(f"{prefix}-{r['rep']}", "restore") for r in h]
    us = lambda docs, key: med(d[key] / 1000 for d in docs if key in d)  # podman reports µs
    return {
        "n_hand": len(h), "n_ours": len(o),
        "hand_checkpoint": med(r["checkpoint_ms"] for r in h),
        "hand_copy": med(r["copy_ms"] for r in h),
        "hand_restore": med(r["restore_ms"] for r in h),
        "hand_total": med(r["total_ms"] for r in h),
        "hand_ck_rs": med(r["checkpoint_ms"] + r["restore_ms"] for r in h),
        "hand_mb": med(r["bytes"] / MB for r in h),
        "raw_mbs": med(rate(r, "copy_ms") for r in h if r["copy_ms"] > 0),
        "ours_client": med(r["client_ms"] for r in o),
        "ours_wall": med(r["wall_ms"] for r in o),
        "ours_node_total": med(r["node_total_ms"] for r in o),
        "ours_checkpoint": med(r["checkpoint_ms"] for r in o),
        "ours_transfer": med(r["transfer_ms"] for r in o),
        "ours_restore": med(r["restore_ms"] for r in o),
        "ours_other": med(r["node_total_ms"] - r["checkpoint_ms"] - r["transfer_ms"] - r["restore_ms"] for r in o),
        "ours_stream": med(r["stream_ms"] for r in o),
        "ours_mb": med(r["bytes"] / MB for r in o),
        "akka_mbs": med(rate(r, "stream_ms") for r in o if r["stream_ms"] > 0),
        "peak_a": med(r["hwm_a_kb"] / 1024 for r in o),
        "peak_b": med(r["hwm_b_kb"] / 1024 for r in o),
        "growth_a": med((r["hwm_a_kb"] - r["rss_a_kb"]) / 1024 for r in o),
        "growth_b": med((r["hwm_b_kb"] - r["rss_b_kb"]) / 1024 for r in o),
        "growth_max": med(growth(r) for r in o),
        "wall_minus_client": med(r["wall_ms"] - r["client_ms"] for r in o),
        "st_podman_ck": us(ck, "podman_checkpoint_duration"),
        "st_runtime_ck": us(ck, "runtime_checkpoint_duration"),
        "st_freezing": us(ck, "freezing_time"),
        "st_frozen": us(ck, "frozen_time"),
        "st_memdump": us(ck, "memdump_time"),
        "st_memwrite": us(ck, "memwrite_time"),
        "st_pages": med(d["pages_written"] for d in ck if "pages_written" in d),
        "st_podman_rs": us(rs, "podman_restore_duration"),
        "st_runtime_rs": us(rs, "runtime_restore_duration"),
        "st_criu_rs": us(rs, "restore_time"),
    }


fig = {}
for link in links:
    for mb in workloads:
        fig[link, mb] = single_moves(rows(hand, link, mb), rows(ours, link, mb), f"hand-{link}-{mb}")
    sh, so = [r for r in rows(svc, link) if r["path"] == "hand"], [r for r in rows(svc, link) if r["path"] == "ours"]
    fig[link, "svc"] = {
        "n_hand": len(sh), "n_ours": len(so),
        "hand_pause": med(r["longest_pause_ms"] for r in sh),
        "ours_pause": med(r["longest_pause_ms"] for r in so),
        "hand_total": med(r["total_ms"] for r in sh),
        "hand_checkpoint": med(r["checkpoint_ms"] for r in sh),
        "hand_copy": med(r["copy_ms"] for r in sh),
        "hand_restore": med(r["restore_ms"] for r in sh),
        "ours_client": med(r["client_ms"] for r in so),
        "ours_node_total": med(r["node_total_ms"] for r in so),
        "ours_checkpoint": med(r["checkpoint_ms"] for r in so),
        "ours_transfer": med(r["transfer_ms"] for r in so),
        "ours_restore": med(r["restore_ms"] for r in so),
        "hand_mb": med(r["bytes"] / MB for r in sh),
        "ours_mb": med(r["bytes"] / MB for r in so),
        "kv_rss": med(r["kv_rss_kb"] / 1024 for r in sh + so),
        "growth_max": med(growth(r) for r in so),
        "hand_ok": bool(sh) and all(r["lost"] == 0 and r["connection_kept"] == "true" for r in sh),
        "ours_ok": bool(so) and all(r["lost"] == 0 and r["connection_kept"] == "true" for r in so),
        "hand_pauses": [r["longest_pause_ms"] for r in sh],
        "ours_pauses": [r["longest_pause_ms"] for r in so],
    }

serial = [r for r in ten if r["mode"] == "serial"]
conc = [r for r in ten if r["mode"] == "concurrent"]
serial_ms, conc_ms = med(r["wall_ms"] for r in serial), med(r["wall_ms"] for r in conc)
conc_fails = [r for r in fails if r["part"] == "ten-concurrent"]
conc_ok = bool(conc) and not conc_fails and all(r["ok"] == r["of"] for r in conc)
serial_ok = bool(serial) and all(r["ok"] == r["of"] for r in serial)
status_ms = med(r["wall_ms"] for r in status)
status_dll_ms = med(r["dll_ms"] for r in status if "dll_ms" in r)

# Big containers (BENCH_BIG): the single moves again, per big link and size.
big_links = [x for x in meta.get("big_links", "").split(",") if x] if meta.get("skip_big", "0") != "1" else []
big_sizes = sorted({r["mb"] for r in big_hand + big_ours}
                   | ({int(x) for x in meta.get("big", "").split(",") if x} if big_links else set()))
for r in big_hand + big_ours:
    if r["link"] not in big_links:
        big_links.append(r["link"])
big_hand_max = int(meta.get("big_hand_max", 2048))
bigfig = {(link, mb): single_moves(rows(big_hand, link, mb), rows(big_ours, link, mb), f"hand-big-{link}-{mb}")
          for link in big_links for mb in big_sizes}


def size_label(mb):
    """2048 is 2gb, 64 is 64mb: the big keys' names."""
    return f"{mb // 1024}gb" if mb and mb % 1024 == 0 else f"{mb}mb"


def big_fails(mb, link=None):
    return [r for r in fails if r["part"] == "big-ours" and r.get("mb") == mb and (link is None or r["link"] == link)]


# Compression (BENCH_COMPRESSION): ours, per link, state kind and setting.
KINDS = {"random": "incompressible", "text": "compressible"}
comp_list = [x for x in meta.get("compressions", "").split(",") if x] if meta.get("skip_compression", "0") != "1" else []
for r in comp:
    if r["compression"] not in comp_list:
        comp_list.append(r["compression"])
comp_links = [x for x in links if comp_list]
for r in comp:
    if r["link"] not in comp_links:
        comp_links.append(r["link"])
comp_mb = int(meta.get("compression_mb", 256))
cfig = {}
for link in comp_links:
    for kind in KINDS:
        for c in comp_list:
            o = [r for r in comp if r["link"] == link and r["state"] == kind and r["compression"] == c]
            cfig[link, kind, c] = {
                "n": len(o),
                "failed": len([r for r in fails if r["part"] == "comp" and r["link"] == link and r.get("state") == kind
                               and r.get("compression") == c]),
                "total": med(r["client_ms"] for r in o),
                "node_total": med(r["node_total_ms"] for r in o),
                "checkpoint": med(r["checkpoint_ms"] for r in o),
                "transfer": med(r["transfer_ms"] for r in o),
                "restore": med(r["restore_ms"] for r in o),
                "archive_mb": med(r["bytes"] / MB for r in o),
                "state_mbs": med(r["mb"] / (r["client_ms"] / 1000) for r in o if r["client_ms"] > 0),
                "wire_mbs": med(rate(r, "stream_ms") for r in o if r["stream_ms"] > 0),
                "growth_max": med(growth(r) for r in o),
            }


def comp_best(link, kind):
    """The setting with the shortest median total, and that total over none's."""
    measured = [(cfig[link, kind, c]["total"], c) for c in comp_list if ok(cfig[link, kind, c]["total"])]
    if not measured:
        return NAN, NAN
    total, best = min(measured)
    return best, ratio(total, cfig[link, kind, "none"]["total"]) if (link, kind, "none") in cfig else NAN

ratio = lambda a, b: a / b if b and ok(a) and ok(b) else NAN


def why(parts, link=None, mb=None):
    """The reasons of the failed parts a figure needs, or 'not run'."""
    found = [r for r in fails if r["part"] in parts and (link is None or r["link"] == link)
             and (mb is None or r.get("mb") == mb)]
    found += [r for r in fails if r["part"] == "link" and link is not None and r["link"] == link]
    if not found:
        return "not run"
    return "; ".join(dict.fromkeys(f"{r['part']}{' ' + str(r['mb']) + ' MB' if 'mb' in r else ''}"
                                   f" #{r.get('rep', '-')}: {r['reason']}" for r in found))


# The key figures, in print order: (name, value, format, reason-if-missing, comparison, target).
keys = []


def key(name, value, fmt, parts, link=None, mb=None, op=None, target=None, reason=None):
    """A value is a number, or a word (true, false, zstd); a false one carries its reason."""
    keys.append({"name": name, "value": value, "fmt": fmt,
                 "why": reason if reason is not None else None if ok(value) else why(parts, link, mb),
                 "op": op, "target": target, "link": link})


sfx = lambda link: "" if link == "none" else f"_{link}"
for link in links:
    b, s, v = fig.get((link, big_mb), {}), fig.get((link, small_mb), {}), fig.get((link, "svc"), {})
    bare = link == "none"
    key(f"total_ratio_{big_mb}mb{sfx(link)}", ratio(b.get("ours_client", NAN), b.get("hand_total", NAN)), "2",
        ("hand", "ours"), link, big_mb, "<=", (0.9 if bare else 0.75 if link == "1gbit" else None) if full else None)
    key(f"throughput_ratio{sfx(link)}", ratio(b.get("akka_mbs", NAN), b.get("raw_mbs", NAN)), "2",
        ("hand", "ours"), link, big_mb, ">=", 0.5 if full and bare else None)
    key(f"rss_growth_mb_{big_mb}mb{sfx(link)}", b.get("growth_max", NAN), "0", ("ours",), link, big_mb,
        "<=", 64 if full else None)
    key(f"small_job_ratio{sfx(link)}", ratio(s.get("ours_client", NAN), s.get("hand_ck_rs", NAN)), "2",
        ("hand", "ours"), link, small_mb, "<=", 1.1 if full and bare else None)
    key(f"service_pause_ms_{svc_mb}mb{sfx(link)}", v.get("ours_pause", NAN), "0", ("svc-ours",), link, None,
        "<", v.get("hand_pause", NAN))
    key(f"hand_service_pause_ms_{svc_mb}mb{sfx(link)}", v.get("hand_pause", NAN), "0", ("svc-hand",), link)
    if bare:
        # The first benchmark's secondary figures, kept: the client process's wall time instead of
        # clientMs, and the node's TotalMs over by hand's total.
        key(f"total_ratio_{big_mb}mb_wall", ratio(b.get("ours_wall", NAN), b.get("hand_total", NAN)), "2",
            ("hand", "ours"), link, big_mb)
        key("small_job_ratio_wall", ratio(s.get("ours_wall", NAN), s.get("hand_ck_rs", NAN)), "2",
            ("hand", "ours"), link, small_mb)
        key(f"downtime_ratio_{big_mb}mb", ratio(b.get("ours_node_total", NAN), b.get("hand_total", NAN)), "2",
            ("hand", "ours"), link, big_mb)
key(f"serial_{n_ten}_ms", serial_ms, "0", ("ten-serial",))
key(f"concurrent_{n_ten}_ms", conc_ms, "0", ("ten-concurrent",))
key("concurrent_ratio", ratio(conc_ms, serial_ms), "2", ("ten-serial", "ten-concurrent"), op="<=",
    target=0.5 if n_ten == 10 else None)
key("client_status_wall_ms", status_ms, "0", ("status",))
key("client_status_wall_ms_dll", status_dll_ms, "0", ("status",))
# Issue 16's big containers, beside the figures above: the 2 GB ones carry its targets.
for link in big_links:
    bare = link == "none"
    for mb in big_sizes:
        x, label, two = bigfig[link, mb], size_label(mb), mb == 2048
        if mb <= big_hand_max:
            key(f"total_ratio_{label}{sfx(link)}", ratio(x["ours_client"], x["hand_total"]), "2", ("big-hand", "big-ours"),
                link, mb, "<=", 0.75 if two and link == "1gbit" else None)
            key(f"throughput_ratio_{label}{sfx(link)}", ratio(x["akka_mbs"], x["raw_mbs"]), "2", ("big-hand", "big-ours"),
                link, mb, ">=", 0.8 if two and bare else None)
        key(f"rss_growth_mb_{label}{sfx(link)}", x["growth_max"], "0", ("big-ours",), link, mb,
            "<=", 96 if two and bare else None)
for mb in big_sizes:
    # true: moved on every big link, and no move of this size failed; false: the reasons.
    problems = ([why(("big-ours",), None, mb)] if big_fails(mb) else []) + [
        f"no move on link {link}" for link in big_links if not bigfig[link, mb]["n_ours"] and not big_fails(mb, link)]
    key(f"big_{size_label(mb)}_ok", "false" if problems else "true", "s", ("big-ours",), None, mb, "==",
        "true" if mb == 4096 else None, reason="; ".join(problems) if problems else None)
# Compression: the setting that moved each kind of memory fastest on each link, and its total over none's.
for link in comp_links:
    for kind, label in KINDS.items():
        best, gain = comp_best(link, kind)
        key(f"compression_best{sfx(link)}_{label}", best, "s", ("comp", "comp-nodes"), link)
        key(f"compression_gain{sfx(link)}_{label}", gain, "2", ("comp", "comp-nodes"), link)


def shown(k):
    if isinstance(k["value"], str):
        return k["value"]
    return f"{k['value']:.{k['fmt']}f}" if ok(k["value"]) else "skipped" if k["why"] == "not run" else "failed"


def verdict(k):
    v, op, t = k["value"], k["op"], k["target"]
    if op is None or t is None or not ok(t):
        return ""
    if not ok(v):
        return "missed"
    met = v == t if op == "==" else v <= t if op == "<=" else v >= t if op == ">=" else v < t
    return "met" if met else "missed"


def conc_reason():
    if conc_fails:
        return why(("ten-concurrent",))
    if not conc:
        return "not run"
    return "; ".join(f"#{r['rep']}: {r['ok']} of {r['of']} moved" for r in conc if r["ok"] != r["of"])


# A figure not measured (NaN: the 4 GB container is moved by ours alone) reads as a dash.
f1 = lambda v: "–" if math.isnan(v) else f"{v:.0f}"
f2 = lambda v: "–" if math.isnan(v) else f"{v:.2f}"
shared = (meta.get("other_netns", "none") != "none" or meta.get("test_processes", "0") != "0"
          or meta.get("test_processes_end", "0") != "0")
loads = [r["load"] for r in hand + ours + ten + svc + big_hand + big_ours + comp if "load" in r]
reps = meta.get("repeats", "?")
env = meta.get("command", "").replace("+", " ").strip()
prefix = meta.get("prefix", "amb")
command = f"{env + ' ' if env else ''}{'' if prefix == 'amb' else f'AKKA_MIGRATION_NETNS_PREFIX={prefix} '}make bench"

md = []
w = md.append


def table(header, body):
    """A markdown table: the header, its rule, then a row of cells each."""
    w("| " + " | ".join(header) + " |")
    w("|" + "---|" * len(header))
    for row in body:
        w("| " + " | ".join(str(cell) for cell in row) + " |")


here = os.path.dirname(os.path.abspath(__file__))


def include(name):
    """Hand-written notes kept beside this script (the analysis of a run, the tuning), verbatim."""
    path = os.path.join(here, name)
    # They are about a full run: a quick slice's page goes without them.
    if os.path.exists(path) and meta.get("quick", "0") != "1":
        w("")
        w(open(path).read().rstrip())


link_words = {"none": "the bare veth (unshaped)"}
for link in links + big_links + comp_links:
    link_words.setdefault(link, f"`tbf rate {link} burst 256kb latency 50ms` on both hosts' eth0")

w("# Benchmark: live migration through the cluster against podman by hand")
w("")
w(f"Generated by `{command}` (scripts/bench.sh, scripts/bench/report.py, scripts/bench/plot.gp). "
  f"Every figure is the **median of {reps} repeats**. Raw figures of the run: build/bench/results.txt and "
  "build/bench/runs/. `BENCH_REPEATS`, `BENCH_WORKLOADS`, `BENCH_LINKS`, `BENCH_SERVICE_MB`, `BENCH_TEN`, "
  "`BENCH_BIG`, `BENCH_BIG_LINKS`, `BENCH_BIG_HAND_MAX`, `BENCH_COMPRESSION`, `BENCH_COMPRESSION_MB`, "
  "`BENCH_SKIP_TEN=1`, `BENCH_SKIP_SERVICE=1`, `BENCH_SKIP_BIG=1` and `BENCH_SKIP_COMPRESSION=1` change a run; "
  "`make bench BENCH_QUICK=1` is a smoke slice whose report stays in build/bench-quick/.")
w("")
w(f"- Run: {meta.get('date', '?')}, {meta.get('cpus', '?')} CPUs, kernel {meta.get('kernel', '?')}, "
  f"CRIU {meta.get('criu', '?')}, podman {meta.get('podman', '?')}, runc; two simulated hosts "
  f"(network + mount namespaces on one machine, scripts/hosts.sh, prefix `{meta.get('prefix', 'amb')}`), linked by "
  f"a veth bridge; config.ini [transfer] chunk_kb = {meta.get('chunk_kb', '?')}, window = {meta.get('window', '?')}, "
  f"max_archive_mb = {meta.get('max_archive_mb', '?')}; the nodes and the client run on a copy of config.ini with "
  f"restore_timeout_s = {meta.get('restore_timeout_s', '?')} (the client waits that + 60 s for a move's answer, and "
  "config.ini's 120 leaves 180 s, too short for 4 GB on 1 Gbit/s).")
w(f"- Machine shared: **{'yes' if shared else 'no'}** (other simulated hosts at the start: "
  f"{meta.get('other_netns', 'none')}; dotnet test processes at the start / end: {meta.get('test_processes', '0')} / "
  f"{meta.get('test_processes_end', '?')}; 1-minute load average at the start {meta.get('loadavg', '?')}, after the "
  f"measurements median {med(loads):.1f}, max {max(loads, default=NAN):.1f}, on {meta.get('cpus', '?')} CPUs)."
  + (" Figures from a shared machine are noisy: a single move varies by 2× and more." if shared else ""))
w("- Links: " + "; ".join(f"**{link}**: {link_words[link]}" for link in links) + ".")
w(f"- Pre-copy: **{meta.get('precopy', '?')}** (`criu check --feature mem_dirty_track`). "
  "Every figure is a stop-and-copy migration, without pre-copy.")
w(f"- Workloads: the worker image with `--state-mb` {', '.join(str(m) for m in workloads)}: pseudo-random, "
  "incompressible memory; checkpoints use `--compress none` (config.ini), so the archive is about the state's size. "
  f"The service: `worker kv --data /data` (a named volume) filled with {svc_mb} MB of values "
  f"({svc_mb * 8} keys of 64 Ki random base64 characters, held as UTF-16 .NET strings), so its archive carries its "
  f"memory and its log in the volume ({svc_mb // 2} MB)."
  + (f" Big containers: the same worker with {', '.join(f'{m} MB' for m in big_sizes)} on "
     f"{', '.join(big_links)}." if big_sizes else "")
  + (f" Compression: {comp_mb} MB of incompressible state and of compressible state (`--state-kind text`), "
     f"checkpointed with `--compress` {', '.join(comp_list)}." if comp_list else ""))
w("")
w("## Key figures")
w("")
w("The names printed last by `make bench`; a figure of the shaped links carries the link's name. "
  "Targets: issue 4's for the bare link (`small_job_ratio` tightened to issue 16's 1.1), issue 16's "
  "`total_ratio_256mb_1gbit` ≤ 0.75 and a client's pause below by hand's; for big containers issue 16's "
  "`total_ratio_2gb_1gbit` ≤ 0.75, `throughput_ratio_2gb` ≥ 0.8 and `rss_growth_mb_2gb` ≤ 96 (bare link) and "
  "`big_4gb_ok` true.")
w("")
table(["figure", "value", "target", "verdict"],
      [[f"`{k['name']}`", f"{shown(k)}: {k['why']}" if shown(k) in ("failed", "false") else shown(k),
        f"{k['op']} {k['target']:.0f} ms (by hand's)" if k["op"] == "<" and k["target"] is not None and ok(k["target"])
        else k["target"] if k["op"] == "==" and k["target"] is not None
        else (f"{k['op']} {k['target']}" if k["target"] is not None and k["op"] != "<" else ""),
        f"**{verdict(k)}**" if verdict(k) else ""] for k in keys]
      + [[f"`concurrent_{n_ten}_ok`", str(conc_ok).lower() + ("" if conc_ok else f": {conc_reason()}"), "true",
          f"**{'met' if conc_ok else 'missed'}**"]])
w("")
if fails:
    w("## Parts that failed")
    w("")
    w("A failed part is swept away (its containers, volumes, archives, nft tables and background processes) and "
      "the benchmark goes on; a figure whose every repeat failed is printed as `failed` with these reasons.")
    w("")
    table(["part", "link", "workload", "repeat", "reason"],
          [[r["part"], r["link"], f"{r['mb']} MB" if "mb" in r else "", r.get("rep", ""), r["reason"]] for r in fails])
    w("")
include("misses.md")
for link in links:
    plot = "benchmark.png" if link == "none" else f"benchmark-{link}.png"
    w("")
    w(f"## Link: {link} ({link_words[link]})")
    w("")
    w(f"![total time, downtime and throughput per workload, link {link}]({plot})")
    w("")
    w("### Time per workload (ms)")
    w("")
    table(["workload", "by hand: checkpoint", "copy (socat)", "restore", "**total = downtime**",
           "ours: **total** (clientMs)", "client process wall", "node total = **downtime**", "checkpoint",
           "transfer added", "restore", "rest", "stream", "repeats (hand / ours)"],
          ([f"{mb} MB", f1(x['hand_checkpoint']), f1(x['hand_copy']), f1(x['hand_restore']), f"**{f1(x['hand_total'])}**",
            f"**{f1(x['ours_client'])}**", f1(x['ours_wall']), f"**{f1(x['ours_node_total'])}**", f1(x['ours_checkpoint']),
            f1(x['ours_transfer']), f1(x['ours_restore']), f1(x['ours_other']), f1(x['ours_stream']),
            f"{x['n_hand']} / {x['n_ours']}"]
           for mb, x in ((mb, fig[link, mb]) for mb in workloads)))
    w("")
    w("### Transfer and memory")
    w("")
    table(["workload", "archive MB (by hand / ours)", "raw TCP MB/s", "ours MB/s", "ours / raw", "peak RSS nodeA MB",
           "peak RSS nodeB MB", "RSS growth nodeA MB", "RSS growth nodeB MB"],
          ([f"{mb} MB", f"{x['hand_mb']:.1f} / {x['ours_mb']:.1f}", f1(x['raw_mbs']), f1(x['akka_mbs']),
            f"{ratio(x['akka_mbs'], x['raw_mbs']):.2f}", f1(x['peak_a']), f1(x['peak_b']), f1(x['growth_a']),
            f1(x['growth_b'])]
           for mb, x in ((mb, fig[link, mb]) for mb in workloads)))
    w("")
    w("### podman --print-stats, by-hand path (ms)")
    w("")
    table(["workload", "checkpoint: podman", "runtime", "CRIU freezing", "CRIU frozen", "CRIU memdump", "CRIU memwrite",
           "pages written", "restore: podman", "runtime", "CRIU restore"],
          ([f"{mb} MB", f1(x['st_podman_ck']), f1(x['st_runtime_ck']), f2(x['st_freezing']), f1(x['st_frozen']),
            f1(x['st_memdump']), f1(x['st_memwrite']), f1(x['st_pages']), f1(x['st_podman_rs']),
            f1(x['st_runtime_rs']), f1(x['st_criu_rs'])]
           for mb, x in ((mb, fig[link, mb]) for mb in workloads)))
    v = fig[link, "svc"]
    if v["n_hand"] or v["n_ours"]:
        w("")
        w(f"### The key-value service, {svc_mb} MB, moved while a client writes (ms)")
        w("")
        table(["path", "**longest pause the client saw**", "each repeat", "move: total", "checkpoint", "copy / transfer added",
               "restore", "archive MB", "kv RSS MB", "no write lost, connection kept"],
              [["by hand", f"**{f1(v['hand_pause'])}**", ", ".join(str(p) for p in v["hand_pauses"]), f1(v["hand_total"]),
                f1(v["hand_checkpoint"]), f1(v["hand_copy"]), f1(v["hand_restore"]), f1(v["hand_mb"]), f1(v["kv_rss"]),
                str(v["hand_ok"]).lower()],
               ["ours", f"**{f1(v['ours_pause'])}**", ", ".join(str(p) for p in v["ours_pauses"]),
                f"{f1(v['ours_client'])} (node {f1(v['ours_node_total'])})", f1(v["ours_checkpoint"]),
                f1(v["ours_transfer"]), f1(v["ours_restore"]), f1(v["ours_mb"]), f1(v["kv_rss"]),
                str(v["ours_ok"]).lower()]])
if big_sizes:
    w("")
    w(f"## Big containers: {', '.join(f'{m} MB' for m in big_sizes)} of state")
    w("")
    w(f"The worker with incompressible state moved by hand (up to {big_hand_max} MB) and ours, "
      f"{reps} repeats each; medians. The nodes' memory must stay bounded whatever the size: the archive is streamed "
      "from the file podman writes to the file the target restores from, a window of chunks at a time.")
    for link in big_links:
        w("")
        w(f"### Link: {link} ({link_words.get(link, link)})")
        w("")
        table(["state", "by hand: **total**", "raw TCP MB/s", "ours: **total** (clientMs)", "ours / by hand",
               "node total", "checkpoint", "transfer added", "restore", "archive MB", "ours MB/s", "ours / raw",
               "peak RSS nodeA / nodeB MB", "**RSS growth** nodeA / nodeB MB", "ours moved"],
              ([f"{mb} MB", f"**{f1(x['hand_total'])}**", f1(x['raw_mbs']), f"**{f1(x['ours_client'])}**",
                f2(ratio(x['ours_client'], x['hand_total'])), f1(x['ours_node_total']), f1(x['ours_checkpoint']),
                f1(x['ours_transfer']), f1(x['ours_restore']), f1(x['ours_mb']), f1(x['akka_mbs']),
                f2(ratio(x['akka_mbs'], x['raw_mbs'])), f"{f1(x['peak_a'])} / {f1(x['peak_b'])}",
                f"**{f1(x['growth_a'])} / {f1(x['growth_b'])}**",
                f"{x['n_ours']} of {x['n_ours'] + len(big_fails(mb, link))}"]
               for mb, x in ((mb, bigfig[link, mb]) for mb in big_sizes)))
        w("")
        w(f"![total time and throughput per size, link {link}](benchmark-big-{link}.png)")
if comp_list:
    w("")
    w(f"## Compression: none against {', '.join(c for c in comp_list if c != 'none')}, {comp_mb} MB")
    w("")
    w("Ours only, the nodes restarted on a config with each setting. *none*, *zstd* and *gzip* are "
      "`[container] compression` (podman's `checkpoint --compress`, which has no lz4; zstd at its default level). "
      "*lz4* is `[transfer] compression = lz4` with podman's none: the nodes pack each chunk that LZ4 shrinks by an "
      "eighth on the stream, and unpack it on arrival; the archive on both disks stays as podman wrote it. *Incompressible*: the worker's pseudo-random state, as everywhere else; *compressible*: "
      "`--state-kind text`, JSON-like records (sequential ids, clock-like timestamps, small vocabularies), which "
      "`zstd -3` shrinks about 7× and `gzip -6` about 9×. Medians; the fastest setting per link and state is in bold. "
      "*State MB/s* is the state's size over the total: what the move achieves; *wire MB/s* is the archive over its "
      "stream time (for lz4, the archive before packing).")
    for link in comp_links:
        w("")
        w(f"### Link: {link} ({link_words.get(link, link)})")
        w("")
        body = []
        for kind, label in KINDS.items():
            best, _ = comp_best(link, kind)
            for c in comp_list:
                x = cfig[link, kind, c]
                mark = (lambda v: f"**{v}**") if c == best else (lambda v: v)
                body.append([label, mark(c), mark(f1(x["total"])), f1(x["node_total"]), f1(x["checkpoint"]),
                             f1(x["transfer"]), f1(x["restore"]), f"{x['archive_mb']:.1f}",
                             f2(ratio(x["archive_mb"], comp_mb)), f1(x["state_mbs"]), f1(x["wire_mbs"]),
                             f1(x["growth_max"]), f"{x['n']} of {x['n'] + x['failed']}"])
        table(["state", "compression", "**total** (clientMs)", "node total", "checkpoint", "transfer added", "restore",
               "archive MB", "archive / state", "state MB/s", "wire MB/s", "RSS growth MB (larger node)", "moved"], body)
w("")
w(f"## {n_ten} small jobs, nodeA → nodeB (bare link)")
w("")
table(["mode", "wall ms (median)", "all moved in every repeat"],
      [["one after another", f1(serial_ms), str(serial_ok).lower()],
       ["concurrently", f1(conc_ms), str(conc_ok).lower()]])
w("")
w(f"Concurrent / serial: {ratio(conc_ms, serial_ms):.2f}. Per repeat: "
  + ", ".join(f"{r['mode']} #{r['rep']} {r['wall_ms']} ms ({r['ok']}/{r['of']})" for r in ten) + ".")
serial_moves = []
for name in sorted(os.listdir(runs_dir)):
    if name.startswith("bench-serial-") and name.endswith(".out"):
        text = open(os.path.join(runs_dir, name)).read()
        node = re.search(r" in ([0-9]+) ms \(", text)
        wall = re.search(r"client wall ([0-9]+) ms", text)
        if node and wall:
            serial_moves.append((int(wall.group(1)), int(node.group(1))))
if serial_moves:
    w(f"In the serial runs one move took {med(x[0] for x in serial_moves):.0f} ms of client wall time (median of "
      f"{len(serial_moves)}) against {med(x[1] for x in serial_moves):.0f} ms on the node's clock: the rest is the "
      "client process's start-up, joining and shut-down, with the other jobs running on the same 2 CPUs.")
w("")
w("## The client's start-up")
w("")
w(f"`client status` (a whole client process: .NET start-up, TLS handshake, one status request to every node), "
  f"wall time: **{f1(status_ms)} ms** (median; each: {', '.join(str(r['wall_ms']) for r in status) or 'none'}) for the "
  f"client as the bundle installs it (self-contained, ReadyToRun), which every client call of this benchmark uses; "
  f"the checkout's JIT-compiled dll took {f1(status_dll_ms)} ms beside it. "
  f"In the single moves the client process's wall time exceeded its own clientMs by "
  f"{med(fig[l, m]['wall_minus_client'] for l in links for m in workloads if ok(fig[l, m]['wall_minus_client'])):.0f} ms "
  "(median).")
include("tuning.md")
w("")
w("## How each figure is measured")
w("")
w("- **Links**: for each link the script sets `tc qdisc replace dev eth0 root tbf rate RATE burst 256kb latency 50ms` "
  "in both hosts' network namespaces (their veth to the bridge), so every byte a host sends (archive copies, the "
  "archive stream, Akka.Remote, a service's replies to its client) is paced; `tc qdisc del dev eth0 root` takes it off "
  "again before the next link and at the end. The bare link is the veth with its default `noqueue`. The kernel has no "
  "netem, so no delay or loss is added.")
w("- **By hand**: the worker runs on nodeA with the node's flags (`--network none`, the ulimits, runc); once it printed "
  "STARTED (its state is filled), `podman container checkpoint NAME --export F --compress none --print-stats` on A, "
  "`socat -u` of F from A to a `socat TCP-LISTEN` on B (started before the clock), then "
  "`podman container restore --import F --print-stats` on B. Each step is timed by the wall clock of the "
  "script around the command (nsenter included); the copy ends when the receiving socat has closed the file.")
w("- **By-hand total and downtime** are the same figure: checkpoint start to restore end, since every step "
  "is on the critical path while the container is frozen (the freeze begins a few ms after podman starts).")
w("- **Ours, total**: `clientMs` of `client migrate JOB nodeB --json`: the client's own clock from sending the "
  "migrate request to receiving the answer, over a connection the client has already opened and checked with a status "
  "request (the client process's start-up and the TLS handshake excluded). This is the figure in `total_ratio_*` and "
  "`small_job_ratio*`. *Client process wall* is the script's clock around the whole client process; the `_wall` ratios "
  "use it. *Node total* (`TotalMs`) is the source node's clock from the request to the target's confirmation.")
w("- **Ours, downtime**: the node's `TotalMs`. The container is frozen from the start of `podman checkpoint` on "
  "A until the restore on B; TotalMs spans that and a few ms more, so it is an upper bound.")
w("- **Raw TCP MB/s**: archive size / socat copy time (after the checkpoint, file to socket to file). "
  "**Ours MB/s**: `ArchiveBytes / StreamMs`, the archive streamed on the target's archive stream (TLS beside "
  "Akka.Remote) from the first chunk sent to the last acknowledged; since the stream starts while podman still writes "
  f"the archive, this rate is also capped by podman's writing speed. `throughput_ratio*` is the {big_mb} MB workload's "
  "median ours MB/s over its median raw TCP MB/s on the same link.")
w("- **Peak RSS**: before each move the script writes 5 to /proc/PID/clear_refs of both node processes, which resets "
  "VmHWM to the current RSS; after the move VmHWM is the peak during the move. *Growth* is that peak minus VmRSS just "
  f"before; `rss_growth_mb_{big_mb}mb*` is the median over repeats of the larger of the two nodes' growths.")
w("- **small_job_ratio**: ours' total (clientMs) for the smallest workload over by-hand checkpoint + restore alone "
  "(without the copy).")
w(f"- **Service pause**: the key-value service (`worker kv --port 7000 --data /data`, a named volume at /data) is "
  f"filled with {svc_mb} MB of values (scripts/bench/kv-fill.py), then `worker kv-load` runs in the client's namespace: "
  "one TCP connection, each SET sent when the previous one was answered. 2 s later the move starts; 1 s after it ended "
  "kv-load is stopped (SIGTERM), reads back every acknowledged write and prints `longest_pause_ms`, the longest time "
  "between two answers, and whether its connection was kept and no write lost. *Ours*: the service is started with "
  "`client run --on nodeA --network cluster --volume V:/data NAME IMAGE kv ...` and moved with `client migrate NAME "
  "nodeB`. *By hand*: the same container by `podman run --network <the cluster's macvlan network> --ip .250` on A, "
  "`podman container checkpoint --export F --tcp-established --compress none` on A with the node's nft rule holding new "
  "connections to the address, the socat copy, then `podman container restore --import F --tcp-established` on B with "
  "the node's nft rule dropping the address's TCP until the sockets are back (platform.md), and the source's container "
  "and volume removed. The pause includes the client's TCP retransmission wait after the service is back (200 ms, "
  "doubling), so it is rounded up to the next retransmission.")
w(f"- **{n_ten} concurrent**: {n_ten} jobs (0 MB state) started on nodeA, then {n_ten} client `migrate` processes at "
  "once; a move counts as done when the client reported it and the container runs on nodeB. Compared with "
  f"{n_ten} fresh jobs moved one after another. Both include one client start-up per move. `concurrent_ratio` is "
  "concurrent wall time over serial wall time.")
w("- **client_status_wall_ms**: the script's clock around one `client status` process, the installed client's "
  "(`make dist`'s bundle); **client_status_wall_ms_dll** the same right after it with `dotnet Client.dll` from the "
  "checkout. Every other client call of the benchmark is the installed client's.")
w("- **Big containers** (`BENCH_BIG`, `BENCH_BIG_LINKS`): the single moves above with 1, 2 and 4 GB of state, on "
  "the 1 Gbit/s and the bare link; by hand only up to `BENCH_BIG_HAND_MAX` MB (default 2048), since its point, "
  "the raw copy's rate, is made by then. Their names carry `big`, their raw lines `series=big`. `total_ratio_2gb*`, "
  "`throughput_ratio_2gb*` and `rss_growth_mb_2gb*` are computed like the figures above (clientMs over by hand's "
  "total; ours MB/s over raw TCP MB/s; the larger node's VmHWM growth). `big_SIZE_ok` is true when ours moved that "
  "size on every big link in every repeat, false with the failed moves' reasons otherwise.")
w("- **Compression** (`BENCH_COMPRESSION`, `BENCH_COMPRESSION_MB`): for each setting, both nodes stop, the run's "
  "config is copied with `[container] compression` set, the hosts' job records and containers are cleared and the "
  "nodes start again on it; then on each link the worker is started with `client run --on nodeA NAME IMAGE --number 41 "
  "--work-ms 600000 --state-mb MB --state-kind random|text` and moved with `client migrate NAME nodeB --json`. "
  "*Archive MB* is the node's `ArchiveBytes`, the compressed archive that crossed the link. "
  "`compression_best*_KIND` is the setting with the shortest median total (clientMs) for that link and state; "
  "`compression_gain*_KIND` that total over none's (below 1: compression paid for itself).")
w("- Each repeat runs by hand and ours back to back for each workload, so drift on a shared machine hits both.")
w("")

with open(md_path, "w") as f:
    f.write("\n".join(md))

def plot_data(name, rows):
    """One plot's data (scripts/bench/plot.gp): a row per workload; NaN where a way did not run (no bar)."""
    with open(os.path.join(run_dir, f"plot-{name}.dat"), "w") as f:
        f.write("# workload hand_total ours_total ours_downtime raw_mbs akka_mbs ours_wall\n")
        for label, x in rows:
            f.write(f'"{label}" {x["hand_total"]:.0f} {x["ours_client"]:.0f} {x["ours_node_total"]:.0f} '
                    f'{x["raw_mbs"]:.1f} {x["akka_mbs"]:.1f} {x["ours_wall"]:.0f}\n')


for link in links:
    plot_data(link, [(f"{mb} MB", fig[link, mb]) for mb in workloads])
for link in big_links:
    plot_data(f"big-{link}", [(f"{mb} MB", bigfig[link, mb]) for mb in big_sizes])

print(f"benchmark: medians of {reps} repeats; machine shared: {'yes' if shared else 'no'}; pre-copy {meta.get('precopy')}")
for link in links:
    for mb in workloads:
        x = fig[link, mb]
        print(f"  {link:>6} {mb:>4} MB  by hand {x['hand_total']:.0f} ms | ours {x['ours_client']:.0f} ms (process wall "
              f"{x['ours_wall']:.0f}, node total = downtime {x['ours_node_total']:.0f}; checkpoint {x['ours_checkpoint']:.0f}, "
              f"transfer added {x['ours_transfer']:.0f}, restore {x['ours_restore']:.0f}) | raw {x['raw_mbs']:.0f} MB/s, "
              f"ours {x['akka_mbs']:.0f} MB/s | RSS growth A {x['growth_a']:.0f} MB, B {x['growth_b']:.0f} MB")
    v = fig[link, "svc"]
    if v["n_hand"] or v["n_ours"]:
        print(f"  {link:>6} service {svc_mb} MB: longest pause by hand {v['hand_pause']:.0f} ms, ours {v['ours_pause']:.0f} ms "
              f"(kept and nothing lost: by hand {str(v['hand_ok']).lower()}, ours {str(v['ours_ok']).lower()})")
print(f"  {n_ten} jobs: serial {serial_ms:.0f} ms, concurrent {conc_ms:.0f} ms; client status {status_ms:.0f} ms")
for link in big_links:
    for mb in big_sizes:
        x = bigfig[link, mb]
        print(f"  big {link:>6} {mb:>4} MB  by hand {x['hand_total']:.0f} ms | ours {x['ours_client']:.0f} ms | raw "
              f"{x['raw_mbs']:.0f} MB/s, ours {x['akka_mbs']:.0f} MB/s | RSS growth A {x['growth_a']:.0f} MB, "
              f"B {x['growth_b']:.0f} MB | moved {x['n_ours']}")
for link in comp_links:
    for kind, label in KINDS.items():
        print(f"  compression {link:>6} {label:>14}: " + ", ".join(
            f"{c} {cfig[link, kind, c]['total']:.0f} ms ({cfig[link, kind, c]['archive_mb']:.1f} MB)" for c in comp_list))
for r in fails:
    print(f"  FAILED part {r['part']} link {r['link']}{' ' + str(r['mb']) + ' MB' if 'mb' in r else ''} "
          f"#{r.get('rep', '-')}: {r['reason']}")
for k in keys:
    if verdict(k):
        t = f"{k['target']:.0f} ms, by hand's" if k["op"] == "<" else k["target"]
        print(f"  {k['name']}: {verdict(k)} (target {k['op']} {t})")
print(f"precopy={meta.get('precopy')}")
for k in keys:
    print(f"{k['name']}={shown(k)}" + (f' reason="{k["why"]}"' if shown(k) in ("failed", "false") else ""))
for link in links:
    v = fig[link, "svc"]
    if v["n_ours"]:
        print(f"service_ok_{svc_mb}mb{sfx(link)}={str(v['ours_ok']).lower()}")
    if v["n_hand"]:
        print(f"hand_service_ok_{svc_mb}mb{sfx(link)}={str(v['hand_ok']).lower()}")
print(f"concurrent_{n_ten}_ok=" + ("true" if conc_ok else "skipped" if conc_reason() == "not run"
                                  else f'false reason="{conc_reason()}"'))
