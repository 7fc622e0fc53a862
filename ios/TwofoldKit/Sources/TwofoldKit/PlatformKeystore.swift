import Foundation

/// The hardware keystore as the facade needs it: wrap a fresh 32-byte slot key when biometric
/// unlock is enrolled, unwrap it to unlock. On iOS: a Secure Enclave P-256 key with
/// `.biometryCurrentSet` and ECIES (see the app's `SecureEnclaveKeystore`). Implementations
/// throw `VaultFailure.platformKeyInvalidated` when the key is gone.
public protocol PlatformKeystore: Sendable {
    /// The keychain tag / alias the blob belongs to.
    var alias: String { get }
    /// Wraps `key` (32 bytes); returns the blob to store in the vault's slot.
    func wrap(_ key: Data) async throws -> Data
    /// Unwraps a blob produced by `wrap`; returns the 32-byte key. Shows the biometric prompt.
    func unwrap(_ blob: Data) async throws -> Data
}

extension Data {
    /// Overwrites the bytes with zeros (passwords, PINs and keys after use).
    mutating func wipe() {
        resetBytes(in: 0..<count)
    }
}
