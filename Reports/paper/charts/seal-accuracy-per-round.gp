# SEAL accuracy per ReST-EM round (released files), 95% bootstrap CI over 200 passages
# Regenerate: gnuplot seal-accuracy-per-round.gp   (reads seal-accuracy-per-round.dat, writes seal-accuracy-per-round.png and seal-accuracy-per-round.svg)
do for [fmt in "png svg"] {
  if (fmt eq "png") { set terminal pngcairo size 1000,578 noenhanced font "DejaVu Sans,11" } else { set terminal svg size 1000,578 dynamic noenhanced font "DejaVu Sans,11" }
  set output "seal-accuracy-per-round." . fmt
  set multiplot title "SEAL accuracy per ReST-EM round (released files), 95% bootstrap CI over 200 passages\nWhiskers: percentile-bootstrap 95% interval over passages (2000 resamples)."
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
  set xlabel "ReST-EM round (0 = base-model self-edits, before any round)"
  set ylabel "accuracy (macro over passages)"
  set xrange [-0.4:2.4]
  set yrange [0.315896:0.517282]
  set xtics 1
  unset key
  plot "seal-accuracy-per-round.dat" index 0 using 5:2:3:4 with yerrorbars lw 1.5 dt 1 pt 5 ps 1.2 lc rgb "#1f77b4" notitle, \
       "seal-accuracy-per-round.dat" index 0 using 5:2 with lines lw 2 dt 1 lc rgb "#1f77b4" notitle, \
       0.463129 with lines lw 1.5 dt 2 lc rgb "#444444" notitle, \
       0.326684 with lines lw 1.5 dt 3 lc rgb "#444444" notitle
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
       keyentry with yerrorlines lw 2 dt 1 pt 5 ps 1.2 lc rgb "#1f77b4" title "SEAL self-edits: mean, 95% interval", \
       keyentry with lines lw 1.5 dt 2 lc rgb "#444444" title "GPT-4.1 implications 0.4631", \
       keyentry with lines lw 1.5 dt 3 lc rgb "#444444" title "base model, no adaptation 0.3267"
  unset multiplot

  unset output
}
