# val200-baselines: contains (all references), 95% CI
# Regenerate: gnuplot contains-all.gp   (reads contains-all.dat, writes contains-all.png and contains-all.svg)
set title "val200-baselines: contains (all references), 95% CI" noenhanced
set xlabel "method" noenhanced
set ylabel "accuracy (macro over passages)" noenhanced
set key at screen 0.5, screen 0.01 center bottom horizontal maxcols 2 noenhanced box
set grid ytics lc rgb "#dddddd"
set border 3
set tics nomirror
set yrange [0:1]
set style fill solid 0.6 border -1
set boxwidth 0.6
set xtics rotate by -25 left noenhanced
set xrange [-0.6:5.6]
set key off
set bmargin 8

set terminal pngcairo size 1000,600 enhanced font "DejaVu Sans,11"
set output "contains-all.png"
plot "contains-all.dat" using 1:3:xtic(2) with boxes lc rgb "#1f77b4" title "value", \
     "contains-all.dat" using 1:3:4:5 with yerrorbars lc rgb "#222222" pt 0 lw 1.5 title "95% interval", \
     "contains-all.dat" using 1:(column(5)):(sprintf("%.3g", column(3))) with labels offset 0,0.8 notitle
set terminal svg size 1000,600 dynamic font "DejaVu Sans,11"
set output "contains-all.svg"
replot
unset output
