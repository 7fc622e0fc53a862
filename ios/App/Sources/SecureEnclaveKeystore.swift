import CryptoKit
import Foundation
import LocalAuthentication
import Security
import TwofoldKit

/// The biometric slot's hardware key: a Secure Enclave P-256 key that can only be used after
/// Face ID / Touch ID with the currently enrolled biometrics (`.biometryCurrentSet`) on this
/// device while unlocked (`kSecAttrAccessibleWhenUnlockedThisDeviceOnly`). It wraps the core's
/// 32-byte platform key with ECIES (`.eciesEncryptionCofactorVariableIVX963SHA256AESGCM`);
/// unwrapping runs behind an `LAContext` with a reason string. When biometrics change the key
/// stops working: `unwrap` throws `.platformKeyInvalidated`, the app falls back to the
/// password and offers re-enrollment.
final class SecureEnclaveKeystore: PlatformKeystore, @unchecked Sendable {
    let alias = "dev.twofold.biometric-slot"
    private let algorithm = SecKeyAlgorithm.eciesEncryptionCofactorVariableIVX963SHA256AESGCM
    private var tag: Data { Data(alias.utf8) }

    /// Nil on devices without a Secure Enclave or without enrolled biometrics.
    static func available() -> SecureEnclaveKeystore? {
        var error: NSError?
        guard SecureEnclave.isAvailable,
              LAContext().canEvaluatePolicy(.deviceOwnerAuthenticationWithBiometrics, error: &error)
        else { return nil }
        return SecureEnclaveKeystore()
    }

    func wrap(_ key: Data) async throws -> Data {
        // Ask first, so turning biometric unlock on is a deliberate, confirmed act.
        try await authenticate(LAContext(), reason: "Turn on Face ID / Touch ID unlock for Twofold")
        let privateKey = try createKey()
        guard let publicKey = SecKeyCopyPublicKey(privateKey) else { throw VaultFailure.internal("No public key") }
        var error: Unmanaged<CFError>?
        guard let blob = SecKeyCreateEncryptedData(publicKey, algorithm, key as CFData, &error) as Data? else {
            throw VaultFailure.internal("Could not wrap the key: \(error?.takeRetainedValue().localizedDescription ?? "")")
        }
        return blob
    }

    func unwrap(_ blob: Data) async throws -> Data {
        let context = LAContext()
        context.localizedReason = "Unlock your Twofold vault"
        try await authenticate(context, reason: "Unlock your Twofold vault")
        guard let privateKey = try loadKey(context) else { throw VaultFailure.platformKeyInvalidated }
        var error: Unmanaged<CFError>?
        guard let key = SecKeyCreateDecryptedData(privateKey, algorithm, blob as CFData, &error) as Data? else {
            // A biometry change invalidates a .biometryCurrentSet key: it no longer decrypts.
            throw VaultFailure.platformKeyInvalidated
        }
        return key
    }

    private func authenticate(_ context: LAContext, reason: String) async throws {
        do {
            _ = try await context.evaluatePolicy(.deviceOwnerAuthenticationWithBiometrics, localizedReason: reason)
        } catch let error as LAError {
            switch error.code {
            case .userCancel, .appCancel, .systemCancel, .userFallback: throw BiometricCancelled()
            case .biometryNotEnrolled: throw VaultFailure.platformKeyInvalidated
            case .biometryLockout: throw VaultFailure.invalidInput("Face ID / Touch ID is locked after too many tries. Use your password.")
            default: throw VaultFailure.invalidInput(error.localizedDescription)
            }
        }
    }

    /// A new key each enrollment (the old one is deleted), so re-enrolling starts clean.
    private func createKey() throws -> SecKey {
        SecItemDelete([kSecClass as String: kSecClassKey, kSecAttrApplicationTag as String: tag] as CFDictionary)
        var error: Unmanaged<CFError>?
        guard let access = SecAccessControlCreateWithFlags(
            kCFAllocatorDefault,
            kSecAttrAccessibleWhenUnlockedThisDeviceOnly,
            [.privateKeyUsage, .biometryCurrentSet],
            &error
        ) else { throw VaultFailure.internal("Could not create the access control") }
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
            throw VaultFailure.internal("Could not create the Secure Enclave key: \(error?.takeRetainedValue().localizedDescription ?? "")")
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
        guard status == errSecSuccess, let item else { throw VaultFailure.platformKeyInvalidated }
        return (item as! SecKey)
    }
}
