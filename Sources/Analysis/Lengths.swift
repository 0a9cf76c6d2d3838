// Training-data length, as (X) src/compute_dataset_len.py defines it (reference-pipeline.md 4.2):
// walk the JSON tree; every object with a list-valued `training_sequences` is one list, whose length
// is the sum over its string elements; result = total / number of lists. Empty lists (failed
// completions) count as 0 and stay in the denominator. Characters are Unicode scalars, which is what
// Python's len(str) counts (not Swift Characters). Tokens use a caller-supplied counter (the real
// tokenizer is wired in by seb). Lists nested inside a counted object are still visited, as the
// recursive Python walk does.
import Foundation

public struct LengthSummary: Equatable, Sendable {
  /// Number of `training_sequences` lists found.
  public var lists: Int
  public var emptyLists: Int
  public var sequences: Int
  public var totalCharacters: Int
  /// nil when no token counter was supplied.
  public var totalTokens: Int?
  public var meanCharacters: Double { lists == 0 ? .nan : Double(totalCharacters) / Double(lists) }
  public var meanTokens: Double? { totalTokens.map { lists == 0 ? .nan : Double($0) / Double(lists) } }
  /// Per-list character lengths in walk order (for distributions and bootstraps).
  public var perListCharacters: [Int]
}

public enum Lengths {
  /// Python len(): number of Unicode scalars.
  public static func characters(_ s: String) -> Int { s.unicodeScalars.count }

  public static func trainingSequenceLists(_ doc: JSONValue) -> [[String]] {
    var out: [[String]] = []
    func walk(_ v: JSONValue) {
      switch v {
      case .object(let o):
        if case .array(let seqs)? = o["training_sequences"] {
          out.append(seqs.compactMap { if case .string(let s) = $0 { return s } else { return nil } })
        }
        // Sorted keys: object order is not kept by the decoder, so sort for deterministic order.
        for k in o.keys.sorted() { walk(o[k]!) }
      case .array(let a):
        a.forEach(walk)
      default: break
      }
    }
    walk(doc)
    return out
  }

  public static func summarize(lists: [[String]], tokenCounter: ((String) -> Int)? = nil) -> LengthSummary {
    let per = lists.map { $0.reduce(0) { $0 + characters($1) } }
    let tokens = tokenCounter.map { count in lists.reduce(0) { $0 + $1.reduce(0) { $0 + count($1) } } }
    return LengthSummary(
      lists: lists.count, emptyLists: lists.filter(\.isEmpty).count,
      sequences: lists.reduce(0) { $0 + $1.count }, totalCharacters: per.reduce(0, +),
      totalTokens: tokens, perListCharacters: per)
  }

  public static func summarize(_ doc: JSONValue, tokenCounter: ((String) -> Int)? = nil) -> LengthSummary {
    summarize(lists: trainingSequenceLists(doc), tokenCounter: tokenCounter)
  }
}
