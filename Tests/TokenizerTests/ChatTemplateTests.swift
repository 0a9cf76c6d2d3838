import Testing
import Tokenizer

@Suite("SmolLM2 chat template")
struct ChatTemplateTests {
  @Test("a user message gets the default system turn and the generation prompt, byte for byte")
  func defaultSystem() {
    let text = ChatTemplate.smolLM2([.user("What is the capital of France?")], addGenerationPrompt: true)
    let expected =
      "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
      + "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n"
    #expect(Array(text.utf8) == Array(expected.utf8))
  }

  @Test("an explicit system message replaces the default one")
  func explicitSystem() {
    let text = ChatTemplate.smolLM2(
      [.system("Be brief."), .user("Hi"), .assistant("Hello."), .user("Bye")], addGenerationPrompt: false)
    let expected =
      "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
      + "<|im_start|>assistant\nHello.<|im_end|>\n<|im_start|>user\nBye<|im_end|>\n"
    #expect(Array(text.utf8) == Array(expected.utf8))
  }

  @Test("a system message that is not first does not stop the default injection")
  func laterSystem() {
    let text = ChatTemplate.smolLM2([.user("a"), .system("b")], addGenerationPrompt: false)
    #expect(text.hasPrefix("<|im_start|>system\nYou are a helpful AI assistant"))
    #expect(text.hasSuffix("<|im_start|>system\nb<|im_end|>\n"))
  }

  @Test("no messages render no system turn, only the generation prompt if asked")
  func empty() {
    #expect(ChatTemplate.smolLM2([], addGenerationPrompt: false) == "")
    #expect(ChatTemplate.smolLM2([], addGenerationPrompt: true) == "<|im_start|>assistant\n")
  }

  @Test("the verbatim Jinja template is 368 characters and holds the default system prompt")
  func jinja() {
    #expect(ChatTemplate.smolLM2Jinja.count == 368)
    #expect(ChatTemplate.smolLM2Jinja.contains(ChatTemplate.defaultSystemPrompt + "<|im_end|>\n"))
  }

  @Test("the chat prompt encodes with its control tokens as single ids")
  func encodes() throws {
    let tok = try Tiny.make(merges: [])
    let ids = tok.encodeChat([.user("Hi")], addGenerationPrompt: true)
    #expect(ids.filter { $0 == 1 }.count == 3 && ids.filter { $0 == 2 }.count == 2)
    #expect(try tok.decode(ids) == tok.chatPrompt([.user("Hi")], addGenerationPrompt: true))
  }
}
