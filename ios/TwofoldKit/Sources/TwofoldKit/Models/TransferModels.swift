import Foundation
import Observation

/// The new device's side: show the invite, scan the old device's frames, then show the reply
/// QR for the old device and the confirmation code, preview, and accept only when the user
/// says both codes match. The protocol is the core's.
@MainActor @Observable
public final class ReceiveModel {
    public private(set) var invite: String?
    public private(set) var progress: TransferProgress?
    /// Once the old device's data arrived: show it as a QR code for the old device to scan.
    public private(set) var reply: String?
    public private(set) var confirmationCode: String?
    public private(set) var preview: [ImportedPreview] = []
    public private(set) var result: AddResult?
    public private(set) var expired = false
    public private(set) var error: String?

    /// Waiting for the old device over the LAN, or adding the accounts.
    public private(set) var busy = false

    private let vault: TwofoldVault
    private let start: () async throws -> IncomingTransfer
    private let onChanged: () -> Void
    private var transfer: IncomingTransfer?
    /// A frame is being read: frames arriving meanwhile are dropped (the fountain code does
    /// not need every frame).
    private var reading = false
    @ObservationIgnored private var generation = 0

    public init(vault: TwofoldVault, start: @escaping () async throws -> IncomingTransfer = { try await IncomingTransfer.start() },
                onChanged: @escaping () -> Void = {}) {
        self.vault = vault
        self.start = start
        self.onChanged = onChanged
    }

    public func begin() async {
        cancel()
        let gen = generation
        do {
            let t = try await start()
            guard gen == generation else { return await t.reject() }
            transfer = t
            let text = try await t.inviteText()
            if transfer === t { invite = text }
        } catch {
            if gen == generation { self.error = TwofoldError.from(error).userMessage }
        }
    }

    /// One frame text from the camera.
    public func frame(_ text: String) async {
        guard let t = transfer, confirmationCode == nil, !reading, !busy else { return }
        reading = true
        defer { if transfer === t { reading = false } }
        do {
            let f = try await t.receiveFrame(text)
            guard transfer === t else { return }
            progress = f.progress
            error = nil
            // Complete: the code, reply and preview come with the frame, from the core.
            if f.progress.complete {
                confirmationCode = f.confirmationCode
                reply = f.replyText
                preview = f.preview
            }
        } catch TwofoldError.TransferExpired {
            guard transfer === t else { return }
            expired = true
            error = TwofoldError.TransferExpired.userMessage
        } catch {
            // A stray code (another session's, an account QR): say so, keep scanning.
            if transfer === t { self.error = TwofoldError.from(error).userMessage }
        }
    }

    private func showReceived(_ t: IncomingTransfer) async throws {
        let code = try await t.confirmationCode()
        let reply = try await t.replyText()
        let preview = try await t.preview()
        guard transfer === t else { return }
        confirmationCode = code
        self.reply = reply
        self.preview = preview
    }

    /// Receive over the local network instead (the invite must carry this device's address).
    public func receiveLan(timeoutMs: UInt64 = 120_000) async {
        guard let t = transfer, !busy else { return }
        busy = true
        defer { if transfer === t { busy = false } }
        do {
            try await t.receiveLan(timeoutMs: timeoutMs)
            guard transfer === t else { return }
            error = nil
            try await showReceived(t)
        } catch TwofoldError.TransferExpired {
            guard transfer === t else { return }
            expired = true
            error = TwofoldError.TransferExpired.userMessage
        } catch {
            if transfer === t { self.error = TwofoldError.from(error).userMessage }
        }
    }

    /// Both devices show the same code: add the accounts.
    public func accept() async {
        guard let t = transfer, !busy else { return }
        busy = true
        defer { if transfer === t { busy = false } }
        do {
            let r = try await t.accept(into: vault)
            // Added even if the user cancelled meanwhile: backups must hear of it.
            onChanged()
            guard transfer === t else { return }
            result = r
            transfer = nil
        } catch {
            if transfer === t { self.error = TwofoldError.from(error).userMessage }
        }
    }

    /// The codes differ, or the user gave up: nothing is added (a LAN sender hears no). The
    /// screen is free at once; the rejection runs off the main actor (a LAN wait in the core
    /// ends first: it cannot be interrupted).
    public func cancel() {
        generation += 1
        if let t = transfer { Task { await t.reject() } }
        transfer = nil
        invite = nil
        progress = nil
        reply = nil
        confirmationCode = nil
        preview = []
        result = nil
        expired = false
        error = nil
        busy = false
        reading = false
    }
}

/// The old device's side: re-authenticate, scan the invite, choose accounts, show frames until
/// the new device shows its reply; scan the reply and only then show the code. Over the LAN:
/// show the destination and ask first, then the code, and send only when the codes match.
@MainActor @Observable
public final class SendModel {
    public private(set) var authenticated = false
    /// Offer Face ID / Touch ID for the re-authentication (see `load`).
    public private(set) var biometricAvailable = false
    public private(set) var invite: String?
    public private(set) var accounts: [EntryView] = []
    public private(set) var selected: Set<String> = []
    /// Shown only after the new device's reply was scanned (or arrived over the LAN).
    public private(set) var confirmationCode: String?
    /// Frames are on screen: the camera waits for the new device's reply.
    public private(set) var awaitingReply = false
    public private(set) var frame: String?
    /// The invite's LAN address: show it and ask before `sendOverLan`.
    public private(set) var lanDestination: String?
    /// LAN: the code is on screen, the accounts wait for "the codes match".
    public private(set) var lanWaitingForMatch = false
    public private(set) var sent = false
    public private(set) var busy = false
    public private(set) var error: String?

    private let vault: TwofoldVault
    private let reauth: Reauthentication
    private let framesPerSecond: Int
    private var transfer: OutgoingTransfer?
    private var framesTask: Task<Void, Never>?
    @ObservationIgnored private var generation = 0

    public init(vault: TwofoldVault, reauth: Reauthentication, framesPerSecond: Int = 6) {
        self.vault = vault
        self.reauth = reauth
        self.framesPerSecond = framesPerSecond
    }

    /// Whether to offer biometrics: a slot of this device exists and biometrics work now.
    public func load() async { biometricAvailable = await reauth.hasBiometrics() }

    /// Re-authenticates with the vault password (wiped).
    public func authenticate(password: SecretBytes) async { await authenticate { try await self.reauth.with(password: password) } }

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

    /// Whatever the camera reads: the invite first, then (with frames showing) the reply.
    public func scanned(_ text: String) async {
        if invite == nil { inviteScanned(text) } else if awaitingReply { await replyScanned(text) }
    }

    /// The new device's reply: checked by the core; then the code to compare shows.
    public func replyScanned(_ text: String) async {
        guard let t = transfer, confirmationCode == nil else { return }
        do {
            let code = try await t.acceptReply(text)
            guard transfer === t else { return }
            confirmationCode = code
            awaitingReply = false
            framesTask?.cancel()
            framesTask = nil
            frame = nil
            error = nil
        } catch {
            // Another sender reached the new device, or a forged reply: say it plainly.
            if transfer === t { self.error = TwofoldError.from(error).userMessage }
        }
    }

    /// The user saw `lanDestination` and agreed: connects; the code shows once the new device
    /// answered. Nothing is sent before `codesMatch`.
    public func sendOverLan(timeoutMs: UInt64 = 120_000) async {
        guard let t = transfer, t.lanDestination != nil else { return }
        framesTask?.cancel()
        framesTask = nil
        frame = nil
        awaitingReply = false
        busy = true
        defer { if transfer === t { busy = false } }
        do {
            let code = try await t.connectLan(timeoutMs: timeoutMs)
            guard transfer === t else { return }
            confirmationCode = code
            lanWaitingForMatch = true
        } catch {
            if transfer === t { self.error = TwofoldError.from(error).userMessage }
        }
    }

    /// LAN: both devices show the same code; send the accounts.
    public func codesMatch() async {
        guard let t = transfer, lanWaitingForMatch else { return }
        busy = true
        defer { if transfer === t { busy = false } }
        do {
            try await t.finishLan()
            guard transfer === t else { return }
            sent = true
        } catch {
            if transfer === t { self.error = TwofoldError.from(error).userMessage }
        }
        if transfer === t { lanWaitingForMatch = false }
    }

    /// The codes differ: send nothing.
    public func codesDiffer() {
        transfer?.cancelLan()
        finish()
        error = "The codes differ: nothing was sent. Start again, and make sure you scan the new device's own screen."
    }

    public func toggle(_ id: String) {
        if selected.contains(id) { selected.remove(id) } else { selected.insert(id) }
    }

    public func send() async {
        guard authenticated, let invite else { return }
        guard !selected.isEmpty else { error = "Choose at least one account"; return }
        guard transfer == nil else { return }
        let gen = generation
        busy = true
        defer { if gen == generation { busy = false } }
        do {
            let ids = accounts.map(\.id).filter { selected.contains($0) }
            let t = try await OutgoingTransfer.start(vault: vault, invite: invite, entryIds: ids)
            guard gen == generation else { return }
            transfer = t
            awaitingReply = true
            lanDestination = t.lanDestination
            let stream = t.frames(perSecond: framesPerSecond)
            framesTask = Task { [weak self] in
                for await f in stream { self?.frame = f }
            }
        } catch {
            // An invalid or expired invite: scan the new device's code again.
            guard gen == generation else { return }
            self.invite = nil
            self.error = TwofoldError.from(error).userMessage
        }
    }

    public func finish() {
        generation += 1
        busy = false
        framesTask?.cancel()
        framesTask = nil
        transfer = nil
        frame = nil
        confirmationCode = nil
        awaitingReply = false
        lanDestination = nil
        lanWaitingForMatch = false
        sent = false
        invite = nil
        authenticated = false
        accounts = []
        selected = []
    }
}
