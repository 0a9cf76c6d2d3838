// ChatServer.swift: a minimal OpenAI-compatible `/v1/chat/completions` endpoint over a local
// model (`seb serve`), so the teacher and judge paths can run against a real model without API
// keys or internet, and so two processes can play teacher and student. One request at a time,
// HTTP/1.1 with Content-Length, connection closed after each reply. The chat template is the
// model's; `temperature` (default 0 = greedy), `top_p`, `max_tokens` and `seed` are honoured.
import Decoding
import EngineAPI
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

public final class ChatServer {
  let engine: Engine
  let name: String
  let fd: Int32
  public let port: Int
  public var log: (String) -> Void = { _ in }

  /// Binds 127.0.0.1:`port` (0 = any free port).
  public init(engine: Engine, name: String, port: Int = 0) throws {
    self.engine = engine
    self.name = name
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else {
      throw SelfEditError.endpoint(url: "127.0.0.1:\(port)", message: "socket: \(String(cString: strerror(errno)))")
    }
    var one: Int32 = 1
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = in_port_t(UInt16(port).bigEndian)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    let ok = withUnsafePointer(to: &addr) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard ok == 0, listen(fd, 16) == 0 else {
      close(fd)
      throw SelfEditError.endpoint(
        url: "127.0.0.1:\(port)", message: "bind/listen: \(String(cString: strerror(errno)))")
    }
    var bound = sockaddr_in()
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &bound) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
    }
    self.port = Int(UInt16(bigEndian: bound.sin_port))
    self.fd = fd
  }

  deinit { close(fd) }

  /// Serves until the process ends (or `requests` requests when given, for tests).
  public func serve(requests: Int? = nil) {
    var served = 0
    while requests.map({ served < $0 }) ?? true {
      let c = accept(fd, nil, nil)
      if c < 0 { continue }
      handle(c)
      close(c)
      served += 1
    }
  }

  func handle(_ c: Int32) {
    var buf = [UInt8]()
    var chunk = [UInt8](repeating: 0, count: 65536)
    var headerEnd: Int?
    var contentLength = 0
    while true {
      let n = read(c, &chunk, chunk.count)
      if n <= 0 { return }
      buf += chunk[0..<n]
      if headerEnd == nil, let r = find(buf, Array("\r\n\r\n".utf8)) {
        headerEnd = r + 4
        let head = String(decoding: buf[0..<r], as: UTF8.self)
        for line in head.split(separator: "\r\n") where line.lowercased().hasPrefix("content-length:") {
          contentLength = Int(line.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) ?? 0
        }
      }
      if let h = headerEnd, buf.count >= h + contentLength { break }
    }
    let h = headerEnd!
    let firstLine = String(decoding: buf[0..<h], as: UTF8.self).split(separator: "\r\n").first ?? ""
    guard firstLine.hasPrefix("POST"), firstLine.contains("/chat/completions") else {
      return reply(c, 404, ["error": ["message": "only POST /v1/chat/completions is served"]])
    }
    do {
      let body = Data(buf[h..<(h + contentLength)])
      guard let obj = try JSONSerialization.jsonObject(with: body) as? [String: Any],
        let messages = obj["messages"] as? [[String: Any]], !messages.isEmpty
      else {
        return reply(c, 400, ["error": ["message": "expected {\"messages\": [{\"role\", \"content\"}, ...]}"]])
      }
      var system: String?
      var user = ""
      for m in messages {
        let content = m["content"] as? String ?? ""
        if m["role"] as? String == "system" { system = content } else { user = content }
      }
      let temperature = (obj["temperature"] as? NSNumber)?.floatValue ?? 0
      let topP = (obj["top_p"] as? NSNumber)?.floatValue ?? 1
      let maxTokens = min((obj["max_tokens"] as? NSNumber)?.intValue ?? 512, engine.identity.contextLength / 2)
      let seed = (obj["seed"] as? NSNumber)?.uint64Value ?? 0
      let req = GenerateRequest(
        prompt: engine.chatPrompt(system: system, user: user),
        sampling: SamplingOptions(temperature: temperature, topP: topP),
        maxTokens: maxTokens, seed: seed)
      let r = try engine.generate([req], batchSize: 8, progress: nil)[0]
      let text = r.text
      log("served \(r.promptTokens) prompt + \(r.tokens) completion tokens")
      reply(
        c, 200,
        [
          "object": "chat.completion", "model": name,
          "choices": [
            [
              "index": 0, "message": ["role": "assistant", "content": text],
              "finish_reason": r.finish == "length" ? "length" : "stop",
            ]
          ],
          "usage": ["prompt_tokens": r.promptTokens, "completion_tokens": r.tokens],
        ])
    } catch {
      reply(c, 400, ["error": ["message": (error as? LocalizedError)?.errorDescription ?? "\(error)"]])
    }
  }

  func reply(_ c: Int32, _ status: Int, _ obj: [String: Any]) {
    let body = (try? JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys])) ?? Data()
    let head =
      "HTTP/1.1 \(status) \(status == 200 ? "OK" : "Error")\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n"
    let bytes = Array(head.utf8) + Array(body)
    var off = 0
    while off < bytes.count {
      let n = bytes[off...].withUnsafeBufferPointer { write(c, $0.baseAddress, $0.count) }
      if n <= 0 { return }
      off += n
    }
  }

  func find(_ hay: [UInt8], _ needle: [UInt8]) -> Int? {
    guard hay.count >= needle.count else { return nil }
    for i in 0...(hay.count - needle.count) where hay[i] == needle[0] && Array(hay[i..<(i + needle.count)]) == needle {
      return i
    }
    return nil
  }
}
