# Distinct train instructions per iteration
# Regenerate: gnuplot distinct-instructions.gp   (reads distinct-instructions.dat, writes distinct-instructions.png and distinct-instructions.svg)
set title "Distinct train instructions per iteration" noenhanced
set xlabel "iteration" noenhanced
set ylabel "distinct instructions" noenhanced
set key at screen 0.5, screen 0.01 center bottom horizontal maxcols 2 noenhanced box
set grid ytics lc rgb "#dddddd"
set border 3
set tics nomirror
set yrange [0:3.5]
set xtics 1
set xrange [-0.25:1.25]
set bmargin 6

set terminal pngcairo size 1000,600 enhanced font "DejaVu Sans,11"
set output "distinct-instructions.png"
plot "distinct-instructions.dat" index 0 using 1:2 with linespoints lw 2 dt 1 pt 5 ps 1.1 lc rgb "#1f77b4" title "search-small-noarchive", \
     "distinct-instructions.dat" index 1 using 1:2 with linespoints lw 2 dt 2 pt 6 ps 1.1 lc rgb "#d62728" title "search-small-archive", \
     "distinct-instructions.dat" index 2 using 1:2 with linespoints lw 2 dt 3 pt 7 ps 1.1 lc rgb "#2ca02c" title "search-small-qd", \
     "distinct-instructions.dat" index 3 using 1:2 with linespoints lw 2 dt 4 pt 8 ps 1.1 lc rgb "#ff7f0e" title "search-small-rewrite"
set terminal svg size 1000,600 dynamic font "DejaVu Sans,11"
set output "distinct-instructions.svg"
replot
unset output
