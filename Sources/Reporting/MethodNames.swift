// Display names of methods for charts. Tables keep the raw id (`released:gpt4_1_val.json`), which is
// what a config and the records carry; a chart's tick or legend gets a name a reader can place
// ("GPT-4.1 self-edits (released)"). The `.dat` beside a chart keeps the raw id too.
import Foundation

public enum MethodNames {
  /// SEAL's released generation files (`seal/data/synthetic_data/eval/`), by who wrote them.
  static let released = [
    "gpt4_1_val.json": "GPT-4.1 self-edits (released)",
    "base_val.json": "Qwen2.5-7B base self-edits (released)",
    "iter1_val.json": "SEAL round 1 self-edits (released)",
    "iter2_val.json": "SEAL round 2 self-edits (released)",
    "naive_val.json": "empty self-edits (released naive_val)",
  ]
  /// Methods whose id alone does not say what they are.
  static let plain = [
    "base": "base (no adapter)",
    "passage": "passage only",
    "teacher": "teacher self-edits",
  ]

  /// The chart name of a method id; prompt names (`implications`, `rewrite`, ...) stay as they are.
  public static func display(_ id: String) -> String {
    if let p = plain[id] { return p }
    guard id.hasPrefix("released:") else { return id }
    let file = String(id.dropFirst("released:".count))
    return released[file] ?? "\(file) (released)"
  }
}
