// Runtime.swift: what several commands share: model options, loading, threads, timing, JSON output.
import ArgumentParser
import Foundation
import GGUF
import LLM
import ModelStore
import Tensor
import Tokenizer

enum Runtime {
  /// The default model file: the registry's default spec in the model directory.
  static func defaultModelPath(dir: String? = nil) -> String {
    ModelStore.defaultDirectory(flag: dir).appendingPathComponent(ModelSpec.smolLM2.files[0].path).path
  }

  static func loadTokenizer(path: String) throws -> Tokenizer {
    guard FileManager.default.fileExists(atPath: path) else { throw LLMError.modelFileMissing(path: path) }
    return try Tokenizer(gguf: GGUFFile(path: path))
  }

  static func setThreads(_ n: Int?) -> Int {
    let cores = ProcessInfo.processInfo.activeProcessorCount
    let t = (n ?? 0) > 0 ? n! : cores
    // More threads than cores only time-slice the pool's spinning workers: slower, never faster.
    if t > cores {
      eprint("warning: --threads \(t) is above this machine's \(cores) cores; every parallel loop will run slower")
    }
    ThreadPool.configure(threads: t)
    return t
  }
}

/// --model/--dir/--threads, shared by every command that runs the language model.
struct ModelOptions: ParsableArguments {
  @Option(
    name: .customLong("model"),
    help: "GGUF model file (default: the installed SmolLM2-135M-Instruct in the model directory).")
  var modelPath: String?
  @Option(name: .customLong("dir"), help: "Model directory (default: $SEB_MODEL_DIR or Data/models).")
  var modelDir: String?
  @Option(help: "Threads of every parallel loop, matrix products included (default: all cores).")
  var threads: Int?

  var path: String { modelPath ?? Runtime.defaultModelPath(dir: modelDir) }

  func validate() throws {
    if let t = threads, t < 1 { throw ValidationError("--threads must be >= 1, found \(t)") }
  }

  struct Loaded {
    let model: LanguageModel
    let threads: Int
    var file: GGUFFile { model.file }
    var weights: ModelWeights { model.weights }
    var tokenizer: Tokenizer { model.tokenizer }
    var transformer: Transformer { model.transformer }
    var loadSeconds: Double { model.loadSeconds }
  }

  func load(pack: Bool = true) throws -> Loaded {
    let threads = Runtime.setThreads(threads)
    return Loaded(model: try LanguageModel(path: path, pack: pack), threads: threads)
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
