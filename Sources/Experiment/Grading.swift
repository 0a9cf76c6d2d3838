// Grading: offline answer graders in the SQuAD v1.1 style, reused by the harness.
// normalize = lowercase -> drop ASCII punctuation (Python string.punctuation) -> replace the words
// a/an/the by a space -> collapse whitespace; the order and the word-boundary rule follow the
// official evaluate-v1.1.py `normalize_answer` (`\b(a|an|the)\b` with Python's Unicode \w).
// Every grader is a pure function of (prediction, references); with several references the best
// one counts (max over references), as the official script does.
import Foundation

public enum Grading {
  static let punctuation: Set<Unicode.Scalar> = Set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~".unicodeScalars)

  /// Python's `\w` for str patterns: letters, digits (all Unicode numbers) and underscore.
  static func isWord(_ s: Unicode.Scalar) -> Bool {
    if s == "_" { return true }
    let p = s.properties
    return p.isAlphabetic || p.numericType != nil
  }

  /// SQuAD answer normalisation.
  public static func normalize(_ text: String) -> String {
    // 1-2: lowercase, drop punctuation.
    let scalars = text.lowercased().unicodeScalars.filter { !punctuation.contains($0) }
    // 3: articles bounded by non-word characters become a space.
    var out = String.UnicodeScalarView()
    var i = scalars.startIndex
    while i < scalars.endIndex {
      if isWord(scalars[i]) {
        var j = i
        while j < scalars.endIndex && isWord(scalars[j]) { j = scalars.index(after: j) }
        let word = String(String.UnicodeScalarView(scalars[i..<j]))
        if word == "a" || word == "an" || word == "the" {
          out.append(" ")
        } else {
          out.append(contentsOf: scalars[i..<j])
        }
        i = j
      } else {
        out.append(scalars[i]); i = scalars.index(after: i)
      }
    }
    // 4: Python str.split() on any Unicode whitespace, joined by one space.
    return tokens(String(out)).joined(separator: " ")
  }

  /// Whitespace split of an already normalised string (Python `str.split()`).
  static func tokens(_ s: String) -> [String] {
    s.unicodeScalars.split(whereSeparator: { $0.properties.isWhitespace }).map { String(String.UnicodeScalarView($0)) }
  }

  /// Exact match after normalisation.
  public static func exactMatch(_ prediction: String, _ reference: String) -> Bool {
    normalize(prediction) == normalize(reference)
  }

  /// Token F1 after normalisation (official v1.1: no overlap -> 0, so an empty side gives 0).
  public static func f1(_ prediction: String, _ reference: String) -> Double {
    let p = tokens(normalize(prediction)), g = tokens(normalize(reference))
    var counts: [String: Int] = [:]
    for t in g { counts[t, default: 0] += 1 }
    var same = 0
    for t in p where (counts[t] ?? 0) > 0 { counts[t]! -= 1; same += 1 }
    guard same > 0 else { return 0 }
    let precision = Double(same) / Double(p.count), recall = Double(same) / Double(g.count)
    return 2 * precision * recall / (precision + recall)
  }

  /// Normalised reference is a substring of the normalised prediction. A reference that normalises
  /// to "" (e.g. "The") would be contained in everything, so it falls back to exact match.
  public static func contains(_ prediction: String, _ reference: String) -> Bool {
    let g = normalize(reference), p = normalize(prediction)
    if g.isEmpty { return p.isEmpty }
    return p.contains(g)
  }

  public static func exactMatch(_ prediction: String, references: [String]) -> Bool {
    references.contains { exactMatch(prediction, $0) }
  }
  public static func f1(_ prediction: String, references: [String]) -> Double {
    references.map { f1(prediction, $0) }.max() ?? 0
  }
  public static func contains(_ prediction: String, references: [String]) -> Bool {
    references.contains { contains(prediction, $0) }
  }
}

/// A named offline grader: a yes/no verdict from a prediction and its references.
public struct OfflineGrader: Sendable {
  public enum Rule: Sendable, Equatable {
    case exactMatch
    case f1(atLeast: Double)
    case contains
  }
  public enum ReferenceSet: String, Sendable, Equatable {
    /// The single answer stored with the question (SEAL's `answer`, the first official reference).
    case single
    /// All official references of the question.
    case all
  }
  public var rule: Rule
  public var references: ReferenceSet
  public init(rule: Rule, references: ReferenceSet) { self.rule = rule; self.references = references }

  public var name: String {
    let r: String
    switch rule {
    case .exactMatch: r = "exact match"
    case .f1(let t): r = "F1 >= " + String(format: "%.2f", t)
    case .contains: r = "contains"
    }
    return r + (references == .single ? " (single answer)" : " (all references)")
  }

  /// Verdict for one prediction. `single` is the stored answer, `all` the official list
  /// (when empty, the single answer is used so that a missing mapping never grades everything wrong).
  public func grade(prediction: String, single: String, all: [String]) -> Bool {
    let refs = references == .single || all.isEmpty ? [single] : all
    switch rule {
    case .exactMatch: return Grading.exactMatch(prediction, references: refs)
    case .f1(let t): return Grading.f1(prediction, references: refs) >= t
    case .contains: return Grading.contains(prediction, references: refs)
    }
  }

  /// EM, F1 at the given thresholds and contains, each against the single answer and all references.
  public static func standardSet(f1Thresholds: [Double] = [0.3, 0.5, 0.7]) -> [OfflineGrader] {
    var rules: [Rule] = [.exactMatch]
    rules += f1Thresholds.map { .f1(atLeast: $0) }
    rules.append(.contains)
    return [ReferenceSet.single, .all].flatMap { set in rules.map { OfflineGrader(rule: $0, references: set) } }
  }
}
