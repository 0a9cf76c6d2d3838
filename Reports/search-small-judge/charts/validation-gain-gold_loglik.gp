# validation gold_loglik gain over the un-adapted proposer per iteration, 95% bootstrap CI over passages
# Regenerate: gnuplot validation-gain-gold_loglik.gp   (reads validation-gain-gold_loglik.dat, writes validation-gain-gold_loglik.png and validation-gain-gold_loglik.svg)
do for [fmt in "png svg"] {
  if (fmt eq "png") { set terminal pngcairo size 1000,578 noenhanced font "DejaVu Sans,11" } else { set terminal svg size 1000,578 dynamic noenhanced font "DejaVu Sans,11" }
  set output "validation-gain-gold_loglik." . fmt
  set multiplot title "validation gold_loglik gain over the un-adapted proposer per iteration, 95% bootstrap CI over passages\nSeries are drawn side by side (x moved by up to ±0.04) so that equal values and their whiskers stay visible.\nWhiskers: 95% interval of each run's mean gain."
  # panel 1
  reset
  set grid ytics lc rgb "#dddddd"
  set border 3
  set tics nomirror
  set lmargin at screen 0.092
  set rmargin at screen 0.972
  set tmargin at screen 0.852941
  set bmargin at screen 0.195502
  unset title
  set xlabel "iteration"
  set ylabel "gain in gold_loglik"
  set xrange [-0.4:1.4]
  set yrange [-0.00039195:0.00106883]
  set xtics 1
  unset key
  plot "validation-gain-gold_loglik.dat" index 0 using 5:2:3:4 with yerrorbars lw 1.5 dt 1 pt 5 ps 1.2 lc rgb "#1f77b4" notitle, \
       "validation-gain-gold_loglik.dat" index 0 using 5:2 with lines lw 2 dt 1 lc rgb "#1f77b4" notitle, \
       "validation-gain-gold_loglik.dat" index 1 using 5:2:3:4 with yerrorbars lw 1.5 dt 1 pt 6 ps 1.2 lc rgb "#d62728" notitle, \
       "validation-gain-gold_loglik.dat" index 1 using 5:2 with lines lw 2 dt 2 lc rgb "#d62728" notitle, \
       0 with lines lw 1.5 dt 2 lc rgb "#444444" notitle
  # legend, below every panel and its x label
  reset
  unset border
  unset xtics
  unset ytics
  set xrange [0:1]
  set yrange [0:1]
  set lmargin at screen 0
  set rmargin at screen 1
  set tmargin at screen 0.0778547
  set bmargin at screen 0
  set key at screen 0.5, screen 0.0138408 center bottom vertical maxrows 1 Left reverse box samplen 3
  plot NaN notitle, \
       keyentry with yerrorlines lw 2 dt 1 pt 5 ps 1.2 lc rgb "#1f77b4" title "search-small-judge", \
       keyentry with yerrorlines lw 2 dt 2 pt 6 ps 1.2 lc rgb "#d62728" title "search-small-noarchive", \
       keyentry with lines lw 1.5 dt 2 lc rgb "#444444" title "no gain"
  unset multiplot

  unset output
}
