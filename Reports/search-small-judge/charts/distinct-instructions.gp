# Distinct train instructions per iteration
# Regenerate: gnuplot distinct-instructions.gp   (reads distinct-instructions.dat, writes distinct-instructions.png and distinct-instructions.svg)
do for [fmt in "png svg"] {
  if (fmt eq "png") { set terminal pngcairo size 1000,561 noenhanced font "DejaVu Sans,11" } else { set terminal svg size 1000,561 dynamic noenhanced font "DejaVu Sans,11" }
  set output "distinct-instructions." . fmt
  set multiplot title "Distinct train instructions per iteration\nSeries are drawn side by side (x moved by up to ±0.04) so that equal values stay visible."
  # panel 1
  reset
  set grid ytics lc rgb "#dddddd"
  set border 3
  set tics nomirror
  set lmargin at screen 0.092
  set rmargin at screen 0.972
  set tmargin at screen 0.878788
  set bmargin at screen 0.201426
  unset title
  set xlabel "iteration"
  set ylabel "distinct instructions"
  set xrange [-0.4:1.4]
  set yrange [0:3.5]
  set xtics 1
  set ytics 1
  unset key
  plot "distinct-instructions.dat" index 0 using 5:2 with linespoints lw 2 dt 1 pt 5 ps 1.2 lc rgb "#1f77b4" notitle, \
       "distinct-instructions.dat" index 1 using 5:2 with linespoints lw 2 dt 2 pt 6 ps 1.2 lc rgb "#d62728" notitle
  # legend, below every panel and its x label
  reset
  unset border
  unset xtics
  unset ytics
  set xrange [0:1]
  set yrange [0:1]
  set lmargin at screen 0
  set rmargin at screen 1
  set tmargin at screen 0.0802139
  set bmargin at screen 0
  set key at screen 0.5, screen 0.0142602 center bottom vertical maxrows 1 Left reverse box samplen 3
  plot NaN notitle, \
       keyentry with linespoints lw 2 dt 1 pt 5 ps 1.2 lc rgb "#1f77b4" title "search-small-judge", \
       keyentry with linespoints lw 2 dt 2 pt 6 ps 1.2 lc rgb "#d62728" title "search-small-noarchive"
  unset multiplot

  unset output
}
