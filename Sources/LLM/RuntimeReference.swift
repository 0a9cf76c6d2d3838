// RuntimeReference.swift: replays ../shared/reference/{tokenizer,logits,greedy,gold_nll}.json (HF
// transformers and llama.cpp on the same GGUF) through this runtime, one row per case, as
// Training/LoRAReference.swift does for lora.json. Tolerances (issue 2): tokenizer exact; logits:
// every top-40 value and the logsumexp within `tolerance` absolute, same top-40 ids except where
// neighbouring values are within `tolerance`; greedy: first `greedyPrefix` tokens equal; nll: mean
// NLL within `tolerance`. A malformed file names the case and key.
import Foundation
import Tensor

public enum RuntimeReference {
  public enum Kind: String, CaseIterable, Sendable { case tokenizer, logits, greedy, nll }

  public struct Row: Sendable, Equatable {
    public var name: String
    public var maxDiff: Double?
    public var mismatches: Int
    public var passed: Bool
    public var note: String = ""
  }

  public struct Options: Sendable {
    public var tolerance = 2e-3
    public var greedyPrefix = 16
    /// logits: feed the prompt one token at a time (the packed decode kernels).
    public var decodePath = false
    public init() {}
  }

  public static func verify(
    _ kind: Kind, model m: LanguageModel, file: String, options o: Options = Options()
  ) throws -> [Row] {
    guard let data = FileManager.default.contents(atPath: file) else {
      throw LLMError.inputFileMissing(path: file, what: "reference file")
    }
    guard let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
      let cases = root["cases"] as? [[String: Any]]
    else {
      throw LLMError.badConfig(
        source: file, key: "cases", expected: "a JSON object with a 'cases' list", found: "something else")
    }
    guard !cases.isEmpty else {
      throw LLMError.badConfig(source: file, key: "cases", expected: "at least one case", found: "none")
    }
    func field<T>(_ c: [String: Any], _ key: String, _ i: Int) throws -> T {
      guard let v = c[key] as? T else {
        throw LLMError.badConfig(
          source: file, key: "cases[\(i)].\(key)", expected: "\(T.self)", found: "missing or another type")
      }
      return v
    }
    func name(_ c: [String: Any], _ key: String, _ i: Int) -> String {
      String((c[key] as? String ?? "case \(i)").prefix(40))
    }
    var rows: [Row] = []
    switch kind {
    case .tokenizer:
      for (i, c) in cases.enumerated() {
        let text: String = try field(c, "text", i)
        let ids: [Int] = try field(c, "ids", i)
        let got = m.tokenizer.encode(text)
        let mism = zip(got, ids).filter { $0 != $1 }.count + abs(got.count - ids.count)
        rows.append(
          Row(
            name: String(text.prefix(40)), maxDiff: nil, mismatches: mism, passed: mism == 0,
            note: mism == 0 ? "" : "got \(got.prefix(12))..."))
      }
    case .logits:
      let V = m.config.vocabSize
      for (i, c) in cases.enumerated() {
        let ids: [Int] = try field(c, "ids", i)
        let positions: [[String: Any]] = try field(c, "positions", i)
        let cache = KVCache(config: m.config, slots: 1, capacity: ids.count)
        let logits: FloatBuffer
        if o.decodePath {
          logits = FloatBuffer(count: ids.count * V)
          for (t, id) in ids.enumerated() {
            let row = try m.transformer.forward([(0, [id])], cache: cache, logits: .last)
            (logits.pointer + t * V).update(from: row.pointer, count: V)
          }
        } else {
          logits = try m.transformer.forward([(0, ids)], cache: cache, logits: .all)
        }
        var worst = 0.0, mism = 0
        for (p, pos) in positions.enumerated() {
          let topIds: [Int] = try field(pos, "top_ids", i)
          let topVals: [Double] = try field(pos, "top_logits", i)
          let lse: Double = try field(pos, "logsumexp", i)
          let row = logits.pointer + p * V
          for (id, v) in zip(topIds, topVals) { worst = max(worst, abs(Double(row[id]) - v)) }
          worst = max(worst, abs(logSumExp(row, V) - lse))
          // Our top-k ids; a difference is allowed only at a near-tie with the boundary value.
          let ours = (0..<V).sorted { row[$0] > row[$1] }.prefix(topIds.count)
          let boundary = topVals.last ?? 0
          for id in Set(ours).symmetricDifference(topIds) where abs(Double(row[id]) - boundary) > o.tolerance {
            mism += 1
          }
        }
        rows.append(
          Row(name: name(c, "prompt", i), maxDiff: worst, mismatches: mism, passed: worst <= o.tolerance && mism == 0))
      }
    case .greedy:
      let gen = m.generator()
      for (i, c) in cases.enumerated() {
        let prompt: [Int] = try field(c, "prompt_ids", i)
        let want: [Int] = try field(c, "greedy_ids", i)
        let got = try gen.generate([GenerationRequest(promptTokens: prompt, maxNewTokens: 48, stopTokens: m.stopIds)])[
          0
        ].tokens
        let n = min(o.greedyPrefix, want.count)
        let prefixOK = got.count >= n && Array(got.prefix(n)) == Array(want.prefix(n))
        let mism = zip(got, want).filter { $0 != $1 }.count + abs(got.count - want.count)
        rows.append(
          Row(
            name: name(c, "prompt", i), maxDiff: nil, mismatches: mism, passed: prefixOK,
            note: mism == 0 ? "all \(want.count) equal" : "first \(n) \(prefixOK ? "equal" : "differ")"))
      }
    case .nll:
      for (i, c) in cases.enumerated() {
        let promptText: String = try field(c, "prompt", i)
        let answer: [Int] = try field(c, "answer_ids", i)
        let want: Double = try field(c, "mean_nll", i)
        let lp = try m.continuationLogProbs(prompt: m.tokenizer.encode(promptText), continuation: answer)
        let nll = -lp.reduce(0, +) / Double(lp.count)
        rows.append(
          Row(
            name: name(c, "answer", i), maxDiff: abs(nll - want), mismatches: 0, passed: abs(nll - want) <= o.tolerance)
        )
      }
    }
    return rows
  }

  /// One line per case, then "N passed, M failed".
  public static func report(_ rows: [Row]) -> String {
    var out = [String(repeating: "-", count: 78)]
    for r in rows {
      let diff = r.maxDiff.map { String(format: "%.2e", $0) } ?? "-"
      out.append(
        "\(r.passed ? "PASS" : "FAIL")  \(r.name.replacingOccurrences(of: "\n", with: "\\n").padding(toLength: 42, withPad: " ", startingAt: 0))  max|diff| \(diff)  mismatches \(r.mismatches)  \(r.note)"
      )
    }
    let failed = rows.filter { !$0.passed }.count
    out.append("\(rows.count - failed) passed, \(failed) failed")
    return out.joined(separator: "\n")
  }
}
