# SEAL single-passage accuracy (released gpt-4.1 verdicts), 95% bootstrap CI over 200 passages
# Regenerate: gnuplot seal-single-passage.gp   (reads seal-single-passage.dat, writes seal-single-passage.png and seal-single-passage.svg)
do for [fmt in "png svg"] {
  if (fmt eq "png") { set terminal pngcairo size 1000,543 noenhanced font "DejaVu Sans,11" } else { set terminal svg size 1000,543 dynamic noenhanced font "DejaVu Sans,11" }
  set output "seal-single-passage." . fmt
  set multiplot title "SEAL single-passage accuracy (released gpt-4.1 verdicts), 95% bootstrap CI over 200 passages"
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
  set yrange [0:0.572083]
  set xtics ("Base model (no\nadaptation)" 0, "Train on\npassage" 1, "Passage +\nbase-model\nimplications" 2, "Passage +\nGPT-4.1\nimplications" 3, "SEAL after\nReST-EM round 1" 4, "SEAL after\nround 2" 5) scale 0
  set style fill solid 0.6 border -1
  set boxwidth 0.6
  unset key
  plot "seal-single-passage.dat" using 1:3 with boxes lc rgb "#1f77b4" notitle, \
       "seal-single-passage.dat" using 1:3:4:5 with yerrorbars lc rgb "#222222" pt 7 ps 0.5 lw 1.5 notitle, \
       "seal-single-passage.dat" using 1:6:7 with labels center notitle
  unset multiplot

  unset output
}
