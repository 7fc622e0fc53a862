import Foundation
import Observation
import TwofoldFFI

/// The new device's side: show the invite, scan the old device's frames, compare the
/// confirmation code, preview, accept. The protocol is the core's.
@MainActor @Observable
public final class ReceiveModel {
    public private(set) var invite: String?
    public private(set) var progress: TransferProgress?
    public private(set) var confirmationCode: String?
    public private(set) var preview: [ImportedPreview] = []
    public private(set) var result: AddResult?
    public private(set) var expired = false
    public private(set) var error: String?

    private let vault: TwofoldVault
    private let start: () async throws -> IncomingTransfer
    private let onChanged: () -> Void
    private var transfer: IncomingTransfer?
    private var busy = false

    public init(vault: TwofoldVault, start: @escaping () async throws -> IncomingTransfer = { try await IncomingTransfer.start() },
                onChanged: @escaping () -> Void = {}) {
        self.vault = vault
        self.start = start
        self.onChanged = onChanged
    }

    public func begin() async {
        cancel()
        do {
            let t = try await start()
            transfer = t
            invite = try await t.inviteText()
        } catch {
            self.error = VaultFailure.from(error).message
        }
    }

    /// One frame text from the camera (frames arriving while one is processed are dropped;
    /// the fountain code does not need every frame).
    public func frame(_ text: String) async {
        guard let t = transfer, confirmationCode == nil, !busy else { return }
        busy = true
        defer { busy = false }
        do {
            let p = try await t.receiveFrame(text)
            progress = p
            error = nil
            if p.complete {
                confirmationCode = try await t.confirmationCode()
                preview = try await t.preview()
            }
        } catch VaultFailure.transferExpired {
            expired = true
            error = VaultFailure.transferExpired.message
        } catch {
            // A stray code (another session's, an account QR): say so, keep scanning.
            self.error = VaultFailure.from(error).message
        }
    }

    public func accept() async {
        guard let t = transfer else { return }
        do {
            result = try await t.accept(into: vault)
            transfer = nil
            onChanged()
        } catch {
            self.error = VaultFailure.from(error).message
        }
    }

    public func cancel() {
        transfer = nil
        invite = nil
        progress = nil
        confirmationCode = nil
        preview = []
        result = nil
        expired = false
        error = nil
    }
}

/// The old device's side: re-authenticate, scan the invite, choose accounts, show frames.
@MainActor @Observable
public final class SendModel {
    public private(set) var authenticated = false
    public private(set) var invite: String?
    public private(set) var accounts: [EntryView] = []
    public private(set) var selected: Set<String> = []
    public private(set) var confirmationCode: String?
    public private(set) var frame: String?
    public private(set) var busy = false
    public private(set) var error: String?

    private let vault: TwofoldVault
    private let reauth: Reauthentication
    private let framesPerSecond: Int
    private var transfer: OutgoingTransfer?
    private var framesTask: Task<Void, Never>?

    public init(vault: TwofoldVault, reauth: Reauthentication, framesPerSecond: Int = 6) {
        self.vault = vault
        self.reauth = reauth
        self.framesPerSecond = framesPerSecond
    }

    public func authenticate(password: String) async { await authenticate { try await self.reauth.with(password: password) } }

    public func authenticateWithBiometrics() async { await authenticate { try await self.reauth.withBiometrics() } }

    private func authenticate(_ proof: () async throws -> Void) async {
        busy = true
        defer { busy = false }
        var all: [EntryView] = []
        let outcome = await reauth.prove {
            try await proof()
            all = try await self.vault.entries()
        }
        accounts = all
        selected = Set(all.map(\.id))
        authenticated = outcome == .confirmed
        if case let .refused(message) = outcome { error = message } else { error = nil }
    }

    public func inviteScanned(_ text: String) {
        if invite == nil {
            invite = text
            error = nil
        }
    }

    public func toggle(_ id: String) {
        if selected.contains(id) { selected.remove(id) } else { selected.insert(id) }
    }

    public func send() async {
        guard authenticated, let invite else { return }
        guard !selected.isEmpty else { error = "Choose at least one account"; return }
        busy = true
        defer { busy = false }
        do {
            let ids = accounts.map(\.id).filter { selected.contains($0) }
            let t = try await OutgoingTransfer.start(vault: vault, invite: invite, entryIds: ids)
            transfer = t
            confirmationCode = t.confirmationCode
            let stream = t.frames(perSecond: framesPerSecond)
            framesTask = Task { [weak self] in
                for await f in stream { self?.frame = f }
            }
        } catch {
            // An invalid or expired invite: scan the new device's code again.
            self.invite = nil
            self.error = VaultFailure.from(error).message
        }
    }

    public func finish() {
        framesTask?.cancel()
        framesTask = nil
        transfer = nil
        frame = nil
        confirmationCode = nil
        invite = nil
        authenticated = false
        accounts = []
        selected = []
    }
}
