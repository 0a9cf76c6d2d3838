# SEAL accuracy per ReST-EM round (released files), 95% bootstrap band
# Regenerate: gnuplot seal-accuracy-per-round.gp   (reads seal-accuracy-per-round.dat, writes seal-accuracy-per-round.png and seal-accuracy-per-round.svg)
set title "SEAL accuracy per ReST-EM round (released files), 95% bootstrap band" noenhanced
set xlabel "iteration" noenhanced
set ylabel "accuracy (macro over passages)" noenhanced
set key outside right top vertical noenhanced box
set grid ytics lc rgb "#dddddd"
set border 3
set tics nomirror
set xtics 1
set xrange [-0.25:2.25]

set terminal pngcairo size 1000,600 enhanced font "DejaVu Sans,11"
set output "seal-accuracy-per-round.png"
plot "seal-accuracy-per-round.dat" index 0 using 1:3:4 with filledcurves fs transparent solid 0.18 noborder lc rgb "#1f77b4" notitle, \
     "seal-accuracy-per-round.dat" index 0 using 1:2 with linespoints lw 2 pt 5 ps 1.1 lc rgb "#1f77b4" title "SEAL self-edits (95% CI band)", \
     0.463129 with lines dt 2 lw 2 lc rgb "#444444" title "GPT-4.1 implications 0.4631", \
     0.326684 with lines dt 3 lw 2 lc rgb "#444444" title "base model, no adaptation 0.3267"
set terminal svg size 1000,600 dynamic font "DejaVu Sans,11"
set output "seal-accuracy-per-round.svg"
replot
unset output
