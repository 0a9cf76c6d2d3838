# Training-data length per iteration (mean tokens of a train completion's sequences)
# Regenerate: gnuplot data-length.gp   (reads data-length.dat, writes data-length.png and data-length.svg)
set title "Training-data length per iteration (mean tokens of a train completion's sequences)" noenhanced
set xlabel "iteration" noenhanced
set ylabel "tokens" noenhanced
set key at screen 0.5, screen 0.01 center bottom horizontal maxcols 2 noenhanced box
set grid ytics lc rgb "#dddddd"
set border 3
set tics nomirror
set yrange [0:267.933]
set xtics 1
set xrange [-0.25:1.25]
set bmargin 6

set terminal pngcairo size 1000,600 enhanced font "DejaVu Sans,11"
set output "data-length.png"
plot "data-length.dat" index 0 using 1:2 with linespoints lw 2 dt 1 pt 5 ps 1.1 lc rgb "#1f77b4" title "search-small-noarchive", \
     "data-length.dat" index 1 using 1:2 with linespoints lw 2 dt 2 pt 6 ps 1.1 lc rgb "#d62728" title "search-small-archive", \
     "data-length.dat" index 2 using 1:2 with linespoints lw 2 dt 3 pt 7 ps 1.1 lc rgb "#2ca02c" title "search-small-qd", \
     "data-length.dat" index 3 using 1:2 with linespoints lw 2 dt 4 pt 8 ps 1.1 lc rgb "#ff7f0e" title "search-small-rewrite"
set terminal svg size 1000,600 dynamic font "DejaVu Sans,11"
set output "data-length.svg"
replot
unset output
