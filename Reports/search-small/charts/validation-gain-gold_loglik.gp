# validation gold_loglik gain over the un-adapted proposer per iteration, 95% bootstrap CI over passages
# Regenerate: gnuplot validation-gain-gold_loglik.gp   (reads validation-gain-gold_loglik.dat, writes validation-gain-gold_loglik.png and validation-gain-gold_loglik.svg)
set title "validation gold_loglik gain over the un-adapted proposer per iteration, 95% bootstrap CI over passages" noenhanced
set xlabel "iteration" noenhanced
set ylabel "validation gold_loglik gain over the un-adapted proposer" noenhanced
set key at screen 0.5, screen 0.01 center bottom horizontal maxcols 2 noenhanced box
set grid ytics lc rgb "#dddddd"
set border 3
set tics nomirror
set xtics 1
set xrange [-0.25:1.25]
set bmargin 7

set terminal pngcairo size 1000,600 enhanced font "DejaVu Sans,11"
set output "validation-gain-gold_loglik.png"
plot "validation-gain-gold_loglik.dat" index 0 using 1:3:4 with filledcurves fs transparent solid 0.18 noborder lc rgb "#1f77b4" notitle, \
     "validation-gain-gold_loglik.dat" index 0 using 1:2 with linespoints lw 2 dt 1 pt 5 ps 1.1 lc rgb "#1f77b4" title "search-small-noarchive (95% CI band)", \
     "validation-gain-gold_loglik.dat" index 1 using 1:3:4 with filledcurves fs transparent solid 0.18 noborder lc rgb "#d62728" notitle, \
     "validation-gain-gold_loglik.dat" index 1 using 1:2 with linespoints lw 2 dt 2 pt 6 ps 1.1 lc rgb "#d62728" title "search-small-archive (95% CI band)", \
     "validation-gain-gold_loglik.dat" index 2 using 1:3:4 with filledcurves fs transparent solid 0.18 noborder lc rgb "#2ca02c" notitle, \
     "validation-gain-gold_loglik.dat" index 2 using 1:2 with linespoints lw 2 dt 3 pt 7 ps 1.1 lc rgb "#2ca02c" title "search-small-qd (95% CI band)", \
     "validation-gain-gold_loglik.dat" index 3 using 1:3:4 with filledcurves fs transparent solid 0.18 noborder lc rgb "#ff7f0e" notitle, \
     "validation-gain-gold_loglik.dat" index 3 using 1:2 with linespoints lw 2 dt 4 pt 8 ps 1.1 lc rgb "#ff7f0e" title "search-small-rewrite (95% CI band)", \
     0 with lines dt 2 lw 2 lc rgb "#444444" title "no gain"
set terminal svg size 1000,600 dynamic font "DejaVu Sans,11"
set output "validation-gain-gold_loglik.svg"
replot
unset output
