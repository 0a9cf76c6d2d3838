// ChatCompletions.swift: OpenAI's `/v1/chat/completions` over a local engine (`seb serve`, and
// every `seb worker`), so the teacher and judge paths run against a real model without API keys
// or internet. The chat template is the model's; `temperature` (default 0 = greedy), `top_p`,
// `max_tokens` and `seed` are honoured; the last system and user messages are used.
import Decoding
import EngineAPI
import Foundation

enum ChatCompletions {
  /// Status and body of the reply to one request body.
  static func reply(engine: Engine, name: String, body: Data, log: (String) -> Void) -> (Int, Data) {
    func refuse(_ status: Int, _ message: String) -> (Int, Data) {
      (status, json(["error": ["message": message]]))
    }
    do {
      guard let obj = try JSONSerialization.jsonObject(with: body) as? [String: Any],
        let messages = obj["messages"] as? [[String: Any]], !messages.isEmpty
      else {
        return refuse(400, "expected {\"messages\": [{\"role\", \"content\"}, ...]}")
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
        prompt: try engine.chatPrompt(system: system, user: user),
        sampling: SamplingOptions(temperature: temperature, topP: topP),
        maxTokens: maxTokens, seed: seed)
      let r = try engine.generate([req], batchSize: 8, progress: nil)[0]
      log("served \(r.promptTokens) prompt + \(r.tokens) completion tokens")
      return (
        200,
        json([
          "object": "chat.completion", "model": name,
          "choices": [
            [
              "index": 0, "message": ["role": "assistant", "content": r.text],
              "finish_reason": r.finish == "length" ? "length" : "stop",
            ]
          ],
          "usage": ["prompt_tokens": r.promptTokens, "completion_tokens": r.tokens],
        ])
      )
    } catch {
      return refuse(400, (error as? LocalizedError)?.errorDescription ?? "\(error)")
    }
  }

  static func json(_ obj: [String: Any]) -> Data {
    (try? JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys])) ?? Data()
  }
}
