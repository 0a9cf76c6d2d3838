// BertTests.swift: the encoder on a tiny random BERT built in memory, against a naive Double
// reference written from the Hugging Face BertModel equations; packing/masking; the embedder's
// pooling, normalisation and similarity; loading a model folder written with SafeTensorsWriter.
import Embedding
import Foundation
import SafeTensors
import Testing

private let tiny = BertConfig(
  vocabSize: 25, hiddenSize: 8, numLayers: 2, numHeads: 2, intermediateSize: 12, maxPositions: 16,
  typeVocabSize: 2, layerNormEps: 1e-12)

private func maxAbsDiff(_ a: [Float], _ b: [Float]) -> Float {
  a.count == b.count ? zip(a, b).map { abs($0 - $1) }.max() ?? 0 : .infinity
}

private func add(_ a: [[Double]], _ b: [[Double]]) -> [[Double]] {
  var y = a
  for i in a.indices {
    for j in a[i].indices { y[i][j] += b[i][j] }
  }
  return y
}

/// Straightforward reference: one sequence, Double everywhere, no BLAS, no packing.
private func referenceEncode(_ w: [String: SafeTensorsF32], _ cfg: BertConfig, _ ids: [Int32]) -> [[Double]] {
  let C = cfg.hiddenSize, H = cfg.numHeads, D = C / H, T = ids.count
  func t(_ n: String) -> [Double] { w[n]!.values.map(Double.init) }
  func linear(_ x: [[Double]], _ name: String) -> [[Double]] {
    let W = t(name + ".weight"), b = t(name + ".bias")
    let out = b.count, inp = W.count / out
    return x.map { row in
      var y = b
      for o in 0..<out {
        for i in 0..<inp { y[o] += W[o * inp + i] * row[i] }
      }
      return y
    }
  }
  func layerNorm(_ x: [[Double]], _ name: String) -> [[Double]] {
    let g = t(name + ".weight"), b = t(name + ".bias")
    return x.map { row in
      let n = Double(row.count)
      let mean = row.reduce(0, +) / n
      var v = 0.0
      for r in row { v += (r - mean) * (r - mean) }
      v /= n
      let inv = 1 / (v + Double(cfg.layerNormEps)).squareRoot()
      var y = row
      for c in row.indices { y[c] = (row[c] - mean) * inv * g[c] + b[c] }
      return y
    }
  }
  let we = t("embeddings.word_embeddings.weight"), pe = t("embeddings.position_embeddings.weight")
  let te = t("embeddings.token_type_embeddings.weight")
  var x = [[Double]](repeating: [Double](repeating: 0, count: C), count: T)
  for i in 0..<T {
    for c in 0..<C { x[i][c] = we[Int(ids[i]) * C + c] + pe[i * C + c] + te[c] }
  }
  x = layerNorm(x, "embeddings.LayerNorm")
  for l in 0..<cfg.numLayers {
    let p = "encoder.layer.\(l)."
    let q = linear(x, p + "attention.self.query"), k = linear(x, p + "attention.self.key")
    let v = linear(x, p + "attention.self.value")
    var ctx = [[Double]](repeating: [Double](repeating: 0, count: C), count: T)
    for h in 0..<H {
      for i in 0..<T {
        var s = [Double](repeating: 0, count: T)
        for j in 0..<T {
          for d in 0..<D { s[j] += q[i][h * D + d] * k[j][h * D + d] }
          s[j] /= Double(D).squareRoot()
        }
        let m = s.max()!
        let e = s.map { Foundation.exp($0 - m) }
        let z = e.reduce(0, +)
        for d in 0..<D {
          for j in 0..<T { ctx[i][h * D + d] += e[j] / z * v[j][h * D + d] }
        }
      }
    }
    let a = linear(ctx, p + "attention.output.dense")
    x = layerNorm(add(x, a), p + "attention.output.LayerNorm")
    var hdn = linear(x, p + "intermediate.dense")
    for i in hdn.indices {
      for j in hdn[i].indices {
        let u = hdn[i][j]
        hdn[i][j] = 0.5 * u * (1 + Foundation.erf(u / 2.0.squareRoot()))
      }
    }
    let o = linear(hdn, p + "output.dense")
    x = layerNorm(add(x, o), p + "output.LayerNorm")
  }
  return x
}

private func model(seed: UInt64 = 7) throws -> (BertModel, [String: SafeTensorsF32]) {
  let w = BertModel.randomWeights(config: tiny, seed: seed)
  let m = try BertModel(config: tiny) { name in w[name].map { ($0.shape, $0.values) } }
  return (m, w)
}

@Suite("BERT encoder")
struct BertTests {
  @Test("the encoder matches a naive Double reference of the BERT equations")
  func matchesReference() throws {
    let (m, w) = try model()
    let ids: [Int32] = [2, 4, 5, 11, 6, 7, 8, 12, 3]
    let got = try m.encode([ids])[0]
    let want = referenceEncode(w, tiny, ids)
    var maxDiff = 0.0
    for t in ids.indices {
      for c in 0..<tiny.hiddenSize { maxDiff = max(maxDiff, abs(Double(got[t * tiny.hiddenSize + c]) - want[t][c])) }
    }
    #expect(maxDiff < 1e-4, "max |swift - reference| = \(maxDiff)")
  }

  @Test("a batch of different lengths gives each sequence the same states as a single run")
  func maskingIndependence() throws {
    let (m, _) = try model(seed: 11)
    let seqs: [[Int32]] = [[2, 4, 3], [2, 5, 6, 7, 8, 9, 10, 12, 3], [2, 3], [2, 18, 19, 20, 13, 3]]
    let batched = try m.encode(seqs)
    for (i, s) in seqs.enumerated() {
      let single = try m.encode([s])[0]
      let diff = zip(single, batched[i]).map { abs($0 - $1) }.max() ?? 0
      #expect(diff < 1e-5, "sequence \(i): max diff \(diff)")
    }
    // And the states depend on the other tokens of the sequence (attention is not a no-op).
    let changed = try m.encode([[2, 4, 5, 3]])[0]
    #expect(changed.prefix(8) != batched[0].prefix(8))
  }

  @Test("bad token ids, overlong sequences and wrong weight shapes are typed errors")
  func errors() throws {
    let (m, w) = try model()
    #expect(throws: EmbeddingError.tokenOutOfRange(id: 25, vocabSize: 25)) { try m.encode([[2, 25, 3]]) }
    #expect(throws: EmbeddingError.sequenceTooLong(length: 17, maximum: 16)) {
      try m.encode([[Int32](repeating: 4, count: 17)])
    }
    #expect(throws: EmbeddingError.shapeMismatch(tensor: "embeddings.LayerNorm.bias", expected: [8], found: [7])) {
      try BertModel(config: tiny) { name in
        name == "embeddings.LayerNorm.bias"
          ? ([7], [Float](repeating: 0, count: 7)) : w[name].map { ($0.shape, $0.values) }
      }
    }
    #expect(throws: EmbeddingError.missingTensor(file: "weights", name: "encoder.layer.1.output.dense.bias")) {
      try BertModel(config: tiny) { name in
        name == "encoder.layer.1.output.dense.bias" ? nil : w[name].map { ($0.shape, $0.values) }
      }
    }
  }

  @Test("a model folder written with SafeTensorsWriter loads and embeds to unit vectors")
  func folderRoundTrip() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("seb-bert-\(getpid())", isDirectory: true)
    try? FileManager.default.removeItem(at: dir)
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    var weights = BertModel.randomWeights(config: tiny, seed: 3)
    // Real checkpoints also carry position_ids (I64 upstream); extra tensors are ignored.
    weights["embeddings.position_ids"] = SafeTensorsF32(shape: [1, 16], values: (0..<16).map(Float.init))
    try SafeTensorsWriter.write(
      weights, metadata: ["format": "pt"], to: dir.appendingPathComponent("model.safetensors"))
    let config = """
      {"vocab_size": 25, "hidden_size": 8, "num_hidden_layers": 2, "num_attention_heads": 2,
       "intermediate_size": 12, "max_position_embeddings": 16, "type_vocab_size": 2,
       "layer_norm_eps": 1e-12, "hidden_act": "gelu", "model_type": "bert"}
      """
    try config.write(to: dir.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
    try tinyVocab.joined(separator: "\n").write(
      to: dir.appendingPathComponent("vocab.txt"), atomically: true, encoding: .utf8)
    try #"{"max_seq_length": 6, "do_lower_case": false}"#.write(
      to: dir.appendingPathComponent("sentence_bert_config.json"), atomically: true, encoding: .utf8)

    let e = try SentenceEmbedder(directory: dir)
    #expect(e.tokenizer.maxLength == 6)
    let texts = ["the cat", "The CAT!", "", "   ", "[EMPTY]", "the cat the cat the cat the cat"]
    let v = try e.embed(texts)
    #expect(v.count == texts.count && v.allSatisfy { $0.count == 8 })
    for x in v { #expect(abs(x.reduce(0) { $0 + Double($1) * Double($1) } - 1) < 1e-5) }
    // Blank texts are [CLS] [SEP], as in sentence-transformers (not "[EMPTY]": that replacement is the
    // analysis script's, done in Analysis). Rows at other batch offsets may round differently in BLAS.
    #expect(e.tokenIDs("") == [2, 3] && e.tokenIDs("   ") == [2, 3] && e.tokenIDs("[EMPTY]") != [2, 3])
    #expect(maxAbsDiff(v[2], v[3]) < 1e-6 && maxAbsDiff(v[2], v[4]) > 1e-3)
    // Embedding is per text: batch composition changes nothing beyond rounding.
    #expect(maxAbsDiff(try e.embed(["the cat"])[0], v[0]) < 1e-6)
    // Same inputs, same bytes.
    #expect(try e.embed(texts) == v)
    // Mean pooling over the model's states, then L2.
    let pooled = try e.model.meanPooled([e.tokenIDs("the cat")])[0]
    #expect(SentenceEmbedder.normalized(pooled) == (try e.embed(["the cat"])[0]))
    // Truncation: 6 tokens max, so a long repeat equals its first 4 pieces.
    #expect(e.tokenIDs("the cat the cat the cat the cat") == [2, 4, 5, 4, 5, 3])
    #expect(maxAbsDiff(try e.embed(["the cat the cat"])[0], v[5]) < 1e-6)
  }

  @Test("similarity is clip((1 + cos) / 2, 0, 1)")
  func similarity() {
    #expect(SentenceEmbedder.similarity([1, 0], [1, 0]) == 1)
    #expect(SentenceEmbedder.similarity([1, 0], [-1, 0]) == 0)
    #expect(SentenceEmbedder.similarity([1, 0], [0, 2]) == 0.5)
    #expect(abs(SentenceEmbedder.similarity([1, 1], [1, 0]) - (1 + 0.5.squareRoot()) / 2) < 1e-12)
    #expect(SentenceEmbedder.similarity([0, 0], [1, 0]) == 0.5)  // zero vector: cos taken as 0
  }

  @Test("a folder without the model files says how to install it")
  func notInstalled() {
    let dir = URL(fileURLWithPath: "/nonexistent/seb-minilm")
    #expect(
      throws: EmbeddingError.modelNotInstalled(
        directory: dir.path, missing: "config.json", hint: "Run `seb model install --model minilm`.")
    ) {
      try SentenceEmbedder(directory: dir)
    }
  }
}
