// GGUFRealModelTests.swift: the GGUF reader against the real SmolLM2-135M-Instruct Q4_1 file.
//
// Enabled only with SEB_REAL_MODEL=1 and the model present at Data/models/ (found from #filePath).
// Structural facts are from model-facts.md 3.1. The expected floats were computed independently
// with the Python `gguf` package (pip install gguf numpy; GGUFReader + gguf.quants.dequantize on
// the same file), e.g. `dequantize(r.tensors[i].data[0:1], tensor_type)[0][:8]` for token_embd.
import Foundation
import GGUF
import Testing

private let packageRoot = URL(fileURLWithPath: #filePath)
  .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
private let modelPath = packageRoot.appendingPathComponent("Data/models/SmolLM2-135M-Instruct.Q4_1.gguf").path
private let enabled =
  ProcessInfo.processInfo.environment["SEB_REAL_MODEL"] == "1"
  && FileManager.default.fileExists(atPath: modelPath)

@Suite(
  "GGUF on the real SmolLM2 model",
  .enabled(if: enabled, "needs SEB_REAL_MODEL=1 and Data/models/SmolLM2-135M-Instruct.Q4_1.gguf"))
struct GGUFRealModelTests {
  @Test("header, counts, types and layout match model-facts 3.1")
  func structure() throws {
    let f = try GGUFFile(path: modelPath)
    #expect(f.fileSize == 98_362_432)
    #expect(f.version == 3 && f.tensors.count == 272 && f.metadata.count == 33)
    #expect(f.alignment == 32 && f.value("general.alignment") == nil && f.dataOffset == 1_785_664)
    #expect(try f.requireArchitecture(in: ["llama"]) == "llama")
    #expect(try f.int("llama.block_count") == 30 && f.int("llama.embedding_length") == 576)
    #expect(try f.int("llama.feed_forward_length") == 1536 && f.int("llama.attention.head_count") == 9)
    #expect(try f.int("llama.attention.head_count_kv") == 3 && f.int("llama.context_length") == 8192)
    #expect(
      try f.float("llama.rope.freq_base") == 100000
        && f.float("llama.attention.layer_norm_rms_epsilon") == 9.9999997e-06)
    #expect(try f.int("general.file_type") == 3 && f.int("general.quantization_version") == 2)
    #expect(try f.stringArray("tokenizer.ggml.tokens").count == 49152)
    #expect(try f.stringArray("tokenizer.ggml.merges").count == 48900)
    #expect(try f.string("tokenizer.ggml.model") == "gpt2" && f.string("tokenizer.ggml.pre") == "smollm")
    #expect(!f.hasTensor("output.weight"))  // tied embeddings

    let s = f.summary()
    let counts = Dictionary(uniqueKeysWithValues: s.types.map { ($0.type, $0.tensors) })
    #expect(counts == [.q4_1: 210, .f32: 61, .q8_0: 1])
    #expect(s.parameterCount == 134_515_008)

    let emb = try f.tensor(named: "token_embd.weight")
    #expect(emb.type == .q8_0 && emb.dims == [576, 49152] && emb.byteCount == 30_081_024)
    let k = try f.tensor(named: "blk.0.attn_k.weight")
    #expect(k.type == .q4_1 && k.dims == [576, 192])
    #expect(try f.tensor(named: "blk.0.attn_q.weight").byteCount == 207_360)
  }

  @Test("token_embd rows dequantize to the values the Python gguf package computes")
  func embeddingRows() throws {
    let f = try GGUFFile(path: modelPath)
    let emb = try f.tensor(named: "token_embd.weight")
    var rows = [Float](repeating: 0, count: 2 * 576)  // (2, C)
    try rows.withUnsafeMutableBufferPointer { try f.dequantize(emb, rows: 0..<2, into: $0.baseAddress!) }
    let row0: [Float] = [
      -0.10654449462890625, 0.032978057861328125, 0.048198699951171875, -0.022830963134765625,
      -0.06849288940429688, -0.04566192626953125, 0.020294189453125, -0.12176513671875,
    ]
    #expect(Array(rows[0..<8]) == row0)
    #expect(rows[575] == 0.029754638671875)
    #expect(Array(rows[576..<580]) == [-0.0238037109375, -0.015869140625, -0.0396728515625, 0.015869140625])
    let sum = rows[0..<576].reduce(0, +)
    #expect(abs(sum - -2.2541093826293945) < 1e-4)  // numpy float32 sum; summation order differs
  }

  @Test("a Q4_1 row and an F32 norm dequantize to the Python gguf package's values")
  func q4_1AndF32() throws {
    let f = try GGUFFile(path: modelPath)
    let q = try f.tensor(named: "blk.0.attn_q.weight")
    var row = [Float](repeating: 0, count: 576)  // (C)
    try row.withUnsafeMutableBufferPointer { try f.dequantize(q, rows: 0..<1, into: $0.baseAddress!) }
    let expected: [Float] = [
      -0.0963134765625, 0.1573486328125, -0.0963134765625, -0.73046875, 1.1719970703125, -0.0963134765625,
    ]
    for i in 0..<6 { #expect(abs(row[i] - expected[i]) <= 1e-6 * abs(expected[i]), "element \(i)") }
    #expect(abs(row.reduce(0, +) - 1.00726318359375) < 1e-3)
    let norm = try f.dequantizeToArray(f.tensor(named: "output_norm.weight"))
    #expect(norm.count == 576 && Array(norm[0..<4]) == [1.7578125, 1.8203125, 1.78125, 1.6015625])
  }
}
