#!/usr/bin/env python3
"""Summarises quick tuning runs of scripts/bench.sh (scripts/bench/tune.sh) as a markdown table:
one row per results.txt, i.e. per config.ini [transfer] chunk_kb / window pair.

usage: tune.py RESULTS...
"""
import statistics
import sys

MB = 1024 * 1024
print("| chunk_kb / window | repeats | Akka MB/s (ArchiveBytes / StreamMs) | raw TCP MB/s | ours total (clientMs) ms | by hand total ms | total ratio | load (1-min) |")
print("|---|---|---|---|---|---|---|---|")
for path in sys.argv[1:]:
    meta, hand, ours = {}, [], []
    for line in open(path):
        kind, *pairs = line.split()
        row = dict(p.split("=", 1) for p in pairs)
        if kind == "meta":
            meta.update(row)
        elif kind == "hand":
            hand.append(row)
        elif kind == "ours":
            ours.append(row)
    if not ours:
        continue
    med = lambda xs: statistics.median(list(xs))
    akka = [int(r["bytes"]) / MB / (int(r["stream_ms"]) / 1000) for r in ours]
    raw = [int(r["bytes"]) / MB / (int(r["copy_ms"]) / 1000) for r in hand]
    total = [int(r["client_ms"]) for r in ours]
    hand_total = [int(r["total_ms"]) for r in hand]
    loads = [float(r["load"]) for r in hand + ours]
    show = lambda xs, fmt="{:.0f}": fmt.format(med(xs)) + " (" + ", ".join(fmt.format(x) for x in xs) + ")"
    print(f"| {meta.get('chunk_kb')} / {meta.get('window')} | {len(ours)} | {show(akka)} | {show(raw)} | "
          f"{show(total)} | {show(hand_total)} | {med(total) / med(hand_total):.2f} | {min(loads):.1f}–{max(loads):.1f} |")
