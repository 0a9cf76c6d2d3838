// GenerateCommand.swift: `seb generate`: sampled or greedy continuations, many at once.
import ArgumentParser
import Foundation
import LLM
import Tensor
import Tokenizer
import Training

struct SamplingArguments: ParsableArguments {
  @Option(help: "Maximum new tokens per sample.") var maxTokens = 128
  @Option(help: "Temperature (0 = greedy).") var temperature: Float = 0
  @Option(help: "Nucleus sampling: keep tokens up to this cumulative probability (1 = off).") var topP: Float = 1
  @Option(help: "Keep only the k most likely tokens (0 = off).") var topK = 0
  @Option(help: "Drop tokens below min-p x p(most likely) (0 = off).") var minP: Float = 0
  @Option(help: "Subtract from the logits of tokens already generated (0 = off).") var presencePenalty: Float = 0
  @Option(help: "Samples per prompt.") var n = 1
  @Option(help: "Seed; sample i uses a seed derived from it, so results do not depend on batching.") var seed: UInt64 =
    0
  @Option(help: "Stop when this text appears (repeatable); the text is cut before it.") var stop: [String] = []

  var options: SamplingOptions {
    SamplingOptions(temperature: temperature, topP: topP, topK: topK, minP: minP, presencePenalty: presencePenalty)
  }
}

/// --prompt TEXT or --chat TEXT (with --system): the text a command continues or scores.
struct PromptArguments: ParsableArguments {
  @Option(help: "Raw prompt text.") var prompt: String?
  @Option(help: "A user message, formatted with the chat template.") var chat: String?
  @Option(help: "System message for --chat (default: the template's own).") var system: String?

  func validate() throws {
    if (prompt == nil) == (chat == nil) { throw ValidationError("give exactly one of --prompt TEXT or --chat TEXT") }
  }

  /// The prompt as is, or the chat message in the model's template with the assistant turn opened.
  func text(_ tok: Tokenizer) -> String {
    guard let chat else { return prompt ?? "" }
    var msgs: [ChatMessage] = []
    if let system { msgs.append(.system(system)) }
    msgs.append(.user(chat))
    return tok.chatPrompt(msgs, addGenerationPrompt: true)
  }
}

struct GenerateCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "generate", abstract: "Generate text from a raw prompt or a chat message.",
    discussion: """
      --prompt sends the text as is; --chat wraps it as a user message in SmolLM2's ChatML template
      (with the template's default system turn unless --system is given). Generation stops at <|im_end|> or <|endoftext|>, at --stop texts, or after --max-tokens.
      Examples:
        seb generate --chat "What is the capital of France?"
        seb generate --prompt "The capital of France is" --temperature 0.8 --top-p 0.95 --n 4 --seed 1
        seb generate --chat "Where was Super Bowl 50 played?" --adapter runs/sb50-adapter
      """)

  @OptionGroup var model: ModelOptions
  @OptionGroup var sampling: SamplingArguments
  @OptionGroup var input: PromptArguments
  @Option(help: "Sequences decoded together.") var batch = 8
  @Option(help: "A LoRA adapter directory written by `seb train`.") var adapter: String?
  @Flag(help: "Print JSON with token counts and timings.") var json = false

  func validate() throws {
    if sampling.n < 1 { throw ValidationError("--n must be >= 1, found \(sampling.n)") }
    if batch < 1 { throw ValidationError("--batch must be >= 1, found \(batch)") }
  }

  struct Output: Encodable {
    struct Sample: Encodable {
      let sample: Int
      let text: String
      let tokens: [Int]
      let finish: String
      let generatedTokens: Int
      let prefillSeconds: Double
      let decodeSeconds: Double
    }
    let prompt: String
    let promptTokens: Int
    let samples: [Sample]
    let generatedTokens: Int
    let prefillSeconds: Double
    let decodeSeconds: Double
    let wallSeconds: Double
    let tokensPerSecond: Double
    let seed: UInt64
    let threads: Int
    let blasCore: String
    let adapter: String?
  }

  func run() throws {
    let m = try model.load()
    let tok = m.tokenizer
    let text = input.text(tok)
    let ids = tok.encode(text)
    let gen = Generator(transformer: m.transformer) { (try? tok.decode($0)) ?? "" }
    if let adapter {
      let a = try LoRAAdapter.load(from: URL(fileURLWithPath: adapter), shape: m.weights.config)
      gen.delta = try a.apply(to: m.weights)
    }
    let req = GenerationRequest(
      promptTokens: ids, options: sampling.options, maxNewTokens: sampling.maxTokens,
      stopTokens: tok.endOfGenerationIds, stopStrings: sampling.stop, samples: sampling.n, seed: sampling.seed)
    let t0 = Date()
    let results = try gen.generate([req], batchSize: batch) { done, total in
      if !json && total > 1 { eprint("  \(done)/\(total) samples done") }
    }
    let wall = Date().timeIntervalSince(t0)
    let generated = results.reduce(0) { $0 + $1.tokens.count }
    let out = Output(
      prompt: text, promptTokens: ids.count,
      samples: results.map {
        .init(
          sample: $0.sample, text: $0.text, tokens: $0.tokens, finish: $0.finish.rawValue,
          generatedTokens: $0.tokens.count, prefillSeconds: $0.prefillSeconds, decodeSeconds: $0.decodeSeconds)
      },
      generatedTokens: generated, prefillSeconds: results.reduce(0) { $0 + $1.prefillSeconds },
      decodeSeconds: results.reduce(0) { $0 + $1.decodeSeconds }, wallSeconds: wall,
      tokensPerSecond: Double(generated) / max(wall, 1e-9), seed: sampling.seed, threads: m.threads,
      blasCore: BLAS.coreName, adapter: adapter)
    if json { try printJSON(out); return }
    for r in results {
      if results.count > 1 { print("--- sample \(r.sample) (\(r.finish.rawValue))") }
      // Drop a trailing control token from the display text.
      var t = r.text
      for id in m.model.stopIds {
        if let stop = m.tokenizer.tokenText(id), t.hasSuffix(stop) { t.removeLast(stop.count) }
      }
      print(t)
    }
    eprint(
      String(
        format: "[%d prompt tokens, %d generated in %.2f s, %.1f tokens/s, %d threads]",
        ids.count, generated, wall, Double(generated) / max(wall, 1e-9), m.threads))
  }
}
