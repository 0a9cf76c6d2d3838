// ModelInfoCommand.swift: `seb model info [PATH]`: what a GGUF file holds.
import ArgumentParser
import Foundation
import GGUF
import LLM
import Tokenizer

struct ModelInfo: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "info",
    abstract: "Architecture, dimensions, tensor types, tokenizer facts and chat template of a GGUF file.",
    discussion: "Example: seb model info Data/models/SmolLM2-135M-Instruct.Q4_1.gguf")

  @Argument(help: "GGUF file (default: the installed SmolLM2).") var path: String?
  @Option(name: .customLong("dir"), help: "Model directory.") var modelDir: String?
  @Flag(help: "Print JSON.") var json = false
  @Flag(help: "List every metadata key (arrays summarised).") var keys = false

  struct Output: Encodable {
    struct TypeRow: Encodable { let type: String; let tensors: Int; let parameters: Int; let bytes: Int }
    let file: String
    let fileSize: Int
    let ggufVersion: UInt32
    let tensors: Int
    let metadataKeys: Int
    let alignment: Int
    let dataOffset: Int
    let architecture: String
    let vocabSize: Int, dim: Int, layers: Int, heads: Int, kvHeads: Int, headDim: Int, ffnDim: Int
    let ropeDims: Int, ropeTheta: Float, ropeStyle: String, rmsEps: Float, contextLength: Int
    let tiedEmbeddings: Bool
    let parameters: Int
    let tensorTypes: [TypeRow]
    let tokenizerModel: String?
    let preTokenizer: String?
    let merges: Int
    let controlTokens: [String]
    let bosId: Int?, eosId: Int?, paddingId: Int?, unknownId: Int?
    let addBOS: Bool
    let chatTemplate: String?
  }

  func run() throws {
    let p = path ?? Runtime.defaultModelPath(dir: modelDir)
    let f = try GGUFFile(path: p)
    let s = f.summary()
    let c = try LlamaConfig(gguf: f)
    let tok = try Tokenizer(gguf: f)
    let out = Output(
      file: p, fileSize: s.fileSize, ggufVersion: s.version, tensors: s.tensorCount, metadataKeys: s.metadataCount,
      alignment: s.alignment, dataOffset: s.dataOffset, architecture: c.architecture.rawValue, vocabSize: c.vocabSize,
      dim: c.dim, layers: c.layers, heads: c.heads, kvHeads: c.kvHeads, headDim: c.headDim, ffnDim: c.ffnDim,
      ropeDims: c.ropeDims, ropeTheta: c.ropeTheta, ropeStyle: c.ropeStyle.rawValue, rmsEps: c.rmsEps,
      contextLength: c.contextLength, tiedEmbeddings: !f.hasTensor("output.weight"), parameters: s.parameterCount,
      tensorTypes: s.types.map {
        .init(type: $0.type.name, tensors: $0.tensors, parameters: $0.parameters, bytes: $0.bytes)
      },
      tokenizerModel: try f.stringIfPresent("tokenizer.ggml.model"),
      preTokenizer: try f.stringIfPresent("tokenizer.ggml.pre"),
      merges: tok.merges.count, controlTokens: tok.controlTokenIds.sorted().compactMap { tok.tokenText($0) },
      bosId: tok.bosId, eosId: tok.eosId, paddingId: tok.paddingId, unknownId: tok.unknownId, addBOS: tok.addBOS,
      chatTemplate: try f.stringIfPresent("tokenizer.chat_template"))
    if json { try printJSON(out); return }
    print(
      """
      file            \(p) (\(s.fileSize) bytes, GGUF v\(s.version), \(s.tensorCount) tensors, \(s.metadataCount) keys)
      data            alignment \(s.alignment), tensor data at byte \(s.dataOffset)
      architecture    \(c.architecture.rawValue): \(c.layers) layers, dim \(c.dim), ffn \(c.ffnDim), \(c.heads) heads / \(c.kvHeads) kv heads x \(c.headDim)
      rope            \(c.ropeDims) dims, theta \(c.ropeTheta), \(c.ropeStyle.rawValue) pairing; rms eps \(c.rmsEps); context \(c.contextLength)
      vocabulary      \(c.vocabSize) tokens, \(tok.merges.count) merges, pre-tokenizer \(out.preTokenizer ?? "-"), add_bos \(tok.addBOS)
      special ids     bos \(tok.bosId.map(String.init) ?? "-"), eos \(tok.eosId.map(String.init) ?? "-"), pad \(tok.paddingId.map(String.init) ?? "-"), unk \(tok.unknownId.map(String.init) ?? "-")
      control tokens  \(out.controlTokens.count): \(out.controlTokens.joined(separator: " "))
      parameters      \(s.parameterCount)\(out.tiedEmbeddings ? " (tied embeddings: no output.weight)" : "")
      tensor types
      """)
    for t in s.types {
      print(
        "  \(t.type.name.padding(toLength: 6, withPad: " ", startingAt: 0)) \(t.tensors) tensors, \(t.parameters) parameters, \(t.bytes) bytes"
      )
    }
    if keys {
      print("metadata")
      for e in s.metadata { print("  \(e.key) [\(e.type)\(e.count.map { " x\($0)" } ?? "")] \(e.preview)") }
    }
    if let t = out.chatTemplate { print("chat template (\(t.count) chars)\n\(t)") }
  }
}
