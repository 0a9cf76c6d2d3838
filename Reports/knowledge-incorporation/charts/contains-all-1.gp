# report-val10: contains (all references), 95% CI
# Regenerate: gnuplot contains-all-1.gp   (reads contains-all-1.dat, writes contains-all-1.png and contains-all-1.svg)
do for [fmt in "png svg"] {
  if (fmt eq "png") { set terminal pngcairo size 1418,560 noenhanced font "DejaVu Sans,11" } else { set terminal svg size 1418,560 dynamic noenhanced font "DejaVu Sans,11" }
  set output "contains-all-1." . fmt
  set multiplot title "report-val10: contains (all references), 95% CI"
  # panel 1
  reset
  set grid ytics lc rgb "#dddddd"
  set border 3
  set tics nomirror
  set lmargin at screen 0.0648801
  set rmargin at screen 0.980254
  set tmargin at screen 0.908929
  set bmargin at screen 0.230357
  unset title
  set xlabel "method" offset 0,-3
  set ylabel "accuracy (macro over passages)"
  set xrange [-0.6:10.6]
  set yrange [0:0.5311]
  set xtics ("base (no\nadapter)" 0, "passage only" 1, "implications" 2, "implications-\nlong" 3, "implications-\nvery-long" 4, "rewrite" 5, "self-qa" 6, "Qwen2.5-7B\nbase\nself-edits\n(released)" 7, "GPT-4.1\nself-edits\n(released)" 8, "SEAL round 1\nself-edits\n(released)" 9, "SEAL round 2\nself-edits\n(released)" 10) scale 0
  set style fill solid 0.6 border -1
  set boxwidth 0.6
  unset key
  plot "contains-all-1.dat" using 1:3 with boxes lc rgb "#1f77b4" notitle, \
       "contains-all-1.dat" using 1:3:4:5 with yerrorbars lc rgb "#222222" pt 7 ps 0.5 lw 1.5 notitle, \
       "contains-all-1.dat" using 1:6:7 with labels center notitle
  unset multiplot

  unset output
}
