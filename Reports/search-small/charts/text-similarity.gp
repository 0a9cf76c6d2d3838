# Intra-iteration instruction similarity of the train templates
# Regenerate: gnuplot text-similarity.gp   (reads text-similarity.dat, writes text-similarity.png and text-similarity.svg)
set title "Intra-iteration instruction similarity of the train templates" noenhanced
set xlabel "iteration" noenhanced
set ylabel "mean pairwise text similarity" noenhanced
set key at screen 0.5, screen 0.01 center bottom horizontal maxcols 2 noenhanced box
set grid ytics lc rgb "#dddddd"
set border 3
set tics nomirror
set yrange [0:1.05]
set xtics 1
set xrange [-0.25:1.25]
set bmargin 9

set terminal pngcairo size 1000,600 enhanced font "DejaVu Sans,11"
set output "text-similarity.png"
plot "text-similarity.dat" index 0 using 1:2 with linespoints lw 2 dt 1 pt 5 ps 1.1 lc rgb "#1f77b4" title "search-small-noarchive: embedding", \
     "text-similarity.dat" index 1 using 1:2 with linespoints lw 2 dt 2 pt 6 ps 1.1 lc rgb "#d62728" title "search-small-noarchive: Jaccard", \
     "text-similarity.dat" index 2 using 1:2 with linespoints lw 2 dt 3 pt 7 ps 1.1 lc rgb "#2ca02c" title "search-small-noarchive: TF-IDF", \
     "text-similarity.dat" index 3 using 1:2 with linespoints lw 2 dt 4 pt 8 ps 1.1 lc rgb "#ff7f0e" title "search-small-archive: embedding", \
     "text-similarity.dat" index 4 using 1:2 with linespoints lw 2 dt 5 pt 9 ps 1.1 lc rgb "#9467bd" title "search-small-archive: Jaccard", \
     "text-similarity.dat" index 5 using 1:2 with linespoints lw 2 dt 1 pt 10 ps 1.1 lc rgb "#8c564b" title "search-small-archive: TF-IDF", \
     "text-similarity.dat" index 6 using 1:2 with linespoints lw 2 dt 2 pt 5 ps 1.1 lc rgb "#e377c2" title "search-small-qd: embedding", \
     "text-similarity.dat" index 7 using 1:2 with linespoints lw 2 dt 3 pt 6 ps 1.1 lc rgb "#7f7f7f" title "search-small-qd: Jaccard", \
     "text-similarity.dat" index 8 using 1:2 with linespoints lw 2 dt 4 pt 7 ps 1.1 lc rgb "#bcbd22" title "search-small-qd: TF-IDF", \
     0.92 with lines dt 2 lw 2 lc rgb "#444444" title "collapse threshold 0.92 (embedding scale)"
set terminal svg size 1000,600 dynamic font "DejaVu Sans,11"
set output "text-similarity.svg"
replot
unset output
