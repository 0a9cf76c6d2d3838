import Experiment
// ProposerUpdate.swift: the proposer's SFT step (reference-pipeline 3.10 and 2.6 step 4): rows of
// prompt + completion as plain text (no chat template, reference-pipeline 5 X10), EOS appended,
// loss on the completion only, LoRA on all seven projections, then merged into the weights and
// written as a GGUF file that the next iteration loads (so a resumed run reads exactly the
// weights an uninterrupted one used).
import Foundation
import GGUF
import LLM
import Tensor
import Training
import Workspace

public enum ProposerUpdate {
  /// Token ids of the rows as TRL prepares them: prompt and completion cut so that their sum fits
  /// `maxLength` (the completion first; a prompt alone over budget keeps half), EOS appended, then
  /// every row cut to the longest length measured before EOS, so the longest row loses its EOS.
  public static func examples(_ rows: [SFTRow], model: LanguageModel, maxLength: Int) -> [TrainingExample] {
    var pairs: [(p: [Int], c: [Int])] = []
    for r in rows {
      var p = model.encode(r.prompt)
      var c = model.encode(r.completion)
      if p.count + c.count > maxLength {
        if p.count >= maxLength { p = Array(p.prefix(maxLength / 2)) }
        c = Array(c.prefix(maxLength - p.count))
      }
      pairs.append((p, c))
    }
    let longest = pairs.map { $0.p.count + $0.c.count }.max() ?? 0
    let eos = model.eosId.map { [$0] } ?? []
    return pairs.map { TrainingExample(tokens: Array(($0.p + $0.c + eos).prefix(longest)), promptLength: $0.p.count) }
      .filter { $0.tokens.count > $0.promptLength }
  }

  /// Trains the update, merges it into `model`'s weights (which are then stale: reload from
  /// `out`), and writes the merged model to `out`.
  public static func run(
    rows: [SFTRow], model: LanguageModel, spec: SFTSpec, out: String,
    log: @escaping (String) -> Void = { _ in }
  ) throws -> SFTLog {
    let ex = examples(rows, model: model, maxLength: spec.maxLength)
    guard !ex.isEmpty else {
      // No row selected, or every selected completion empty (possible for ReST-EM): nothing to
      // learn, the proposer stays (its file copied, so the next iteration's baseline is unchanged).
      try carryOver(model: model, to: out)
      return SFTLog(
        rows: rows.count, maxLength: 0, steps: 0, tokens: 0, losses: [],
        checkpoint: URL(fileURLWithPath: out).lastPathComponent,
        checkpointSHA256: try SHA256.hashFile(at: URL(fileURLWithPath: out)).digest)
    }
    let lora = LoRAConfig(rank: spec.rank, alpha: spec.alpha, dropout: 0, targets: Projection.allCases, seed: spec.seed)
    var tc = TrainingConfig(
      learningRate: spec.learningRate, epochs: spec.epochs, batchSize: 1,
      gradientAccumulation: spec.gradientAccumulation,
      schedule: .linear, maxGradNorm: 1.0, seed: spec.seed)
    tc.lossMask = .completionOnly  // TRL's completion_only_loss for prompt-completion rows
    let (adapter, trainLog) = try LoRATrainer.train(model: model.weights, examples: ex, adapterConfig: lora, config: tc)
    { step, total in
      log(String(format: "  proposer SFT step %d/%d loss %.4f", step.step + 1, total, step.loss))
    }
    _ = try adapter.merge(into: model.weights)
    try writeGGUF(model: model, to: out)
    return SFTLog(
      rows: rows.count, maxLength: ex.map(\.tokens.count).max() ?? 0, steps: trainLog.steps.count,
      tokens: trainLog.tokens,
      losses: trainLog.losses, checkpoint: URL(fileURLWithPath: out).lastPathComponent,
      checkpointSHA256: try SHA256.hashFile(at: URL(fileURLWithPath: out)).digest)
  }

  /// The proposer unchanged: its file copied byte for byte (re-encoding would round its weights).
  public static func carryOver(model: LanguageModel, to out: String) throws {
    guard let d = FileManager.default.contents(atPath: model.path) else {
      throw LLMError.modelFileMissing(path: model.path)
    }
    try AtomicFile.write(d, to: out)
  }

  /// The seven projections' GGUF names of a layer, with the weights holding them.
  static func projections(_ l: LayerWeights) -> [(String, Linear)] {
    [
      ("attn_q", l.wq), ("attn_k", l.wk), ("attn_v", l.wv), ("attn_output", l.wo), ("ffn_gate", l.wGate),
      ("ffn_up", l.wUp), ("ffn_down", l.wDown),
    ]
  }

  /// The model's file with the seven projections replaced by the in-memory (merged) weights, as
  /// Q8_0 where rows allow (decode stays on the packed kernels; its rounding, ~1/250 of a block's
  /// largest weight, is well below an SFT delta of lr 3e-4 x 10 steps), else F32. Every other
  /// tensor and all metadata are copied unchanged. Written whole, then renamed into place.
  public static func writeGGUF(model: LanguageModel, to out: String) throws {
    let f = model.file
    var w = try GGUFWriter(alignment: f.alignment)
    for k in f.metadata.keys { try w.add(k, f.metadata.value(k)!) }
    var replaced: [String: Linear] = [:]
    for (i, l) in model.weights.layers.enumerated() {
      for (name, lin) in projections(l) { replaced["blk.\(i).\(name).weight"] = lin }
    }
    for t in f.tensors {
      if let lin = replaced[t.name] {
        let type: GGUFType = t.dims[0] % GGUFType.q8_0.blockSize == 0 ? .q8_0 : .f32
        try w.addTensor(t.name, dims: t.dims, values: lin.w.array, type: type)
      } else {
        let raw = try f.tensorData(t)
        try w.addTensor(t.name, dims: t.dims, type: t.type, rawBytes: Array(raw))
      }
    }
    try AtomicFile.write(try w.serializedData(), to: out)
  }
}
