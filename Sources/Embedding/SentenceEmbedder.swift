// SentenceEmbedder.swift: text -> unit-length sentence embedding, the sentence-transformers
// pipeline of all-MiniLM-L6-v2 (Transformer -> mean Pooling -> Normalize), plus the pair
// similarity of the self-edit analysis.
//
// Invariants: output vectors have the model's hidden size and L2 norm 1 (up to rounding); the
// same list of texts gives the same bytes. Packing makes sequences mathematically independent of
// their batch neighbours; only BLAS rounding (~1e-7) depends on a row's place in the batch. A blank
// text is embedded as sentence-transformers embeds it ([CLS] [SEP]); replacing blank instructions by
// "[EMPTY]" is the analysis script's convention (compute_similarity.py) and lives in Analysis.
import Foundation
import ModelStore
import SafeTensors

public final class SentenceEmbedder: @unchecked Sendable {
  public let model: BertModel
  public let tokenizer: WordPieceTokenizer
  /// Token budget of one forward pass (bounds activation memory; results do not depend on it).
  public var maxTokensPerPass = 8192

  public init(model: BertModel, tokenizer: WordPieceTokenizer) {
    self.model = model
    self.tokenizer = tokenizer
  }

  /// Loads a sentence-transformers BERT folder: config.json, vocab.txt, model.safetensors, and
  /// optionally sentence_bert_config.json (max_seq_length, default 256) and tokenizer_config.json
  /// (do_lower_case, default true).
  public convenience init(directory: URL) throws {
    let fm = FileManager.default
    for name in ["config.json", "vocab.txt", "model.safetensors"]
    where !fm.fileExists(atPath: directory.appendingPathComponent(name).path) {
      throw EmbeddingError.modelNotInstalled(
        directory: directory.path, missing: name, hint: "Run `seb model install --model minilm`.")
    }
    let config = try BertConfig(configFile: directory.appendingPathComponent("config.json"))
    var maxLength = 256
    let sbert = directory.appendingPathComponent("sentence_bert_config.json")
    if let data = try? Data(contentsOf: sbert),
      let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
    {
      guard let n = (obj["max_seq_length"] as? NSNumber)?.intValue, n >= 2 else {
        throw EmbeddingError.badConfig(
          file: sbert.path, key: "max_seq_length", found: "\(obj["max_seq_length"] ?? "nothing")")
      }
      maxLength = n
    }
    var lowercase = true
    let tokConfig = directory.appendingPathComponent("tokenizer_config.json")
    if let data = try? Data(contentsOf: tokConfig),
      let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
      let lc = obj["do_lower_case"] as? Bool
    {
      lowercase = lc
    }
    let tokenizer = try WordPieceTokenizer(
      vocabFile: directory.appendingPathComponent("vocab.txt"), lowercase: lowercase,
      maxLength: min(maxLength, config.maxPositions))
    guard tokenizer.idToToken.count == config.vocabSize else {
      throw EmbeddingError.badConfig(
        file: directory.appendingPathComponent("config.json").path, key: "vocab_size",
        found: "\(config.vocabSize) but vocab.txt has \(tokenizer.idToToken.count) lines")
    }
    let weightsURL = directory.appendingPathComponent("model.safetensors")
    let file: SafeTensorsFile
    do { file = try SafeTensorsFile(contentsOf: weightsURL) } catch let e as SafeTensorsError {
      throw EmbeddingError.fileUnreadable(path: weightsURL.path, message: e.errorDescription ?? "\(e)")
    }
    let model = try BertModel(config: config, safetensors: file, source: weightsURL.path)
    self.init(model: model, tokenizer: tokenizer)
  }

  /// The model directory (ModelStore rules: flag > $SEB_MODEL_DIR > <package root or cwd>/Data/models).
  public static func defaultModelDirectory(
    flag: String? = nil,
    currentDirectory: URL = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
  ) -> URL {
    ModelStore.defaultDirectory(flag: flag, currentDirectory: currentDirectory)
  }

  /// Whether all-MiniLM-L6-v2's files are present with their pinned sizes under `modelDir`.
  public static func isMiniLMInstalled(modelDir: URL) -> Bool {
    ModelStore.locate(ModelSpec.miniLM, dir: modelDir) != nil
  }

  /// The installed all-MiniLM-L6-v2 under a model directory (see ModelStore.defaultDirectory).
  /// Checks presence and sizes only; `seb model install` verifies digests.
  public static func installedMiniLM(modelDir: URL) throws -> SentenceEmbedder {
    guard ModelStore.locate(ModelSpec.miniLM, dir: modelDir) != nil else {
      let missing = ModelSpec.miniLM.files.first {
        (try? ModelStore.check($0, dir: modelDir, verifyDigest: false)) != .ok
      }
      throw EmbeddingError.modelNotInstalled(
        directory: modelDir.path, missing: missing?.path ?? ModelSpec.miniLMDirectory,
        hint: "Run `seb model install --model minilm` (or pass --dir / set SEB_MODEL_DIR).")
    }
    return try SentenceEmbedder(directory: modelDir.appendingPathComponent(ModelSpec.miniLMDirectory))
  }

  /// Hidden size = embedding width.
  public var dimension: Int { model.config.hiddenSize }

  /// Token ids the model sees for a text ([CLS] ... [SEP], truncated; a blank text is [CLS] [SEP]).
  public func tokenIDs(_ text: String) -> [Int32] { tokenizer.encode(text) }

  /// Unit-length embeddings, one per text, in order.
  public func embed(_ texts: [String]) throws -> [[Float]] {
    let ids = texts.map(tokenIDs)
    var out: [[Float]] = []
    out.reserveCapacity(texts.count)
    var start = 0
    while start < ids.count {
      var end = start
      var tokens = 0
      while end < ids.count && (end == start || tokens + ids[end].count <= maxTokensPerPass) {
        tokens += ids[end].count
        end += 1
      }
      for v in try model.meanPooled(Array(ids[start..<end])) { out.append(SentenceEmbedder.normalized(v)) }
      start = end
    }
    return out
  }

  /// v / max(||v||, 1e-12), as torch.nn.functional.normalize in sentence-transformers' Normalize.
  public static func normalized(_ v: [Float]) -> [Float] {
    var s = 0.0
    for x in v { s += Double(x) * Double(x) }
    let inv = 1 / max(s.squareRoot(), 1e-12)
    return v.map { Float(Double($0) * inv) }
  }

  /// Cosine similarity (0 when either vector is zero or the widths differ).
  public static func cosine(_ a: [Float], _ b: [Float]) -> Double {
    guard a.count == b.count else { return 0 }
    var dot = 0.0, na = 0.0, nb = 0.0
    for i in a.indices {
      dot += Double(a[i]) * Double(b[i])
      na += Double(a[i]) * Double(a[i])
      nb += Double(b[i]) * Double(b[i])
    }
    guard na > 0, nb > 0 else { return 0 }
    return dot / (na.squareRoot() * nb.squareRoot())
  }

  /// Pair similarity of the analysis: clip((1 + cos) / 2, 0, 1).
  public static func similarity(_ a: [Float], _ b: [Float]) -> Double {
    min(1, max(0, (1 + cosine(a, b)) / 2))
  }
}
