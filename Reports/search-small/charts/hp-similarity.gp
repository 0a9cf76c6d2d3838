# Intra-iteration hyperparameter similarity of the train templates
# Regenerate: gnuplot hp-similarity.gp   (reads hp-similarity.dat, writes hp-similarity.png and hp-similarity.svg)
set title "Intra-iteration hyperparameter similarity of the train templates" noenhanced
set xlabel "iteration" noenhanced
set ylabel "mean pairwise hyperparameter similarity" noenhanced
set key at screen 0.5, screen 0.01 center bottom horizontal maxcols 2 noenhanced box
set grid ytics lc rgb "#dddddd"
set border 3
set tics nomirror
set yrange [0:1.05]
set xtics 1
set xrange [-0.25:1.25]
set bmargin 7

set terminal pngcairo size 1000,600 enhanced font "DejaVu Sans,11"
set output "hp-similarity.png"
plot "hp-similarity.dat" index 0 using 1:2 with linespoints lw 2 dt 1 pt 5 ps 1.1 lc rgb "#1f77b4" title "search-small-noarchive", \
     "hp-similarity.dat" index 1 using 1:2 with linespoints lw 2 dt 2 pt 6 ps 1.1 lc rgb "#d62728" title "search-small-archive", \
     "hp-similarity.dat" index 2 using 1:2 with linespoints lw 2 dt 3 pt 7 ps 1.1 lc rgb "#2ca02c" title "search-small-qd", \
     "hp-similarity.dat" index 3 using 1:2 with linespoints lw 2 dt 4 pt 8 ps 1.1 lc rgb "#ff7f0e" title "search-small-rewrite", \
     0.98 with lines dt 2 lw 2 lc rgb "#444444" title "collapse threshold 0.98"
set terminal svg size 1000,600 dynamic font "DejaVu Sans,11"
set output "hp-similarity.svg"
replot
unset output
