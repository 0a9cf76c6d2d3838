// Runtime.swift: what several commands share: model options, loading, threads, timing, JSON output.
import ArgumentParser
import Foundation
import GGUF
import LLM
import ModelStore
import Tensor
import Tokenizer

enum Runtime {
  static func defaultModelPath(dir: String? = nil) -> String? {
    let d = ModelStore.defaultDirectory(flag: dir)
    return d.appendingPathComponent(ModelSpec.smolLM2.files[0].path).path
  }

  static func loadTokenizer(path: String) throws -> Tokenizer {
    try Tokenizer(gguf: GGUFFile(path: path))
  }

  static func setThreads(_ n: Int?) -> Int {
    let t = (n ?? 0) > 0 ? n! : ProcessInfo.processInfo.activeProcessorCount
    ThreadPool.configure(threads: t)
    return t
  }
}

/// --model/--dir/--threads, shared by every command that runs the language model.
struct ModelOptions: ParsableArguments {
  @Option(name: .customLong("model"), help: "GGUF model file (default: <model dir>/SmolLM2-135M-Instruct.Q4_1.gguf).")
  var modelPath: String?
  @Option(name: .customLong("dir"), help: "Model directory (default: $SEB_MODEL_DIR or Data/models).")
  var modelDir: String?
  @Option(help: "Threads of every parallel loop, matrix products included (default: all cores).")
  var threads: Int?

  var path: String { modelPath ?? Runtime.defaultModelPath(dir: modelDir) ?? "Data/models/SmolLM2-135M-Instruct.Q4_1.gguf" }

  func validate() throws {
    if let t = threads, t < 1 { throw ValidationError("--threads must be >= 1, found \(t)") }
  }

  struct Loaded {
    let file: GGUFFile
    let weights: ModelWeights
    let tokenizer: Tokenizer
    let transformer: Transformer
    let threads: Int
    let loadSeconds: Double
  }

  func load(tokenizerOnly: Bool = false) throws -> Loaded {
    guard FileManager.default.fileExists(atPath: path) else {
      throw ValidationError("model file \(path) not found: run `seb model install` (or pass --model / --dir)")
    }
    let t0 = Date()
    let threads = Runtime.setThreads(threads)
    let file = try GGUFFile(path: path)
    let tok = try Tokenizer(gguf: file)
    let weights = try ModelWeights(gguf: file)
    return Loaded(file: file, weights: weights, tokenizer: tok, transformer: Transformer(weights: weights),
                  threads: threads, loadSeconds: Date().timeIntervalSince(t0))
  }
}

func printJSON<T: Encodable>(_ value: T) throws {
  let enc = JSONEncoder()
  enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
  let data = try enc.encode(value)
  FileHandle.standardOutput.write(data)
  FileHandle.standardOutput.write("\n".data(using: .utf8)!)
}

func eprint(_ s: String) {
  FileHandle.standardError.write((s + "\n").data(using: .utf8)!)
}
