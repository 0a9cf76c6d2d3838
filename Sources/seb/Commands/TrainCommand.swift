// TrainCommand.swift: `seb train`, LoRA fine-tuning of the GGUF model on a JSONL or text file.
// Thin: reading/tokenizing is TrainingData, training is LoRATrainer, saving is LoRAAdapter.save
// (a PEFT adapter directory). Progress goes to stderr; `--json` prints one summary object on stdout.
import ArgumentParser
import CPUEngine
import Experiment
import Foundation
import GGUF
import LLM
import SelfEdit
import Tokenizer
import Training
import Workspace

enum LossMaskChoice: String, ExpressibleByArgument, CaseIterable {
  case all, completion
  /// SEAL's inner loop: pad to --pad-length with the EOS token and train on the pads too.
  case sealPadded = "seal-padded"
}

enum ScheduleChoice: String, ExpressibleByArgument, CaseIterable { case linear, constant }

struct TrainCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "train",
    abstract: "Fine-tune a LoRA adapter on a JSONL or text file and save it as a PEFT adapter.",
    discussion: """
      Data formats, by extension in any case (.jsonl, .json), else by content; UTF-8 with or without a BOM, LF, CRLF or CR line ends:
        JSON Lines  one object a line: {"text": ...} or {"prompt": ..., "completion": ...}
        JSON        an array of such objects, or of strings
        text        anything else: sequences separated by blank lines
      With --loss-mask completion only the completion is trained on. Defaults are SEAL's inner loop (r 32, alpha 64, q,v, lr 1e-3, 10 epochs, batch 1, linear decay, clip 1.0). The adapter directory is written whole or not at all (--force replaces an existing one).
      """)

  @OptionGroup var model: ModelOptions
  @Option(help: "Training data (.jsonl or text).") var data: String
  @Option(help: "Output adapter directory.") var out: String
  @Option(help: "LoRA rank.") var rank = 32
  @Option(help: "LoRA alpha (scale = alpha / rank).") var alpha = 64.0
  @Option(help: "Dropout on the adapter input.") var dropout = 0.0
  @Option(help: "Comma-separated projections: q,k,v,o,gate,up,down (or all).") var targets = "q,v"
  @Option(help: "Learning rate.") var lr = 1e-3
  @Option(help: "Epochs.") var epochs = 10
  @Option(help: "Sequences per batch.") var batchSize = 1
  @Option(help: "Gradient accumulation steps.") var gradAccum = 1
  @Option(help: "Learning-rate schedule.") var schedule: ScheduleChoice = .linear
  @Option(help: "Linear warm-up steps.") var warmup = 0
  @Option(help: "Gradient-norm clip (0 = off).") var maxGradNorm = 1.0
  @Option(help: "Which tokens carry loss: all, completion, seal-padded.") var lossMask: LossMaskChoice = .all
  @Option(help: "Padded length for --loss-mask seal-padded.") var padLength = 2048
  @Flag(help: "Append the EOS token to every sequence.") var appendEos = false
  @Option(help: "Seed (adapter init, dropout, shuffle).") var seed: UInt64 = 42
  @Flag(help: "Print a JSON summary (tokens, steps, seconds, tokens/s) on stdout.") var json = false
  @Flag(help: "Replace an existing --out adapter directory (atomically, no stale files kept).") var force = false
  @Option(
    help:
      "Training settings as JSON: the `training` object of a run config (same parser and checks); replaces the hyperparameter flags."
  )
  var config: String?

  func validate() throws {
    if !(maxGradNorm.isFinite && maxGradNorm >= 0) {
      throw ValidationError("--max-grad-norm must be a finite value >= 0 (0 = off), found \(maxGradNorm)")
    }
    if warmup < 0 { throw ValidationError("--warmup must be >= 0, found \(warmup)") }
  }

  /// The flags as the run config's `training` object: one set of range checks for both.
  func spec() throws -> TrainingSpec {
    var s = TrainingSpec()
    s.rank = rank; s.alpha = alpha; s.dropout = dropout
    s.targets = try parseTargets().map { String($0.rawValue.split(separator: "_")[0]) }
    s.learningRate = lr; s.epochs = epochs; s.batchSize = batchSize; s.gradientAccumulation = gradAccum
    s.maxGradNorm = maxGradNorm > 0 ? maxGradNorm : nil
    s.lossMask = lossMask == .sealPadded ? .sealPadded : .unpadded
    s.padLength = padLength
    return s
  }

  func parseTargets() throws -> [Projection] {
    if targets == "all" { return Projection.allCases }
    return try targets.split(separator: ",").map {
      let name = $0.trimmingCharacters(in: .whitespaces)
      guard let p = Projection(loraName: name) else {
        throw ValidationError("--targets: unknown projection '\(name)'; expected q,k,v,o,gate,up,down")
      }
      return p
    }
  }

  func run() throws {
    // One set of settings, every value checked (and the output checked) before the model is
    // loaded: the config's `training` object when given, else the flags.
    let spec: TrainingSpec
    if let config {
      spec = try TrainingSpec.parse(try JSONNode.load(config))
      try spec.validate(path: config, key: "training")
    } else {
      spec = try self.spec()
      try spec.validate(path: "seb train", key: "options")
    }
    try AtomicFile.checkCreatable(directory: out)
    if !force, let items = try? FileManager.default.contentsOfDirectory(atPath: out), !items.isEmpty {
      throw WorkspaceError.notWritable(
        path: out, message: "already holds files; choose another --out or pass --force to replace it")
    }
    let m = try model.load(pack: false)
    try LocalEngine.checkFits(spec, model: m.weights.config)
    let weights = m.weights, tokenizer = m.tokenizer
    let lora = spec.loraConfig(seed: seed)
    var cfg = try spec.trainingConfig(eos: tokenizer.eosId, seed: seed)
    if config == nil {
      // Flags a run config has no key for (the harness trains with a linear decay, all tokens or SEAL's pads).
      cfg.schedule =
        schedule == .constant
        ? (warmup > 0 ? .constantWithWarmup(warmupSteps: warmup) : .constant)
        : (warmup > 0 ? .linearWithWarmup(warmupSteps: warmup) : .linear)
      if lossMask == .completion { cfg.lossMask = .completionOnly }
    }
    // A config's appendEOS and maxLength apply as the flags do (EOS appended when asked; rows cut to maxLength);
    // unlike the inner loop, an EOS already at the end is appended again and blank rows are refused by TrainingData.
    let eos = appendEos || (config != nil && spec.appendEOS) ? tokenizer.eosId : nil
    var examples = TrainingData.examples(try TrainingData.read(path: data), eos: eos) { tokenizer.encode($0) }
    if config != nil {
      examples = examples.map {
        TrainingExample(
          tokens: Array($0.tokens.prefix(spec.maxLength)), promptLength: min($0.promptLength, spec.maxLength))
      }
    }
    let start = Date()
    var doneTokens = 0
    let (adapter, log) = try LoRATrainer.train(model: weights, examples: examples, adapterConfig: lora, config: cfg) {
      s, total in
      doneTokens += s.tokens
      let elapsed = Date().timeIntervalSince(start)
      let eta = elapsed / Double(s.step + 1) * Double(total - s.step - 1)
      let line = String(
        format: "step %d/%d  epoch %d  loss %.4f  lr %.2e  %.1f tokens/s  ETA %.0f s\n",
        s.step + 1, total, s.epoch + 1, s.loss, s.learningRate, Double(doneTokens) / max(elapsed, 1e-9), eta)
      FileHandle.standardError.write(Data(line.utf8))
    }
    try adapter.saveAtomically(to: URL(fileURLWithPath: out), replace: force)
    if json {
      let summary: JSONValue = [
        "tokens": JSONValue(log.tokens), "steps": JSONValue(log.steps.count),
        "seconds": .number(log.seconds), "tokens_per_second": .number(log.tokensPerSecond),
        "final_loss": .number(Double(log.losses.last ?? 0)), "adapter": .string(out),
      ]
      let d = try summary.text()
      print(String(decoding: d, as: UTF8.self))
    } else {
      print(
        "saved \(out): "
          + String(
            format: "%d steps, %d tokens, %.1f s, %.1f tokens/s, final loss %.4f",
            log.steps.count, log.tokens, log.seconds, log.tokensPerSecond, log.losses.last ?? 0))
    }
  }
}
