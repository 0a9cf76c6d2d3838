// ChatEndpoint.swift: an OpenAI-compatible `/chat/completions` client for the judge and the
// teacher: one user message, retried with exponential backoff on connection errors, timeouts,
// HTTP 429 and 5xx; any other failure is returned as an error naming the URL and status. The key
// comes from an environment variable and is never written anywhere.
import Experiment
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

public struct ChatEndpoint: Sendable {
  public let spec: EndpointSpec
  /// Seconds before the first retry (doubles each time).
  public var backoff: Double = 1

  public init(spec: EndpointSpec) { self.spec = spec }

  var completionsURL: String { spec.url.hasSuffix("/") ? spec.url + "chat/completions" : spec.url + "/chat/completions" }

  /// The assistant text for one user message.
  public func complete(_ user: String, temperature: Double? = nil, topP: Double? = nil) throws -> String {
    var body: [String: Any] = ["model": spec.model, "messages": [["role": "user", "content": user]], "max_tokens": spec.maxTokens]
    if let temperature { body["temperature"] = temperature }
    if let topP { body["top_p"] = topP }
    let payload = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
    var lastError = "no attempt made"
    for attempt in 0...spec.retries {
      if attempt > 0 { Thread.sleep(forTimeInterval: backoff * pow(2, Double(attempt - 1))) }
      let (status, data, err) = post(payload)
      if let err { lastError = err; continue }
      if status == 429 || status >= 500 { lastError = "HTTP \(status)"; continue }
      guard status == 200 else {
        throw SelfEditError.endpoint(url: completionsURL, message: "HTTP \(status): \(String(decoding: data.prefix(300), as: UTF8.self))")
      }
      guard let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let choices = obj["choices"] as? [[String: Any]], let msg = choices.first?["message"] as? [String: Any] else {
        throw SelfEditError.endpoint(url: completionsURL, message: "reply has no choices[0].message")
      }
      guard let content = msg["content"] as? String else {
        throw SelfEditError.endpoint(url: completionsURL, message: "choices[0].message.content is null")
      }
      return content
    }
    throw SelfEditError.endpoint(url: completionsURL, message: "\(lastError) after \(spec.retries + 1) attempts")
  }

  private func post(_ payload: Data) -> (Int, Data, String?) {
    guard let url = URL(string: completionsURL) else { return (0, Data(), "not a URL") }
    var req = URLRequest(url: url, timeoutInterval: spec.timeoutSeconds)
    req.httpMethod = "POST"
    req.setValue("application/json", forHTTPHeaderField: "Content-Type")
    if let env = spec.apiKeyEnv, let key = ProcessInfo.processInfo.environment[env], !key.isEmpty {
      req.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization")
    }
    req.httpBody = payload
    let done = DispatchSemaphore(value: 0)
    final class Box: @unchecked Sendable { var status = 0; var data = Data(); var error: String? }
    let box = Box()
    let task = URLSession.shared.dataTask(with: req) { data, response, error in
      if let error { box.error = error.localizedDescription }
      box.status = (response as? HTTPURLResponse)?.statusCode ?? 0
      box.data = data ?? Data()
      done.signal()
    }
    task.resume()
    done.wait()
    return (box.status, box.data, box.error)
  }
}
