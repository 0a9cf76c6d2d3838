// What part of the number line a chart shows, and how its numbers print. Pure functions, so the
// rules that keep a chart from misleading are tested without gnuplot:
// - a bar is read by its length, so a bar chart's value axis always contains 0 and is padded only
//   away from it (room for the value labels);
// - every other axis fits its data with a margin (never a fixed [0, 1] that leaves the data in a strip);
// - in a scatter, a point beyond 3 interquartile ranges of the quartiles (with at least 10 points)
//   does not set the view: it is drawn at the edge and counted in a note;
// - value labels share one precision: three significant digits of the largest magnitude.
import Foundation

enum ChartView {
  /// Padding on each side of a fitted axis, as a share of the data's span.
  static let margin = 0.06
  /// Room for value labels beyond a bar's whisker, as a share of the span.
  static let labelRoom = 0.13
  /// Tukey's far-out fence.
  static let fence = 3.0
  /// Below this many points quartiles say too little to call one an outlier.
  static let minPointsForOutliers = 10

  /// [min, max] of the finite values (and of `including`), padded by `margin` of the span.
  static func fit(_ values: [Double], including: [Double] = [], margin: Double = margin) -> ClosedRange<Double> {
    let v = (values + including).filter(\.isFinite)
    guard let lo = v.min(), let hi = v.max() else { return 0...1 }
    if hi > lo { return (lo - (hi - lo) * margin)...(hi + (hi - lo) * margin) }
    // A flat series still needs an axis: ±10% of its value (or ±0.5 around 0).
    let half = hi == 0 ? 0.5 : abs(hi) * 0.1
    return (lo - half)...(hi + half)
  }

  /// A bar chart's value axis: from min(0, lowest end) to max(0, highest end), padded away from 0
  /// only (so all-positive bars stand on 0 and all-negative gains hang from it).
  static func barRange(_ bars: [Bar]) -> ClosedRange<Double> {
    let ends = bars.flatMap { [$0.value, $0.lower ?? $0.value, $0.upper ?? $0.value] }.filter(\.isFinite)
    let lo = min(0, ends.min() ?? 0), hi = max(0, ends.max() ?? 0)
    let span = hi > lo ? hi - lo : 1
    return (lo < 0 ? lo - span * labelRoom : 0)...(hi > 0 || lo == 0 ? hi + span * labelRoom : 0)
  }

  /// numpy-style percentile (linear interpolation) of sorted values.
  static func quantile(_ sorted: [Double], _ q: Double) -> Double {
    let pos = q * Double(sorted.count - 1)
    let lo = Int(pos.rounded(.down)), hi = min(lo + 1, sorted.count - 1)
    return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - Double(lo))
  }

  /// The interval outside which a value is an outlier; nil when there are too few values to say or
  /// the quartiles coincide (discrete data: every other value would count as an outlier).
  static func fences(_ values: [Double]) -> ClosedRange<Double>? {
    let s = values.filter(\.isFinite).sorted()
    guard s.count >= minPointsForOutliers else { return nil }
    let q1 = quantile(s, 0.25), q3 = quantile(s, 0.75), iqr = q3 - q1
    guard iqr > 0 else { return nil }
    return (q1 - fence * iqr)...(q3 + fence * iqr)
  }

  /// Decimals that give the largest magnitude three significant digits (0 for 100 and above), at
  /// most 3 unless every value is below 0.01 (so 0.065 and 0.175 print alike, as 0.065 and 0.175).
  static func decimals(_ values: [Double]) -> Int {
    let m = values.filter(\.isFinite).map(abs).max() ?? 0
    guard m > 0 else { return 1 }
    return min(m < 0.01 ? 4 : 3, max(0, 2 - Int(log10(m).rounded(.down))))
  }

  static func format(_ x: Double, decimals: Int) -> String {
    x.isFinite ? String(format: "%.\(decimals)f", x) : "NaN"
  }

  /// Words wrapped to lines of at most `width` characters; a longer word breaks after its hyphens
  /// (`implications-` / `very-long`), or keeps its own line when it has none.
  static func wrap(_ s: String, width: Int) -> [String] {
    var lines: [String] = [], cur = ""
    let words = s.split(separator: " ").flatMap { w -> [Substring] in
      guard w.count > width, w.contains("-") else { return [w] }
      let parts = w.split(separator: "-", omittingEmptySubsequences: false)
      return parts.enumerated().map { i, p in i < parts.count - 1 ? Substring(p + "-") : p }
    }
    for w in words {
      // Pieces of a hyphenated word join without a space.
      let sep = cur.hasSuffix("-") ? "" : " "
      if cur.isEmpty {
        cur = String(w)
      } else if cur.count + sep.count + w.count <= width {
        cur += sep + w
      } else {
        lines.append(cur); cur = String(w)
      }
    }
    if !cur.isEmpty { lines.append(cur) }
    return lines.isEmpty ? [""] : lines
  }

  /// Sideways offsets (in x units) for `count` series on a categorical axis, centred on 0.
  static func dodge(_ count: Int, width: Double = 0.24) -> [Double] {
    guard count > 1 else { return [0] }
    let step = min(0.08, width / Double(count - 1))
    return (0..<count).map { (Double($0) - Double(count - 1) / 2) * step }
  }
}
