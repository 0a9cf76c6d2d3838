// VerifyCommand.swift: `seb verify KIND --reference FILE`: runs the runtime on a reference file of
// ../shared/reference and compares, one row per case, ending with "N passed, M failed". Thin: the
// checks are LLM's RuntimeReference and Training's LoRAReference (tolerances are documented there).
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
    commandName: "verify",
    abstract: "Check the runtime against a reference file (tokenizer, logits, greedy, nll, lora).",
    discussion: """
      The files are in ../shared/reference (outputs of llama.cpp and HF transformers on the same GGUF). Exits non-zero when any case is outside tolerance.
      Example: seb verify logits --reference ../shared/reference/logits.json
      """)

  @Argument(help: "What to verify: tokenizer, logits, greedy, nll or lora.") var kind: VerifyKind
  @Option(help: "Reference JSON file.") var reference: String
  @OptionGroup var model: ModelOptions
  @Option(help: "Absolute tolerance for logits and NLL.") var tolerance = 2e-3
  @Option(help: "Greedy tokens that must agree.") var greedyPrefix = 16
  @Flag(
    help:
      "logits: feed the prompt one token at a time (the packed quantized decode kernels) instead of one float32 sgemm pass."
  )
  var decodePath = false

  func run() throws {
    // Refuse a missing reference before loading the model.
    guard FileManager.default.fileExists(atPath: reference) else {
      throw LLMError.inputFileMissing(path: reference, what: "reference file")
    }
    let m = try model.load()
    if kind == .lora {
      let r = try LoRAReference.verify(model: m.weights, file: reference)
      print(LoRAReference.report(r))  // ends with its "N passed, M failed" line
      if r.isEmpty || r.contains(where: { !$0.passed }) { throw ExitCode(1) }
      return
    }
    var o = RuntimeReference.Options()
    o.tolerance = tolerance
    o.greedyPrefix = greedyPrefix
    o.decodePath = decodePath
    let rows = try RuntimeReference.verify(
      RuntimeReference.Kind(rawValue: kind.rawValue)!, model: m.model, file: reference, options: o)
    print(RuntimeReference.report(rows))
    if rows.contains(where: { !$0.passed }) { throw ExitCode(1) }
  }
}
