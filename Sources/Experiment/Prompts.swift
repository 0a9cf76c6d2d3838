// Prompts.swift: the papers' prompts, byte for byte, from `Data/prompts/*.txt` (reference-pipeline
// 2.1, 2.4, 3.5). Placeholders are Python `str.format` fields ({title}, {context}, {passage},
// {question}, {gold}, {pred}, {data_creation_instruction}), filled in one pass as str.format does,
// so a value holding "{title}" stays as it is; other braces (a JSON example) are left alone.
import Foundation
import Workspace

public struct PromptLibrary: Sendable {
  public let directory: String
  public init(directory: String = Paths.packageData() + "/prompts") { self.directory = directory }

  /// The text of prompt `name` (no trailing newline is added or removed).
  public func text(_ name: String) throws -> String {
    let p = directory + "/\(name).txt"
    guard let d = FileManager.default.contents(atPath: p) else {
      let known =
        (try? FileManager.default.contentsOfDirectory(atPath: directory))?.filter { $0.hasSuffix(".txt") }
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
    var out = "", rest = template[...]
    while let open = rest.firstIndex(of: "{") {
      out += rest[..<open]
      if let close = rest[open...].firstIndex(of: "}"), let v = fields[String(rest[rest.index(after: open)..<close])] {
        out += v
        rest = rest[rest.index(after: close)...]
      } else {
        out += "{"
        rest = rest[rest.index(after: open)...]
      }
    }
    return out + rest
  }

  /// SEAL's self-edit prompts (reference-pipeline 2.1), in the order of the paper's tables.
  public static let sealSelfEditPrompts = [
    "implications", "implications-long", "implications-very-long", "rewrite", "self-qa",
  ]
}
