import Foundation
import TwofoldFFI

/// Re-authentication before exports and transfers: the core checks the credential against the
/// unlocked vault in memory — the file is not read again and the session is not replaced (a
/// file swapped on disk proves nothing). `.WrongCredential` when it does not match.
public extension TwofoldVault {
    /// The vault password (wiped after the call).
    func verify(password: SecretBytes) async throws {
        try await Self.run { [session] in try password.handOver { try session.verifyPassword(password: $0) } }
    }

    /// The recovery key as typed.
    func verify(recoveryKey: String) async throws {
        try await Self.run { [session] in try session.verifyRecoveryKey(recoveryKey: recoveryKey) }
    }

    /// Through `keystore` (where the biometric prompt appears): its slot's key, wiped after.
    func verify(with keystore: PlatformKeystore) async throws {
        guard let slot = try await slots().first(where: { $0.kind == .platform && $0.platformAlias == keystore.alias }),
              let blob = slot.platformBlob
        else { throw TwofoldError.NotFound(what: .slot, details: "no biometric slot") }
        let key = try await keystore.unwrap(blob)
        defer { key.wipe() }
        try await Self.run { [session] in try key.handOver { try session.verifyPlatformKey(slotId: slot.id, key: $0) } }
    }
}
