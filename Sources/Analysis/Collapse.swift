// Collapse analysis of a template search, per iteration: intra-iteration hyperparameter similarity,
// text similarity by each measure, distinct instruction strings, and flags where a score crosses
// its threshold (strictly greater; the paper's values are 0.92 for text and 0.98 for
// hyperparameters). The text threshold belongs to one measure: text-embedding-3-large's (1+cos)/2.
// Scores of another embedding model (the offline MiniLM) or of the lexical measures are reported
// without flags: a cut-off on their scale would need paired scores to calibrate it, which the
// released data does not have (the paper's own text similarities are not released).
// Input: plain groups of templates (one group per iteration), whatever file they came from.
import Foundation

public struct CollapseThresholds: Equatable, Sendable {
  public var text: Double
  public var hyperparameter: Double
  /// The embedding model the text threshold is stated for (the paper's).
  public var textModel: String
  public static let paperTextModel = "text-embedding-3-large"
  public init(text: Double = 0.92, hyperparameter: Double = 0.98, textModel: String = CollapseThresholds.paperTextModel)
  {
    self.text = text; self.hyperparameter = hyperparameter; self.textModel = textModel
  }
  /// The measure the text threshold is compared with.
  public var textMeasure: TextMeasure { .embedding(model: textModel) }
}

/// One text measure's score for one group; `value` nil = not computed, with the reason in `note`.
public struct TextScore: Equatable, Sendable {
  public var measure: TextMeasure
  public var value: Double?
  public var note: String?
}

public struct IterationCollapse: Equatable, Sendable {
  public var iteration: Int
  public var templates: Int
  public var distinctInstructions: Int
  public var hyperparameter: Double?
  public var text: [TextScore]
  public var hyperparameterFlag: Bool
  /// The text threshold's own measure when its score is above it (empty for every other measure).
  public var textFlags: [String]

  public func score(_ m: TextMeasure) -> Double? { text.first { $0.measure == m }?.value }
}

public enum Collapse {
  /// Scores each group. The TF-IDF idf is fitted on every instruction of every group. With no
  /// embedder the embedding score is nil with note "not computed (model not installed)".
  public static func analyze(
    _ groups: [[Template]], embedder: TextEmbedder? = nil,
    thresholds: CollapseThresholds = CollapseThresholds()
  ) throws -> [IterationCollapse] {
    let tfidf = TFIDF(corpus: groups.flatMap { $0.map(\.instruction) })
    return try groups.enumerated().map { i, g in
      let texts = g.map(\.instruction)
      var scores: [TextScore] = []
      if let e = embedder {
        scores.append(
          TextScore(
            measure: .embedding(model: e.name), value: try TextSimilarity.embeddingGroup(texts, embedder: e), note: nil)
        )
      } else {
        scores.append(
          TextScore(measure: .embedding(model: "none"), value: nil, note: "not computed (model not installed)"))
      }
      scores.append(TextScore(measure: .tokenJaccard, value: TextSimilarity.jaccardGroup(texts), note: nil))
      scores.append(TextScore(measure: .tfidfCosine, value: tfidf.group(texts), note: nil))
      let hp = HyperparameterSimilarity.group(g.map(\.hyperparameters))
      return IterationCollapse(
        iteration: i, templates: g.count, distinctInstructions: Set(texts).count, hyperparameter: hp, text: scores,
        hyperparameterFlag: (hp ?? 0) > thresholds.hyperparameter,
        // Only the measure the threshold is stated for is compared with it.
        textFlags: scores.compactMap { s in
          s.measure == thresholds.textMeasure && (s.value ?? 0) > thresholds.text ? s.measure.name : nil
        })
    }
  }

  /// Reads `[[{data_creation_instruction, hyperparameters}]]` (the released *_templates_by_iter.json
  /// shape). A bare string in a group is an instruction with no hyperparameters.
  public static func loadTemplateGroups(_ path: String) throws -> [[Template]] {
    try templateGroups(JSONValue.load(path), path: path)
  }

  public static func templateGroups(_ doc: JSONValue, path: String) throws -> [[Template]] {
    guard case .array(let iters) = doc else {
      throw AnalysisError.malformed(path: path, key: "(root)", expected: "a list of iterations", found: doc.kind)
    }
    return try iters.enumerated().map { i, it in
      guard case .array(let ts) = it else {
        throw AnalysisError.malformed(path: path, key: "[\(i)]", expected: "a list of templates", found: it.kind)
      }
      return try ts.enumerated().map { j, t in
        if case .string(let s) = t { return Template(instruction: s, hyperparameters: [:]) }
        guard case .string(let ins)? = t["data_creation_instruction"] else {
          throw AnalysisError.malformed(
            path: path, key: "[\(i)][\(j)].data_creation_instruction",
            expected: "a string", found: t["data_creation_instruction"]?.kind ?? "missing")
        }
        var hps: [String: JSONValue] = [:]
        switch t["hyperparameters"] {
        case .object(let o)?: hps = o
        case nil, .null?: break
        case let other?:
          throw AnalysisError.malformed(
            path: path, key: "[\(i)][\(j)].hyperparameters", expected: "an object", found: other.kind)
        }
        return Template(instruction: ins, hyperparameters: hps)
      }
    }
  }
}
