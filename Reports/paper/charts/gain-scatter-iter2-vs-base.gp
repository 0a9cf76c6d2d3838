# Per-passage gain over the un-adapted model (base.json baseline verdicts)
# Regenerate: gnuplot gain-scatter-iter2-vs-base.gp   (reads gain-scatter-iter2-vs-base.dat, writes gain-scatter-iter2-vs-base.png and gain-scatter-iter2-vs-base.svg)
set title "Per-passage gain over the un-adapted model (base.json baseline verdicts)" noenhanced
set xlabel "per-passage gain: base-model implications" noenhanced
set ylabel "per-passage gain: SEAL round 2" noenhanced
set key outside right top vertical noenhanced box
set grid ytics lc rgb "#dddddd"
set border 3
set tics nomirror
set yrange [-1.05:0.85]
set xrange [-1.05:0.85]
set size square
set xzeroaxis lt 1 lc rgb "#888888"
set yzeroaxis lt 1 lc rgb "#888888"

set terminal pngcairo size 1000,600 enhanced font "DejaVu Sans,11"
set output "gain-scatter-iter2-vs-base.png"
plot "gain-scatter-iter2-vs-base.dat" using 1:2 with points pt 7 ps 0.8 lc rgb "#1f77b4" title "one passage", \
     x with lines dt 2 lc rgb "#444444" title "y = x"
set terminal svg size 1000,600 dynamic font "DejaVu Sans,11"
set output "gain-scatter-iter2-vs-base.svg"
replot
unset output
