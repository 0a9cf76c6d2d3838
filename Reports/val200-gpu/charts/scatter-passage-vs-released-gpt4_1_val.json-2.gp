# val200-baselines (val200-baselines-gpu): per-passage gold log-likelihood gain (adapter minus un-adapted model)
# Regenerate: gnuplot scatter-passage-vs-released-gpt4_1_val.json-2.gp   (reads scatter-passage-vs-released-gpt4_1_val.json-2.dat, writes scatter-passage-vs-released-gpt4_1_val.json-2.png and scatter-passage-vs-released-gpt4_1_val.json-2.svg)
do for [fmt in "png svg"] {
  if (fmt eq "png") { set terminal pngcairo size 1000,578 noenhanced font "DejaVu Sans,11" } else { set terminal svg size 1000,578 dynamic noenhanced font "DejaVu Sans,11" }
  set output "scatter-passage-vs-released-gpt4_1_val.json-2." . fmt
  set multiplot title "val200-baselines (val200-baselines-gpu): per-passage gold log-likelihood gain (adapter minus un-adapted model)\n1 point beyond the view (drawn at its edge): (0.422, -9.89)"
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
  set xlabel "per-passage gain: passage only"
  set ylabel "per-passage gain: GPT-4.1 self-edits (released)"
  set xrange [-0.955374:2.21526]
  set yrange [-5.70476:2.9361]
  set xzeroaxis lt 1 lc rgb "#888888"
  set yzeroaxis lt 1 lc rgb "#888888"
  set grid xtics ytics lc rgb "#dddddd"
  unset key
  plot "scatter-passage-vs-released-gpt4_1_val.json-2.dat" index 0 using 1:2:(0.7*sqrt($3)) with points pt 7 ps variable lc rgb "#1f77b4" notitle, \
       x with lines lw 1 dt 2 lc rgb "#444444" notitle, \
       "scatter-passage-vs-released-gpt4_1_val.json-2.dat" index 1 using 1:2 with points pt 12 ps 2.2 lw 2 lc rgb "#d62728" notitle
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
       keyentry with points pt 7 ps 0.7 lc rgb "#1f77b4" title "one passage", \
       keyentry with lines lw 1 dt 2 lc rgb "#444444" title "y = x", \
       keyentry with points pt 12 ps 2.2 lw 2 lc rgb "#d62728" title "beyond the view, drawn at its edge"
  unset multiplot

  unset output
}
