import CryptoKit
import Foundation
import LocalAuthentication
import Security
import TwofoldKit

/// The key behind a PIN slot's device key: a Secure Enclave P-256 key usable only after the
/// device passcode is entered (`.devicePasscode`), on this device, while it has a passcode
/// (`kSecAttrAccessibleWhenPasscodeSetThisDeviceOnly`: removing the passcode destroys it). It
/// wraps the core's 32-byte device key with ECIES. So the vault file alone never yields a PIN
/// oracle: each unwrap needs this iPhone and its passcode, and after it the core still counts
/// wrong PINs (five lock the slot).
final class DevicePasscodeKeystore: PlatformKeystore, @unchecked Sendable {
    /// Every tag starts so: one key per PIN enrollment, named by its slot.
    static let prefix = "dev.twofold.pin-device-key"
    let alias: String
    private let algorithm = SecKeyAlgorithm.eciesEncryptionCofactorVariableIVX963SHA256AESGCM
    private var tag: Data { Data(alias.utf8) }

    init(alias: String) {
        self.alias = alias
    }

    private static func usable() -> Bool {
        var error: NSError?
        return SecureEnclave.isAvailable && LAContext().canEvaluatePolicy(.deviceOwnerAuthentication, error: &error)
    }

    /// A keystore under a new tag for a new PIN slot (its wrap makes the key; no other key is
    /// touched), or nil without a Secure Enclave or a passcode.
    static func fresh() -> DevicePasscodeKeystore? {
        usable() ? DevicePasscodeKeystore(alias: "\(prefix).\(UUID().uuidString)") : nil
    }

    /// The keystore of an existing PIN slot (its `platformAlias`).
    static func forAlias(_ alias: String) -> DevicePasscodeKeystore? {
        usable() && alias.hasPrefix(prefix) ? DevicePasscodeKeystore(alias: alias) : nil
    }

    func wrap(_ key: SecretBytes) async throws -> Data {
        let privateKey = try createKey()
        guard let publicKey = SecKeyCopyPublicKey(privateKey) else { throw TwofoldError.Internal(details: "No public key") }
        guard let plain = NSMutableData(length: key.count) else { throw TwofoldError.Internal(details: "Out of memory") }
        key.withUnsafeBytes { plain.mutableBytes.copyMemory(from: $0.baseAddress!, byteCount: key.count) }
        defer { _ = memset_s(plain.mutableBytes, plain.length, 0, plain.length) }
        var error: Unmanaged<CFError>?
        guard let blob = SecKeyCreateEncryptedData(publicKey, algorithm, plain as CFData, &error) as Data? else {
            throw TwofoldError.Internal(details: "Could not wrap the device key")
        }
        return blob
    }

    /// Deletes this PIN's key once its slot is gone (best effort).
    func delete() {
        SecItemDelete([kSecClass as String: kSecClassKey, kSecAttrApplicationTag as String: tag] as CFDictionary)
    }

    func unwrap(_ blob: Data) async throws -> SecretBytes {
        let context = LAContext()
        context.localizedReason = "Unlock Twofold with your PIN"
        guard let privateKey = try loadKey(context) else { throw TwofoldError.PlatformKeyInvalidated }
        var error: Unmanaged<CFError>?
        guard let key = SecKeyCreateDecryptedData(privateKey, algorithm, blob as CFData, &error) else {
            if let e = error?.takeRetainedValue(), CFErrorGetCode(e) == Int(errSecUserCanceled) {
                throw BiometricCancelled()
            }
            throw TwofoldError.PlatformKeyInvalidated
        }
        defer { zeroCFData(key) }
        return SecretBytes(copying: UnsafeRawBufferPointer(start: CFDataGetBytePtr(key), count: CFDataGetLength(key)))
    }

    private func createKey() throws -> SecKey {
        var error: Unmanaged<CFError>?
        guard let access = SecAccessControlCreateWithFlags(
            kCFAllocatorDefault,
            kSecAttrAccessibleWhenPasscodeSetThisDeviceOnly,
            [.privateKeyUsage, .devicePasscode],
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
            throw TwofoldError.Internal(details: "Could not create the Secure Enclave key")
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
