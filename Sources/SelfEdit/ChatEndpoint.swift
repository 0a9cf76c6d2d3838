// ChatEndpoint.swift: an OpenAI-compatible `/chat/completions` client for the judge and the
// teacher: one user message, posted through Workspace's HTTPPost (retries with exponential
// backoff on connection errors, timeouts, HTTP 429 and 5xx); any other failure is an error naming
// the URL and status. The key comes from an environment variable and is never written anywhere.
import Experiment
import Foundation
import Workspace

public struct ChatEndpoint: Sendable {
  public let spec: EndpointSpec
  /// Seconds before the first retry (doubles each time).
  public var backoff: Double = 1

  public init(spec: EndpointSpec) { self.spec = spec }

  var completionsURL: String { HTTPPost.join(spec.url, "chat/completions") }

  /// The assistant text for one user message.
  public func complete(_ user: String, temperature: Double? = nil, topP: Double? = nil) throws -> String {
    var body: [String: JSONValue] = [
      "model": .string(spec.model), "messages": [["role": "user", "content": .string(user)]],
      "max_tokens": JSONValue(spec.maxTokens),
    ]
    if let temperature { body["temperature"] = .number(temperature) }
    if let topP { body["top_p"] = .number(topP) }
    let payload = try JSONValue.object(body).text()
    let data: Data
    do {
      data = try HTTPPost.json(
        completionsURL, payload: payload, apiKeyEnv: spec.apiKeyEnv, timeout: spec.timeoutSeconds,
        retries: spec.retries,
        backoff: backoff)
    } catch let f as HTTPPost.Failure {
      throw SelfEditError.endpoint(url: f.url, message: f.message)
    }
    guard let msg = (try? JSONValue.parse(data))?["choices"]?.array?.first?["message"], msg.object != nil else {
      throw SelfEditError.endpoint(url: completionsURL, message: "reply has no choices[0].message")
    }
    guard let content = msg["content"]?.string else {
      throw SelfEditError.endpoint(url: completionsURL, message: "choices[0].message.content is null")
    }
    return content
  }
}
