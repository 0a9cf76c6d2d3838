// Markdown helpers: tables with right-aligned numeric columns and consistent number formats.
import Analysis
import Foundation

public enum Markdown {
  /// A pipe table; `rightAligned` marks numeric columns.
  public static func table(_ header: [String], _ rows: [[String]], rightAligned: Set<Int> = []) -> String {
    func esc(_ s: String) -> String {
      s.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
    }
    var out = "| " + header.map(esc).joined(separator: " | ") + " |\n|"
    for i in 0..<header.count { out += rightAligned.contains(i) ? "---:|" : "---|" }
    out += "\n"
    for r in rows { out += "| " + r.map(esc).joined(separator: " | ") + " |\n" }
    return out
  }

  public static func f(_ x: Double?, _ decimals: Int = 4) -> String {
    guard let x, x.isFinite else { return "—" }
    return String(format: "%.\(decimals)f", x)
  }

  /// "0.4699 [0.4310, 0.5081]"
  public static func estimate(_ e: Estimate, _ decimals: Int = 4) -> String {
    "\(f(e.mean, decimals)) [\(f(e.lower, decimals)), \(f(e.upper, decimals))]"
  }

  /// Image link plus links to the chart's SVG, data and script (relative to the report).
  public static func chart(_ c: ChartOutput, folder: String, alt: String) -> String {
    let p = folder.isEmpty ? "" : folder + "/"
    var s = ""
    if c.rendered { s += "![\(alt)](\(p)\(c.png))\n\n" }
    s += "Chart files: "
    s += (c.rendered ? "[PNG](\(p)\(c.png)), [SVG](\(p)\(c.svg)), " : "")
    s += "[data](\(p)\(c.name).dat), [gnuplot script](\(p)\(c.name).gp)"
    if let m = c.message { s += "  \n_\(m)_" }
    return s + "\n"
  }
}
