# val200-baselines: per-passage gold log-lik gain
# Regenerate: gnuplot scatter-passage-vs-released-gpt4_1_val.json.gp   (reads scatter-passage-vs-released-gpt4_1_val.json.dat, writes scatter-passage-vs-released-gpt4_1_val.json.png and scatter-passage-vs-released-gpt4_1_val.json.svg)
set title "val200-baselines: per-passage gold log-lik gain" noenhanced
set xlabel "per-passage gain: passage" noenhanced
set ylabel "per-passage gain: released:gpt4_1_val.json" noenhanced
set key at screen 0.5, screen 0.01 center bottom horizontal maxcols 2 noenhanced box
set grid ytics lc rgb "#dddddd"
set border 3
set tics nomirror
set yrange [-9.94401:2.58784]
set xrange [-9.94401:2.58784]
set size square
set xzeroaxis lt 1 lc rgb "#888888"
set yzeroaxis lt 1 lc rgb "#888888"
set bmargin 5

set terminal pngcairo size 1000,600 enhanced font "DejaVu Sans,11"
set output "scatter-passage-vs-released-gpt4_1_val.json.png"
plot "scatter-passage-vs-released-gpt4_1_val.json.dat" using 1:2 with points pt 7 ps 0.8 lc rgb "#1f77b4" title "one passage", \
     x with lines dt 2 lc rgb "#444444" title "y = x"
set terminal svg size 1000,600 dynamic font "DejaVu Sans,11"
set output "scatter-passage-vs-released-gpt4_1_val.json.svg"
replot
unset output
