// RunSessionTests.swift: a run directory remembers the engine it was made with; resume takes
// the same engine anywhere (another device, another worker URL) and refuses one whose numbers
// differ (another kind, version or dtype), as it refuses another model.
import EngineAPI
import Experiment
import Foundation
import SelfEdit
import Testing

struct TinyManifest: SessionManifest, Equatable {
  var modelSHA256: String
  var engine: EngineIdentity?
  var invocations: [Invocation] = []
}

@Suite("run session")
struct RunSessionTests {
  func identity(
    engine: String = "local", dtype: String = "float32", device: String = "cpu (2 threads)"
  )
    -> EngineIdentity
  {
    EngineIdentity(
      engine: engine, version: "1", model: "m.gguf", modelPath: "/x/m.gguf", modelBytes: 10, modelSHA256: "abc",
      dtype: dtype, device: device, contextLength: 512)
  }

  func open(_ dir: String, _ e: EngineIdentity) throws -> RunSession<TinyManifest> {
    let s = try RunSession<TinyManifest>(
      dir: dir, config: Data("{}\n".utf8), manifestPath: dir + "/manifest.json", modelSHA256: "abc", engine: e
    ) { TinyManifest(modelSHA256: "abc", engine: e) }
    try s.start(
      Invocation(
        started: "t", finished: nil, host: "h", threads: 1, adaptersPerStep: 1, recordsAtStart: 0, recordsAtEnd: nil,
        status: "running"))
    return s
  }

  @Test("resume accepts the same engine on another device and refuses another engine or dtype (exit 73's error)")
  func engineRecordedAndChecked() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("seb-session-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    _ = try open(dir, identity())
    let again = try open(dir, identity(device: "cpu (16 threads) via http://10.0.0.2:8300"))
    #expect(again.manifest.invocations.count == 2)
    #expect(again.manifest.invocations[1].engine?.device == "cpu (16 threads) via http://10.0.0.2:8300")
    #expect(again.manifest.engine == identity())
    for other in [identity(engine: "torch"), identity(dtype: "bfloat16")] {
      #expect(throws: SelfEditError.engineMismatch(dir: dir, expected: identity().label, found: other.label)) {
        try open(dir, other)
      }
    }
  }
}
