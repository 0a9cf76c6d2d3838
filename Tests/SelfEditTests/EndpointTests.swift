import CPUEngine
// EndpointTests.swift: the OpenAI-compatible client against a local stub server (python3's
// http.server, started by the test): the teacher method end to end, the judge through an
// endpoint, a 429 retried with backoff, the API key sent from its environment variable.
import Experiment
import Foundation
import LLM
import SelfEdit
import Testing
import Workspace

/// A stub `/v1/chat/completions`: 429 on the first request, 401 without "Bearer k", then
/// "yes" for judge prompts and two implication lines for anything else.
final class StubServer {
  let process = Process()
  let port: Int
  static var available: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") }

  init() throws {
    let script = """
      import http.server, json
      state = {"n": 0}
      class H(http.server.BaseHTTPRequestHandler):
          def do_POST(self):
              body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
              state["n"] += 1
              if state["n"] == 1:
                  self.send_response(429); self.end_headers(); return
              if self.headers.get("Authorization") != "Bearer k":
                  self.send_response(401); self.end_headers(); return
              prompt = body["messages"][0]["content"]
              text = "yes" if "grading assistant" in prompt else "Zed lives in a town.\\nZed is blue."
              out = json.dumps({"choices": [{"message": {"role": "assistant", "content": text}}]}).encode()
              self.send_response(200); self.send_header("Content-Type", "application/json")
              self.send_header("Content-Length", str(len(out))); self.end_headers(); self.wfile.write(out)
          def log_message(self, *a): pass
      import time
      s = http.server.HTTPServer(("127.0.0.1", 0), H)
      s.timeout = 0.5
      print(s.server_address[1], flush=True)
      deadline = time.time() + 120  # never outlives the test run, even if the test process dies
      while time.time() < deadline:
          s.handle_request()
      """
    process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
    process.arguments = ["-c", script]
    let out = Pipe()
    process.standardOutput = out
    // No inherited output descriptors: a server still running must not keep the test runner's pipes open.
    process.standardError = FileHandle.nullDevice
    process.standardInput = FileHandle.nullDevice
    try process.run()
    var line = Data()
    while !line.contains(0x0A) { line.append(out.fileHandleForReading.availableData) }
    port = Int(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
  }

  // SIGKILL: the test runner's children may inherit a blocked SIGTERM.
  deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
  var url: String { "http://127.0.0.1:\(port)/v1" }
}

@Suite(
  "OpenAI-compatible endpoints", .serialized,
  .enabled(if: StubServer.available, "needs /usr/bin/python3 for the stub server"))
struct EndpointTests {
  @Test("the teacher writes self-edits through the endpoint (429 retried, key sent); the judge grades through it")
  func teacherAndJudge() throws {
    let server = try StubServer()
    setenv("SEB_TEST_KEY", "k", 1)
    let fx = try Fixture()
    fx.config.methods = [.base, .teacher]
    fx.config.limit = 2
    fx.config.teacher = EndpointSpec(
      url: server.url, model: "stub", apiKeyEnv: "SEB_TEST_KEY", retries: 2, timeoutSeconds: 10)
    let s = try #require(try fx.run("t"))
    #expect(s.methods["teacher"]?.failures == 0)
    let rec = try #require(
      try RunDirectory(dir: fx.root + "/t", shard: .whole).records().first { $0.method == "teacher" })
    #expect(rec.sequences.count == 3)
    #expect(rec.sequences[0].hasSuffix("\nZed lives in a town.") && rec.sequences[1].hasSuffix("\nZed is blue."))
    let judge = ChatEndpoint(
      spec: EndpointSpec(
        url: server.url, model: "stub-judge", apiKeyEnv: "SEB_TEST_KEY", retries: 1, timeoutSeconds: 10))
    let (n, failed) = try Judge.run(
      dir: fx.root + "/t", backend: .endpoint(judge), dataRoot: fx.root + "/data",
      prompts: PromptLibrary(directory: packageRoot + "/Data/prompts"))
    #expect(n > 0 && failed == 0)
    let v = try Judge.verdicts(path: fx.root + "/t/judge.jsonl")
    #expect(v.values.allSatisfy { $0 != nil })
  }

  @Test("a wrong key is an HTTP error naming the URL and status, not a retry loop")
  func unauthorized() throws {
    let server = try StubServer()
    unsetenv("SEB_TEST_KEY")
    var e = ChatEndpoint(
      spec: EndpointSpec(url: server.url, model: "m", apiKeyEnv: "SEB_TEST_KEY", retries: 2, timeoutSeconds: 10))
    e.backoff = 0.05
    do {
      _ = try e.complete("hi")
      Issue.record("accepted without a key")
    } catch let SelfEditError.endpoint(url, message) {
      #expect(url == server.url + "/chat/completions")
      #expect(message.hasPrefix("HTTP 401"))
    }
  }
}
