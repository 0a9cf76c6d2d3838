// TrainingData.swift: reading training sequences from files for `seb train`.
//
// Formats (by extension, any case, else by content; UTF-8 with or without BOM; LF, CRLF or CR):
// - JSON Lines (`.jsonl`): one JSON object per line, either {"text": ...} (one sequence) or
//   {"prompt": ..., "completion": ...} (plain concatenation, no chat template, as TRL does for
//   prompt/completion data; the prompt is masked under the completion-only loss).
// - JSON (`.json`): an array of such objects or of strings.
// - anything else: plain text; blocks separated by blank lines are sequences.
// Tokenization is a closure so this file does not depend on the tokenizer module.
import Foundation

public enum TrainingData {
  public enum Format: String, Sendable { case jsonl, jsonArray = "json", text }

  /// The format of a file: by extension when it is .jsonl or .json (any case), else by content
  /// (a first non-blank line that is a JSON object -> JSON Lines; a whole file that is a JSON
  /// array -> JSON; anything else -> text).
  public static func format(path: String, text: String) -> Format {
    let ext = URL(fileURLWithPath: path).pathExtension.lowercased()
    if ext == "jsonl" { return .jsonl }
    if ext == "json" { return .jsonArray }
    let trimmed = text.drop(while: { $0.isWhitespace })
    if trimmed.first == "[", (try? JSONSerialization.jsonObject(with: Data(text.utf8))) is [Any] { return .jsonArray }
    if trimmed.first == "{", let first = trimmed.split(separator: "\n").first,
      (try? JSONSerialization.jsonObject(with: Data(first.utf8))) is [String: Any]
    {
      return .jsonl
    }
    return .text
  }

  /// Text pieces of a file: (prompt, completion); prompt is "" for plain sequences. A UTF-8 BOM is
  /// dropped and CRLF / CR line ends are read as LF.
  public static func read(path: String) throws -> [(prompt: String, completion: String)] {
    guard FileManager.default.fileExists(atPath: path) else { throw TrainingError.missingDataFile(path: path) }
    guard let data = FileManager.default.contents(atPath: path) else {
      throw TrainingError.badDataFile(
        path: path, line: 0, detail: "cannot read the file (a directory, or no read permission)")
    }
    return try parse(data, path: path)
  }

  /// The same from bytes; `path` names the file in errors and its extension picks the format.
  public static func parse(_ data: Data, path: String) throws -> [(prompt: String, completion: String)] {
    guard var text = String(data: data, encoding: .utf8) else {
      throw TrainingError.badDataFile(path: path, line: 0, detail: "not UTF-8 text")
    }
    if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
    text = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
    func piece(_ obj: Any, line: Int) throws -> (String, String) {
      if let t = obj as? String { return ("", t) }
      guard let o = obj as? [String: Any] else {
        throw TrainingError.badDataFile(
          path: path, line: line, detail: "expected a JSON object (or a string in a JSON array)")
      }
      if let t = o["text"] as? String { return ("", t) }
      if let p = o["prompt"] as? String, let c = o["completion"] as? String { return (p, c) }
      throw TrainingError.badDataFile(
        path: path, line: line, detail: "expected a string key 'text' or string keys 'prompt' and 'completion'")
    }
    var out: [(String, String)] = []
    switch format(path: path, text: text) {
    case .jsonl:
      for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
        let s = line.trimmingCharacters(in: .whitespaces)
        if s.isEmpty { continue }
        guard let obj = try? JSONSerialization.jsonObject(with: Data(s.utf8)) else {
          throw TrainingError.badDataFile(path: path, line: i + 1, detail: "expected a JSON object")
        }
        out.append(try piece(obj, line: i + 1))
      }
    case .jsonArray:
      guard let arr = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [Any] else {
        throw TrainingError.badDataFile(path: path, line: 0, detail: "expected a JSON array of strings or objects")
      }
      for (i, e) in arr.enumerated() { out.append(try piece(e, line: i + 1)) }
    case .text:
      for block in text.components(separatedBy: "\n\n") {
        let b = block.trimmingCharacters(in: .whitespacesAndNewlines)
        if !b.isEmpty { out.append(("", b)) }
      }
    }
    if out.isEmpty { throw TrainingError.badDataFile(path: path, line: 0, detail: "no training sequence found") }
    return out
  }

  /// Tokenizes pieces into examples; `eos` (if given) is appended to every sequence (TRL add_eos).
  public static func examples(
    _ pieces: [(prompt: String, completion: String)], eos: Int?, tokenize: (String) -> [Int]
  ) -> [TrainingExample] {
    pieces.map { p in
      // As TRL: tokenize prompt + completion as one text; the prompt length is that of the
      // prompt tokenized alone (a merge across the boundary counts as completion).
      let promptLength = p.prompt.isEmpty ? 0 : tokenize(p.prompt).count
      var tokens = tokenize(p.prompt + p.completion)
      if let e = eos { tokens.append(e) }
      return TrainingExample(tokens: tokens, promptLength: min(promptLength, tokens.count))
    }
  }
}
