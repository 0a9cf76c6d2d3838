// LoRAReference.swift: replays the LoRA trajectories of ../shared/reference/lora.json (HF
// transformers + PEFT in float32) and compares every loss.
//
// Protocol of the file (reference README): A[i][j] = 0.01 sin(i + 0.1 j) (Double, then float32),
// B = 0, scale alpha/r, AdamW(0.9, 0.999, 1e-8, wd 0), no clipping, no dropout, batch of one;
// step k trains on sequences[k % n] with lr, or lr (1 - k/steps) when `decay`; the loss is the
// mean next-token cross-entropy over all n-1 targets. Tolerances (issue 3): 1e-4 relative for the
// first 4 steps, 1e-3 afterwards and for the final per-sequence losses.
import Foundation
import LLM

public struct LoRAReferenceCase: Codable, Sendable {
  public var name: String
  public var targets: [String]
  public var r: Int
  public var alpha: Double
  public var lr: Double
  public var steps: Int
  public var decay: Bool
  public var seq_ids: [[Int]]
  public var losses_before_each_step: [Double]
  public var final_loss_per_sequence: [Double]

  public init(
    name: String, targets: [String], r: Int, alpha: Double, lr: Double, steps: Int, decay: Bool,
    seq_ids: [[Int]], losses_before_each_step: [Double], final_loss_per_sequence: [Double]
  ) {
    self.name = name; self.targets = targets; self.r = r; self.alpha = alpha; self.lr = lr; self.steps = steps
    self.decay = decay; self.seq_ids = seq_ids; self.losses_before_each_step = losses_before_each_step
    self.final_loss_per_sequence = final_loss_per_sequence
  }
}

struct LoRAReferenceFile: Codable { var cases: [LoRAReferenceCase] }

/// One compared number.
public struct LoRAReferenceRow: Sendable, Equatable {
  public var caseName: String
  /// "step k" or "final seq i".
  public var what: String
  public var reference: Double
  public var measured: Double
  public var relativeError: Double
  public var tolerance: Double
  public var passed: Bool { relativeError <= tolerance }
}

public enum LoRAReference {
  public static func load(file: String) throws -> [LoRAReferenceCase] {
    guard let data = FileManager.default.contents(atPath: file) else {
      throw TrainingError.badReferenceFile(path: file, detail: "cannot read the file")
    }
    do { return try JSONDecoder().decode(LoRAReferenceFile.self, from: data).cases } catch {
      throw TrainingError.badReferenceFile(
        path: file,
        detail:
          "expected {cases: [{name, targets, r, alpha, lr, steps, decay, seq_ids, losses_before_each_step, final_loss_per_sequence}]}: \(error)"
      )
    }
  }

  /// Replays every case of `file` on `model`; one row per compared loss.
  public static func verify(model: ModelWeights, file: String) throws -> [LoRAReferenceRow] {
    try load(file: file).flatMap { try verify(model: model, case: $0, path: file) }
  }

  public static func verify(
    model: ModelWeights, case rc: LoRAReferenceCase, path: String = "reference"
  ) throws -> [LoRAReferenceRow] {
    var targets: [Projection] = []
    for t in rc.targets {
      guard let p = Projection(loraName: t) else {
        throw TrainingError.badReferenceFile(path: path, detail: "case \(rc.name): unknown target '\(t)'")
      }
      targets.append(p)
    }
    guard !rc.seq_ids.isEmpty, rc.seq_ids.allSatisfy({ $0.count >= 2 }), rc.steps >= 1 else {
      throw TrainingError.badReferenceFile(
        path: path, detail: "case \(rc.name): needs steps >= 1 and sequences of >= 2 tokens")
    }
    let adapter = try LoRAAdapter(
      config: LoRAConfig(rank: rc.r, alpha: rc.alpha, dropout: 0, targets: targets, initialization: .referenceSine),
      shape: model.config)
    let engine = try LoRAEngine<Float>(
      base: BaseWeights(model: model), adapter: adapter, maxTokens: rc.seq_ids.map(\.count).max() ?? 2)
    let params = engine.parameterTensors
    let adam = AdamW<Float>(sizes: params.map(\.n))
    func targetsOf(_ s: [Int]) -> [Int] { (0..<s.count).map { $0 + 1 < s.count ? s[$0 + 1] : -1 } }
    var rows: [LoRAReferenceRow] = []
    func row(_ what: String, _ ref: Double, _ got: Double, _ tol: Double) {
      let rel = got.isFinite ? abs(got - ref) / max(abs(ref), 1e-12) : .infinity
      rows.append(
        LoRAReferenceRow(
          caseName: rc.name, what: what, reference: ref, measured: got, relativeError: rel, tolerance: tol))
    }
    for k in 0..<rc.steps {
      let s = rc.seq_ids[k % rc.seq_ids.count]
      engine.zeroGrad()
      let r = try engine.forward(tokens: s, targets: targetsOf(s), training: false)
      let loss = r.lossSum / Double(r.count)
      if k < rc.losses_before_each_step.count {
        row("step \(k)", rc.losses_before_each_step[k], loss, k < 4 ? 1e-4 : 1e-3)
      }
      engine.backward(lossWeight: Float(1.0 / Double(r.count)))
      let lr = rc.decay ? rc.lr * (1 - Double(k) / Double(rc.steps)) : rc.lr
      adam.update(params, lr: lr)
    }
    for (i, s) in rc.seq_ids.enumerated() where i < rc.final_loss_per_sequence.count {
      let r = try engine.forward(tokens: s, targets: targetsOf(s), training: false)
      row("final seq \(i)", rc.final_loss_per_sequence[i], r.lossSum / Double(r.count), 1e-3)
    }
    return rows
  }

  /// The `N passed, M failed` lines the CLI prints.
  public static func report(_ rows: [LoRAReferenceRow]) -> String {
    func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
    var out = rows.map {
      "\($0.passed ? "ok  " : "FAIL") \(pad($0.caseName, 16)) \(pad($0.what, 13)) "
        + String(
          format: "ref %.6f got %.6f rel %.2e (tol %.0e)", $0.reference, $0.measured, $0.relativeError, $0.tolerance)
    }
    let passed = rows.filter(\.passed).count
    out.append("\(passed) passed, \(rows.count - passed) failed")
    return out.joined(separator: "\n")
  }
}
