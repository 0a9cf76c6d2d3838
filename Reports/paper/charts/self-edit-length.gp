# Mean self-edit length (first completion, 200 eval passages), 95% bootstrap CI
# Regenerate: gnuplot self-edit-length.gp   (reads self-edit-length.dat, writes self-edit-length.png and self-edit-length.svg)
do for [fmt in "png svg"] {
  if (fmt eq "png") { set terminal pngcairo size 1000,509 noenhanced font "DejaVu Sans,11" } else { set terminal svg size 1000,509 dynamic noenhanced font "DejaVu Sans,11" }
  set output "self-edit-length." . fmt
  set multiplot title "Mean self-edit length (first completion, 200 eval passages), 95% bootstrap CI"
  # panel 1
  reset
  set grid ytics lc rgb "#dddddd"
  set border 3
  set tics nomirror
  set lmargin at screen 0.092
  set rmargin at screen 0.972
  set tmargin at screen 0.899804
  set bmargin at screen 0.153242
  unset title
  set xlabel "method"
  set ylabel "characters"
  set xrange [-0.6:3.6]
  set yrange [0:2442.29]
  set xtics ("Implications, base model" 0, "SEAL round 1" 1, "SEAL round 2" 2, "GPT-4.1" 3) scale 0
  set style fill solid 0.6 border -1
  set boxwidth 0.6
  unset key
  plot "self-edit-length.dat" using 1:3 with boxes lc rgb "#1f77b4" notitle, \
       "self-edit-length.dat" using 1:3:4:5 with yerrorbars lc rgb "#222222" pt 7 ps 0.5 lw 1.5 notitle, \
       "self-edit-length.dat" using 1:6:7 with labels center notitle
  unset multiplot

  unset output
}
