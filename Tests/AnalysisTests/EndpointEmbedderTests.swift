// The embeddings endpoint client against a local stub (Python's http.server on 127.0.0.1, a port
// the system picks): request shape, key header, reply order, batching, retries and the named
// failure, and the paper's flag on its own model's scores.
import Analysis
import Foundation
import Testing

/// A stub OpenAI `/v1/embeddings`: "same..." texts embed as [1, 0], others as [0, 1]; the first
/// `fail` requests get HTTP 503 (a negative `fail`: every reply lacks its embedding); every request
/// is logged as one JSON line.
final class EmbeddingsStub {
  static let script = """
    import http.server, json, sys
    fail = [int(sys.argv[1])]
    log = sys.argv[2]
    class H(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers['Content-Length'])))
            with open(log, 'a') as f:
                f.write(json.dumps({'path': self.path, 'auth': self.headers.get('Authorization'), 'body': body}) + '\\n')
            if fail[0] > 0:
                fail[0] -= 1
                self.send_response(503); self.end_headers(); return
            if fail[0] < 0:
                out = b'{"data": [{"index": 0}]}'
                self.send_response(200); self.send_header('Content-Length', str(len(out))); self.end_headers()
                self.wfile.write(out); return
            data = [{'index': i, 'embedding': [1.0, 0.0] if t.startswith('same') else [0.0, 1.0]} for i, t in enumerate(body['input'])]
            out = json.dumps({'data': list(reversed(data)), 'model': body['model']}).encode()
            self.send_response(200)
            self.send_header('Content-Type', 'application/json'); self.send_header('Content-Length', str(len(out)))
            self.end_headers(); self.wfile.write(out)
        def log_message(self, *a): pass
    s = http.server.HTTPServer(('127.0.0.1', 0), H)
    print(s.server_address[1], flush=True)
    s.serve_forever()
    """
  static let python: String? = ["/usr/bin/python3", "/usr/local/bin/python3"].first {
    FileManager.default.isExecutableFile(atPath: $0)
  }

  let process = Process()
  let logPath: String
  let url: String

  init(failFirst: Int) throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("seb-embed-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    try Data(Self.script.utf8).write(to: URL(fileURLWithPath: dir + "/stub.py"))
    logPath = dir + "/requests.jsonl"
    process.executableURL = URL(fileURLWithPath: Self.python!)
    process.arguments = [dir + "/stub.py", "\(failFirst)", logPath]
    let out = Pipe()
    process.standardOutput = out
    try process.run()
    var line = Data()
    while !line.contains(0x0A) {
      let d = out.fileHandleForReading.availableData
      if d.isEmpty { break }
      line.append(d)
    }
    url = "http://127.0.0.1:\(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))/v1"
  }

  /// SIGKILL, not waitUntilExit: Foundation's wait spins a run loop that can stall a test thread.
  deinit { kill(process.processIdentifier, SIGKILL) }

  var requests: [[String: Any]] {
    let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    return text.split(separator: "\n").compactMap {
      try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
    }
  }
}

@Suite("embeddings endpoint", .enabled(if: EmbeddingsStub.python != nil, "python3 runs the local stub"))
struct EndpointEmbedderTests {
  @Test("posts model, input and float encoding with the key, retries a 503, and maps replies by index in batches")
  func embeds() throws {
    let stub = try EmbeddingsStub(failFirst: 1)
    setenv("SEB_TEST_EMBEDDINGS_KEY", "k-123", 1)
    var e = EndpointEmbedder(url: stub.url, model: "text-embedding-3-large", apiKeyEnv: "SEB_TEST_EMBEDDINGS_KEY")
    e.backoff = 0.01
    e.batch = 2
    let v = try e.embed(["same a", "other", "same b"])
    #expect(v == [[1, 0], [0, 1], [1, 0]])
    let reqs = stub.requests
    #expect(reqs.count == 3)  // one 503, then two batches
    let body = try #require(reqs.last?["body"] as? [String: Any])
    #expect(body["model"] as? String == "text-embedding-3-large" && body["encoding_format"] as? String == "float")
    #expect(body["input"] as? [String] == ["same b"])
    #expect(reqs.allSatisfy { $0["path"] as? String == "/v1/embeddings" && $0["auth"] as? String == "Bearer k-123" })
  }

  @Test("the paper's model's scores above 0.92 are flagged; an endpoint that stays down is a named error")
  func flagsAndFailure() throws {
    let stub = try EmbeddingsStub(failFirst: 0)
    let same = Template(instruction: "same words", hyperparameters: [:])
    let its = try Collapse.analyze(
      [[same, same]], embedder: EndpointEmbedder(url: stub.url, model: "text-embedding-3-large"))
    #expect(its[0].textFlags == ["embedding text-embedding-3-large, (1+cos)/2"])
    let down = try EmbeddingsStub(failFirst: 100)
    var e = EndpointEmbedder(url: down.url, model: "text-embedding-3-large")
    e.retries = 1
    e.backoff = 0.01
    #expect(throws: AnalysisError.endpoint(url: down.url + "/embeddings", message: "HTTP 503 after 2 attempts")) {
      try e.embed(["x"])
    }
  }

  @Test("a reply without embeddings is a named error, never a silent score")
  func malformedReply() throws {
    let stub = try EmbeddingsStub(failFirst: -1)
    let e = EndpointEmbedder(url: stub.url, model: "text-embedding-3-large")
    #expect {
      _ = try e.embed(["a", "b"])
    } throws: { error in
      guard case AnalysisError.embedder(let name, _, let found)? = error as? AnalysisError else { return false }
      return name == "text-embedding-3-large" && found.contains("index")
    }
  }
}
