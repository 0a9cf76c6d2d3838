import CPUEngine
import EngineAPI
import Experiment
// The proposer update on the real SmolLM2-135M-Instruct GGUF (SEB_REAL_MODEL=1, release): an SFT
// step merged and written as GGUF, reloaded, scores a text as the base model plus the same
// adapter applied at inference does (within the Q8_0 rounding of the rewritten projections), and
// differently from the base model: the writer keeps every projection's row order (llama.cpp's
// permuted q/k included) and the merge lands in the right tensors.
import Foundation
import GGUF
import LLM
import SearchLoop
import Testing
import Training

private enum ProposerFixture {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
  static let modelPath = root.appendingPathComponent("Data/models/SmolLM2-135M-Instruct.Q4_1.gguf").path
  static var enabled: Bool {
    ProcessInfo.processInfo.environment["SEB_REAL_MODEL"] == "1" && FileManager.default.fileExists(atPath: modelPath)
  }
}

@Suite("Proposer update on the real model", .enabled(if: ProposerFixture.enabled))
struct ProposerUpdateRealModelTests {
  @Test("merged + written as GGUF + reloaded = base + the adapter at inference, within Q8_0 rounding; not the base")
  func mergedCheckpointMatchesAdapter() throws {
    let base = try LanguageModel(path: ProposerFixture.modelPath)
    let rows = [
      SFTRow(prompt: "The capital of Zubrowka is", completion: " Lutz, a city on the river Ost."),
      SFTRow(prompt: "Lutz is the capital of", completion: " Zubrowka."),
    ]
    let ex = ProposerUpdate.examples(rows, model: base, maxLength: 64)
    var tc = TrainingConfig(
      learningRate: 3e-3, epochs: 3, batchSize: 1, gradientAccumulation: 1, schedule: .linear, maxGradNorm: 1.0,
      seed: 42)
    tc.lossMask = .completionOnly
    let lora = LoRAConfig(rank: 8, alpha: 16, dropout: 0, targets: Projection.allCases, seed: 42)
    let (adapter, _) = try LoRATrainer.train(model: base.weights, examples: ex, adapterConfig: lora, config: tc)
    let probe = (base.encode("The capital of Zubrowka is"), base.encode(" Lutz"))
    let withDelta = try base.continuationLogProbs(
      prompt: probe.0, continuation: probe.1, delta: try adapter.apply(to: base.weights))
    let plain = try base.continuationLogProbs(prompt: probe.0, continuation: probe.1)

    let copy = try LanguageModel(path: ProposerFixture.modelPath)
    _ = try adapter.merge(into: copy.weights)
    let out = FileManager.default.temporaryDirectory.appendingPathComponent("seb-proposer-\(UUID().uuidString).gguf")
      .path
    defer { try? FileManager.default.removeItem(atPath: out) }
    try ProposerUpdate.writeGGUF(model: copy, to: out)
    let reloaded = try LanguageModel(path: out)
    let merged = try reloaded.continuationLogProbs(prompt: probe.0, continuation: probe.1)
    let sum = { (v: [Double]) in v.reduce(0, +) }
    print("log p(' Lutz'): base \(sum(plain)), base + adapter \(sum(withDelta)), merged checkpoint \(sum(merged))")
    #expect(sum(withDelta) - sum(plain) > 1, "the SFT step must move the probe")
    #expect(abs(sum(merged) - sum(withDelta)) < 0.1 * abs(sum(withDelta) - sum(plain)))
    #expect(reloaded.weights.layers.count == base.weights.layers.count)
  }
}

@Suite("Wide adapters on the real model", .enabled(if: ProposerFixture.enabled))
struct WideAdapterRealModelTests {
  @Test(
    "a rank-128 template (the reference's raw proposals) trains on q,v: SmolLM2's narrowest adapted projection is 192 wide"
  )
  func rank128Trains() throws {
    let engine = try LocalEngine(path: ProposerFixture.modelPath)
    var spec = TrainingSpec()
    spec.rank = 128; spec.alpha = 256; spec.epochs = 1
    let r = try engine.train(
      [TrainJob(sequences: ["Lutz is the capital of Zubrowka."], spec: spec, seed: 1)], adaptersPerStep: 1,
      progress: nil)
    let trained = try r[0].get()
    #expect(trained.summary.steps == 1 && trained.summary.losses.allSatisfy(\.isFinite))
    spec.rank = 193
    #expect(throws: (any Error).self) { try engine.checkFits(spec) }
    engine.release([trained.adapter])
  }
}
