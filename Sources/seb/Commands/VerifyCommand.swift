// VerifyCommand.swift: `seb verify KIND --reference FILE`: runs the runtime on a reference file of
// ../shared/reference and compares, one row per case, ending with "N passed, M failed".
// Tolerances (issue 2/3): tokenizer exact; logits: every top-40 value and the logsumexp within
// 2e-3 absolute, same top-40 ids except where neighbouring values are within 2e-3; greedy: first
// 16 tokens equal; nll: mean NLL within 2e-3; lora: loss within 1e-4 relative for steps 0-3 and
// 1e-3 afterwards.
import ArgumentParser
import Foundation
import LLM
import Tensor
import Tokenizer
import Training

enum VerifyKind: String, ExpressibleByArgument, CaseIterable {
  case tokenizer, logits, greedy, nll, lora
}

struct VerifyCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "verify", abstract: "Check the runtime against a reference file (tokenizer, logits, greedy, nll, lora).",
    discussion: """
      The files are in ../shared/reference (outputs of llama.cpp and HF transformers on the same
      GGUF). Exits non-zero when any case is outside tolerance.
      Example: seb verify logits --reference ../shared/reference/logits.json
      """)

  @Argument(help: "What to verify: tokenizer, logits, greedy, nll or lora.") var kind: VerifyKind
  @Option(help: "Reference JSON file.") var reference: String
  @OptionGroup var model: ModelOptions
  @Option(help: "Absolute tolerance for logits and NLL.") var tolerance = 2e-3
  @Option(help: "Greedy tokens that must agree.") var greedyPrefix = 16
  @Flag(help: "logits: feed the prompt one token at a time (the packed quantized decode kernels) instead of one float32 sgemm pass.")
  var decodePath = false

  struct Row {
    var name: String
    var maxDiff: Double?
    var mismatches: Int
    var passed: Bool
    var note: String = ""
  }

  func run() throws {
    let data = try Data(contentsOf: URL(fileURLWithPath: reference))
    guard let root = try JSONSerialization.jsonObject(with: data) as? [String: Any],
      let cases = root["cases"] as? [[String: Any]]
    else { throw ValidationError("\(reference): expected a JSON object with a 'cases' list") }
    func field<T>(_ c: [String: Any], _ key: String, _ i: Int) throws -> T {
      guard let v = c[key] as? T else { throw ValidationError("\(reference): cases[\(i)].\(key) is missing or has the wrong type") }
      return v
    }
    let m = try model.load()
    var rows: [Row] = []
    switch kind {
    case .tokenizer:
      for (i, c) in cases.enumerated() {
        let text: String = try field(c, "text", i)
        let ids: [Int] = try field(c, "ids", i)
        let got = m.tokenizer.encode(text)
        let mism = zip(got, ids).filter { $0 != $1 }.count + abs(got.count - ids.count)
        rows.append(Row(name: String(text.prefix(40)), maxDiff: nil, mismatches: mism, passed: mism == 0,
                        note: mism == 0 ? "" : "got \(got.prefix(12))..."))
      }
    case .logits:
      let V = m.weights.config.vocabSize
      for (i, c) in cases.enumerated() {
        let ids: [Int] = try field(c, "ids", i)
        let positions: [[String: Any]] = try field(c, "positions", i)
        let cache = KVCache(config: m.weights.config, slots: 1, capacity: ids.count)
        let logits: FloatBuffer
        if decodePath {
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
          let k = topIds.count
          let ours = (0..<V).sorted { row[$0] > row[$1] }.prefix(k)
          let boundary = topVals.last ?? 0
          for id in Set(ours).symmetricDifference(topIds) where abs(Double(row[id]) - boundary) > tolerance { mism += 1 }
        }
        rows.append(Row(name: String((c["prompt"] as? String ?? "case \(i)").prefix(40)), maxDiff: worst, mismatches: mism,
                        passed: worst <= tolerance && mism == 0))
      }
    case .greedy:
      let gen = Generator(transformer: m.transformer) { (try? m.tokenizer.decode($0)) ?? "" }
      for (i, c) in cases.enumerated() {
        let prompt: [Int] = try field(c, "prompt_ids", i)
        let want: [Int] = try field(c, "greedy_ids", i)
        let got = try gen.generate([GenerationRequest(promptTokens: prompt, maxNewTokens: 48, stopTokens: [0, 2])])[0].tokens
        let n = min(greedyPrefix, want.count)
        let prefixOK = got.count >= n && Array(got.prefix(n)) == Array(want.prefix(n))
        let mism = zip(got, want).filter { $0 != $1 }.count + abs(got.count - want.count)
        rows.append(Row(name: String((c["prompt"] as? String ?? "case \(i)").prefix(40)), maxDiff: nil, mismatches: mism,
                        passed: prefixOK, note: mism == 0 ? "all \(want.count) equal" : "first \(n) \(prefixOK ? "equal" : "differ")"))
      }
    case .nll:
      for (i, c) in cases.enumerated() {
        let promptText: String = try field(c, "prompt", i)
        let answer: [Int] = try field(c, "answer_ids", i)
        let want: Double = try field(c, "mean_nll", i)
        let lp = try m.transformer.continuationLogProbs(prompt: m.tokenizer.encode(promptText), continuation: answer)
        let nll = -lp.reduce(0, +) / Double(lp.count)
        rows.append(Row(name: String((c["answer"] as? String ?? "case \(i)").prefix(40)), maxDiff: abs(nll - want), mismatches: 0,
                        passed: abs(nll - want) <= tolerance))
      }
    case .lora:
      let r = try LoRAReference.verify(model: m.weights, file: reference)
      print(LoRAReference.report(r))  // ends with its "N passed, M failed" line
      let failed = r.filter { !$0.passed }.count
      if failed > 0 { throw ExitCode(1) }
      return
    }
    print(String(repeating: "-", count: 78))
    for r in rows {
      let diff = r.maxDiff.map { String(format: "%.2e", $0) } ?? "-"
      print("\(r.passed ? "PASS" : "FAIL")  \(r.name.replacingOccurrences(of: "\n", with: "\\n").padding(toLength: 42, withPad: " ", startingAt: 0))  max|diff| \(diff)  mismatches \(r.mismatches)  \(r.note)")
    }
    let failed = rows.filter { !$0.passed }.count
    print("\(rows.count - failed) passed, \(failed) failed")
    if failed > 0 { throw ExitCode(1) }
  }
}
