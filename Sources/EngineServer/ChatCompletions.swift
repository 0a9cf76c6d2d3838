// ChatCompletions.swift: OpenAI's `/v1/chat/completions` over a local engine (`seb serve`, and
// every `seb worker`), so the teacher and judge paths run against a real model without API keys
// or internet. The chat template is the model's; `temperature` (default 0 = greedy), `top_p`,
// `max_tokens` and `seed` are honoured; the last system and user messages are used.
import Decoding
import EngineAPI
import Foundation
import Workspace

enum ChatCompletions {
  /// Status and body of the reply to one request body.
  static func reply(engine: Engine, name: String, body: Data, log: (String) -> Void) -> (Int, Data) {
    func refuse(_ status: Int, _ message: String) -> (Int, Data) {
      (status, json(["error": ["message": .string(message)]]))
    }
    do {
      let obj: JSONValue
      do { obj = try JSONValue.parse(body) } catch { return refuse(400, "not JSON: \(error.reason)") }
      guard let messages = obj["messages"]?.array, !messages.isEmpty else {
        return refuse(400, "expected {\"messages\": [{\"role\", \"content\"}, ...]}")
      }
      var system: String?
      var user = ""
      for m in messages {
        let content = m["content"]?.string ?? ""
        if m["role"]?.string == "system" { system = content } else { user = content }
      }
      let temperature = obj["temperature"]?.double.map(Float.init) ?? 0
      let topP = obj["top_p"]?.double.map(Float.init) ?? 1
      let maxTokens = min(obj["max_tokens"]?.int ?? 512, engine.identity.contextLength / 2)
      let seed: UInt64 = if case .integer(let i)? = obj["seed"] { UInt64(truncatingIfNeeded: i) } else { 0 }
      let req = GenerateRequest(
        prompt: try engine.chatPrompt(system: system, user: user),
        sampling: SamplingOptions(temperature: temperature, topP: topP),
        maxTokens: maxTokens, seed: seed)
      let r = try engine.generate([req], batchSize: 8, progress: nil)[0]
      log("served \(r.promptTokens) prompt + \(r.tokens) completion tokens")
      return (
        200,
        json([
          "object": "chat.completion", "model": .string(name),
          "choices": [
            [
              "index": 0, "message": ["role": "assistant", "content": .string(r.text)],
              "finish_reason": r.finish == "length" ? "length" : "stop",
            ]
          ],
          "usage": [
            "prompt_tokens": JSONValue(r.promptTokens), "completion_tokens": JSONValue(r.tokens),
          ],
        ])
      )
    } catch {
      return refuse(400, (error as? LocalizedError)?.errorDescription ?? "\(error)")
    }
  }

  static func json(_ obj: JSONValue) -> Data { (try? obj.text()) ?? Data() }
}
