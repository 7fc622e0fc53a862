import Foundation

/// The hardware keystore as the facade needs it: wrap a fresh 32-byte slot key when biometric
/// unlock is enrolled, unwrap it to unlock. On iOS: a Secure Enclave P-256 key with
/// `.biometryCurrentSet` and ECIES (see the app's `SecureEnclaveKeystore`). Implementations
/// throw `TwofoldError.PlatformKeyInvalidated` when the key is gone.
public protocol PlatformKeystore: Sendable {
    /// The keychain tag / alias the blob belongs to (stored in the slot).
    var alias: String { get }
    /// Wraps `key` (32 bytes, read and left as it is: the facade hands it to the core next);
    /// returns the blob to store in the vault's slot.
    func wrap(_ key: SecretBytes) async throws -> Data
    /// Unwraps a blob produced by `wrap`; returns the 32-byte key, which the facade hands to
    /// the core and wipes. Shows the biometric prompt.
    func unwrap(_ blob: Data) async throws -> SecretBytes
}
