// MiniLMFixtureTests.swift: the installed all-MiniLM-L6-v2 against embeddings and token ids that
// sentence-transformers computed on this machine (Fixtures/minilm_embeddings.json; its "how"
// field is the Python that made it). Enabled only when the model is installed in the model
// directory (flag-less resolution: $SEB_MODEL_DIR, else <package root>/Data/models), so it runs
// in CI after `seb model install` and in release builds, and skips cleanly elsewhere.
import Embedding
import Foundation
import Testing

private let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
  .deletingLastPathComponent().deletingLastPathComponent()
private let fixtureURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
  .appendingPathComponent("Fixtures/minilm_embeddings.json")
private let modelDir = SentenceEmbedder.defaultModelDirectory(currentDirectory: packageRoot)
private let installed = SentenceEmbedder.isMiniLMInstalled(modelDir: modelDir)

private struct Fixture: Decodable {
  struct Case: Decodable {
    let text: String
    let input: String
    let input_ids: [Int32]
    let embedding: [Float]
  }
  let max_seq_length: Int
  let how: String
  let cases: [Case]
}

@Suite("all-MiniLM-L6-v2 vs sentence-transformers", .enabled(if: installed, "model not installed in model dir"))
struct MiniLMFixtureTests {
  @Test("token ids equal the Hugging Face tokenizer's and embeddings have cosine >= 0.999 (max diff < 1e-4)")
  func matchesSentenceTransformers() throws {
    let fixture = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: fixtureURL))
    #expect(fixture.cases.count >= 12 && fixture.how.contains("SentenceTransformer"))
    let embedder = try SentenceEmbedder.installedMiniLM(modelDir: modelDir)
    #expect(embedder.tokenizer.maxLength == fixture.max_seq_length)
    for c in fixture.cases {
      #expect(embedder.tokenIDs(c.text) == c.input_ids, "token ids of \(c.text.debugDescription)")
    }
    let vectors = try embedder.embed(fixture.cases.map(\.text))
    for (c, v) in zip(fixture.cases, vectors) {
      let cos = SentenceEmbedder.cosine(v, c.embedding)
      #expect(cos >= 0.999, "cosine \(cos) for \(c.text.prefix(60).debugDescription)")
      // Stricter than the brief asks: measured max difference is ~2e-7.
      let diff = zip(v, c.embedding).map { abs($0 - $1) }.max() ?? .infinity
      #expect(diff < 1e-4, "max |swift - python| \(diff) for \(c.text.prefix(60).debugDescription)")
    }
  }
}
