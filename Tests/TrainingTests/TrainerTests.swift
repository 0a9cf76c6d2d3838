// The trainer: validation, loss masks, AdamW and schedules, NaN handling, learning.
import Foundation
import LLM
import Testing
import Training

@Suite("Trainer")
struct TrainerTests {
  let model = ModelWeights.random(config: tinyConfig(), seed: 31)
  let examples = [
    TrainingExample(tokens: [1, 5, 12, 3, 3, 7], promptLength: 2),
    TrainingExample(tokens: [2, 4, 6, 8, 10], promptLength: 3),
  ]

  func train(
    _ lora: LoRAConfig = LoRAConfig(rank: 2, alpha: 4, targets: [.q, .v]), _ cfg: TrainingConfig
  ) throws -> TrainingLog {
    try LoRATrainer.train(model: model, examples: examples, adapterConfig: lora, config: cfg).log
  }

  @Test("bad hyperparameters are rejected before any work")
  func rejects() throws {
    var cfg = TrainingConfig(learningRate: 1e-3, epochs: 1)
    #expect(throws: TrainingError.badHyperparameter(name: "rank", value: "0", expected: ">= 1")) {
      try train(LoRAConfig(rank: 0), cfg)
    }
    #expect(throws: TrainingError.self) { try train(LoRAConfig(rank: 2, dropout: 1), cfg) }
    #expect(throws: TrainingError.self) { try train(LoRAConfig(rank: 2, dropout: -0.1), cfg) }
    for lr in [-1e-3, .nan, .infinity] {
      cfg.learningRate = lr
      #expect(throws: TrainingError.self) { try train(LoRAConfig(rank: 2), cfg) }
    }
    cfg = TrainingConfig(learningRate: 1e-3, epochs: 0)
    #expect(throws: TrainingError.badHyperparameter(name: "epochs", value: "0", expected: ">= 1")) {
      try train(LoRAConfig(rank: 2), cfg)
    }
    cfg = TrainingConfig(learningRate: 1e-3, epochs: 1)
    let long = [TrainingExample(tokens: [Int](repeating: 1, count: 17))]
    #expect(throws: TrainingError.badSequence(index: 0, reason: "17 tokens; the context holds 16")) {
      try LoRATrainer.train(model: model, examples: long, adapterConfig: LoRAConfig(rank: 2), config: cfg)
    }
    #expect(throws: TrainingError.self) {
      try LoRATrainer.train(
        model: model, examples: [TrainingExample(tokens: [99, 1])], adapterConfig: LoRAConfig(rank: 2), config: cfg)
    }
  }

  @Test("a loss that turns NaN stops the run with the step number")
  func nanStops() throws {
    let bad = ModelWeights.random(config: tinyConfig(), seed: 32, tied: false)
    bad.tokenEmbedding[2 * 8] = .nan  // token 2 appears only in the second example (untied head)
    let ex = [TrainingExample(tokens: [1, 3, 5]), TrainingExample(tokens: [2, 4, 6])]
    var cfg = TrainingConfig(learningRate: 1e-3, epochs: 1)
    cfg.shuffle = false
    #expect(throws: TrainingError.nonFiniteLoss(step: 1, loss: "nan")) {
      try LoRATrainer.train(model: bad, examples: ex, adapterConfig: LoRAConfig(rank: 2), config: cfg)
    }
  }

  @Test("loss masks: all tokens, completion only, SEAL padded (pads are targets, pad keys masked)")
  func masks() {
    let e = TrainingExample(tokens: [7, 8, 9, 10], promptLength: 2)
    #expect(LossMask.allTokens.prepare(e).targets == [8, 9, 10, -1])
    #expect(LossMask.completionOnly.prepare(e).targets == [-1, 9, 10, -1])
    let p = LossMask.sealPadded(padToken: 0, length: 6).prepare(e)
    #expect(p.tokens == [7, 8, 9, 10, 0, 0])
    #expect(p.targets == [8, 9, 10, 0, 0, -1])
    #expect(p.validKeys == 4)
  }

  @Test("AdamW matches torch's formula step by step; weight decay is decoupled")
  func adamw() {
    let p = ScalarBuffer<Double>([1.0, -2.0]), g = ScalarBuffer<Double>([0.5, -0.25])
    let opt = AdamW<Double>(sizes: [2], weightDecay: 0.1)
    var m = [0.0, 0.0], v = [0.0, 0.0], ref = [1.0, -2.0]
    for t in 1...3 {
      opt.update([(p.pointer, g.pointer, 2)], lr: 0.01)
      for i in 0..<2 {
        ref[i] *= 1 - 0.01 * 0.1
        m[i] = 0.9 * m[i] + 0.1 * g[i]; v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i]
        let mh = m[i] / (1 - pow(0.9, Double(t))), vh = v[i] / (1 - pow(0.999, Double(t)))
        ref[i] -= 0.01 * mh / (vh.squareRoot() + 1e-8)
      }
    }
    #expect(abs(p[0] - ref[0]) < 1e-12 && abs(p[1] - ref[1]) < 1e-12)
  }

  @Test("schedules: linear decays to 0 without warm-up, warm-up ramps, clipping scales to max norm")
  func schedules() {
    #expect(LRSchedule.linear.factor(step: 0, total: 10) == 1)
    #expect(LRSchedule.linear.factor(step: 5, total: 10) == 0.5)
    #expect(LRSchedule.linearWithWarmup(warmupSteps: 2).factor(step: 1, total: 10) == 0.5)
    #expect(LRSchedule.linearWithWarmup(warmupSteps: 2).factor(step: 6, total: 10) == 0.5)
    #expect(LRSchedule.constant.factor(step: 9, total: 10) == 1)
    let p = ScalarBuffer<Double>(count: 2), g = ScalarBuffer<Double>([3, 4])
    let n = clipGradientNorm([(p.pointer, g.pointer, 2)], maxNorm: 1)
    #expect(n == 5)
    #expect(abs(g[0] - 0.6) < 1e-6 && abs(g[1] - 0.8) < 1e-6)
  }

  @Test("training lowers the loss; same seed gives the same adapter; steps follow epochs, batch and accumulation")
  func learns() throws {
    var cfg = TrainingConfig(learningRate: 1e-2, epochs: 8, lossMask: .completionOnly)
    cfg.maxGradNorm = nil
    let lora = LoRAConfig(rank: 4, alpha: 8, dropout: 0.1, targets: Projection.allCases)
    let r1 = try LoRATrainer.train(model: model, examples: examples, adapterConfig: lora, config: cfg)
    let r2 = try LoRATrainer.train(model: model, examples: examples, adapterConfig: lora, config: cfg)
    #expect(r1.log.steps.count == 16)
    let before = try LoRATrainer.evaluate(model: model, examples: examples, adapter: nil, mask: .completionOnly)
    let after = try LoRATrainer.evaluate(model: model, examples: examples, adapter: r1.adapter, mask: .completionOnly)
    #expect(zip(before, after).allSatisfy { $0.1 < $0.0 - 0.1 })
    #expect(r1.adapter.pairs.map(\.b) == r2.adapter.pairs.map(\.b))
    cfg.batchSize = 2; cfg.epochs = 3
    #expect(
      try LoRATrainer.train(model: model, examples: examples, adapterConfig: lora, config: cfg).log.steps.count == 3)
    cfg.batchSize = 1; cfg.gradientAccumulation = 2
    let ga = try LoRATrainer.train(model: model, examples: examples, adapterConfig: lora, config: cfg).log
    #expect(ga.steps.count == 3 && ga.steps.allSatisfy { $0.targets == 4 + 2 })
  }

  @Test("a batch of two equals accumulation of two (mean over all targets of the group)")
  func batchEqualsAccumulation() throws {
    var cfg = TrainingConfig(learningRate: 1e-2, epochs: 2)
    cfg.shuffle = false
    cfg.batchSize = 2
    let lora = LoRAConfig(rank: 2, alpha: 4, targets: [.q, .v, .up])
    let a = try LoRATrainer.train(model: model, examples: examples, adapterConfig: lora, config: cfg)
    cfg.batchSize = 1; cfg.gradientAccumulation = 2
    let b = try LoRATrainer.train(model: model, examples: examples, adapterConfig: lora, config: cfg)
    #expect(a.log.losses == b.log.losses)
    #expect(a.adapter.pairs.map(\.b) == b.adapter.pairs.map(\.b))
  }
}

@Suite("Training data and SEAL padding")
struct TrainingDataTests {
  @Test("JSONL text and prompt/completion rows and blank-line text blocks are read; bad rows name the line")
  func readFiles() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
      "seb-data-\(UInt32.random(in: 0...UInt32.max))")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let jl = dir.appendingPathComponent("d.jsonl")
    try "{\"text\": \"ab\"}\n\n{\"prompt\": \"p\", \"completion\": \"cd\"}\n".write(
      to: jl, atomically: true, encoding: .utf8)
    let rows = try TrainingData.read(path: jl.path)
    #expect(rows.count == 2 && rows[0].completion == "ab" && rows[1].prompt == "p")
    // One token per character: prompt "p" = 1 token, EOS 0 appended.
    let ex = TrainingData.examples(rows, eos: 0) { $0.unicodeScalars.map { Int($0.value) % 13 } }
    #expect(ex[1].tokens.count == 4 && ex[1].promptLength == 1 && ex[1].tokens.last == 0)
    let txt = dir.appendingPathComponent("d.txt")
    try "first block\nstill first\n\nsecond\n".write(to: txt, atomically: true, encoding: .utf8)
    #expect(try TrainingData.read(path: txt.path).map(\.completion) == ["first block\nstill first", "second"])
    try "{\"text\": 1}\n".write(to: jl, atomically: true, encoding: .utf8)
    #expect(
      throws: TrainingError.badDataFile(
        path: jl.path, line: 1, detail: "expected a string key 'text' or string keys 'prompt' and 'completion'")
    ) {
      try TrainingData.read(path: jl.path)
    }
  }

  @Test(
    "formats by case-insensitive extension or content; BOM, CRLF and CR handled; a JSON array of strings or objects")
  func formats() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
      "seb-fmt-\(UInt32.random(in: 0...UInt32.max))")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    func write(_ name: String, _ text: String) throws -> String {
      let u = dir.appendingPathComponent(name)
      try Data(text.utf8).write(to: u)
      return u.path
    }
    #expect(
      try TrainingData.read(path: try write("UP.JSONL", "{\"text\": \"a\"}\r\n{\"text\": \"b\"}\r\n")).map(\.completion)
        == ["a", "b"])
    #expect(
      try TrainingData.read(
        path: try write("arr.json", "[\"a\", {\"text\": \"b\"}, {\"prompt\": \"p\", \"completion\": \"c\"}]")
      ).map(\.completion) == ["a", "b", "c"])
    #expect(try TrainingData.read(path: try write("noext", "\u{FEFF}{\"text\": \"x\"}\n")).map(\.completion) == ["x"])
    #expect(
      try TrainingData.read(path: try write("crlf.txt", "one\r\n\r\ntwo\r\n")).map(\.completion) == ["one", "two"])
    #expect(try TrainingData.read(path: try write("cr.txt", "one\r\rtwo")).map(\.completion) == ["one", "two"])
    #expect(throws: TrainingError.self) { try TrainingData.read(path: try write("bad.json", "{\"text\": \"x\"}")) }
    #expect(
      throws: TrainingError.badDataFile(
        path: dir.appendingPathComponent("latin1.txt").path, line: 0, detail: "not UTF-8 text")
    ) {
      let u = dir.appendingPathComponent("latin1.txt")
      try Data([0x63, 0x61, 0x66, 0xE9]).write(to: u)
      _ = try TrainingData.read(path: u.path)
    }
  }

  @Test("SEAL padded training counts the pads as targets and runs to a finite, lower loss")
  func sealPadded() throws {
    let model = ModelWeights.random(config: tinyConfig(), seed: 41)
    let ex = [TrainingExample(tokens: [1, 5, 12, 3]), TrainingExample(tokens: [2, 4, 6])]
    var cfg = TrainingConfig(learningRate: 1e-2, epochs: 6, lossMask: .sealPadded(padToken: 0, length: 10))
    cfg.shuffle = false
    let r = try LoRATrainer.train(model: model, examples: ex, adapterConfig: LoRAConfig(rank: 2, alpha: 4), config: cfg)
    #expect(r.log.steps.allSatisfy { $0.targets == 9 && $0.tokens == 10 })
    #expect(r.log.losses.last! < r.log.losses.first!)
    // The padded loss differs from the unpadded one (the pads are trained on).
    let padded = try LoRATrainer.evaluate(model: model, examples: ex, adapter: nil, mask: cfg.lossMask)
    let plain = try LoRATrainer.evaluate(model: model, examples: ex, adapter: nil, mask: .allTokens)
    #expect(abs(padded[0] - plain[0]) > 1e-3)
  }
}

@Suite("Reference replay")
struct LoRAReferenceTests {
  @Test("verify replays a lora.json-format file, flags a loss outside tolerance, and reports N passed, M failed")
  func replay() throws {
    let model = ModelWeights.random(config: tinyConfig(), seed: 51)
    let base = LoRAReferenceCase(
      name: "tiny", targets: ["q_proj", "v_proj", "down_proj"], r: 2, alpha: 4, lr: 1e-2, steps: 6, decay: true,
      seq_ids: [[1, 5, 12, 3], [2, 4, 6, 8, 10]], losses_before_each_step: [Double](repeating: 1, count: 6),
      final_loss_per_sequence: [1, 1])
    // First pass measures; the second feeds the measured numbers back as the reference.
    let measured = try LoRAReference.verify(model: model, case: base)
    #expect(measured.count == 8)
    var ref = base
    ref.losses_before_each_step = measured.prefix(6).map(\.measured)
    ref.final_loss_per_sequence = measured.suffix(2).map(\.measured)
    ref.losses_before_each_step[1] *= 1 + 3e-4  // outside 1e-4 (early step)
    ref.losses_before_each_step[5] *= 1 + 3e-4  // inside 1e-3 (late step)
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
      "seb-ref-\(UInt32.random(in: 0...UInt32.max)).json")
    defer { try? FileManager.default.removeItem(at: dir) }
    struct F: Encodable { let cases: [LoRAReferenceCase] }
    try JSONEncoder().encode(F(cases: [ref])).write(to: dir)
    let rows = try LoRAReference.verify(model: model, file: dir.path)
    #expect(rows.filter { !$0.passed }.map(\.what) == ["step 1"])
    #expect(measured[6].measured < measured[0].measured)  // it learns: seq 0 after training vs before
    #expect(LoRAReference.report(rows).hasSuffix("7 passed, 1 failed"))
    #expect(throws: TrainingError.self) { try LoRAReference.verify(model: model, file: dir.path + ".missing") }
  }
}
