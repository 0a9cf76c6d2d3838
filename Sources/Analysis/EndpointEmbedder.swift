// EndpointEmbedder.swift: text embeddings from an OpenAI-compatible `/embeddings` endpoint, so a
// user with access computes the paper's own text-similarity measure (text-embedding-3-large,
// `encoding_format="float"`, reference-pipeline 4.1) and gets the paper's 0.92 flags. Its
// measure is named by the model, so a table says which model every score comes from.
import Foundation
import Workspace

public struct EndpointEmbedder: TextEmbedder {
  public let url: String
  public let model: String
  public let apiKeyEnv: String?
  public var retries = 3
  public var timeoutSeconds = 120.0
  /// Seconds before the first retry (doubles each time).
  public var backoff = 1.0
  /// Texts per request (the API takes up to 2,048 inputs; 64 keeps requests small).
  public var batch = 64

  public init(url: String, model: String, apiKeyEnv: String? = nil) {
    self.url = url; self.model = model; self.apiKeyEnv = apiKeyEnv
  }

  public var name: String { model }
  var embeddingsURL: String { HTTPPost.join(url, "embeddings") }

  public func embed(_ texts: [String]) throws -> [[Float]] {
    var out: [[Float]] = []
    for start in stride(from: 0, to: texts.count, by: max(1, batch)) {
      out += try request(Array(texts[start..<min(texts.count, start + max(1, batch))]))
    }
    return out
  }

  struct Reply: Decodable {
    struct Item: Decodable { let index: Int; let embedding: [Float] }
    let data: [Item]
  }

  func request(_ texts: [String]) throws -> [[Float]] {
    let payload = try JSONValue.object(
      ["model": .string(model), "input": .array(texts.map(JSONValue.string)), "encoding_format": "float"]
    ).text()
    let data: Data
    do {
      data = try HTTPPost.json(
        embeddingsURL, payload: payload, apiKeyEnv: apiKeyEnv, timeout: timeoutSeconds, retries: retries,
        backoff: backoff)
    } catch let f as HTTPPost.Failure {
      throw AnalysisError.endpoint(url: f.url, message: f.message)
    }
    guard let reply = try? JSONDecoder().decode(Reply.self, from: data) else {
      throw AnalysisError.embedder(
        name: model, expected: "{\"data\": [{\"index\", \"embedding\": [numbers]}]}",
        found: String(decoding: data.prefix(200), as: UTF8.self))
    }
    // Replies may come in any order; `index` says which input each belongs to.
    var byIndex = [[Float]?](repeating: nil, count: texts.count)
    for item in reply.data where (0..<texts.count).contains(item.index) { byIndex[item.index] = item.embedding }
    guard byIndex.allSatisfy({ $0 != nil }) else {
      throw AnalysisError.embedder(
        name: model, expected: "one embedding per input (\(texts.count))", found: "\(reply.data.count)")
    }
    return byIndex.map { $0! }
  }
}
