# SPDX-License-Identifier: LGPL-2.1-or-later
# bench/run's chart: gnuplot -e "dir='OUT'; title='...'" bench/chart.gp writes OUT/chart.svg from
# OUT/latency.dat (file native floor lxcfs capfs: median µs per open+read+close) and
# OUT/throughput.dat (readers native floor lxcfs capfs: reads per second, over the most containers).
set terminal svg size 1200,520 dynamic font "sans,12" background rgb "white"
set output dir."/chart.svg"
set multiplot layout 1,2 title title
set key top left
set grid ytics lc rgb "#dddddd"
set datafile missing "-"

set title "open+read+close, one reader (median, µs)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set xtics rotate by -30 scale 0
set yrange [0:*]
plot dir."/latency.dat" using 2:xtic(1) title "procfs" lc rgb "#9e9e9e", \
     "" using 3 title "FUSE floor" lc rgb "#4c72b0", \
     "" using 4 title "lxcfs" lc rgb "#dd8452", \
     "" using 5 title "capfs" lc rgb "#55a868"

set title "meminfo reads per second against readers"
set style data linespoints
unset xtics
set xtics nomirror
set logscale x 2
set logscale y 10
set xlabel "readers"
set yrange [*:*]
set key bottom right
plot dir."/throughput.dat" using 1:2 title "procfs" lw 2 pt 7 lc rgb "#9e9e9e", \
     "" using 1:3 title "FUSE floor" lw 2 pt 7 lc rgb "#4c72b0", \
     "" using 1:4 title "lxcfs" lw 2 pt 7 lc rgb "#dd8452", \
     "" using 1:5 title "capfs" lw 2 pt 7 lc rgb "#55a868"
unset multiplot
