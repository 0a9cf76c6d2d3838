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
    var body: [String: Any] = [
      "model": spec.model, "messages": [["role": "user", "content": user]], "max_tokens": spec.maxTokens,
    ]
    if let temperature { body["temperature"] = temperature }
    if let topP { body["top_p"] = topP }
    let payload = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
    let data: Data
    do {
      data = try HTTPPost.json(
        completionsURL, payload: payload, apiKeyEnv: spec.apiKeyEnv, timeout: spec.timeoutSeconds,
        retries: spec.retries,
        backoff: backoff)
    } catch let f as HTTPPost.Failure {
      throw SelfEditError.endpoint(url: f.url, message: f.message)
    }
    guard let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
      let choices = obj["choices"] as? [[String: Any]], let msg = choices.first?["message"] as? [String: Any]
    else {
      throw SelfEditError.endpoint(url: completionsURL, message: "reply has no choices[0].message")
    }
    guard let content = msg["content"] as? String else {
      throw SelfEditError.endpoint(url: completionsURL, message: "choices[0].message.content is null")
    }
    return content
  }
}
