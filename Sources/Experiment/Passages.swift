// Passages.swift: the datasets the experiments read, from the data root (reference-pipeline 1):
// SEAL's passage format (`squad/squad_val.json`, `squad/squad_train.json.gz`), the official SQuAD
// nesting with every reference answer (`squad/explorer/*.json.gz`), and SEAL's released
// generation files (`seal/data/synthetic_data/**`). A missing file or field names file and key.
import Foundation
import Workspace

public struct Question: Codable, Equatable, Sendable {
  public var question: String
  /// SEAL's single answer (the first official reference).
  public var answer: String
  /// All official references when known (dev explorer file); empty otherwise.
  public var references: [String]
  public init(question: String, answer: String, references: [String] = []) {
    self.question = question; self.answer = answer; self.references = references
  }
}

public struct Passage: Codable, Equatable, Sendable {
  /// Position in the source file.
  public var index: Int
  public var title: String
  public var context: String
  public var questions: [Question]
  public init(index: Int, title: String, context: String, questions: [Question]) {
    self.index = index; self.title = title; self.context = context; self.questions = questions
  }
}

/// One entry of a released SEAL generation file: a passage and its k completions.
public struct ReleasedGeneration: Sendable {
  public var title: String
  public var context: String
  public var completions: [String]
  public var prompt: String
}

public enum Datasets {
  public static let validationFile = "squad/squad_val.json"
  public static let trainFile = "squad/squad_train.json.gz"
  public static let explorerDevFile = "squad/explorer/dev-v1.1.explorer.json.gz"
  public static let releasedDir = "seal/data/synthetic_data/eval"

  /// A file under the data root; a missing data root or file says which and how to set it.
  public static func file(_ relative: String, dataRoot: String) throws -> String {
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: dataRoot, isDirectory: &isDir), isDir.boolValue else {
      throw ExperimentError.missingFile(
        path: dataRoot, what: "the data root; pass --data DIR or set \(Paths.dataRootVariable)")
    }
    let p = URL(fileURLWithPath: dataRoot).appendingPathComponent(relative).path
    guard FileManager.default.fileExists(atPath: p) else {
      throw ExperimentError.missingFile(path: p, what: "expected under the data root")
    }
    return p
  }

  /// SEAL's passage format: `[{"title", "context", "questions": [{"question", "answer"}]}]`.
  public static func loadSEAL(path: String) throws -> [Passage] {
    let root = try JSONNode.load(path)
    return try root.array().enumerated().map { i, e in
      Passage(
        index: i, title: try e.field("title").string(), context: try e.field("context").string(),
        questions: try e.field("questions").array().map {
          Question(question: try $0.field("question").string(), answer: try $0.field("answer").string())
        })
    }
  }

  /// Official SQuAD nesting (explorer files): references keyed by (stripped context, stripped question).
  public static func loadReferences(path: String) throws -> [String: [String]] {
    let root = try JSONNode.load(path)
    var out: [String: [String]] = [:]
    for a in try root.field("data").array() {
      for p in try a.field("paragraphs").array() {
        let ctx = try p.field("context").string()
        for q in try p.field("qas").array() {
          let refs = try q.field("answers").array().map { try $0.field("text").string() }
          out[referenceKey(context: ctx, question: try q.field("question").string()), default: []].append(
            contentsOf: refs)
        }
      }
    }
    return out
  }

  public static func referenceKey(context: String, question: String) -> String {
    context.trimmingCharacters(in: .whitespacesAndNewlines) + "\u{1F}"
      + question.trimmingCharacters(in: .whitespacesAndNewlines)
  }

  /// Attaches every official reference; a question whose references are unknown keeps [answer].
  public static func attachReferences(_ passages: [Passage], references: [String: [String]]) -> [Passage] {
    passages.map { p in
      var p = p
      p.questions = p.questions.map { q in
        var q = q
        q.references = references[referenceKey(context: p.context, question: q.question)] ?? [q.answer]
        return q
      }
      return p
    }
  }

  /// A released SEAL generation file (`{"title","context","questions","completions":[..],"prompt"}` list).
  public static func loadReleased(path: String) throws -> [ReleasedGeneration] {
    try releasedGenerations(JSONNode.load(path))
  }

  /// The generations of a parsed released file (errors name the file and the key path).
  public static func releasedGenerations(_ doc: JSONNode) throws -> [ReleasedGeneration] {
    try doc.array().map { e in
      ReleasedGeneration(
        title: try e.field("title").string(), context: try e.field("context").string(),
        completions: try e.field("completions").array().map { try $0.string() },
        prompt: try e.fieldIfPresent("prompt")?.string() ?? "")
    }
  }

  /// The first `k` completions that are not blank, as SEAL's `query_server` takes them.
  public static func firstNonEmpty(_ completions: [String], k: Int = 1) -> [String] {
    Array(completions.filter { !$0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }.prefix(k))
  }
}
