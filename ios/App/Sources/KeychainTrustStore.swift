import Foundation
import Security
import TwofoldKit

/// This device's record of the vault (last generation and signing key seen, HOTP high-water
/// marks, wrong-PIN counts; no secret), kept where a replaced vault file cannot reset it: a
/// Keychain generic-password item for this device only
/// (`kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly`: readable before the vault is
/// unlocked, never synced to iCloud Keychain, never in a backup restored elsewhere).
final class KeychainTrustStore: TrustStore, @unchecked Sendable {
    private let service = "dev.twofold.trust-record"
    private let account: String

    init(account: String = "vault") {
        self.account = account
    }

    private var query: [String: Any] {
        [
            kSecClass as String: kSecClassGenericPassword,
            kSecAttrService as String: service,
            kSecAttrAccount as String: account,
        ]
    }

    func load() throws -> Data? {
        var q = query
        q[kSecReturnData as String] = true
        q[kSecMatchLimit as String] = kSecMatchLimitOne
        var item: CFTypeRef?
        let status = SecItemCopyMatching(q as CFDictionary, &item)
        switch status {
        case errSecSuccess: return item as? Data
        case errSecItemNotFound: return nil
        default: throw TwofoldError.Storage(details: "The trust record cannot be read (keychain status \(status))")
        }
    }

    func store(record: Data) throws {
        let update: [String: Any] = [kSecValueData as String: record]
        var status = SecItemUpdate(query as CFDictionary, update as CFDictionary)
        if status == errSecItemNotFound {
            var add = query
            add[kSecValueData as String] = record
            add[kSecAttrAccessible as String] = kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly
            status = SecItemAdd(add as CFDictionary, nil)
        }
        guard status == errSecSuccess else {
            throw TwofoldError.Storage(details: "The trust record cannot be written (keychain status \(status))")
        }
    }
}
