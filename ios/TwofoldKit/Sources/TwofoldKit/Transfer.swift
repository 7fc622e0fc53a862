import Foundation
import TwofoldFFI

private func nowSeconds() -> UInt64 { UInt64(Date().timeIntervalSince1970) }

/// New device: a transfer session. Show `inviteText()` as a QR code, feed scanned frames; once
/// complete, show `replyText()` as a QR code for the old device and the code to compare.
public final class IncomingTransfer: @unchecked Sendable {
    private let receiver: TransferReceiver

    private init(_ receiver: TransferReceiver) { self.receiver = receiver }

    /// `lan`: this device's Wi-Fi address and a port ("192.168.1.20:47000") to offer the LAN.
    public static func start(ttlSeconds: UInt64 = 600, lan: String? = nil) async throws -> IncomingTransfer {
        IncomingTransfer(try await TwofoldVault.run { try TransferReceiver(nowSeconds: nowSeconds(), ttlSeconds: ttlSeconds, lan: lan) })
    }

    public func inviteText() async throws -> String { try await TwofoldVault.run { [receiver] in try receiver.inviteText() } }

    /// One decoded frame from the camera; duplicates and order do not matter. Once the
    /// accounts are complete the result carries the confirmation code, reply and preview.
    public func receiveFrame(_ text: String, nowSeconds now: UInt64? = nil) async throws -> ReceivedFrame {
        let at = now ?? nowSeconds()
        return try await TwofoldVault.run { [receiver] in try receiver.receiveFrame(text: text, nowSeconds: at) }
    }

    /// Waits for the old device on the invite's LAN address; `timeoutMs` bounds it all.
    public func receiveLan(timeoutMs: UInt64) async throws {
        try await TwofoldVault.run { [receiver] in try receiver.receiveLan(timeoutMs: timeoutMs) }
    }

    /// The reply to show the old device as a QR code, once a sender is locked.
    public func replyText() async throws -> String? { try await TwofoldVault.run { [receiver] in try receiver.replyText() } }

    public func confirmationCode() async throws -> String? { try await TwofoldVault.run { [receiver] in try receiver.confirmationCode() } }

    public func preview() async throws -> [ImportedPreview] { try await TwofoldVault.run { [receiver] in try receiver.preview() } }

    /// After the user confirmed both screens show the same code.
    public func accept(into vault: TwofoldVault) async throws -> AddResult {
        try await TwofoldVault.run { [receiver] in try receiver.acceptInto(vault: vault.session) }
    }

    /// The codes differ, or the user gave up: nothing is added (a LAN sender hears no). Off
    /// the main actor: while `receiveLan` waits, the core finishes that wait first.
    public func reject() async {
        _ = try? await TwofoldVault.run { [receiver] in receiver.reject() }
    }
}

/// Old device: seals accounts for a scanned invite and produces the animated frames (or uses
/// the LAN). Its code exists only after the new device's reply: `acceptReply`.
public final class OutgoingTransfer: @unchecked Sendable {
    private let sender: TransferSender

    private init(_ sender: TransferSender) { self.sender = sender }

    /// Re-authenticate the user before calling: the chosen accounts leave the vault (sealed).
    public static func start(vault: TwofoldVault, invite: String, entryIds: [String] = [], qrVersion: UInt8 = 0) async throws -> OutgoingTransfer {
        OutgoingTransfer(try await TwofoldVault.run {
            try TransferSender(vault: vault.session, inviteText: invite, entryIds: entryIds, nowSeconds: nowSeconds(), qrVersion: qrVersion)
        })
    }

    /// Nil until the reply was accepted: show no code before.
    public var confirmationCode: String? { sender.confirmationCode() }

    /// Where a LAN transfer goes (private IP and port): show it and ask before `connectLan`.
    public var lanDestination: String? { sender.lanDestination() }

    /// The new device's reply as scanned; returns the code to compare.
    public func acceptReply(_ text: String) async throws -> String {
        try await TwofoldVault.run { [sender] in try sender.acceptReply(replyText: text, nowSeconds: nowSeconds()) }
    }

    /// Connects (after the user agreed to `lanDestination`); returns the code to compare.
    public func connectLan(timeoutMs: UInt64) async throws -> String {
        try await TwofoldVault.run { [sender] in try sender.connectLan(timeoutMs: timeoutMs) }
    }

    /// The user confirmed the codes match: sends the accounts, waits for the new device's user.
    public func finishLan() async throws {
        try await TwofoldVault.run { [sender] in try sender.finishLan() }
    }

    /// The codes differ: nothing is sent.
    public func cancelLan() { sender.cancelLan() }

    public func frame(_ n: UInt64) -> String { sender.frame(n: n) }

    /// Frame texts to show as QR codes, `perSecond` a second, until the consumer stops.
    public func frames(perSecond: Int = 6) -> AsyncStream<String> {
        AsyncStream { continuation in
            let task = Task { [sender] in
                var n: UInt64 = 0
                while !Task.isCancelled {
                    continuation.yield(sender.frame(n: n))
                    n += 1
                    try? await Task.sleep(nanoseconds: 1_000_000_000 / UInt64(max(1, perSecond)))
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}

public extension TwofoldVault {
    /// The biometric slots the given keystore can open.
    func platformSlots(_ keystore: PlatformKeystore) async throws -> [SlotView] {
        try await slots().filter { $0.kind == .platform && $0.platformAlias == keystore.alias }
    }

    func rotateRecoveryKey() async throws -> String { try await Self.run { [session] in try session.rotateRecoveryKey() } }

    @discardableResult
    func addGroup(_ name: String) async throws -> GroupView { try await Self.run { [session] in try session.addGroup(name: name) } }

    /// Deletes a group (its accounts stay, without it).
    func deleteGroup(_ id: String) async throws { try await Self.run { [session] in try session.deleteGroup(id: id) } }

    /// The listed entries first, in this order.
    func reorder(_ ids: [String]) async throws { try await Self.run { [session] in try session.reorder(ids: ids) } }

    func verifyBackupBytes(_ bytes: Data, password: SecretBytes) async throws -> BackupCheck {
        try await Self.run { [session] in
            try password.handOver { try session.verifyBackupBytes(bytes: bytes, key: .password(password: $0)) }
        }
    }

    func verifyBackupBytes(_ bytes: Data, recoveryKey: String) async throws -> BackupCheck {
        try await Self.run { [session] in try session.verifyBackupBytes(bytes: bytes, key: .recoveryKey(key: recoveryKey)) }
    }

    /// FIDO CXF JSON: `use` gets the bytes (wiped when it returns) and what was left out.
    func exportCxf<T>(now: Date = Date(), use: (Data, [SkippedEntry]) async throws -> T) async throws -> T {
        let ms = Int64(now.timeIntervalSince1970 * 1000)
        let export = try await Self.run { [session] in try session.exportCxf(nowMs: ms) }
        var bytes = export.content
        defer { bytes.wipe() }
        return try await use(bytes, export.skipped)
    }
}
