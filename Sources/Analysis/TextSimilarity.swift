// Text similarity of instructions, three ways; every result carries the name of its measure.
// - embedding: through the TextEmbedder protocol, as (X) compute_similarity.py does with a hosted
//   model: blank text -> "[EMPTY]", L2-normalise (+1e-12), pair = clip((1 + cos) / 2, 0, 1).
//   So unrelated texts score about 0.5, not 0: the paper's 0.92 threshold is on this scale.
// - token Jaccard: |A ∩ B| / |A ∪ B| of token sets, tokens = lowercase then regex [a-z0-9']+
//   (ASCII; other characters separate tokens). This tokenisation reproduces paper-numbers.md's
//   lexical proxies (archive 0.218/0.391/..., no-archive 0.160/0.256/...). Two empty sets -> 1.
// - TF-IDF cosine: same tokens, raw term counts times smooth idf ln((1 + N) / (1 + df)) + 1
//   (scikit-learn's TfidfVectorizer default), L2-normalised; the idf is fitted on a corpus the
//   caller chooses (here: every instruction of the input file, so iterations share one idf).
//   Both empty -> 1, one empty -> 0.
// Group score of each measure = mean over unordered pairs.
import Foundation

/// A sentence-embedding model. Analysis only needs vectors; the `seb` executable plugs in the
/// real model (module Embedding). Returns one vector per text, all of one length.
public protocol TextEmbedder {
  var name: String { get }
  func embed(_ texts: [String]) throws -> [[Float]]
}

public enum TextMeasure: Equatable, Sendable {
  case embedding(model: String)
  case tokenJaccard
  case tfidfCosine

  public var name: String {
    switch self {
    case .embedding(let m): return "embedding \(m), (1+cos)/2"
    case .tokenJaccard: return "token Jaccard"
    case .tfidfCosine: return "TF-IDF cosine"
    }
  }
  /// The collapse threshold (0.92) is on the embedding scale: only this measure is compared with it.
  public var isEmbedding: Bool { if case .embedding = self { return true } else { return false } }
  /// Short column label for tables and chart legends.
  public var shortName: String {
    switch self {
    case .embedding: return "embedding"
    case .tokenJaccard: return "Jaccard"
    case .tfidfCosine: return "TF-IDF"
    }
  }
}

public enum TextSimilarity {
  /// Lowercase, then maximal runs of [a-z0-9'].
  public static func tokens(_ text: String) -> [String] {
    var out: [String] = [], cur = String.UnicodeScalarView()
    for s in text.lowercased().unicodeScalars {
      if ("a"..."z").contains(s) || ("0"..."9").contains(s) || s == "'" {
        cur.append(s)
      } else if !cur.isEmpty {
        out.append(String(cur)); cur = String.UnicodeScalarView()
      }
    }
    if !cur.isEmpty { out.append(String(cur)) }
    return out
  }

  public static func jaccard(_ a: String, _ b: String) -> Double {
    let x = Set(tokens(a)), y = Set(tokens(b))
    let u = x.union(y).count
    return u == 0 ? 1 : Double(x.intersection(y).count) / Double(u)
  }

  public static func jaccardGroup(_ texts: [String]) -> Double? {
    meanOverPairs(texts.count) { jaccard(texts[$0], texts[$1]) }
  }

  /// Cosine of raw vectors mapped to [0, 1] as compute_similarity.py does.
  public static func embeddingPair(_ a: [Float], _ b: [Float]) -> Double {
    var na = 0.0, nb = 0.0, dot = 0.0
    for i in 0..<min(a.count, b.count) {
      let x = Double(a[i]), y = Double(b[i])
      dot += x * y; na += x * x; nb += y * y
    }
    let cos = dot / ((na.squareRoot() + 1e-12) * (nb.squareRoot() + 1e-12))
    return min(1, max(0, (1 + cos) / 2))
  }

  /// Embeds the texts (blank -> "[EMPTY]") and returns the mean pair score; nil below 2 texts.
  public static func embeddingGroup(_ texts: [String], embedder: TextEmbedder) throws -> Double? {
    guard texts.count >= 2 else { return nil }
    let vs = try embed(texts, embedder: embedder)
    return meanOverPairs(vs.count) { embeddingPair(vs[$0], vs[$1]) }
  }

  static func embed(_ texts: [String], embedder: TextEmbedder) throws -> [[Float]] {
    let input = texts.map { $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? "[EMPTY]" : $0 }
    let vs = try embedder.embed(input)
    guard vs.count == input.count else {
      throw AnalysisError.embedder(name: embedder.name, expected: "\(input.count) vectors", found: "\(vs.count)")
    }
    guard let d = vs.first?.count, d > 0, vs.allSatisfy({ $0.count == d }) else {
      throw AnalysisError.embedder(
        name: embedder.name, expected: "vectors of one non-zero length",
        found: "lengths \(Set(vs.map(\.count)).sorted())")
    }
    guard vs.allSatisfy({ $0.allSatisfy { $0.isFinite } }) else {
      throw AnalysisError.embedder(name: embedder.name, expected: "finite values", found: "NaN or infinity")
    }
    return vs
  }
}

/// TF-IDF vectoriser fitted on a corpus (see file header for the formula).
public struct TFIDF: Sendable {
  public private(set) var idf: [String: Double]
  public let documents: Int

  public init(corpus: [String]) {
    documents = corpus.count
    var df: [String: Int] = [:]
    for d in corpus { for t in Set(TextSimilarity.tokens(d)) { df[t, default: 0] += 1 } }
    let n = Double(corpus.count)
    idf = df.mapValues { log((1 + n) / (1 + Double($0))) + 1 }
  }

  /// L2-normalised tf-idf vector. A term unseen in the corpus gets the idf of df = 0.
  public func vector(_ text: String) -> [String: Double] {
    var tf: [String: Double] = [:]
    for t in TextSimilarity.tokens(text) { tf[t, default: 0] += 1 }
    let unseen = log((1 + Double(documents)) / 1) + 1
    var v = tf.reduce(into: [String: Double]()) { $0[$1.key] = $1.value * (idf[$1.key] ?? unseen) }
    let norm = v.values.reduce(0) { $0 + $1 * $1 }.squareRoot()
    if norm > 0 { for k in v.keys { v[k]! /= norm } }
    return v
  }

  public func cosine(_ a: String, _ b: String) -> Double {
    let x = vector(a), y = vector(b)
    if x.isEmpty && y.isEmpty { return 1 }
    if x.isEmpty || y.isEmpty { return 0 }
    let (small, large) = x.count <= y.count ? (x, y) : (y, x)
    return min(1, small.reduce(0) { $0 + $1.value * (large[$1.key] ?? 0) })
  }

  public func group(_ texts: [String]) -> Double? {
    let vs = texts.map(vector)
    return meanOverPairs(texts.count) { i, j in
      let x = vs[i], y = vs[j]
      if x.isEmpty && y.isEmpty { return 1 }
      if x.isEmpty || y.isEmpty { return 0 }
      return min(1, x.reduce(0) { $0 + $1.value * (y[$1.key] ?? 0) })
    }
  }
}
