// ChatTemplate: SmolLM2's ChatML prompt format, hard-coded (no Jinja engine).
// Reproduces byte for byte the GGUF `tokenizer.chat_template` of SmolLM2-135M-Instruct (kept
// verbatim in `ChatTemplate.smolLM2Jinja` so the GGUF glue can check that a model uses it):
//   [if the first message is not "system": "<|im_start|>system\n" + defaultSystemPrompt + "<|im_end|>\n"]
//   for each message: "<|im_start|>" + role + "\n" + content + "<|im_end|>\n"
//   [if addGenerationPrompt: "<|im_start|>assistant\n"]
// Note (differs from many chat UIs): the default system turn is injected whenever the first
// message is not a system message; an empty message list gets no system turn (the Jinja loop
// never runs).

public struct ChatMessage: Sendable, Equatable, Hashable, Codable {
  public var role: String
  public var content: String

  public init(role: String, content: String) {
    self.role = role
    self.content = content
  }

  public static func system(_ content: String) -> ChatMessage { ChatMessage(role: "system", content: content) }
  public static func user(_ content: String) -> ChatMessage { ChatMessage(role: "user", content: content) }
  public static func assistant(_ content: String) -> ChatMessage { ChatMessage(role: "assistant", content: content) }
}

public enum ChatTemplate {
  public static let defaultSystemPrompt = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"

  /// The GGUF `tokenizer.chat_template` this renderer reproduces (368 characters).
  public static let smolLM2Jinja =
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"

  /// ChatML prompt text for `messages` (SmolLM2 template, see the file header).
  public static func smolLM2(_ messages: [ChatMessage], addGenerationPrompt: Bool) -> String {
    var out = ""
    if let first = messages.first, first.role != "system" {
      out += "<|im_start|>system\n" + defaultSystemPrompt + "<|im_end|>\n"
    }
    for m in messages {
      out += "<|im_start|>" + m.role + "\n" + m.content + "<|im_end|>\n"
    }
    if addGenerationPrompt { out += "<|im_start|>assistant\n" }
    return out
  }
}

extension Tokenizer {
  /// ChatML prompt text for `messages`; encode it with `encode(_:)` (special tokens parsed).
  public func chatPrompt(_ messages: [ChatMessage], addGenerationPrompt: Bool) -> String {
    ChatTemplate.smolLM2(messages, addGenerationPrompt: addGenerationPrompt)
  }

  /// Token ids of the ChatML prompt for `messages`.
  public func encodeChat(_ messages: [ChatMessage], addGenerationPrompt: Bool) -> [Int] {
    encode(chatPrompt(messages, addGenerationPrompt: addGenerationPrompt), parseSpecial: true)
  }
}
