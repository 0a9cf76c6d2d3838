# Intra-iteration instruction similarity of the train templates
# Regenerate: gnuplot text-similarity.gp   (reads text-similarity.dat, writes text-similarity.png and text-similarity.svg)
do for [fmt in "png svg"] {
  if (fmt eq "png") { set terminal pngcairo size 1260,620 noenhanced font "DejaVu Sans,11" } else { set terminal svg size 1260,620 dynamic noenhanced font "DejaVu Sans,11" }
  set output "text-similarity." . fmt
  set multiplot title "Intra-iteration instruction similarity of the train templates\nSeries are drawn side by side (x moved by up to ±0.04) so that equal values stay visible.\nThe paper's text-collapse threshold (0.92) is on text-embedding-3-large's (1+cos)/2 scale; none of these measures is on that scale, so it is not drawn."
  # panel 1: embedding cosine (1+cos)/2, model all-MiniLM-L6-v2 (local, mean pooling)
  reset
  set grid ytics lc rgb "#dddddd"
  set border 3
  set tics nomirror
  set lmargin at screen 0.0730159
  set rmargin at screen 0.311111
  set tmargin at screen 0.795161
  set bmargin at screen 0.182258
  set title "embedding cosine (1+cos)/2, model\nall-MiniLM-L6-v2 (local, mean pooling)"
  set xlabel "iteration"
  set ylabel "mean pairwise similarity"
  set xrange [-0.4:1.4]
  set yrange [0.182256:0.824903]
  set xtics 1
  unset key
  plot "text-similarity.dat" index 0 using 5:2 with linespoints lw 2 dt 1 pt 5 ps 1.2 lc rgb "#1f77b4" notitle, \
       "text-similarity.dat" index 1 using 5:2 with linespoints lw 2 dt 2 pt 6 ps 1.2 lc rgb "#d62728" notitle
  # panel 2: token Jaccard (lexical)
  reset
  set grid ytics lc rgb "#dddddd"
  set border 3
  set tics nomirror
  set lmargin at screen 0.406349
  set rmargin at screen 0.644444
  set tmargin at screen 0.795161
  set bmargin at screen 0.182258
  set title "token Jaccard (lexical)"
  set xlabel "iteration"
  set ylabel "mean pairwise similarity"
  set xrange [-0.4:1.4]
  set yrange [0.182256:0.824903]
  set xtics 1
  unset key
  plot "text-similarity.dat" index 2 using 5:2 with linespoints lw 2 dt 1 pt 5 ps 1.2 lc rgb "#1f77b4" notitle, \
       "text-similarity.dat" index 3 using 5:2 with linespoints lw 2 dt 2 pt 6 ps 1.2 lc rgb "#d62728" notitle
  # panel 3: TF-IDF cosine (lexical)
  reset
  set grid ytics lc rgb "#dddddd"
  set border 3
  set tics nomirror
  set lmargin at screen 0.739683
  set rmargin at screen 0.977778
  set tmargin at screen 0.795161
  set bmargin at screen 0.182258
  set title "TF-IDF cosine (lexical)"
  set xlabel "iteration"
  set ylabel "mean pairwise similarity"
  set xrange [-0.4:1.4]
  set yrange [0.182256:0.824903]
  set xtics 1
  unset key
  plot "text-similarity.dat" index 4 using 5:2 with linespoints lw 2 dt 1 pt 5 ps 1.2 lc rgb "#1f77b4" notitle, \
       "text-similarity.dat" index 5 using 5:2 with linespoints lw 2 dt 2 pt 6 ps 1.2 lc rgb "#d62728" notitle
  # legend, below every panel and its x label
  reset
  unset border
  unset xtics
  unset ytics
  set xrange [0:1]
  set yrange [0:1]
  set lmargin at screen 0
  set rmargin at screen 1
  set tmargin at screen 0.0725806
  set bmargin at screen 0
  set key at screen 0.5, screen 0.0129032 center bottom vertical maxrows 1 Left reverse box samplen 3
  plot NaN notitle, \
       keyentry with linespoints lw 2 dt 1 pt 5 ps 1.2 lc rgb "#1f77b4" title "search-small-judge", \
       keyentry with linespoints lw 2 dt 2 pt 6 ps 1.2 lc rgb "#d62728" title "search-small-noarchive"
  unset multiplot

  unset output
}
