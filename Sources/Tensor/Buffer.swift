// Buffer.swift: an owned, 64-byte aligned Float buffer. Large activations and weights live in
// these so kernels can take raw pointers without copy-on-write surprises.

/// A fixed-size, zero-initialised, 64-byte aligned array of Float. Reference type: passing it
/// around never copies the data.
public final class FloatBuffer: @unchecked Sendable {
  public let count: Int
  public let pointer: UnsafeMutablePointer<Float>

  public init(count: Int) {
    self.count = count
    let raw = UnsafeMutableRawPointer.allocate(
      byteCount: max(count, 1) * MemoryLayout<Float>.stride, alignment: 64)
    pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
    pointer.initialize(repeating: 0, count: max(count, 1))
  }

  public convenience init(_ values: [Float]) {
    self.init(count: values.count)
    values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: values.count) }
  }

  deinit { pointer.deallocate() }

  public subscript(i: Int) -> Float {
    get { pointer[i] }
    set { pointer[i] = newValue }
  }

  public func zero() { pointer.update(repeating: 0, count: count) }
  public var array: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
}
