// HTTPPost.swift: one JSON POST with retries, for every client of an OpenAI-compatible endpoint
// (the judge and teacher's chat completions, the embeddings of the collapse analysis): retried
// with exponential backoff on connection errors, timeouts, HTTP 429 and 5xx; any other status is
// a failure at once. The key comes from an environment variable and is never written anywhere.
import Foundation

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

public enum HTTPPost {
  /// Why an endpoint gave no usable reply; callers wrap it in their module's error.
  public struct Failure: Error, Equatable, Sendable {
    public var url: String
    public var message: String
  }

  /// The body of a 200 reply to `payload` at `url`.
  public static func json(
    _ url: String, payload: Data, apiKeyEnv: String?, timeout: Double, retries: Int, backoff: Double = 1
  ) throws -> Data {
    var lastError = "no attempt made"
    for attempt in 0...max(0, retries) {
      if attempt > 0 { Thread.sleep(forTimeInterval: backoff * pow(2, Double(attempt - 1))) }
      let (status, data, err) = post(url, payload, apiKeyEnv: apiKeyEnv, timeout: timeout)
      if let err { lastError = err; continue }
      if status == 429 || status >= 500 { lastError = "HTTP \(status)"; continue }
      guard status == 200 else {
        throw Failure(url: url, message: "HTTP \(status): \(String(decoding: data.prefix(300), as: UTF8.self))")
      }
      return data
    }
    throw Failure(url: url, message: "\(lastError) after \(max(0, retries) + 1) attempts")
  }

  /// `base` + "/" + `path` without a doubled slash (base URLs are given with or without one).
  public static func join(_ base: String, _ path: String) -> String {
    base.hasSuffix("/") ? base + path : base + "/" + path
  }

  static func post(_ urlString: String, _ payload: Data, apiKeyEnv: String?, timeout: Double) -> (Int, Data, String?) {
    var headers = ["Content-Type": "application/json"]
    if let env = apiKeyEnv, let key = ProcessInfo.processInfo.environment[env], !key.isEmpty {
      headers["Authorization"] = "Bearer \(key)"
    }
    return send("POST", urlString, body: payload, headers: headers, timeout: timeout)
  }

  /// One HTTP exchange, blocking: the status (0 when none came), the body, and the transport
  /// error if there was one (connection refused, timeout).
  public static func send(
    _ method: String, _ urlString: String, body: Data?, headers: [String: String], timeout: Double
  ) -> (status: Int, data: Data, error: String?) {
    guard let url = URL(string: urlString) else { return (0, Data(), "not a URL") }
    var req = URLRequest(url: url, timeoutInterval: timeout)
    req.httpMethod = method
    for (k, v) in headers { req.setValue(v, forHTTPHeaderField: k) }
    req.httpBody = body
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
