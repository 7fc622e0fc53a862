import Foundation
#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#endif

/// A password, PIN, key or typed secret on its way into the core.
///
/// It owns one buffer outside Swift's copy-on-write storage. The generated bindings lower a
/// `Data` argument by reading its bytes (`FfiConverterData.write` appends them to the buffer
/// that becomes the `RustBuffer`); `handOver` hands them a `Data` that is a view of this very
/// buffer, not a copy of it, and zeroes the buffer as soon as the call returns or throws — so
/// the bytes that were read for Rust are the bytes that are wiped. (`let copy = data;
/// data.resetBytes(…)` does not do that: the reset makes a fresh zeroed copy and leaves the
/// bytes that went to Rust as they were.)
///
/// Two copies stay out of reach of any Swift wrapper, and are named so nobody relies on them:
/// `Data` keeps up to 14 bytes inline in the value itself, so a short secret (a PIN) handed to
/// the bindings is a value copy — `handOver` zeroes its own copy, not the ones the lowering code
/// makes on the stack; and the lowering writes the bytes into a temporary `[UInt8]` before
/// Rust copies them into its buffer (which the core wipes). Only taking secrets by reference
/// in the FFI (`&[u8]`, read in place) would remove those.
///
/// A value is handed to the core once. The object zeroes and frees its buffer when it goes.
public final class SecretBytes: @unchecked Sendable {
    private let buffer: UnsafeMutableRawBufferPointer
    /// The secret's length (the buffer holds at least one byte so it always has an address).
    public let count: Int
    private let lock = NSLock()
    private var consumed = false
    /// Where the `Data` given to the last `handOver` read its bytes from (tests check it).
    private(set) var handedOverAddress: UnsafeRawPointer?

    private init(count: Int, fill: (UnsafeMutableRawBufferPointer) -> Void) {
        self.count = count
        buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(count, 1), alignment: MemoryLayout<UInt64>.alignment)
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
        fill(UnsafeMutableRawBufferPointer(rebasing: buffer[0..<count]))
    }

    /// Takes the bytes of `data` and wipes `data` (a slice too). No copy of `data` is made on
    /// the way, so when it was the only reference to its bytes, those very bytes are zeroed.
    public convenience init(taking data: inout Data) {
        self.init(count: data.count) { target in data.withUnsafeBytes { target.copyMemory(from: $0) } }
        data.wipe()
    }

    /// The UTF-8 bytes of typed text. The `String` itself belongs to the text field; Swift
    /// gives no way to wipe it, so take the bytes once, at the moment the user submits.
    public convenience init(utf8 text: String) {
        var text = text
        let count = text.utf8.count
        self.init(count: count) { target in
            text.withUTF8 { target.copyMemory(from: UnsafeRawBufferPointer($0)) }
        }
    }

    /// A copy of raw bytes (a key the platform decrypted into memory it owns).
    public convenience init(copying bytes: UnsafeRawBufferPointer) {
        self.init(count: bytes.count) { $0.copyMemory(from: bytes) }
    }

    deinit {
        zero()
        buffer.deallocate()
    }

    /// Whether the buffer is all zeros (after `handOver` or `wipe`).
    public var isWiped: Bool {
        lock.withLock { buffer.allSatisfy { $0 == 0 } }
    }

    /// The buffer's address (tests compare it with `handedOverAddress`).
    var bufferAddress: UnsafeRawPointer { UnsafeRawPointer(buffer.baseAddress!) }

    /// Hands the bytes to `body` — the call into the bindings — as a `Data` that shares this
    /// buffer, then zeroes the buffer (and the `Data`'s own inline copy of a short secret),
    /// whatever `body` does. `body` must not keep the `Data`. A second `handOver` is refused:
    /// the bytes are gone.
    func handOver<R>(_ body: (Data) throws -> R) throws -> R {
        try lock.withLock {
            guard !consumed else { throw TwofoldError.Internal(details: "A secret was handed to the core twice") }
            consumed = true
        }
        var data = Data(bytesNoCopy: buffer.baseAddress!, count: count, deallocator: .none)
        handedOverAddress = data.withUnsafeBytes { $0.baseAddress }
        defer {
            data.wipe()
            lock.withLock { zero() }
        }
        return try body(data)
    }

    /// Reads the bytes without handing them over (a keystore wrapping a key the core gets next).
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try lock.withLock { try body(UnsafeRawBufferPointer(rebasing: buffer[0..<count])) }
    }

    /// A separate copy (the strength check judges a password that is then used).
    public func copy() -> SecretBytes {
        withUnsafeBytes { SecretBytes(copying: $0) }
    }

    /// Whether both hold the same bytes, in time independent of where they differ.
    public func matches(_ other: SecretBytes) -> Bool {
        if other === self { return true }
        return withUnsafeBytes { a in
            other.withUnsafeBytes { b in
                guard a.count == b.count else { return false }
                var difference: UInt8 = 0
                for i in 0..<a.count { difference |= a[i] ^ b[i] }
                return difference == 0
            }
        }
    }

    /// Zeroes the bytes now (the secret is not needed after all).
    public func wipe() {
        lock.withLock {
            consumed = true
            zero()
        }
    }

    private func zero() {
        zeroMemory(buffer)
    }
}

/// Overwrites memory with zeros in a way the optimizer does not remove.
func zeroMemory(_ memory: UnsafeMutableRawBufferPointer) {
    guard let base = memory.baseAddress, memory.count > 0 else { return }
    #if canImport(Darwin)
    _ = memset_s(base, memory.count, 0, memory.count)
    #else
    memory.initializeMemory(as: UInt8.self, repeating: 0)
    withExtendedLifetime(memory) {}
    #endif
}

extension Data {
    /// Overwrites the bytes with zeros in place — also for a slice, whose indices do not start
    /// at 0 (`resetBytes(in: 0..<count)` traps there). A `Data` that shares its storage with
    /// another copies it first (copy on write) and zeroes only its own copy: secrets going into
    /// the core use `SecretBytes` instead; this is for bytes the core handed out (exports).
    mutating func wipe() {
        guard !isEmpty else { return }
        withUnsafeMutableBytes { zeroMemory($0) }
    }
}
