# Mean self-edit length (first completion, 200 eval passages), 95% bootstrap CI
# Regenerate: gnuplot self-edit-length.gp   (reads self-edit-length.dat, writes self-edit-length.png and self-edit-length.svg)
set title "Mean self-edit length (first completion, 200 eval passages), 95% bootstrap CI" noenhanced
set xlabel "method" noenhanced
set ylabel "characters" noenhanced
set key outside right top vertical noenhanced box
set grid ytics lc rgb "#dddddd"
set border 3
set tics nomirror
set style fill solid 0.6 border -1
set boxwidth 0.6
set xtics rotate by -25 left noenhanced
set xrange [-0.6:3.6]
set key off
set bmargin 8

set terminal pngcairo size 1000,600 enhanced font "DejaVu Sans,11"
set output "self-edit-length.png"
plot "self-edit-length.dat" using 1:3:xtic(2) with boxes lc rgb "#1f77b4" title "value", \
     "self-edit-length.dat" using 1:3:4:5 with yerrorbars lc rgb "#222222" pt 0 lw 1.5 title "95% interval", \
     "self-edit-length.dat" using 1:(column(5)):(sprintf("%.3g", column(3))) with labels offset 0,0.8 notitle
set terminal svg size 1000,600 dynamic font "DejaVu Sans,11"
set output "self-edit-length.svg"
replot
unset output
