// Prompts.swift: the papers' prompts, byte for byte, from `Data/prompts/*.txt` (reference-pipeline
// 2.1, 2.4, 3.5). Placeholders are Python `str.format` fields ({title}, {context}, {passage},
// {question}, {gold}, {pred}); the prompts hold no other braces, so plain replacement is exact.
import Foundation
import Workspace

public struct PromptLibrary: Sendable {
  public let directory: String
  public init(directory: String = Paths.packageData() + "/prompts") { self.directory = directory }

  /// The text of prompt `name` (no trailing newline is added or removed).
  public func text(_ name: String) throws -> String {
    let p = directory + "/\(name).txt"
    guard let d = FileManager.default.contents(atPath: p) else {
      let known = (try? FileManager.default.contentsOfDirectory(atPath: directory))?.filter { $0.hasSuffix(".txt") }
        .map { String($0.dropLast(4)) }.sorted().joined(separator: ", ") ?? "none"
      throw ExperimentError.missingFile(path: p, what: "prompt \(name); known prompts: \(known)")
    }
    guard let s = String(data: d, encoding: .utf8) else {
      throw ExperimentError.malformed(path: p, key: "(file)", expected: "UTF-8 text", found: "invalid UTF-8")
    }
    return s
  }

  public func sha256(_ name: String) throws -> String { SHA256.hash(Array(try text(name).utf8)) }

  /// Fills Python-format fields; every `{field}` of the template must be given.
  public static func fill(_ template: String, _ fields: [String: String]) -> String {
    var out = template
    for (k, v) in fields.sorted(by: { $0.key < $1.key }) { out = out.replacingOccurrences(of: "{\(k)}", with: v) }
    return out
  }

  /// SEAL's self-edit prompts (reference-pipeline 2.1), in the order of the paper's tables.
  public static let sealSelfEditPrompts = ["implications", "implications-long", "implications-very-long", "rewrite", "self-qa"]
}
