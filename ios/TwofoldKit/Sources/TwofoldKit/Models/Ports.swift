import Foundation

// What the view models need from the platform, as small protocols. The app implements them
// (UIPasteboard, UserDefaults, security-scoped folders); the XCTests use in-memory versions.
// None of them decides anything about secrets, formats or time: that is the core's.

/// The system pasteboard.
public protocol Clipboard: AnyObject {
    /// Copies `text` for this device only, expiring after `seconds` (UIPasteboard does both).
    func copySensitive(_ text: String, expiresAfter seconds: TimeInterval)
}

/// Non-secret app settings (UserDefaults in the app).
public protocol SettingsStore: AnyObject {
    /// Seconds in the background before the vault locks; 0 locks at once, -1 never.
    var autoLockSeconds: Int { get set }
    var tapToReveal: Bool { get set }
    /// A security-scoped bookmark of the backup folder, and its name for display.
    var backupFolderBookmark: Data? { get set }
    var backupFolderName: String? { get set }
    var lastBackup: BackupStatus? { get set }
    var lastBackupError: String? { get set }
    var biometricNeedsReenroll: Bool { get set }
}

public struct BackupStatus: Codable, Equatable, Sendable {
    public var at: Date
    public var name: String
    public var entryCount: UInt64

    public init(at: Date, name: String, entryCount: UInt64) {
        self.at = at
        self.name = name
        self.entryCount = entryCount
    }
}

/// The user dismissed the biometric prompt: not an error.
public struct BiometricCancelled: Error, Sendable {
    /// The prompt could not be shown because the app is not in front (`LAError.notInteractive`,
    /// e.g. the vault locked in the background and the unlock screen asked at once): ask again
    /// when the scene is active.
    public let notInteractive: Bool

    public init(notInteractive: Bool = false) {
        self.notInteractive = notInteractive
    }
}

/// The device's biometric hardware keys, one per enrollment. Each biometric slot names its key
/// (`SlotView.platformAlias`), so re-enrolling makes a new key under a new alias and the old
/// one keeps opening the old slot until the vault has swapped the two in one commit; only then
/// is the old key deleted. The app keeps them in the Secure Enclave behind Face ID / Touch ID;
/// the XCTests use CryptoKit keys.
public protocol BiometricKeys: AnyObject, Sendable {
    /// Whether Face ID / Touch ID can be used now (asked each time: the user may turn them off).
    func available() -> Bool
    /// Whether `alias` names one of this app's biometric keys (not a PIN's device key).
    func owns(_ alias: String) -> Bool
    /// The keystore of the key an existing slot names.
    func keystore(for alias: String) -> PlatformKeystore
    /// A keystore under a new alias: its `wrap` creates a new key and leaves every other alone.
    func fresh() -> PlatformKeystore
    /// The aliases of every biometric key this app holds.
    func aliases() throws -> [String]
    /// Deletes the key behind `alias`; nothing happens when it is already gone.
    func delete(_ alias: String) throws
}

/// Plain in-memory settings, for tests and previews.
public final class MemorySettings: SettingsStore {
    public var autoLockSeconds = 30
    public var tapToReveal = false
    public var backupFolderBookmark: Data?
    public var backupFolderName: String?
    public var lastBackup: BackupStatus?
    public var lastBackupError: String?
    public var biometricNeedsReenroll = false

    public init() {}
}

/// The core's verdict on `password`, which stays as it is (the copy judged is wiped).
func judgePassword(_ password: SecretBytes) -> PasswordStrength {
    let judged = password.copy()
    return (try? judged.handOver { passwordStrength(password: $0) })
        ?? PasswordStrength(score: 0, guessesLog10: 0, acceptable: false, feedback: [])
}

extension PasswordStrength {
    /// Nil when the core accepts the password; otherwise what to tell the user.
    public var refusal: String? {
        acceptable ? nil : (feedback.first ?? "Choose a longer password")
    }
}

/// Runs `body`, turning any failure into the message to show (nil on success or cancel).
@MainActor
func attempt(_ body: () async throws -> Void) async -> String? {
    do {
        try await body()
        return nil
    } catch is BiometricCancelled {
        return nil
    } catch {
        return TwofoldError.from(error).userMessage
    }
}
