// LoRA training trajectories on the real SmolLM2-135M-Instruct GGUF against HF + PEFT float32
// (../shared/reference/lora.json), enabled by SEB_REAL_MODEL=1; run it in release.
// Tolerances (issue 3): 1e-4 relative for the first 4 losses of a case, 1e-3 afterwards.
import Foundation
import GGUF
import LLM
import Testing
import Training

private enum LoRARealFixture {
  /// Package root: this file is <root>/Tests/RealModelTests/LoRARealModelTests.swift.
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
  static let modelPath = root.appendingPathComponent("Data/models/SmolLM2-135M-Instruct.Q4_1.gguf").path
  static let referencePath = root.appendingPathComponent("../shared/reference/lora.json").standardized.path
  static var enabled: Bool {
    ProcessInfo.processInfo.environment["SEB_REAL_MODEL"] == "1"
      && FileManager.default.fileExists(atPath: modelPath) && FileManager.default.fileExists(atPath: referencePath)
  }
}

@Suite("LoRA trajectories on the real model", .enabled(if: LoRARealFixture.enabled))
struct LoRARealModelTests {
  @Test("every loss of lora.json is reproduced within tolerance")
  func trajectories() throws {
    let model = try ModelWeights(gguf: try GGUFFile(path: LoRARealFixture.modelPath), pack: false)
    let rows = try LoRAReference.verify(model: model, file: LoRARealFixture.referencePath)
    print(LoRAReference.report(rows))
    #expect(rows.count >= 16)
    for r in rows {
      #expect(r.passed, "\(r.caseName) \(r.what): ref \(r.reference) got \(r.measured) rel \(r.relativeError)")
    }
  }
}

@Suite("Packed multi-adapter training on the real model", .enabled(if: LoRARealFixture.enabled))
struct PackedRealModelTests {
  @Test(
    "four adapters packed train as each alone: every loss within 1e-5 relative (float32), trained adapters equivalent")
  func packedEqualsAlone() throws {
    let model = try ModelWeights(gguf: try GGUFFile(path: LoRARealFixture.modelPath), pack: false)
    let c = model.config
    var rng = TrainRNG(seed: 5)
    // Short sequences of SEAL's self-edit lengths, different settings per adapter.
    func job(_ i: Int) throws -> TrainingJob {
      let seqs = (0..<(2 + i)).map { _ in
        TrainingExample(tokens: (0..<(20 + Int(rng.next() % 30))).map { _ in 100 + Int(rng.next() % 20000) })
      }
      let lora = LoRAConfig(
        rank: [32, 16, 8, 64][i], alpha: 64, targets: i == 3 ? Projection.allCases : [.q, .v], seed: UInt64(i + 1))
      var tc = TrainingConfig(learningRate: [1e-3, 3e-4, 1e-3, 1e-4][i], epochs: 2 + i % 2, seed: UInt64(10 + i))
      tc.gradientAccumulation = i == 2 ? 2 : 1
      return TrainingJob(examples: seqs, adapter: try LoRAAdapter(config: lora, shape: c), config: tc)
    }
    let jobs = try (0..<4).map(job)
    let copies = jobs.map { TrainingJob(examples: $0.examples, adapter: $0.adapter.copy(), config: $0.config) }
    let packed = try LoRATrainer.train(model: model, jobs: jobs, packing: PackingOptions(adaptersPerStep: 4))
    for (j, alone) in copies.enumerated() {
      let log = try LoRATrainer.train(
        model: model, examples: alone.examples, adapter: alone.adapter, config: alone.config)
      let p = try packed[j].get()
      #expect(p.steps.count == log.steps.count)
      var worst = 0.0
      for (a, b) in zip(log.steps, p.steps) { worst = max(worst, abs(a.loss - b.loss) / abs(a.loss)) }
      print("job \(j): \(log.steps.count) steps, max relative loss difference \(worst)")
      #expect(worst <= 1e-5, "job \(j): \(worst)")
      // Parameters are compared through what they do: AdamW divides by sqrt(v), so elements whose
      // gradient is ~0 move by up to lr per step on rounding noise; the trained adapters' losses on
      // their own sequences must agree.
      let la = try LoRATrainer.evaluate(model: model, examples: alone.examples, adapter: alone.adapter)
      let lb = try LoRATrainer.evaluate(model: model, examples: alone.examples, adapter: jobs[j].adapter)
      for (x, y) in zip(la, lb) {
        #expect(abs(x - y) <= 1e-4 * abs(x), "job \(j): trained adapters give losses \(x) and \(y)")
      }
    }
  }
}
