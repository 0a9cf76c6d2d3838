// ScoreCommand.swift: `seb score`: log-likelihood of a continuation after a prompt.
import ArgumentParser
import Foundation
import LLM
import Tensor
import Tokenizer
import Training

struct ScoreCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "score", abstract: "Mean log-likelihood of a continuation after a prompt.",
    discussion: """
      Prints the mean and total log-probability of the continuation's tokens (and the mean negative log-likelihood, the number in ../shared/reference/gold_nll.json). --chat wraps the prompt as a user message; --append-eos adds <|im_end|> to the continuation, as the QA evaluation does.
      Example: seb score --chat "Where did Super Bowl 50 take place?" --continuation "Santa Clara, California" --append-eos
      """)

  @OptionGroup var model: ModelOptions
  @OptionGroup var input: PromptArguments
  @Option(help: "The continuation to score.") var continuation: String
  @Flag(help: "Append the EOS token (<|im_end|>) to the continuation.") var appendEos = false
  @Option(help: "A LoRA adapter directory written by `seb train` (PEFT format).") var adapter: String?
  @Flag(help: "Print JSON.") var json = false

  struct Output: Encodable {
    let promptIds: [Int]
    let continuationIds: [Int]
    let promptTokens: Int
    let continuationTokens: Int
    let meanLogLikelihood: Double
    let totalLogLikelihood: Double
    let meanNLL: Double
    let tokenLogProbs: [Double]
  }

  func run() throws {
    let m = try model.load()
    let text = input.text(m.tokenizer)
    let p = m.tokenizer.encode(text)
    var c = m.tokenizer.encode(continuation)
    if appendEos, let e = m.tokenizer.eosId { c.append(e) }
    if p.isEmpty {
      throw LLMError.badOption(
        name: "prompt", value: "\"\(text)\"", expected: "text that encodes to at least one token")
    }
    if c.isEmpty {
      throw LLMError.badOption(
        name: "continuation", value: "\"\(continuation)\"", expected: "text that encodes to at least one token")
    }
    var delta: LinearDelta?
    if let adapter {
      delta = try LoRAAdapter.load(from: URL(fileURLWithPath: adapter), shape: m.weights.config).apply(to: m.weights)
    }
    let lp = try m.transformer.continuationLogProbs(prompt: p, continuation: c, delta: delta)
    let total = lp.reduce(0, +)
    let out = Output(
      promptIds: p, continuationIds: c, promptTokens: p.count, continuationTokens: c.count,
      meanLogLikelihood: total / Double(c.count),
      totalLogLikelihood: total, meanNLL: -total / Double(c.count), tokenLogProbs: lp)
    if json { try printJSON(out); return }
    print(
      String(
        format: "mean log-likelihood %.5f over %d tokens (total %.4f, mean NLL %.5f)", out.meanLogLikelihood, c.count,
        total, out.meanNLL))
  }
}
