// SamplingOptions.swift: what a caller asks of the sampler, as data (LLM's Sampler applies it and
// validates it; an engine takes it as a generate request's setting). Order of the filters:
// presence penalty -> greedy (temperature 0) or: top-k -> temperature -> softmax -> min-p -> top-p.
import Foundation

public struct SamplingOptions: Sendable, Equatable, Codable {
  /// 0 means greedy (argmax; ties go to the lowest id).
  public var temperature: Float = 0
  /// Keep the smallest set of tokens whose probability reaches top-p (1 = off).
  public var topP: Float = 1
  /// Keep the k most likely tokens (0 = off).
  public var topK: Int = 0
  /// Drop tokens with probability < min-p * p(max) (0 = off).
  public var minP: Float = 0
  /// Subtracted from the logit of every token already generated (0 = off), as OpenAI/vLLM's
  /// presence_penalty (prompt tokens are not counted).
  public var presencePenalty: Float = 0

  public init(temperature: Float = 0, topP: Float = 1, topK: Int = 0, minP: Float = 0, presencePenalty: Float = 0) {
    self.temperature = temperature
    self.topP = topP
    self.topK = topK
    self.minP = minP
    self.presencePenalty = presencePenalty
  }

  /// Argmax decoding (the answering and judging default).
  public static let greedy = SamplingOptions()
}
