// TrainingSequences.swift: a self-edit completion -> the texts an adapter is trained on.
// `seal` is SEAL's `build_train_sequences` (reference-pipeline 2.2); `searchJSON` is the search
// repo's `parse_completion` ({"training_sequences": [...]}, 3.4); `searchLines` its baseline parser
// (3.5). Python string semantics are reproduced where they matter: `str.strip()` whitespace,
// `str.splitlines()` line breaks, `re` lookahead splits.
import Foundation
import Workspace

public enum TrainingSequences {
  /// Python `str.isspace()` characters (what `strip()` removes).
  static func isPySpace(_ s: Unicode.Scalar) -> Bool {
    switch s.value {
    case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
      return true
    default: return false
    }
  }

  public static func pyStrip(_ s: String) -> String {
    let u = s.unicodeScalars
    guard let a = u.firstIndex(where: { !isPySpace($0) }) else { return "" }
    let b = u.lastIndex(where: { !isPySpace($0) })!
    return String(String.UnicodeScalarView(u[a...b]))
  }

  static func pyLStrip(_ s: String) -> String {
    let u = s.unicodeScalars
    guard let a = u.firstIndex(where: { !isPySpace($0) }) else { return "" }
    return String(String.UnicodeScalarView(u[a...]))
  }

  /// Python `str.splitlines()` (no keepends): \n, \r, \r\n, \v, \f, \x1c-\x1e, \x85, \u2028, \u2029.
  public static func pySplitLines(_ s: String) -> [String] {
    var out: [String] = []
    var cur = String.UnicodeScalarView()
    let u = Array(s.unicodeScalars)
    var i = 0
    while i < u.count {
      let c = u[i]
      switch c.value {
      case 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x85, 0x2028, 0x2029:
        out.append(String(cur)); cur = .init()
        if c.value == 0x0D, i + 1 < u.count, u[i + 1].value == 0x0A { i += 1 }
      default: cur.append(c)
      }
      i += 1
    }
    if !cur.isEmpty { out.append(String(cur)) }
    return out
  }

  static func matches(_ pattern: String, _ s: String) -> Bool {
    (try! NSRegularExpression(pattern: pattern)).firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) != nil
  }

  /// Python `re.split(r"\n(?=Question\s+\d+:)", s)`.
  static func splitBeforeQuestions(_ s: String) -> [String] {
    let re = try! NSRegularExpression(pattern: "\\n(?=Question\\s+\\d+:)")
    var out: [String] = []
    var last = s.startIndex
    for m in re.matches(in: s, range: NSRange(s.startIndex..., in: s)) {
      let r = Range(m.range, in: s)!
      out.append(String(s[last..<r.lowerBound]))
      last = r.upperBound
    }
    out.append(String(s[last...]))
    return out
  }

  /// The SEAL switches of reference-pipeline 2.2 / 6 (defaults: SEAL's evaluation settings).
  public struct SEALOptions: Codable, Equatable, Sendable {
    public var splitNewlines = true
    /// `f"{title}\n{seg}"` for every sequence.
    public var titlePrefix = true
    /// The passage itself as the last sequence.
    public var appendPassage = true
    public init(splitNewlines: Bool = true, titlePrefix: Bool = true, appendPassage: Bool = true) {
      self.splitNewlines = splitNewlines; self.titlePrefix = titlePrefix; self.appendPassage = appendPassage
    }
  }

  /// SEAL `build_train_sequences(completion, context, title, split_newlines)`.
  public static func seal(
    completion raw: String, context: String, title: String, options o: SEALOptions = .init()
  ) -> [String] {
    var segs = raw.components(separatedBy: "---").map(pyStrip).filter { !$0.isEmpty }
    if segs.isEmpty { segs = [pyStrip(raw)] }
    if o.splitNewlines {
      if matches("Question\\s+\\d+:", raw) && matches("Answer\\s*:", raw) {
        // Self-QA branch: re-split the whole completion before each "Question N:", ignoring "---".
        segs = splitBeforeQuestions(pyStrip(raw))
        if !pyLStrip(segs[0]).hasPrefix("Question") { segs[0] = "Question 1: " + pyStrip(segs[0]) }
      } else {
        segs = segs.flatMap { pySplitLines($0).map(pyStrip).filter { !$0.isEmpty } }
        // A "Sure, here are..." header before a numbered list is dropped.
        if segs.count > 1 && segs[1].hasPrefix("1.") { segs.removeFirst() }
      }
    }
    var seqs = segs.map { o.titlePrefix ? "\(title)\n\($0)" : $0 }
    if o.appendPassage { seqs.append(o.titlePrefix ? "\(title)\n\(pyStrip(context))" : pyStrip(context)) }
    return seqs
  }

  /// The search repo's `parse_completion`: strip think tags, close a missing "}", take the greedy
  /// {...} and read `training_sequences`. nil on any failure (the reference then trains on nothing).
  public static func searchJSON(_ text: String) -> [String]? {
    var s = pyStrip(text.replacingOccurrences(of: "<think>[\\s\\S]*?</think>", with: "", options: .regularExpression))
    if !s.hasSuffix("}") { s += "\n}" }
    guard let a = s.firstIndex(of: "{"), let b = s.lastIndex(of: "}"), a < b else { return nil }
    guard let seqs = (try? JSONValue.parse(Data(s[a...b].utf8)))?["training_sequences"]?.array else { return nil }
    let strings = seqs.compactMap(\.string)
    return strings.count == seqs.count ? strings : nil
  }

  /// The search repo's baseline parser `parse_completion_baseline` (3.5): drop a header before "1.",
  /// strip lines, drop empty ones; no title and no passage.
  public static func searchLines(_ text: String) -> [String] {
    var lines = text.replacingOccurrences(of: "<think>[\\s\\S]*?</think>", with: "", options: .regularExpression)
      .components(separatedBy: "\n")
    if lines.count > 1 && lines[1].hasPrefix("1.") {
      lines.removeFirst()
    } else if lines.count > 2 && lines[2].hasPrefix("1.") {
      lines.removeFirst(2)
    }
    return lines.map(pyStrip).filter { !$0.isEmpty }
  }
}
