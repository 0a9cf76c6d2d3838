// RunSession.swift: one invocation of a run, the same for the harness and the search: claim the
// directory (its config.json, or a refusal of another config), reopen or start the manifest
// (a manifest made with another model or engine is refused), record this invocation, and close it with a
// status. Every refusal is a run conflict (exit 73 in seb) and comes before any work.
import EngineAPI
import Experiment
import Foundation
import Workspace

/// A run manifest as a session needs it: which model and engine made the run, and its invocations.
public protocol SessionManifest: Codable {
  var modelSHA256: String { get }
  var engine: EngineIdentity? { get }
  var invocations: [Invocation] { get set }
}

extension RunManifest: SessionManifest {}

public final class RunSession<Manifest: SessionManifest> {
  public let dir: String
  public let manifestPath: String
  public let engine: EngineIdentity
  public private(set) var manifest: Manifest

  /// Opens (or starts) the run in `dir` for the config `canonical` (its canonical bytes); `make`
  /// builds a new manifest when there is none. Nothing is recorded until `start`.
  public init(
    dir: String, config canonical: Data, manifestPath: String, modelSHA256: String, engine: EngineIdentity,
    make: () throws -> Manifest
  ) throws {
    self.dir = dir
    self.manifestPath = manifestPath
    self.engine = engine
    try AtomicFile.checkWritable(directory: dir)
    try RunDirectory.claim(dir, config: canonical)
    if let m = try RunFiles.readManifest(Manifest.self, path: manifestPath) {
      guard m.modelSHA256 == modelSHA256 else {
        throw SelfEditError.modelMismatch(dir: dir, expected: m.modelSHA256, found: modelSHA256)
      }
      // Runs from before engines were recorded were all made by the local engine.
      if let e = m.engine, !e.sameNumbers(as: engine) {
        throw SelfEditError.engineMismatch(dir: dir, expected: e.label, found: engine.label)
      }
      manifest = m
    } else {
      manifest = try make()
    }
  }

  /// Records this invocation (written at once, so a killed run still shows it).
  public func start(_ invocation: Invocation) throws {
    var invocation = invocation
    invocation.engine = engine
    manifest.invocations.append(invocation)
    try write()
  }

  /// Changes this invocation's entry (notes, counts) and writes the manifest.
  public func update(_ change: (inout Invocation) -> Void) throws {
    precondition(!manifest.invocations.isEmpty, "RunSession.update before start")
    change(&manifest.invocations[manifest.invocations.count - 1])
    try write()
  }

  /// Closes this invocation with `status` ("finished", "waiting for other shards ...").
  public func finish(status: String, recordsAtEnd: Int? = nil) throws {
    try update {
      $0.finished = isoNow()
      $0.status = status
      if let n = recordsAtEnd { $0.recordsAtEnd = n }
    }
  }

  func write() throws { try AtomicFile.write(try CanonicalJSON.pretty(manifest), to: manifestPath) }
}
