import Foundation
import TwofoldFFI

/// The Swift face of one vault. Every call is `async throws`, runs off the main actor (key
/// derivation takes a few hundred milliseconds, storage does fsyncs) and throws
/// `TwofoldError`. Passwords, PINs, keys and typed secrets go in as `SecretBytes`, whose
/// buffer — the one the bindings read for Rust — is zeroed right after the call. No logic of
/// its own: decisions about secrets, formats and time are the core's.
public final class TwofoldVault: @unchecked Sendable {
    let session: VaultSession

    private init(session: VaultSession) {
        self.session = session
    }

    /// Runs blocking core work on a background task and maps its errors.
    static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await Task.detached(priority: .userInitiated) {
            do {
                return try work()
            } catch {
                throw TwofoldError.from(error)
            }
        }.value
    }

    /// Creates a vault and returns it unlocked with its recovery key (show it once). `trust`
    /// is where the app keeps this device's record of the vault (the Keychain, never next to
    /// the vault file).
    public static func create(
        path: String, password: SecretBytes, trust: TrustStore, kdf: KdfSettings = defaultKdf()
    ) async throws -> (vault: TwofoldVault, recoveryKey: String) {
        let session = try await run {
            try password.handOver { try VaultSession.create(path: path, password: $0, kdf: kdf, trust: trust) }
        }
        guard let recovery = session.takeRecoveryKey() else { throw TwofoldError.Internal(details: "no recovery key") }
        return (TwofoldVault(session: session), recovery)
    }

    /// Opens an existing vault, locked. Files older than `trust`'s record, or not written with
    /// keys descending from it, are refused at unlock (`.RolledBack`, `.Forged`).
    public static func open(path: String, trust: TrustStore) async throws -> TwofoldVault {
        TwofoldVault(session: try await run { try VaultSession.open(path: path, trust: trust) })
    }

    /// What an otpauth URI (UTF-8 bytes, wiped after the call) holds — no secret — or
    /// `.InvalidInput`.
    public static func previewUri(_ uri: SecretBytes) throws -> UriPreview {
        do { return try uri.handOver { try parseOtpauthUri(uri: $0) } } catch { throw TwofoldError.from(error) }
    }

    public var isUnlocked: Bool { session.isUnlocked() }

    // MARK: unlock and lock

    @discardableResult
    public func unlock(password: SecretBytes) async throws -> UnlockResult {
        try await Self.run { [session] in try password.handOver { try session.unlockWithPassword(password: $0) } }
    }

    /// Opens a file this device would refuse (rolled back, foreign, made by Twofold 0.1)
    /// because the user confirmed it is theirs; it is rewritten under fresh keys.
    @discardableResult
    public func unlockAcceptingUntrusted(password: SecretBytes) async throws -> UnlockResult {
        try await Self.run { [session] in
            try password.handOver { try session.unlockWithPasswordAcceptingUntrusted(password: $0) }
        }
    }

    @discardableResult
    public func unlock(recoveryKey: String) async throws -> UnlockResult {
        try await Self.run { [session] in try session.unlockWithRecoveryKey(recoveryKey: recoveryKey) }
    }

    /// Checks a recovery key typed from paper against the unlocked vault.
    public func confirmRecoveryKey(_ recoveryKey: String) async throws {
        try await Self.run { [session] in try session.confirmRecoveryKey(recoveryKey: recoveryKey) }
    }

    /// Wrong PINs in a row for a PIN slot (at 5 it is locked).
    public func pinFailures(slotId: String) async throws -> UInt32 {
        try await Self.run { [session] in try session.pinFailures(slotId: slotId) }
    }

    /// PIN unlock through `deviceKeystore`, whose key needs the device passcode: it unwraps
    /// the slot's device key, the core checks PIN and device key together; wrong PINs are
    /// counted in the trust store, the fifth locks the slot.
    @discardableResult
    public func unlock(pin: SecretBytes, deviceKeystore: PlatformKeystore) async throws -> UnlockResult {
        do {
            guard let slot = try await slots().first(where: { $0.kind == .pin && $0.platformAlias == deviceKeystore.alias }),
                  let blob = slot.platformBlob
            else { throw TwofoldError.NotFound(what: .slot, details: "no PIN set up") }
            let deviceKey = try await deviceKeystore.unwrap(blob)
            defer { deviceKey.wipe() }
            return try await Self.run { [session] in
                try pin.handOver { p in try deviceKey.handOver { d in try session.unlockWithPin(slotId: slot.id, pin: p, deviceKey: d) } }
            }
        } catch {
            pin.wipe()
            throw error
        }
    }

    /// Slots, readable while locked (biometric unlock reads its blob here).
    public func slots() async throws -> [SlotView] {
        try await Self.run { [session] in try session.slots() }
    }

    /// The pull API in one call: read the blob, let the keystore unwrap it (biometric prompt),
    /// hand the key to the core, wipe it.
    @discardableResult
    public func unlock(with keystore: PlatformKeystore) async throws -> UnlockResult {
        guard let slot = try await slots().first(where: { $0.kind == .platform && $0.platformAlias == keystore.alias }),
              let blob = slot.platformBlob
        else { throw TwofoldError.NotFound(what: .slot, details: "no biometric slot") }
        let key = try await keystore.unwrap(blob)
        defer { key.wipe() }
        return try await Self.run { [session] in try key.handOver { try session.unlockWithPlatformKey(slotId: slot.id, key: $0) } }
    }

    /// A new 32-byte platform or device key from the core, in a `SecretBytes`.
    private static func newPlatformKey() async throws -> SecretBytes {
        try await run {
            var key = try generatePlatformKey()
            return SecretBytes(taking: &key)
        }
    }

    /// Zeroizes the master key and decrypted entries in the core.
    public func lock() {
        session.lock()
    }

    // MARK: slots

    /// Enrolls biometric unlock: a fresh key from the core, wrapped by the keystore.
    @discardableResult
    public func enrollPlatform(_ keystore: PlatformKeystore, label: String) async throws -> String {
        let key = try await Self.newPlatformKey()
        defer { key.wipe() }
        let blob = try await keystore.wrap(key)
        let alias = keystore.alias
        return try await Self.run { [session] in
            try key.handOver { try session.addPlatformSlot(alias: alias, label: label, key: $0, wrappedBlob: blob) }
        }
    }

    /// Face ID re-enrollment: a fresh key wrapped by `keystore` (a new Secure Enclave key, so
    /// the old one works until this returns) replaces `old` in one commit; delete the old
    /// key only afterwards. Returns the new slot id.
    @discardableResult
    public func reenrollPlatform(replacing old: SlotView, with keystore: PlatformKeystore, label: String) async throws -> String {
        let key = try await Self.newPlatformKey()
        defer { key.wipe() }
        let blob = try await keystore.wrap(key)
        let alias = keystore.alias
        return try await Self.run { [session] in
            try key.handOver {
                try session.replacePlatformSlot(oldSlotId: old.id, alias: alias, label: label, key: $0, wrappedBlob: blob)
            }
        }
    }

    /// A device-bound PIN (six digits or more): a fresh device key wrapped by
    /// `deviceKeystore` (a key that needs the device passcode), combined with the PIN.
    @discardableResult
    public func enrollPin(_ pin: SecretBytes, deviceKeystore: PlatformKeystore, kdf: KdfSettings = defaultKdf()) async throws -> String {
        defer { pin.wipe() }
        let deviceKey = try await Self.newPlatformKey()
        defer { deviceKey.wipe() }
        let blob = try await deviceKeystore.wrap(deviceKey)
        let alias = deviceKeystore.alias
        return try await Self.run { [session] in
            try pin.handOver { p in
                try deviceKey.handOver { d in try session.addPinSlot(alias: alias, pin: p, deviceKey: d, wrappedBlob: blob, kdf: kdf) }
            }
        }
    }

    public func removeSlot(_ slotId: String) async throws {
        try await Self.run { [session] in try session.removeSlot(slotId: slotId) }
    }

    public func changePassword(_ newPassword: SecretBytes, kdf: KdfSettings = defaultKdf()) async throws {
        try await Self.run { [session] in try newPassword.handOver { try session.changePassword(newPassword: $0, kdf: kdf) } }
    }

    // MARK: entries

    public func entries() async throws -> [EntryView] { try await Self.run { [session] in try session.entries() } }

    public func search(_ query: String) async throws -> [EntryView] {
        try await Self.run { [session] in try session.search(query: query) }
    }

    /// Adds an account. Its secret (base32 text as UTF-8 bytes) travels in `secret`, which is
    /// wiped after the call; `input.secret` is replaced by it (leave it empty).
    @discardableResult
    public func add(_ input: EntryInput, secret: SecretBytes, allowDuplicate: Bool = false) async throws -> EntryView {
        try await Self.run { [session] in
            try secret.handOver { bytes in
                var given = input
                given.secret = bytes
                return try session.addEntry(input: given, allowDuplicate: allowDuplicate)
            }
        }
    }

    /// An otpauth URI as UTF-8 bytes, wiped after the call.
    @discardableResult
    public func add(uri: SecretBytes, allowDuplicate: Bool = false) async throws -> EntryView {
        try await Self.run { [session] in try uri.handOver { try session.addEntryFromUri(uri: $0, allowDuplicate: allowDuplicate) } }
    }

    @discardableResult
    public func update(_ id: String, _ changes: EntryChanges) async throws -> EntryView {
        try await Self.run { [session] in try session.updateEntry(id: id, changes: changes) }
    }

    public func delete(_ id: String) async throws { try await Self.run { [session] in try session.deleteEntry(id: id) } }
    public func restore(_ id: String) async throws { try await Self.run { [session] in try session.restoreEntry(id: id) } }
    public func purge(_ id: String) async throws { try await Self.run { [session] in try session.purgeEntry(id: id) } }
    public func trash() async throws -> [EntryView] { try await Self.run { [session] in try session.trash() } }
    public func groups() async throws -> [GroupView] { try await Self.run { [session] in try session.groups() } }

    // MARK: codes

    public func codes(at date: Date) async throws -> [CodeView] {
        let ms = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        return try await Self.run { [session] in try session.codesAt(unixMs: ms) }
    }

    /// Saves the advanced counter, then returns the HOTP code.
    public func nextHotp(_ id: String) async throws -> String {
        try await Self.run { [session] in try session.nextHotp(id: id) }
    }

    public func recordUse(_ id: String) async throws { try await Self.run { [session] in try session.recordUse(id: id) } }

    public func recordTimeSample(local: Date, trusted: Date) async throws -> ClockStatus {
        let l = Int64(local.timeIntervalSince1970 * 1000), t = Int64(trusted.timeIntervalSince1970 * 1000)
        return try await Self.run { [session] in try session.recordTimeSample(localMs: l, trustedMs: t) }
    }

    /// The code screen's list, its order and its ticking: `codeList()` (Codes.swift).

    // MARK: exports and backups

    /// Explicit export of one account's otpauth URI (secret included, UTF-8 bytes):
    /// re-authenticate first. `use` gets the bytes, which are wiped when it returns.
    public func exportEntryUri<T>(_ id: String, use: (Data) async throws -> T) async throws -> T {
        var bytes = try await Self.run { [session] in try session.exportEntryUri(id: id) }
        defer { bytes.wipe() }
        return try await use(bytes)
    }

    /// A backup sealed to `password` (wiped) and, unless told otherwise, the recovery key.
    public func createBackup(path: String, password: SecretBytes?, sealToRecoveryKey: Bool = true) async throws -> BackupResult {
        try await Self.run { [session] in
            try handOverOptional(password) { try session.createBackup(path: path, password: $0, sealToRecoveryKey: sealToRecoveryKey) }
        }
    }

    public func autoBackup(directory: String, password: SecretBytes?, keep: UInt32 = 10) async throws -> BackupResult {
        try await Self.run { [session] in
            try handOverOptional(password) { try session.autoBackup(directory: directory, password: $0, keep: keep) }
        }
    }

    public func verifyBackup(path: String, password: SecretBytes) async throws -> BackupCheck {
        try await Self.run { [session] in try password.handOver { try session.verifyBackup(path: path, key: .password(password: $0)) } }
    }

    public func verifyBackup(path: String, recoveryKey: String) async throws -> BackupCheck {
        try await Self.run { [session] in try session.verifyBackup(path: path, key: .recoveryKey(key: recoveryKey)) }
    }

    /// Restores a backup; one that cannot be authenticated (`BackupCheck.authenticated`
    /// false) throws `.Unverified` unless `acceptUnverified` (the user confirmed).
    public func restoreBackup(path: String, password: SecretBytes, mode: RestoreMode, acceptUnverified: Bool = false) async throws -> RestoreResult {
        try await Self.run { [session] in
            try password.handOver {
                try session.restoreBackup(path: path, key: .password(password: $0), mode: mode, acceptUnverified: acceptUnverified)
            }
        }
    }
}

/// `secret.handOver(body)`, or `body(nil)` when there is no secret (a backup sealed to the
/// recovery key only, an unencrypted export).
func handOverOptional<R>(_ secret: SecretBytes?, _ body: (Data?) throws -> R) throws -> R {
    guard let secret else { return try body(nil) }
    return try secret.handOver { try body($0) }
}
