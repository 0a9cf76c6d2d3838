// SearchDataRoot.swift: the tiny data root the strategy-search tests run on (library tests and
// the seb command tests alike): 6 SEAL-format passages, two split manifests, short meta prompts
// and a 4-entry seed archive, in the layout `seb search` reads from `../shared/data`.
import Experiment
import Foundation
import Workspace

public enum SearchDataRoot {
  /// Writes `root/data/...` and the split manifests `root/<train>.json` (passages 0-2) and
  /// `root/<val>.json` (passages 3-5).
  public static func write(at root: String, train: String, val: String) throws {
    let fm = FileManager.default
    try fm.createDirectory(atPath: root + "/data/squad", withIntermediateDirectories: true)
    try fm.createDirectory(atPath: root + "/data/self-edit-search", withIntermediateDirectories: true)
    var passages: [[String: Any]] = []
    for i in 0..<6 {
      let qs = [["question": "Where is Zed \(i)?", "answer": "town \(i)"], ["question": "Color?", "answer": "blue"]]
      passages.append(["title": "Zed \(i)", "context": "Zed \(i) is in town \(i). It is blue.", "questions": qs])
    }
    let file = root + "/data/squad/squad_val.json"
    try JSONSerialization.data(withJSONObject: passages).write(to: URL(fileURLWithPath: file))
    let all = try Datasets.loadSEAL(path: file)
    for (name, start) in [(train, 0), (val, 3)] {
      let split = try SplitManifest.make(
        name: name, source: "squad/squad_val.json", passages: all, start: start, count: 3)
      try CanonicalJSON.pretty(split).write(to: URL(fileURLWithPath: root + "/\(name).json"))
    }
    try Data("Write a plan.".utf8).write(to: URL(fileURLWithPath: root + "/data/self-edit-search/meta_prompt.txt"))
    try Data(
      "Best: ${highest_acc_template} ${acc1}/${ngain1}\n2: ${second_highest_acc_template} ${acc2}/${ngain2}\n3: ${second_lowest_acc_template} ${acc3}/${ngain3}\nWorst: ${lowest_acc_template} ${acc4}/${ngain4}\nWrite a plan."
        .utf8
    )
    .write(to: URL(fileURLWithPath: root + "/data/self-edit-search/meta_prompt_archive.txt"))
    let hp =
      #"{"lora_rank": 4, "lora_alpha": 8, "lora_dropout": 0.0, "learning_rate": 0.001, "num_epochs": 2, "gradient_accumulation_steps": 1}"#
    let seed = (0..<4).map {
      #"{"data_creation_instruction": "plan \#($0)", "hyperparameters": \#(hp), "accuracy": \#(0.5 - Double($0) / 10), "normalized_gain": 0.1}"#
    }
    try Data(("[" + seed.joined(separator: ", ") + "]").utf8).write(
      to: URL(fileURLWithPath: root + "/data/self-edit-search/archive_seed.json"))
  }

  /// Every file of a run directory except the manifest and timings (wall times), relative name -> bytes.
  public static func snapshot(_ dir: String) -> [String: Data] {
    var out: [String: Data] = [:]
    for f in (FileManager.default.enumerator(atPath: dir)?.allObjects as? [String]) ?? []
    where f != "manifest.json" && !f.hasPrefix("timings") {
      var isDir: ObjCBool = false
      if FileManager.default.fileExists(atPath: dir + "/" + f, isDirectory: &isDir), !isDir.boolValue {
        out[f] = FileManager.default.contents(atPath: dir + "/" + f)
      }
    }
    return out
  }
}
