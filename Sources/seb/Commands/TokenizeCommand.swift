// TokenizeCommand.swift: `seb tokenize TEXT`: ids and pieces of a text under the model's tokenizer.
import ArgumentParser
import Foundation
import GGUF
import Tokenizer

struct TokenizeCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "tokenize", abstract: "Show the token ids and pieces of a text.",
    discussion: """
      Control tokens such as <|im_start|> are matched before BPE (use --no-special to treat them as text). No BOS is added: SmolLM2's GGUF says add_bos_token = false.
      Example: seb tokenize "Hello world! 123"
      """)

  @Argument(help: "The text to tokenize.") var text: String
  @Option(name: .customLong("model"), help: "GGUF model file.") var modelPath: String?
  @Option(name: .customLong("dir"), help: "Model directory.") var modelDir: String?
  @Flag(help: "Treat control-token texts as plain text.") var noSpecial = false
  @Flag(help: "Print JSON.") var json = false

  struct Output: Encodable {
    let text: String
    let ids: [Int]
    let pieces: [String]
  }

  func run() throws {
    let path = modelPath ?? Runtime.defaultModelPath(dir: modelDir)
    let tok = try Runtime.loadTokenizer(path: path)
    let ids = tok.encode(text, parseSpecial: !noSpecial)
    let out = Output(text: text, ids: ids, pieces: ids.map { tok.piece($0) })
    if json { try printJSON(out); return }
    print("\(ids.count) tokens")
    for (id, p) in zip(out.ids, out.pieces) { print(String(format: "%6d  ", id) + String(reflecting: p)) }
  }
}
