# One link's plot from report.py's plot data: time and throughput per workload, medians.
#   gnuplot -e "data='build/bench/plot-1gbit.dat'; out='docs/benchmark-1gbit.png'; linkname='1gbit'" scripts/bench/plot.gp
# (a size by hand did not move, 4 GB, is NaN in the data and has no bar)
set terminal pngcairo size 1200,500 font ",10" noenhanced
set output out
# linkname: none, 10gbit, 1gbit, or big-LINK for the big containers' sizes on that link.
if (!exists("linkname")) linkname = "none"
big = linkname[1:4] eq "big-"
link = big ? linkname[5:] : linkname
set multiplot layout 1,2 title sprintf("AkkaMigration: by hand (podman + socat) against the cluster (medians)%s, link: %s", \
    big ? ", big containers" : "", link eq "none" ? "bare veth" : "tbf ".link)
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set grid ytics
set key below
set yrange [0:*]

set title "time per migration"
set ylabel "ms"
plot data using 2:xtic(1) title "by hand: total = downtime", \
     ''   using 3 title "ours: total (clientMs)", \
     ''   using 4 title "ours: downtime (node TotalMs)", \
     ''   using 7 title "ours: client process wall (start-up incl.)"

set title "transfer throughput on the same link"
set ylabel "MB/s"
plot data using 5:xtic(1) title "raw TCP (socat)", \
     ''   using 6 title "ours (ArchiveBytes / StreamMs)"
unset multiplot
