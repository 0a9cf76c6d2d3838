# validation contains_single gain over the un-adapted proposer per iteration, 95% bootstrap CI over passages
# Regenerate: gnuplot validation-gain-contains_single.gp   (reads validation-gain-contains_single.dat, writes validation-gain-contains_single.png and validation-gain-contains_single.svg)
set title "validation contains_single gain over the un-adapted proposer per iteration, 95% bootstrap CI over passages" noenhanced
set xlabel "iteration" noenhanced
set ylabel "validation contains_single gain over the un-adapted proposer" noenhanced
set key at screen 0.5, screen 0.01 center bottom horizontal maxcols 2 noenhanced box
set grid ytics lc rgb "#dddddd"
set border 3
set tics nomirror
set xtics 1
set xrange [-0.25:1.25]
set bmargin 7

set terminal pngcairo size 1000,600 enhanced font "DejaVu Sans,11"
set output "validation-gain-contains_single.png"
plot "validation-gain-contains_single.dat" index 0 using 1:3:4 with filledcurves fs transparent solid 0.18 noborder lc rgb "#1f77b4" notitle, \
     "validation-gain-contains_single.dat" index 0 using 1:2 with linespoints lw 2 dt 1 pt 5 ps 1.1 lc rgb "#1f77b4" title "search-small-noarchive (95% CI band)", \
     "validation-gain-contains_single.dat" index 1 using 1:3:4 with filledcurves fs transparent solid 0.18 noborder lc rgb "#d62728" notitle, \
     "validation-gain-contains_single.dat" index 1 using 1:2 with linespoints lw 2 dt 2 pt 6 ps 1.1 lc rgb "#d62728" title "search-small-archive (95% CI band)", \
     "validation-gain-contains_single.dat" index 2 using 1:3:4 with filledcurves fs transparent solid 0.18 noborder lc rgb "#2ca02c" notitle, \
     "validation-gain-contains_single.dat" index 2 using 1:2 with linespoints lw 2 dt 3 pt 7 ps 1.1 lc rgb "#2ca02c" title "search-small-qd (95% CI band)", \
     "validation-gain-contains_single.dat" index 3 using 1:3:4 with filledcurves fs transparent solid 0.18 noborder lc rgb "#ff7f0e" notitle, \
     "validation-gain-contains_single.dat" index 3 using 1:2 with linespoints lw 2 dt 4 pt 8 ps 1.1 lc rgb "#ff7f0e" title "search-small-rewrite (95% CI band)", \
     0 with lines dt 2 lw 2 lc rgb "#444444" title "no gain"
set terminal svg size 1000,600 dynamic font "DejaVu Sans,11"
set output "validation-gain-contains_single.svg"
replot
unset output
