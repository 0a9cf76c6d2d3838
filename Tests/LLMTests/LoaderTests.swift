import Foundation
import GGUF
import LLM
import Tensor
import TestSupport
import Testing

@Suite("Loading GGUF models")
struct LoaderTests {
  func config(_ arch: Architecture = .llama) -> LlamaConfig {
    LlamaConfig(
      architecture: arch, vocabSize: 300, dim: 64, layers: 2, heads: 4, kvHeads: 2, headDim: 16, ffnDim: 128,
      ropeTheta: 10000, rmsEps: 1e-5, contextLength: 64)
  }

  @Test(
    "a Q4_1/Q8_0 GGUF loads with packed copies whose decode logits equal the float32 path",
    arguments: Architecture.allCases)
  func loadsAndDecodes(_ arch: Architecture) throws {
    let bytes = try TinyGGUF.make(config: config(arch), seed: 3)
    let f = try GGUFFile(bytes: bytes, name: "tiny-\(arch).gguf")
    let w = try ModelWeights(gguf: f)
    #expect(w.config == config(arch))
    #expect(w.tiedEmbeddings)
    #expect(w.layers[0].wq.packed?.format == .q4_1)
    #expect(w.output.packed?.format == .q8_0)
    // Float32 path on all rows (sgemm), then the packed path one token at a time.
    let t = Transformer(weights: w)
    let tokens = [5, 77, 123, 9, 250]
    t.packedMaxRows = 0
    let full = try t.forward([(0, tokens)], cache: KVCache(config: w.config, slots: 1, capacity: 8), logits: .all)
    t.packedMaxRows = 16
    let cache = KVCache(config: w.config, slots: 1, capacity: 8)
    for (i, tok) in tokens.enumerated() {
      let step = try t.forward([(0, [tok])], cache: cache)
      let row = Array(full.array[(i * 300)..<((i + 1) * 300)])
      #expect(zip(step.array, row).map { abs($0 - $1) }.max()! < 1e-4)
    }
    // And the loaded values are the file's: a row of attn_q equals GGUF's own dequantization.
    let ref = try f.dequantize(named: "blk.1.attn_q.weight").array
    #expect(Array(w.layers[1].wq.w.array.prefix(64)) == Array(ref.prefix(64)))
  }

  @Test("a missing key, a missing tensor and a wrong shape are named errors")
  func namedErrors() throws {
    let noHeads = try GGUFFile(
      bytes: TinyGGUF.make(config: config(), seed: 1, dropKey: "llama.attention.head_count"), name: "a.gguf")
    #expect(throws: (any Error).self) { try ModelWeights(gguf: noHeads) }
    do { _ = try ModelWeights(gguf: noHeads) } catch {
      #expect("\(error.localizedDescription)".contains("llama.attention.head_count"))
    }
    let noQ = try GGUFFile(
      bytes: TinyGGUF.make(config: config(), seed: 1, dropTensor: "blk.1.attn_q.weight"), name: "b.gguf")
    do { _ = try ModelWeights(gguf: noQ); Issue.record("expected an error") } catch {
      #expect("\(error.localizedDescription)".contains("blk.1.attn_q.weight"))
    }
    var w = try GGUFWriter()
    try w.add("general.architecture", .string("gpt2"))
    let other = try GGUFFile(bytes: w.serialize(), name: "c.gguf")
    #expect(throws: LLMError.unsupportedArchitecture(source: "c.gguf", found: "gpt2")) { try LlamaConfig(gguf: other) }
  }
}
