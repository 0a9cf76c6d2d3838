# validation judge per iteration, adapted and un-adapted, 95% bootstrap CI over passages
# Regenerate: gnuplot validation-score-judge.gp   (reads validation-score-judge.dat, writes validation-score-judge.png and validation-score-judge.svg)
do for [fmt in "png svg"] {
  if (fmt eq "png") { set terminal pngcairo size 1000,586 noenhanced font "DejaVu Sans,11" } else { set terminal svg size 1000,586 dynamic noenhanced font "DejaVu Sans,11" }
  set output "validation-score-judge." . fmt
  set multiplot title "validation judge per iteration, adapted and un-adapted, 95% bootstrap CI over passages\nSeries are drawn side by side (x moved by up to ±0.04) so that equal values and their whiskers stay visible."
  # panel 1: search-small-judge
  reset
  set grid ytics lc rgb "#dddddd"
  set border 3
  set tics nomirror
  set lmargin at screen 0.092
  set rmargin at screen 0.972
  set tmargin at screen 0.841297
  set bmargin at screen 0.192833
  set title "search-small-judge"
  set xlabel "iteration"
  set ylabel "validation judge"
  set xrange [-0.4:1.4]
  set yrange [-0.003:0.053]
  set xtics 1
  unset key
  plot "validation-score-judge.dat" index 0 using 5:2:3:4 with yerrorbars lw 1.5 dt 1 pt 5 ps 1.2 lc rgb "#1f77b4" notitle, \
       "validation-score-judge.dat" index 0 using 5:2 with lines lw 2 dt 1 lc rgb "#1f77b4" notitle, \
       "validation-score-judge.dat" index 1 using 5:2 with linespoints lw 2 dt 2 pt 6 ps 1.2 lc rgb "#d62728" notitle
  # legend, below every panel and its x label
  reset
  unset border
  unset xtics
  unset ytics
  set xrange [0:1]
  set yrange [0:1]
  set lmargin at screen 0
  set rmargin at screen 1
  set tmargin at screen 0.0767918
  set bmargin at screen 0
  set key at screen 0.5, screen 0.0136519 center bottom vertical maxrows 1 Left reverse box samplen 3
  plot NaN notitle, \
       keyentry with yerrorlines lw 2 dt 1 pt 5 ps 1.2 lc rgb "#1f77b4" title "adapted (exploit template): mean, 95% interval", \
       keyentry with linespoints lw 2 dt 2 pt 6 ps 1.2 lc rgb "#d62728" title "un-adapted proposer"
  unset multiplot

  unset output
}
