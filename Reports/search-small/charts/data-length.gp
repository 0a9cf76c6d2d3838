# Training-data length per iteration (mean tokens of a train completion's sequences)
# Regenerate: gnuplot data-length.gp   (reads data-length.dat, writes data-length.png and data-length.svg)
do for [fmt in "png svg"] {
  if (fmt eq "png") { set terminal pngcairo size 1000,578 noenhanced font "DejaVu Sans,11" } else { set terminal svg size 1000,578 dynamic noenhanced font "DejaVu Sans,11" }
  set output "data-length." . fmt
  set multiplot title "Training-data length per iteration (mean tokens of a train completion's sequences)\nSeries are drawn side by side (x moved by up to ±0.12) so that equal values stay visible."
  # panel 1
  reset
  set grid ytics lc rgb "#dddddd"
  set border 3
  set tics nomirror
  set lmargin at screen 0.092
  set rmargin at screen 0.972
  set tmargin at screen 0.882353
  set bmargin at screen 0.224913
  unset title
  set xlabel "iteration"
  set ylabel "tokens"
  set xrange [-0.4:1.4]
  set yrange [0:267.933]
  set xtics 1
  unset key
  plot "data-length.dat" index 0 using 5:2 with linespoints lw 2 dt 1 pt 5 ps 1.2 lc rgb "#1f77b4" notitle, \
       "data-length.dat" index 1 using 5:2 with linespoints lw 2 dt 2 pt 6 ps 1.2 lc rgb "#d62728" notitle, \
       "data-length.dat" index 2 using 5:2 with linespoints lw 2 dt 3 pt 7 ps 1.2 lc rgb "#2ca02c" notitle, \
       "data-length.dat" index 3 using 5:2 with linespoints lw 2 dt 4 pt 8 ps 1.2 lc rgb "#ff7f0e" notitle, \
       "data-length.dat" index 4 using 5:2 with linespoints lw 2 dt 5 pt 9 ps 1.2 lc rgb "#9467bd" notitle
  # legend, below every panel and its x label
  reset
  unset border
  unset xtics
  unset ytics
  set xrange [0:1]
  set yrange [0:1]
  set lmargin at screen 0
  set rmargin at screen 1
  set tmargin at screen 0.107266
  set bmargin at screen 0
  set key at screen 0.5, screen 0.0138408 center bottom vertical maxrows 2 Left reverse box samplen 3
  plot NaN notitle, \
       keyentry with linespoints lw 2 dt 1 pt 5 ps 1.2 lc rgb "#1f77b4" title "search-small-noarchive", \
       keyentry with linespoints lw 2 dt 2 pt 6 ps 1.2 lc rgb "#d62728" title "search-small-archive", \
       keyentry with linespoints lw 2 dt 3 pt 7 ps 1.2 lc rgb "#2ca02c" title "search-small-qd", \
       keyentry with linespoints lw 2 dt 4 pt 8 ps 1.2 lc rgb "#ff7f0e" title "search-small-rewrite", \
       keyentry with linespoints lw 2 dt 5 pt 9 ps 1.2 lc rgb "#9467bd" title "search-small-implications"
  unset multiplot

  unset output
}
