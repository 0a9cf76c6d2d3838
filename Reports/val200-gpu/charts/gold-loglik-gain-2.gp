# val200-baselines (val200-baselines-gpu): gold log-likelihood gain over the un-adapted model, 95% CI
# Regenerate: gnuplot gold-loglik-gain-2.gp   (reads gold-loglik-gain-2.dat, writes gold-loglik-gain-2.png and gold-loglik-gain-2.svg)
do for [fmt in "png svg"] {
  if (fmt eq "png") { set terminal pngcairo size 1000,543 noenhanced font "DejaVu Sans,11" } else { set terminal svg size 1000,543 dynamic noenhanced font "DejaVu Sans,11" }
  set output "gold-loglik-gain-2." . fmt
  set multiplot title "val200-baselines (val200-baselines-gpu): gold log-likelihood gain over the un-adapted model, 95% CI"
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
  set ylabel "gain in mean token log-likelihood"
  set xrange [-0.6:5.6]
  set yrange [-1.35489:0.774108]
  set xtics ("base (no\nadapter)" 0, "passage only" 1, "GPT-4.1\nself-edits\n(released)" 2, "Qwen2.5-7B base\nself-edits\n(released)" 3, "implications" 4, "rewrite" 5) scale 0
  set style fill solid 0.6 border -1
  set boxwidth 0.6
  set xzeroaxis lt 1 lw 1.5 lc rgb "#555555"
  unset key
  plot "gold-loglik-gain-2.dat" using 1:3 with boxes lc rgb "#1f77b4" notitle, \
       "gold-loglik-gain-2.dat" using 1:3:4:5 with yerrorbars lc rgb "#222222" pt 7 ps 0.5 lw 1.5 notitle, \
       "gold-loglik-gain-2.dat" using 1:6:7 with labels center notitle
  unset multiplot

  unset output
}
