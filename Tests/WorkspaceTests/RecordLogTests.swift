// RecordLogTests.swift: append-only JSON Lines survive a torn write; atomic files leave no partial state.
import Foundation
import Testing
import Workspace

private func tempDir() -> String {
  let d = FileManager.default.temporaryDirectory.appendingPathComponent("seb-ws-\(UUID().uuidString)").path
  try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
  return d
}

@Suite("RecordLog and AtomicFile")
struct RecordLogTests {
  @Test("a torn last line is dropped on read and truncated away on open; whole records stay")
  func tornLastLine() throws {
    let p = tempDir() + "/r.jsonl"
    try Data("{\"a\":1}\n{\"a\":2}\n{\"a\":".utf8).write(to: URL(fileURLWithPath: p))
    let (lines, torn) = try RecordLog.read(path: p)
    #expect(lines.count == 2 && torn)
    let log = try RecordLog(path: p)
    try log.append(Data("{\"a\":3}".utf8))
    #expect(
      String(decoding: FileManager.default.contents(atPath: p)!, as: UTF8.self) == "{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n")
  }

  @Test("a complete but invalid last line counts as torn; an invalid middle line is an error naming the line")
  func invalidLines() throws {
    let p = tempDir() + "/r.jsonl"
    try Data("{\"a\":1}\nnot json\n".utf8).write(to: URL(fileURLWithPath: p))
    #expect(try RecordLog.read(path: p).torn)
    try Data("{\"a\":1}\nnot json\n{\"a\":2}\n".utf8).write(to: URL(fileURLWithPath: p))
    #expect(throws: WorkspaceError.badRecordLine(path: p, line: 2, message: "not a valid record and not the last line"))
    {
      _ = try RecordLog.read(path: p)
    }
  }

  @Test("a missing file has no records")
  func missing() throws {
    let (lines, torn) = try RecordLog.read(path: tempDir() + "/none.jsonl")
    #expect(lines.isEmpty && !torn)
  }

  @Test("atomic write replaces the file and leaves no temporary beside it")
  func atomicWrite() throws {
    let d = tempDir()
    try AtomicFile.write("old", to: d + "/f.txt")
    try AtomicFile.write("new", to: d + "/f.txt")
    #expect(String(decoding: FileManager.default.contents(atPath: d + "/f.txt")!, as: UTF8.self) == "new")
    #expect(try FileManager.default.contentsOfDirectory(atPath: d) == ["f.txt"])
  }

  @Test("reopening sweeps what a killed writer left (dead PID), keeps a live writer's temporaries and every output")
  func orphanSweep() throws {
    let d = tempDir()
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/true")
    try p.run()
    p.waitUntilExit()
    let dead = p.processIdentifier, live = getpid()
    try AtomicFile.write("out", to: d + "/iter-00/f.json")
    for name in [
      "iter-00/.f.json.tmp-\(dead)", ".a.staging-\(dead)/x", "adapter.tmp-\(dead)/b", "r.old-\(dead)",
      "iter-00/.g.json.tmp-\(live)", "notes.tmp-x", "tmp-\(dead)",
    ] {
      try AtomicFile.write("partial", to: d + "/" + name)
    }
    let removed = AtomicFile.removeOrphans(under: d)
    #expect(
      Set(removed) == [".a.staging-\(dead)", "adapter.tmp-\(dead)", "iter-00/.f.json.tmp-\(dead)", "r.old-\(dead)"])
    let left = Set(try FileManager.default.subpathsOfDirectory(atPath: d))
    #expect(left == ["iter-00", "iter-00/f.json", "iter-00/.g.json.tmp-\(live)", "notes.tmp-x", "tmp-\(dead)"])
  }

  @Test("a staged directory appears whole on success; a failure leaves the old files and no staging behind")
  func stagedDirectory() throws {
    let d = tempDir(), out = d + "/report"
    try AtomicFile.write("old readme", to: out + "/README.md")
    try AtomicFile.write("old chart", to: out + "/a.svg")
    struct Boom: Error {}
    #expect(throws: Boom.self) {
      try AtomicFile.staged(directory: out) { dir in
        try AtomicFile.write("new readme", to: dir + "/README.md")
        try AtomicFile.write("half", to: dir + "/b.svg")
        throw Boom()
      }
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: out).sorted() == ["README.md", "a.svg"])
    #expect(String(decoding: FileManager.default.contents(atPath: out + "/README.md")!, as: UTF8.self) == "old readme")
    #expect(try FileManager.default.contentsOfDirectory(atPath: d) == ["report"])
    let n = try AtomicFile.staged(directory: out) { dir -> Int in
      try AtomicFile.write("new readme", to: dir + "/README.md")
      try AtomicFile.write("b", to: dir + "/charts/b.svg")
      return 2
    }
    #expect(n == 2)
    #expect(String(decoding: FileManager.default.contents(atPath: out + "/README.md")!, as: UTF8.self) == "new readme")
    #expect(
      FileManager.default.fileExists(atPath: out + "/charts/b.svg")
        && FileManager.default.fileExists(atPath: out + "/a.svg"))
    #expect(try FileManager.default.contentsOfDirectory(atPath: d) == ["report"])
  }

  @Test("an output under a file is refused before any work, naming the path")
  func notWritable() throws {
    let d = tempDir()
    try AtomicFile.write("x", to: d + "/file")
    #expect(throws: WorkspaceError.self) { try AtomicFile.checkWritable(directory: d + "/file/sub") }
    #expect(throws: WorkspaceError.notWritable(path: d + "/file", message: "exists and is not a directory")) {
      try AtomicFile.checkWritable(directory: d + "/file")
    }
  }

  @Test("gzip files are read through libarchive; a plain file is refused")
  func gunzip() throws {
    let d = tempDir()
    try Data("hello".utf8).write(to: URL(fileURLWithPath: d + "/h.txt"))
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["gzip", "-k", d + "/h.txt"]
    try p.run(); p.waitUntilExit()
    #expect(try Gunzip.decompress(path: d + "/h.txt.gz") == Data("hello".utf8))
    #expect(throws: WorkspaceError.self) { _ = try Gunzip.decompress(path: d + "/h.txt") }
  }
}
