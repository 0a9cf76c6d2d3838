# Per-passage gain over the un-adapted model (base.json baseline verdicts)
# Regenerate: gnuplot gain-scatter-iter2-vs-base.gp   (reads gain-scatter-iter2-vs-base.dat, writes gain-scatter-iter2-vs-base.png and gain-scatter-iter2-vs-base.svg)
do for [fmt in "png svg"] {
  if (fmt eq "png") { set terminal pngcairo size 1000,561 noenhanced font "DejaVu Sans,11" } else { set terminal svg size 1000,561 dynamic noenhanced font "DejaVu Sans,11" }
  set output "gain-scatter-iter2-vs-base." . fmt
  set multiplot title "Per-passage gain over the un-adapted model (base.json baseline verdicts)\nA point's area grows with the number of points at one place (the largest: 17 at (0, 0))."
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
  set xlabel "per-passage gain: base-model implications"
  set ylabel "per-passage gain: SEAL round 2"
  set xrange [-1.108:0.908]
  set yrange [-1.105:0.855]
  set xzeroaxis lt 1 lc rgb "#888888"
  set yzeroaxis lt 1 lc rgb "#888888"
  set grid xtics ytics lc rgb "#dddddd"
  unset key
  plot "gain-scatter-iter2-vs-base.dat" index 0 using 1:2:(0.7*sqrt($3)) with points pt 7 ps variable lc rgb "#1f77b4" notitle, \
       x with lines lw 1 dt 2 lc rgb "#444444" notitle
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
       keyentry with points pt 7 ps 0.7 lc rgb "#1f77b4" title "one passage (larger: several at one place)", \
       keyentry with lines lw 1 dt 2 lc rgb "#444444" title "y = x"
  unset multiplot

  unset output
}
