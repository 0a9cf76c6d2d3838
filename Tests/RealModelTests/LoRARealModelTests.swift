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
    for r in rows { #expect(r.passed, "\(r.caseName) \(r.what): ref \(r.reference) got \(r.measured) rel \(r.relativeError)") }
  }
}
