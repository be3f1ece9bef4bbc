#!/usr/bin/env python3
"""Turns scripts/bench.sh's raw figures into medians, docs/benchmark.md, the plot's data and
the issue's key=value lines (printed last). Stdlib only, so it runs on a bare Debian python3.

usage: report.py RESULTS RUNS_DIR MARKDOWN PLOT_DATA
"""
import json
import os
import re
import statistics
import sys

results_path, runs_dir, md_path, plot_path = sys.argv[1:5]
MB = 1024 * 1024  # every MB here is a MiB, as the client prints it

meta, hand, ours, ten = {}, [], [], []
with open(results_path) as f:
    for line in f:
        kind, *pairs = line.split()
        row = dict(p.split("=", 1) for p in pairs)
        if kind == "meta":
            meta.update(row)
            continue
        for k, v in row.items():
            try:
                row[k] = float(v) if "." in v else int(v)
            except ValueError:
                pass
        {"hand": hand, "ours": ours, "ten": ten}[kind].append(row)

workloads = sorted({r["mb"] for r in hand} | {r["mb"] for r in ours})


def med(values):
    values = list(values)
    return statistics.median(values) if values else float("nan")


def rows(table, mb):
    return [r for r in table if r["mb"] == mb]


def stats_of(mb, rep, which):
    path = os.path.join(runs_dir, f"hand-{mb}-{rep}-{which}.json")
    try:
        with open(path) as f:
            doc = json.load(f)
    except (OSError, ValueError):
        return {}
    flat = {k: v for k, v in doc.items() if isinstance(v, (int, float))}
    for c in doc.get("container_statistics", []):
        flat.update({k: v for k, v in c.items() if isinstance(v, (int, float))})
        flat.update(c.get("criu_statistics", {}))
    return flat


# Per workload medians; each derived per-repeat figure is computed first, then its median taken.
fig = {}
for mb in workloads:
    h, o = rows(hand, mb), rows(ours, mb)
    ck = [stats_of(mb, r["rep"], "checkpoint") for r in h]
    rs = [stats_of(mb, r["rep"], "restore") for r in h]
    us = lambda docs, key: med(d[key] / 1000 for d in docs if key in d)  # podman reports µs
    fig[mb] = {
        "n_hand": len(h), "n_ours": len(o),
        "hand_checkpoint": med(r["checkpoint_ms"] for r in h),
        "hand_copy": med(r["copy_ms"] for r in h),
        "hand_restore": med(r["restore_ms"] for r in h),
        "hand_total": med(r["total_ms"] for r in h),
        "hand_ck_rs": med(r["checkpoint_ms"] + r["restore_ms"] for r in h),
        "hand_mb": med(r["bytes"] / MB for r in h),
        "raw_mbs": med(r["bytes"] / MB / (r["copy_ms"] / 1000) for r in h if r["copy_ms"] > 0),
        "ours_client": med(r["client_ms"] for r in o),
        "ours_wall": med(r["wall_ms"] for r in o),
        "ours_node_total": med(r["node_total_ms"] for r in o),
        # The container is frozen from the checkpoint's start until the restore on B: the node's total.
        "ours_downtime": med(r["node_total_ms"] for r in o),
        "ours_checkpoint": med(r["checkpoint_ms"] for r in o),
        "ours_transfer": med(r["transfer_ms"] for r in o),
        "ours_restore": med(r["restore_ms"] for r in o),
        "ours_other": med(r["node_total_ms"] - r["checkpoint_ms"] - r["transfer_ms"] - r["restore_ms"] for r in o),
        "ours_stream": med(r["stream_ms"] for r in o),
        "ours_mb": med(r["bytes"] / MB for r in o),
        "akka_mbs": med(r["bytes"] / MB / (r["stream_ms"] / 1000) for r in o if r["stream_ms"] > 0),
        "peak_a": med(r["hwm_a_kb"] / 1024 for r in o),
        "peak_b": med(r["hwm_b_kb"] / 1024 for r in o),
        "growth_a": med((r["hwm_a_kb"] - r["rss_a_kb"]) / 1024 for r in o),
        "growth_b": med((r["hwm_b_kb"] - r["rss_b_kb"]) / 1024 for r in o),
        "growth_max": med(max(r["hwm_a_kb"] - r["rss_a_kb"], r["hwm_b_kb"] - r["rss_b_kb"]) / 1024 for r in o),
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

serial = [r for r in ten if r["mode"] == "serial"]
conc = [r for r in ten if r["mode"] == "concurrent"]
serial_ms, conc_ms = med(r["wall_ms"] for r in serial), med(r["wall_ms"] for r in conc)
conc_ok = bool(conc) and all(r["ok"] == r["of"] for r in conc)
serial_ok = bool(serial) and all(r["ok"] == r["of"] for r in serial)

big, small = fig.get(256, {}), fig.get(0, {})
ratio = lambda a, b: a / b if b else float("nan")
key = {
    "total_ratio_256mb": ratio(big.get("ours_client", 0), big.get("hand_total", 0)),
    "throughput_ratio": ratio(big.get("akka_mbs", 0), big.get("raw_mbs", 0)),
    "rss_growth_mb_256mb": big.get("growth_max", float("nan")),
    "small_job_ratio": ratio(small.get("ours_client", 0), small.get("hand_ck_rs", 0)),
}
# Secondary: the same two ratios with the client process's wall time (its ~1 s of .NET, Akka and
# TLS start-up included), and the downtime ratio (the node's TotalMs over by hand's total).
side = {
    "total_ratio_256mb_wall": ratio(big.get("ours_wall", 0), big.get("hand_total", 0)),
    "small_job_ratio_wall": ratio(small.get("ours_wall", 0), small.get("hand_ck_rs", 0)),
    "downtime_ratio_256mb": ratio(big.get("ours_downtime", 0), big.get("hand_total", 0)),
}
targets = [  # name, value, comparison, target
    ("total_ratio_256mb", key["total_ratio_256mb"], "<=", 0.9),
    ("throughput_ratio", key["throughput_ratio"], ">=", 0.5),
    ("rss_growth_mb_256mb", key["rss_growth_mb_256mb"], "<=", 64),
    ("small_job_ratio", key["small_job_ratio"], "<=", 1.2),
]


def verdict(value, op, target):
    met = value <= target if op == "<=" else value >= target
    if met:
        return "met", ""
    return "missed", f"{abs(value - target):.2f} {'above' if op == '<=' else 'below'} the target"


f1 = lambda v: f"{v:.0f}"
f2 = lambda v: f"{v:.2f}"
shared = (meta.get("other_netns", "none") != "none" or meta.get("test_processes", "0") != "0"
          or meta.get("test_processes_end", "0") != "0")
loads = [r["load"] for r in hand + ours + ten if "load" in r]
reps = meta.get("repeats", "?")

md = []
w = md.append
w("# Benchmark: live migration through the cluster against podman by hand")
w("")
w("Generated by `make bench` (scripts/bench.sh, scripts/bench/report.py, scripts/bench/plot.gp); "
  "`BENCH_REPEATS=N make bench` changes the number of repeats. Every figure is the **median of "
  f"{reps} repeats**. Raw figures of the run: build/bench/results.txt and build/bench/runs/.")
w("")
w(f"- Run: {meta.get('date', '?')}, {meta.get('cpus', '?')} CPUs, kernel {meta.get('kernel', '?')}, "
  f"CRIU {meta.get('criu', '?')}, podman {meta.get('podman', '?')}, runc; two simulated hosts "
  "(network + mount namespaces on one machine, scripts/hosts.sh, prefix `amb`), linked by a veth bridge; "
  f"config.ini [transfer] chunk_kb = {meta.get('chunk_kb', '?')}, window = {meta.get('window', '?')}.")
w(f"- Machine shared: **{'yes' if shared else 'no'}** (other simulated hosts at the start: "
  f"{meta.get('other_netns', 'none')}; dotnet test processes at the start / end: {meta.get('test_processes', '0')} / "
  f"{meta.get('test_processes_end', '?')}; 1-minute load average at the start {meta.get('loadavg', '?')}, after the "
  f"measurements median {med(loads):.1f}, max {max(loads, default=float('nan')):.1f}, on {meta.get('cpus', '?')} CPUs).")
w(f"- Pre-copy: **{meta.get('precopy', '?')}** (`criu check --feature mem_dirty_track`). "
  "Every figure is a stop-and-copy migration, without pre-copy.")
w("- Workloads: the worker image with `--state-mb 0`, `64` and `256`: pseudo-random, incompressible memory; "
  "checkpoints use `--compress none` (config.ini), so the archive is about the state's size.")
w("")
def table(header, rows):
    """A markdown table: the header, its rule, then a row of cells each."""
    w("| " + " | ".join(header) + " |")
    w("|" + "---|" * len(header))
    for row in rows:
        w("| " + " | ".join(str(cell) for cell in row) + " |")


def key_row(name, value, op, target):
    v, dist = verdict(value, op, target)
    shown = f"{value:.0f} MB" if name.startswith("rss") else f"{value:.2f}"
    return [f"`{name}`", shown, f"{op} {target}", f"**{v}**{': ' + dist if dist else ''}"]


w("## Key figures")
w("")
table(["figure", "value", "target", "verdict"],
      [*(key_row(*t) for t in targets),
       ["`concurrent_10_ok`", str(conc_ok).lower(), "true", f"**{'met' if conc_ok else 'missed'}**"]])
w("")
w(f"Secondary, with the client **process's** wall time instead of clientMs (its .NET, Akka and TLS start-up "
  f"included): total ratio at 256 MB {side['total_ratio_256mb_wall']:.2f}, small-job ratio "
  f"{side['small_job_ratio_wall']:.2f}. Downtime ratio at 256 MB (the node's TotalMs over by hand's total): "
  f"{side['downtime_ratio_256mb']:.2f}.")
here = os.path.dirname(os.path.abspath(__file__))


def include(name):
    """Hand-written notes kept beside this script (the analysis of a run, the tuning), verbatim."""
    path = os.path.join(here, name)
    if os.path.exists(path):
        w("")
        w(open(path).read().rstrip())


include("misses.md")
w("")
w("![total time, downtime and throughput per workload](benchmark.png)")
w("")
w("## Time per workload (ms)")
w("")
table(["workload", "by hand: checkpoint", "copy (socat)", "restore", "**total = downtime**", "ours: **total** (clientMs)",
       "client process wall", "node total = **downtime**", "checkpoint", "transfer added", "restore", "rest", "stream"],
      ([f"{mb} MB", f1(x['hand_checkpoint']), f1(x['hand_copy']), f1(x['hand_restore']), f"**{f1(x['hand_total'])}**",
        f"**{f1(x['ours_client'])}**", f1(x['ours_wall']), f"**{f1(x['ours_node_total'])}**", f1(x['ours_checkpoint']),
        f1(x['ours_transfer']), f1(x['ours_restore']), f1(x['ours_other']), f1(x['ours_stream'])]
       for mb, x in ((mb, fig[mb]) for mb in workloads)))
w("")
w("*Transfer added* is what the transfer took after podman's checkpoint had ended (the archive streams while "
  "podman writes it); *rest* is node total minus checkpoint, transfer added and restore (the request's hops, "
  "the last acknowledgements, the target's confirmation); *stream* is first chunk sent → last acknowledged.")
w("")
w("## Transfer and memory")
w("")
table(["workload", "archive MB (by hand / ours)", "raw TCP MB/s", "ours MB/s", "ours / raw", "peak RSS nodeA MB",
       "peak RSS nodeB MB", "RSS growth nodeA MB", "RSS growth nodeB MB"],
      ([f"{mb} MB", f"{x['hand_mb']:.1f} / {x['ours_mb']:.1f}", f1(x['raw_mbs']), f1(x['akka_mbs']),
        f"{ratio(x['akka_mbs'], x['raw_mbs']):.2f}", f1(x['peak_a']), f1(x['peak_b']), f1(x['growth_a']), f1(x['growth_b'])]
       for mb, x in ((mb, fig[mb]) for mb in workloads)))
w("")
w("## podman --print-stats, by-hand path (ms)")
w("")
table(["workload", "checkpoint: podman", "runtime", "CRIU freezing", "CRIU frozen", "CRIU memdump", "CRIU memwrite",
       "pages written", "restore: podman", "runtime", "CRIU restore"],
      ([f"{mb} MB", f1(x['st_podman_ck']), f1(x['st_runtime_ck']), f2(x['st_freezing']), f1(x['st_frozen']),
        f1(x['st_memdump']), f1(x['st_memwrite']), f1(x['st_pages']), f1(x['st_podman_rs']),
        f1(x['st_runtime_rs']), f1(x['st_criu_rs'])]
       for mb, x in ((mb, fig[mb]) for mb in workloads)))
w("")
w("The node runs the same podman commands without `--print-stats`, so the cluster path has no such breakdown; "
  "its checkpoint/transfer/restore split comes from the timings in the client's `migrate --json` answer.")
w("")
w(f"## 10 small jobs, nodeA → nodeB")
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
      f"{len(serial_moves)}) against {med(x[1] for x in serial_moves):.0f} ms on the node's clock; with 10 workers "
      "running and the machine shared, the gap (client start-up, joining, shut-down) is far larger than in the single "
      "moves above; its cause is not diagnosed here.")
w("")
include("tuning.md")
w("")
w("## How each figure is measured")
w("")
w("- **By hand**: the worker runs on nodeA with the node's flags (`--network none`, the ulimits, runc); once it printed "
  "STARTED (its state is filled), `podman container checkpoint NAME --export F --compress none --print-stats` on A, "
  "`socat -u` of F from A to a `socat TCP-LISTEN` on B (started before the clock), then "
  "`podman container restore --import F --print-stats` on B. Each step is timed by the wall clock of the "
  "script around the command (nsenter included); the copy ends when the receiving socat has closed the file.")
w("- **By-hand total and downtime** are the same figure: checkpoint start to restore end, since every step "
  "is on the critical path while the container is frozen (the freeze begins a few ms after podman starts).")
w("- **Ours, total**: `clientMs` of `client migrate JOB nodeB --json`: the client's own clock from sending the "
  "migrate request to receiving the answer, over a connection the client has already opened and checked with a status "
  "request (the client process's start-up and the TLS handshake excluded). This is the "
  "figure in `total_ratio_256mb` and `small_job_ratio`. *Client process wall* is the script's clock around the "
  "whole client process, start-up, TLS handshake and joining included (wall minus clientMs, median: "
  f"{med(r['wall_ms'] - r['client_ms'] for r in ours):.0f} ms in this run); the `_wall` ratios use it. "
  "*Node total* (`TotalMs`) is the source node's clock from the request to the target's confirmation.")
w("- **Ours, downtime**: the node's `TotalMs`. The container is frozen from the start of `podman checkpoint` on "
  "A until the restore on B; TotalMs spans that and a few ms more (the request's arrival before the checkpoint, "
  "the confirmation after the restore), so it is an upper bound.")
w("- **Raw TCP MB/s**: archive size / socat copy time (after the checkpoint, file to socket to file). "
  "**Ours MB/s**: `ArchiveBytes / StreamMs`, the archive streamed on the target's archive stream (TLS beside "
  "Akka.Remote, Akka messages for the acknowledgements) from the first chunk sent to the last acknowledged; since "
  "the stream starts while podman still writes the archive, this rate is also capped by podman's writing speed. "
  "`throughput_ratio` is the 256 MB workload's median ours MB/s over "
  "its median raw TCP MB/s.")
w("- **Peak RSS**: before each move the script writes 5 to /proc/PID/clear_refs of both node processes (the "
  "dotnet processes), which resets VmHWM to the current RSS; after the move VmHWM is the peak during the move. "
  "*Growth* is that peak minus VmRSS just before; `rss_growth_mb_256mb` is the median over repeats of the larger "
  "of the two nodes' growths.")
w("- **small_job_ratio**: ours' total (clientMs) for the 0 MB workload over by-hand checkpoint + restore alone "
  "(without the copy).")
w("- **10 concurrent**: 10 jobs (0 MB state) started on nodeA, then 10 client `migrate` processes at once; "
  "a move counts as done when the client reported it and the container runs on nodeB. Compared with 10 fresh "
  "jobs moved one after another. Both include one client start-up per move.")
w("- Each repeat runs by hand and ours back to back for each workload, so drift on a shared machine hits both.")
w("")

with open(md_path, "w") as f:
    f.write("\n".join(md))

with open(plot_path, "w") as f:
    f.write("# workload hand_total ours_total ours_downtime raw_mbs akka_mbs\n")
    for mb in workloads:
        x = fig[mb]
        f.write(f'"{mb} MB" {x["hand_total"]:.0f} {x["ours_client"]:.0f} {x["ours_downtime"]:.0f} {x["raw_mbs"]:.1f} {x["akka_mbs"]:.1f} {x["ours_wall"]:.0f}\n')

print(f"benchmark: medians of {reps} repeats; machine shared: {'yes' if shared else 'no'}; pre-copy {meta.get('precopy')}")
for mb in workloads:
    x = fig[mb]
    print(f"  {mb:>3} MB  by hand {x['hand_total']:.0f} ms | ours {x['ours_client']:.0f} ms (process wall {x['ours_wall']:.0f}, "
          f"node total = downtime {x['ours_downtime']:.0f}; checkpoint {x['ours_checkpoint']:.0f}, transfer added "
          f"{x['ours_transfer']:.0f}, restore {x['ours_restore']:.0f}) | raw {x['raw_mbs']:.0f} MB/s, ours {x['akka_mbs']:.0f} MB/s | "
          f"RSS growth A {x['growth_a']:.0f} MB, B {x['growth_b']:.0f} MB")
print(f"  10 jobs: serial {serial_ms:.0f} ms, concurrent {conc_ms:.0f} ms")
for name, value, op, target in targets:
    v, dist = verdict(value, op, target)
    print(f"  {name}: {v} (target {op} {target}){', ' + dist if dist else ''}")
print(f"precopy={meta.get('precopy')}")
for k, v in side.items():
    print(f"{k}={v:.2f}")
print(f"serial_10_ms={serial_ms:.0f}")
print(f"concurrent_10_ms={conc_ms:.0f}")
for k, v in key.items():
    print(f"{k}={v:.2f}" if k != "rss_growth_mb_256mb" else f"{k}={v:.0f}")
print(f"concurrent_10_ok={str(conc_ok).lower()}")
