// Every fuzz target's seeds and every input that once crashed a parser (Tests/Fuzz/Regressions)
// run through the target again: each must end accepted or refused, never in a crash.
import Foundation
import SebFuzzTargets
import Testing

@Suite("Fuzz regressions")
struct FuzzRegressionTests {
  static let regressions = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fuzz/Regressions").path

  @Test(
    "seeds and past crash inputs of every parser are accepted or refused without a crash",
    arguments: FuzzTarget.allCases)
  func replay(target: FuzzTarget) throws {
    var inputs = try target.seeds()
    let dir = Self.regressions + "/" + target.rawValue
    for f in ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted() where !f.hasPrefix(".") {
      if let d = FileManager.default.contents(atPath: dir + "/" + f) { inputs.append(d) }
    }
    #expect(!inputs.isEmpty)
    for d in inputs { target.run(d) }
    // Truncations of every seed: the commonest damage to a file.
    for seed in try target.seeds() {
      for n in stride(from: 0, to: seed.count, by: max(1, seed.count / 64)) { target.run(seed.prefix(n)) }
    }
  }
}
