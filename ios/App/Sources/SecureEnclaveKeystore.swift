import CryptoKit
import Foundation
import LocalAuthentication
import Security
import TwofoldKit

/// The app's biometric keys in the Secure Enclave, one per enrollment: each biometric slot of
/// the vault names its key's tag, so turning Face ID / Touch ID on again makes a new key and
/// the old one keeps working until the vault has swapped the slots (the models delete the old
/// key afterwards). Whether biometrics can be used is asked every time, never cached: the user
/// can turn Face ID off or change it while the app runs.
final class SecureEnclaveKeys: BiometricKeys, @unchecked Sendable {
    /// Every tag starts so; the first versions used exactly this one.
    static let prefix = "dev.twofold.biometric-slot"

    func available() -> Bool {
        var error: NSError?
        return SecureEnclave.isAvailable && LAContext().canEvaluatePolicy(.deviceOwnerAuthenticationWithBiometrics, error: &error)
    }

    func owns(_ alias: String) -> Bool { alias.hasPrefix(Self.prefix) }

    func keystore(for alias: String) -> PlatformKeystore { SecureEnclaveKeystore(alias: alias) }

    func fresh() -> PlatformKeystore { SecureEnclaveKeystore(alias: "\(Self.prefix).\(UUID().uuidString)") }

    func aliases() throws -> [String] {
        // Attributes only, and never a prompt: reading tags needs no authentication.
        let context = LAContext()
        context.interactionNotAllowed = true
        let query: [String: Any] = [
            kSecClass as String: kSecClassKey,
            kSecAttrKeyType as String: kSecAttrKeyTypeECSECPrimeRandom,
            kSecMatchLimit as String: kSecMatchLimitAll,
            kSecReturnAttributes as String: true,
            kSecUseAuthenticationContext as String: context,
        ]
        var items: CFTypeRef?
        let status = SecItemCopyMatching(query as CFDictionary, &items)
        if status == errSecItemNotFound { return [] }
        guard status == errSecSuccess, let found = items as? [[String: Any]] else {
            throw TwofoldError.Storage(details: "The keychain could not list the biometric keys (status \(status))")
        }
        return found.compactMap { ($0[kSecAttrApplicationTag as String] as? Data).map { String(decoding: $0, as: UTF8.self) } }
            .filter(owns)
    }

    func delete(_ alias: String) throws {
        let status = SecItemDelete([kSecClass as String: kSecClassKey, kSecAttrApplicationTag as String: Data(alias.utf8)] as CFDictionary)
        guard status == errSecSuccess || status == errSecItemNotFound else {
            throw TwofoldError.Storage(details: "The keychain could not delete a biometric key (status \(status))")
        }
    }
}

/// One biometric slot's hardware key: a Secure Enclave P-256 key under the tag `alias` that can
/// only be used after Face ID / Touch ID with the currently enrolled biometrics
/// (`.biometryCurrentSet`) on this device while unlocked
/// (`kSecAttrAccessibleWhenUnlockedThisDeviceOnly`). It wraps the core's 32-byte platform key
/// with ECIES (`.eciesEncryptionCofactorVariableIVX963SHA256AESGCM`); unwrapping runs behind an
/// `LAContext` with a reason string. When biometrics change the key stops working: `unwrap`
/// throws `.PlatformKeyInvalidated`, the app falls back to the password and offers
/// re-enrollment. `wrap` makes the key (a new tag each enrollment: no other key is touched).
final class SecureEnclaveKeystore: PlatformKeystore, @unchecked Sendable {
    let alias: String
    private let algorithm = SecKeyAlgorithm.eciesEncryptionCofactorVariableIVX963SHA256AESGCM
    private var tag: Data { Data(alias.utf8) }

    init(alias: String) {
        self.alias = alias
    }

    func wrap(_ key: SecretBytes) async throws -> Data {
        // Ask first, so turning biometric unlock on is a deliberate, confirmed act.
        try await authenticate(LAContext(), reason: "Turn on Face ID / Touch ID unlock for Twofold")
        let privateKey = try createKey()
        guard let publicKey = SecKeyCopyPublicKey(privateKey) else { throw TwofoldError.Internal(details: "No public key") }
        // A mutable buffer of our own, so the plaintext copy the Security framework reads can be
        // zeroed afterwards.
        guard let plain = NSMutableData(length: key.count) else { throw TwofoldError.Internal(details: "Out of memory") }
        key.withUnsafeBytes { plain.mutableBytes.copyMemory(from: $0.baseAddress!, byteCount: key.count) }
        defer { _ = memset_s(plain.mutableBytes, plain.length, 0, plain.length) }
        var error: Unmanaged<CFError>?
        guard let blob = SecKeyCreateEncryptedData(publicKey, algorithm, plain as CFData, &error) as Data? else {
            throw TwofoldError.Internal(details: "Could not wrap the key: \(error?.takeRetainedValue().localizedDescription ?? "")")
        }
        return blob
    }

    func unwrap(_ blob: Data) async throws -> SecretBytes {
        let context = LAContext()
        context.localizedReason = "Unlock your Twofold vault"
        try await authenticate(context, reason: "Unlock your Twofold vault")
        guard let privateKey = try loadKey(context) else { throw TwofoldError.PlatformKeyInvalidated }
        var error: Unmanaged<CFError>?
        guard let key = SecKeyCreateDecryptedData(privateKey, algorithm, blob as CFData, &error) else {
            // A biometry change invalidates a .biometryCurrentSet key: it no longer decrypts.
            throw TwofoldError.PlatformKeyInvalidated
        }
        defer { zeroCFData(key) }
        return SecretBytes(copying: UnsafeRawBufferPointer(start: CFDataGetBytePtr(key), count: CFDataGetLength(key)))
    }

    private func authenticate(_ context: LAContext, reason: String) async throws {
        do {
            _ = try await context.evaluatePolicy(.deviceOwnerAuthenticationWithBiometrics, localizedReason: reason)
        } catch let error as LAError {
            switch error.code {
            case .userCancel, .appCancel, .systemCancel, .userFallback: throw BiometricCancelled()
            // Asked while the app is not in front (just locked in the background): not a
            // failure; the unlock screen asks again once the scene is active.
            case .notInteractive: throw BiometricCancelled(notInteractive: true)
            case .biometryNotEnrolled: throw TwofoldError.PlatformKeyInvalidated
            case .biometryLockout: throw TwofoldError.input(.systemPrompt, "Face ID or Touch ID is locked after too many tries")
            default: throw TwofoldError.input(.systemPrompt, error.localizedDescription)
            }
        }
    }

    private func createKey() throws -> SecKey {
        var error: Unmanaged<CFError>?
        guard let access = SecAccessControlCreateWithFlags(
            kCFAllocatorDefault,
            kSecAttrAccessibleWhenUnlockedThisDeviceOnly,
            [.privateKeyUsage, .biometryCurrentSet],
            &error
        ) else { throw TwofoldError.Internal(details: "Could not create the access control") }
        let attributes: [String: Any] = [
            kSecAttrKeyType as String: kSecAttrKeyTypeECSECPrimeRandom,
            kSecAttrKeySizeInBits as String: 256,
            kSecAttrTokenID as String: kSecAttrTokenIDSecureEnclave,
            kSecPrivateKeyAttrs as String: [
                kSecAttrIsPermanent as String: true,
                kSecAttrApplicationTag as String: tag,
                kSecAttrAccessControl as String: access,
            ] as [String: Any],
        ]
        guard let key = SecKeyCreateRandomKey(attributes as CFDictionary, &error) else {
            throw TwofoldError.Internal(details: "Could not create the Secure Enclave key: \(error?.takeRetainedValue().localizedDescription ?? "")")
        }
        return key
    }

    private func loadKey(_ context: LAContext) throws -> SecKey? {
        let query: [String: Any] = [
            kSecClass as String: kSecClassKey,
            kSecAttrApplicationTag as String: tag,
            kSecAttrKeyType as String: kSecAttrKeyTypeECSECPrimeRandom,
            kSecReturnRef as String: true,
            kSecUseAuthenticationContext as String: context,
        ]
        var item: CFTypeRef?
        let status = SecItemCopyMatching(query as CFDictionary, &item)
        if status == errSecItemNotFound { return nil }
        guard status == errSecSuccess, let item else { throw TwofoldError.PlatformKeyInvalidated }
        return (item as! SecKey)
    }
}

/// Zeroes a CFData this code owns alone: the plaintext of a key on its way into or out of the
/// Secure Enclave (the decrypted one is immutable by type, but its storage is this process's
/// and nobody else holds it).
func zeroCFData(_ data: CFData) {
    let count = CFDataGetLength(data)
    guard count > 0, let bytes = CFDataGetBytePtr(data) else { return }
    _ = memset_s(UnsafeMutableRawPointer(mutating: bytes), count, 0, count)
}
