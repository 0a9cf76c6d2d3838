// RunSession.swift: one invocation of a run, the same for the harness and the search: claim the
// directory (its config.json, or a refusal of another config), reopen or start the manifest
// (a manifest made with another model is refused), record this invocation, and close it with a
// status. Every refusal is a run conflict (exit 73 in seb) and comes before any work.
import Experiment
import Foundation
import Workspace

/// A run manifest as a session needs it: which model made the run, and its invocations.
public protocol SessionManifest: Codable {
  var modelSHA256: String { get }
  var invocations: [Invocation] { get set }
}

extension RunManifest: SessionManifest {}

public final class RunSession<Manifest: SessionManifest> {
  public let dir: String
  public let manifestPath: String
  public private(set) var manifest: Manifest

  /// Opens (or starts) the run in `dir` for the config `canonical` (its canonical bytes); `make`
  /// builds a new manifest when there is none. Nothing is recorded until `start`.
  public init(
    dir: String, config canonical: Data, manifestPath: String, modelSHA256: String, make: () throws -> Manifest
  ) throws {
    self.dir = dir
    self.manifestPath = manifestPath
    try AtomicFile.checkWritable(directory: dir)
    try RunDirectory.claim(dir, config: canonical)
    if let m = try RunDirectory.readManifest(Manifest.self, path: manifestPath) {
      guard m.modelSHA256 == modelSHA256 else {
        throw SelfEditError.modelMismatch(dir: dir, expected: m.modelSHA256, found: modelSHA256)
      }
      manifest = m
    } else {
      manifest = try make()
    }
  }

  /// Records this invocation (written at once, so a killed run still shows it).
  public func start(_ invocation: Invocation) throws {
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
