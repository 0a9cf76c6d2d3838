// SHA256Tests.swift: the FIPS 180-2 / NIST example vectors, streaming in odd chunk sizes, files.
import Foundation
import Testing
import Workspace

@Suite("SHA-256")
struct SHA256Tests {
  @Test(
    "matches the FIPS 180-2 example vectors",
    arguments: [
      ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
      ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
      (
        "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
      ),
      (
        "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
        "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"
      ),
    ])
  func fipsVectors(message: String, digest: String) {
    #expect(SHA256.hash(Array(message.utf8)) == digest)
  }

  @Test("hashes one million 'a' bytes fed in uneven chunks to the FIPS digest")
  func millionA() {
    let expected = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
    let a = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
    #expect(SHA256.hash(a) == expected)
    var hasher = SHA256()
    var offset = 0
    var step = 1
    while offset < a.count {  // chunk sizes 1, 2, ... 127 cycle across block boundaries
      let end = min(a.count, offset + step)
      hasher.update(a[offset..<end])
      offset = end
      step = step % 127 + 1
    }
    #expect(hasher.finalizeHex() == expected)
  }

  @Test("streams a file and reports its size")
  func file() throws {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("seb-sha-\(getpid()).bin")
    defer { try? FileManager.default.removeItem(at: url) }
    try Data("abc".utf8).write(to: url)
    let (digest, size) = try SHA256.hashFile(at: url)
    #expect(digest == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    #expect(size == 3)
  }

  @Test("a missing file is an io error naming the path")
  func missingFile() {
    #expect(throws: WorkspaceError.io(path: "/nonexistent/seb-sha", message: "cannot open for reading")) {
      _ = try SHA256.hashFile(at: URL(fileURLWithPath: "/nonexistent/seb-sha"))
    }
  }
}
