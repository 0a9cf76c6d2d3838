// Merge.swift: shards (several machines, a Slurm job array, several sessions) -> one run. Records
// from every shard file are checked (same config, same model, no key twice with different content)
// and written in canonical order with the summary, so merged shards equal an unsharded run.
import Experiment
import Foundation
import Workspace

extension Harness {
  /// Merges the shard files of `inputs` (run directories) into `out`.
  @discardableResult
  public static func merge(inputs: [String], out: String) throws -> RunSummary {
    var config: RunConfig?
    var manifests: [RunManifest] = []
    var byKey: [String: EvalRecord] = [:]
    var selfEdits: [String: SelfEditRecord] = [:]
    for dir in inputs {
      let c = try RunConfig.load(path: RunLayout(dir).config)
      if let prev = config, prev != c {
        throw ExperimentError.runConflict(dir: dir, message: "its config differs from \(inputs[0])")
      }
      config = c
      for path in RunLayout.shardFiles(.manifest, in: dir) {
        let d = FileManager.default.contents(atPath: path) ?? Data()
        do { manifests.append(try JSONDecoder().decode(RunManifest.self, from: d)) } catch {
          throw ExperimentError.malformed(path: path, key: "(file)", expected: "a run manifest", found: "\(error)")
        }
      }
      for path in RunFiles.recordFiles(in: dir) {
        for r in try RunFiles.decodeLines(EvalRecord.self, path: path) {
          if let old = byKey[r.key], old != r {
            throw ExperimentError.runConflict(dir: dir, message: "record \(r.key) appears twice with different content")
          }
          byKey[r.key] = r
        }
      }
      for path in RunLayout.shardFiles(.selfEdits, in: dir) {
        for s in try RunFiles.decodeLines(SelfEditRecord.self, path: path) { selfEdits[s.key] = s }
      }
    }
    guard let config, let first = manifests.first else {
      throw ExperimentError.missingFile(
        path: inputs.first ?? "", what: "a run directory with config.json and a manifest")
    }
    for m in manifests where m.modelSHA256 != first.modelSHA256 {
      throw SelfEditError.modelMismatch(dir: out, expected: first.modelSHA256, found: m.modelSHA256)
    }
    let dst = RunDirectory(dir: out, shard: .whole)
    if FileManager.default.fileExists(atPath: dst.recordsPath)
      || FileManager.default.fileExists(atPath: dst.manifestPath)
    {
      throw ExperimentError.runConflict(dir: out, message: "it already holds a run; merge into a new directory")
    }
    // Every file of the merged run is written in a staging folder and moved in only when all exist.
    return try AtomicFile.staged(directory: out) { stage in
      let st = RunDirectory(dir: stage, shard: .whole)
      try RunDirectory.claim(stage, config: try config.canonical())
      let records = RunDirectory.sorted(Array(byKey.values), methods: config.methodNames)
      var data = Data()
      for r in records { data.append(try CanonicalJSON.line(r)); data.append(0x0A) }
      var seData = Data()
      for s in selfEdits.values.sorted(by: {
        ($0.passage, $0.method, $0.selfEdit) < ($1.passage, $1.method, $1.selfEdit)
      }) {
        seData.append(try CanonicalJSON.line(s)); seData.append(0x0A)
      }
      try AtomicFile.write(seData, to: st.selfEditsPath)
      var manifest = first
      manifest.shard = "merged from " + manifests.map(\.shard).joined(separator: ", ")
      manifest.invocations = manifests.flatMap(\.invocations)
      try st.writeManifest(manifest)
      var judged = Data()
      for dir in inputs { judged += FileManager.default.contents(atPath: RunLayout(dir).judge) ?? Data() }
      if !judged.isEmpty { try AtomicFile.write(judged, to: st.judgePath) }
      try AtomicFile.write(data, to: st.recordsPath)
      return try summarize(dir: stage, config: config, manifest: manifest, records: records)
    }
  }
}
