# One migration's timeline, drawn by make docs from docs/timeline.tsv, which make timeline
# (Harness/Docs/Timeline.cs) took from a real make demo run's node logs (docs/timeline.log).
#   gnuplot docs/timeline.gp   (from the repository's root; -e "out='FILE'" draws elsewhere)
set terminal pngcairo size 1100,440 font "DejaVu Sans,10" noenhanced
if (!exists("out")) out = "docs/timeline.png"
set output out
data = "docs/timeline.tsv"
set datafile separator "\t"

stats data using 4 nooutput
set xrange [0:STATS_max * 1.12]
set yrange [8.6:-0.2]
set lmargin 42
set xlabel "ms since the client asked for the move"
set grid xtics
set title "one migration of make demo, nodeA → nodeB: what runs when (nodeA blue, nodeB orange, the wire green)"
set style fill solid 0.85 noborder
set key off

colour(h) = h eq "nodeA" ? 0x4a7ebb : h eq "nodeB" ? 0xd08a2e : h eq "frozen" ? 0xf6d2d2 : 0x3a9d5d
frozen(c) = column(1) == 9 ? c : 1/0
phase(c) = column(1) < 9 ? c : 1/0

# The frozen span first, as a band behind the phases; then each phase, its name and its length.
plot data using (frozen(($3 + $4) / 2)):(4.5):(($4 - $3) / 2):(4.2):(colour(strcol(2))) with boxxyerror lc rgb variable, \
     data using (frozen(($3 + $4) / 2)):(0.1):(sprintf("container frozen: %d ms (from %d to %d ms)", $4 - $3, $3, $4)) with labels font ",10", \
     data using (phase(($3 + $4) / 2)):1:(($4 - $3) / 2):(0.3):(colour(strcol(2))):ytic(5) with boxxyerror lc rgb variable, \
     data using (phase($4)):1:(sprintf("%d ms", $4 - $3)) with labels left offset 0.5,0 font ",9"
