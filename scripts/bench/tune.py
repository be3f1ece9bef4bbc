#!/usr/bin/env python3
"""Summarises quick tuning runs of scripts/bench.sh (scripts/bench/tune.sh) as a markdown table,
one row per config.ini [transfer] chunk_kb / window pair; runs of the same pair are pooled.
Each cell: the median, then every repeat in brackets.

usage: tune.py RESULTS...
"""
import statistics
import sys

MB = 1024 * 1024
pairs = {}
for path in sys.argv[1:]:
    meta, hand, ours = {}, [], []
    for line in open(path):
        kind, *fields = line.split()
        if kind not in ("meta", "hand", "ours"):
            continue  # the service, the 10 jobs, failed parts (whose reason is free text)
        row = dict(p.split("=", 1) for p in fields)
        if kind == "meta":
            meta.update(row)
        elif kind in ("hand", "ours"):
            (hand if kind == "hand" else ours).append(row)
    pair = pairs.setdefault((int(meta["chunk_kb"]), int(meta["window"])), {"hand": [], "ours": []})
    pair["hand"] += hand
    pair["ours"] += ours

med = statistics.median
show = lambda xs: f"{med(xs):.0f} (" + ", ".join(f"{x:.0f}" for x in xs) + ")"
print("| chunk_kb / window | moves | ours MB/s (ArchiveBytes / StreamMs) | ours total (clientMs) ms | "
      "by hand total ms | raw TCP MB/s | RSS growth MB (larger node) | load (1-min) |")
print("|---|---|---|---|---|---|---|---|")
for (chunk, window), p in sorted(pairs.items()):
    o, h = p["ours"], p["hand"]
    if not o:
        continue
    akka = [int(r["bytes"]) / MB / (int(r["stream_ms"]) / 1000) for r in o]
    total = [int(r["client_ms"]) for r in o]
    hand_total = [int(r["total_ms"]) for r in h]
    raw = [int(r["bytes"]) / MB / (int(r["copy_ms"]) / 1000) for r in h]
    growth = [max(int(r["hwm_a_kb"]) - int(r["rss_a_kb"]), int(r["hwm_b_kb"]) - int(r["rss_b_kb"])) / 1024 for r in o]
    loads = [float(r["load"]) for r in o + h]
    print(f"| {chunk} / {window} | {len(o)} | {show(akka)} | {show(total)} | {show(hand_total)} | {show(raw)} | "
          f"{show(growth)} | {min(loads):.1f}–{max(loads):.1f} |")
