// Splits.swift: fixed passage subsets as committed manifests (`Data/splits/*.json`): the source
// file, how the subset was drawn (CPython `random.seed(42); random.shuffle`, then a slice:
// reference-pipeline 1.3), the passage indices in order and a SHA-256 of each context. Loading
// checks every hash, so a changed data file can never silently change an experiment.
import Foundation
import Workspace

public struct SplitManifest: Codable, Equatable, Sendable {
  public var name: String
  /// Source file under the data root.
  public var source: String
  public var selection: String
  public var seed: UInt64
  public var start: Int
  public var count: Int
  public var questions: Int
  /// Indices into the source file, in experiment order.
  public var indices: [Int]
  /// SHA-256 of each passage's context (UTF-8), parallel to `indices`.
  public var contextSHA256: [String]

  enum CodingKeys: String, CodingKey {
    case name, source, selection, seed, start, count, questions, indices
    case contextSHA256 = "context_sha256"
  }

  /// Draws `count` passages from `start` of the seed-`seed` shuffle of `passages`.
  public static func make(
    name: String, source: String, passages: [Passage], seed: UInt64 = 42, start: Int, count: Int
  ) throws -> SplitManifest {
    guard start >= 0, count >= 1, start + count <= passages.count else {
      throw ExperimentError.invalidInput(
        what: "split \(name)", expected: "0 <= start, 1 <= count, start + count <= \(passages.count)",
        found: "start \(start), count \(count)")
    }
    let order = PythonRandom.shuffledIndices(count: passages.count, seed: seed)
    let idx = Array(order[start..<(start + count)])
    return SplitManifest(
      name: name, source: source,
      selection: "random.seed(\(seed)); random.shuffle(entries); entries[\(start):\(start + count)] (CPython MT19937)",
      seed: seed, start: start, count: count, questions: idx.reduce(0) { $0 + passages[$1].questions.count },
      indices: idx, contextSHA256: idx.map { SHA256.hash(Array(passages[$0].context.utf8)) })
  }

  /// The passages a released file used, in its order: each entry of `reference` (a list of
  /// records with a `context`, or an object whose `articles` are such records, as SEAL's
  /// `results/query_server/*.json`) matched to the source passage with the same context. The
  /// first `count` entries (nil: all). An entry with no source passage is an error naming it.
  public static func matching(
    name: String, source: String, passages: [Passage], reference: JSONNode, referenceName: String, count: Int? = nil
  ) throws -> SplitManifest {
    let entries = try ((try? reference.object()) != nil ? reference.field("articles") : reference).array()
    let n = count ?? entries.count
    guard n >= 1, n <= entries.count else {
      throw ExperimentError.invalidInput(
        what: "split \(name)", expected: "1...\(entries.count) passages of \(referenceName)", found: "\(n)")
    }
    var byContext: [String: Int] = [:]
    for (i, p) in passages.enumerated() where byContext[p.context] == nil { byContext[p.context] = i }
    var idx: [Int] = []
    for (k, e) in entries.prefix(n).enumerated() {
      let c = try e.field("context").string()
      guard let i = byContext[c] else {
        throw ExperimentError.invalidInput(
          what: "\(referenceName) entry \(k)", expected: "a context found in \(source)", found: String(c.prefix(60)))
      }
      idx.append(i)
    }
    return SplitManifest(
      name: name, source: source,
      selection: "the first \(n) passages of \(referenceName), in its order, matched by context", seed: 0, start: 0,
      count: n, questions: idx.reduce(0) { $0 + passages[$1].questions.count }, indices: idx,
      contextSHA256: idx.map { SHA256.hash(Array(passages[$0].context.utf8)) })
  }

  /// A manifest by name (`Data/splits/<name>.json`) or by path.
  public static func load(
    _ nameOrPath: String, splitsDir: String = Paths.packageData() + "/splits"
  ) throws -> SplitManifest {
    let path = nameOrPath.hasSuffix(".json") ? nameOrPath : splitsDir + "/\(nameOrPath).json"
    guard FileManager.default.fileExists(atPath: path) else {
      let known =
        (try? FileManager.default.contentsOfDirectory(atPath: splitsDir))?.filter { $0.hasSuffix(".json") }
        .map { String($0.dropLast(5)) }.sorted().joined(separator: ", ") ?? "none"
      throw ExperimentError.missingFile(path: path, what: "split manifest; known splits: \(known)")
    }
    let data = FileManager.default.contents(atPath: path) ?? Data()
    let m: SplitManifest
    do { m = try JSONDecoder().decode(SplitManifest.self, from: data) } catch {
      throw ExperimentError.malformed(path: path, key: "(file)", expected: "a split manifest", found: "\(error)")
    }
    guard m.indices.count == m.count, m.contextSHA256.count == m.count else {
      throw ExperimentError.malformed(
        path: path, key: "indices", expected: "\(m.count) indices and hashes",
        found: "\(m.indices.count) indices, \(m.contextSHA256.count) hashes")
    }
    return m
  }

  /// The split's passages from the data root, each context checked against its hash; dev
  /// passages get every official reference answer when the explorer file is present.
  public func passages(dataRoot: String) throws -> [Passage] {
    let file = try Datasets.file(source, dataRoot: dataRoot)
    let all = try Datasets.loadSEAL(path: file)
    var out: [Passage] = []
    for (pos, (i, h)) in zip(indices, contextSHA256).enumerated() {
      guard i >= 0, i < all.count else {
        throw ExperimentError.splitMismatch(
          split: name, position: pos, expected: "an index below \(all.count) in \(source)", found: "\(i)")
      }
      let found = SHA256.hash(Array(all[i].context.utf8))
      guard found == h else {
        throw ExperimentError.splitMismatch(
          split: name, position: pos, expected: "context sha256 \(h) at index \(i)", found: found)
      }
      out.append(all[i])
    }
    if source == Datasets.validationFile, let ref = try? Datasets.file(Datasets.explorerDevFile, dataRoot: dataRoot) {
      out = Datasets.attachReferences(out, references: try Datasets.loadReferences(path: ref))
    } else {
      out = out.map { p in
        var p = p;
        p.questions = p.questions.map {
          var q = $0; q.references = [q.answer]; return q
        }; return p
      }
    }
    return out
  }
}
