# val200-baselines (val200-baselines-gpu): contains (all references), 95% CI
# Regenerate: gnuplot contains-all-2.gp   (reads contains-all-2.dat, writes contains-all-2.png and contains-all-2.svg)
do for [fmt in "png svg"] {
  if (fmt eq "png") { set terminal pngcairo size 1000,543 noenhanced font "DejaVu Sans,11" } else { set terminal svg size 1000,543 dynamic noenhanced font "DejaVu Sans,11" }
  set output "contains-all-2." . fmt
  set multiplot title "val200-baselines (val200-baselines-gpu): contains (all references), 95% CI"
  # panel 1
  reset
  set grid ytics lc rgb "#dddddd"
  set border 3
  set tics nomirror
  set lmargin at screen 0.092
  set rmargin at screen 0.972
  set tmargin at screen 0.906077
  set bmargin at screen 0.206262
  unset title
  set xlabel "method" offset 0,-2
  set ylabel "accuracy (macro over passages)"
  set xrange [-0.6:5.6]
  set yrange [0:0.231026]
  set xtics ("base (no\nadapter)" 0, "passage only" 1, "GPT-4.1\nself-edits\n(released)" 2, "Qwen2.5-7B base\nself-edits\n(released)" 3, "implications" 4, "rewrite" 5) scale 0
  set style fill solid 0.6 border -1
  set boxwidth 0.6
  unset key
  plot "contains-all-2.dat" using 1:3 with boxes lc rgb "#1f77b4" notitle, \
       "contains-all-2.dat" using 1:3:4:5 with yerrorbars lc rgb "#222222" pt 7 ps 0.5 lw 1.5 notitle, \
       "contains-all-2.dat" using 1:6:7 with labels center notitle
  unset multiplot

  unset output
}
