import Foundation
import Observation

/// Adding accounts: QR texts from the camera (AVFoundation reads them) or pictures (the core
/// decodes them), Google multi-code exports with progress, otpauth links, manual entry, and
/// other apps' export files. Everything is previewed and added only when confirmed.
@MainActor @Observable
public final class EnrollModel {
    public struct Manual: Equatable {
        public var issuer = ""
        public var account = ""
        public var secret = ""
        public var type: OtpType = .totp
        public var algorithm: HashAlgorithm = .sha1
        public var digits = "6"
        public var period = "30"
        public var counter = "0"
        public init() {}
    }

    public private(set) var pending: [ImportedPreview] = []
    public private(set) var progress: ExportProgress?
    public private(set) var problems: [String] = []
    public private(set) var filePasswordNeeded = false
    public private(set) var importFormat: String?
    public private(set) var busy = false
    public var error: String?
    /// Manual entry: what is wrong with each parameter field (the core's words).
    public private(set) var fieldProblems: [FormField: String] = [:]
    public private(set) var result: AddResult?
    public var manual = Manual()

    private let vault: TwofoldVault
    private let onChanged: () -> Void
    private var scanner = EnrollmentScanner()
    private var importSession: ImportSession?
    private var pendingFile: Data?
    /// Bumped by `cancel`: a call still running for the session before it does not touch
    /// the screen when it returns (its accounts, if it was adding, are added all the same).
    @ObservationIgnored private var generation = 0

    public init(vault: TwofoldVault, onChanged: @escaping () -> Void = {}) {
        self.vault = vault
        self.onChanged = onChanged
    }

    private func took(_ r: ScanResult) {
        pending = scanner.accounts()
        if let p = r.progress { progress = p }
        for e in r.errors where !problems.contains(e) { problems.append(e) }
        error = nil
        result = nil
    }

    private func problem(_ error: Error) {
        let message = TwofoldError.from(error).userMessage
        if !problems.contains(message) { problems.append(message) }
    }

    /// One camera frame's luma plane (every frame; frames without a code are ignored, repeats of
    /// a code already scanned are harmless). The core decodes and enrolls it: the account's
    /// secret never becomes a Swift String.
    public func cameraFrame(width: UInt32, height: UInt32, rowStride: UInt32, luma: Data) async {
        let (gen, scanner) = (generation, self.scanner)
        do {
            let r = try await scanner.scan(width: width, height: height, rowStride: rowStride, luma: luma)
            if let r, gen == generation { took(r) }
        } catch {
            if gen == generation { problem(error) }
        }
    }

    /// A photo or screenshot (PNG/JPEG/HEIC converted to PNG by the app).
    public func picture(_ bytes: Data) async {
        let (gen, scanner) = (generation, self.scanner)
        do {
            let r = try await scanner.scan(image: bytes)
            guard gen == generation else { return }
            guard let r else {
                error = "No QR code found in this picture"
                return
            }
            took(r)
        } catch {
            if gen == generation { self.error = TwofoldError.from(error).userMessage }
        }
    }

    /// Untick one scanned or imported account before adding.
    public func removePending(at index: Int) {
        if let session = importSession {
            session.remove(index: UInt32(index))
            pending = session.accounts()
        } else {
            scanner.remove(at: index)
            pending = scanner.accounts()
        }
    }

    public func confirm() async {
        let (gen, session, scanner) = (generation, importSession, self.scanner)
        busy = true
        defer { if gen == generation { busy = false } }
        do {
            let r: AddResult
            if let session { r = try await vault.addImported(session) } else { r = try await scanner.add(to: vault) }
            // Added, even if the user cancelled meanwhile: backups must hear of it either way.
            onChanged()
            guard gen == generation else { return }
            reset()
            result = r
        } catch {
            if gen == generation { self.error = TwofoldError.from(error).userMessage }
        }
    }

    /// A typed or pasted otpauth URI (UTF-8 bytes, wiped): previewed by the core, then pending
    /// like a scanned code.
    public func add(uri: SecretBytes) async {
        let (gen, scanner) = (generation, self.scanner)
        do {
            let r = try await scanner.scan(text: uri)
            if gen == generation { took(r) }
        } catch {
            if gen == generation { self.error = TwofoldError.from(error).userMessage }
        }
        uri.wipe()
    }

    /// Adds the manual entry; the core checks the secret and parameters and says what is wrong.
    public func addManual(allowDuplicate: Bool = false) async {
        let m = manual
        // The core reads the fields the kind uses and says what is wrong with each.
        let parsed = parseCodeParameters(otpType: m.type, algorithm: m.algorithm, digits: m.digits, period: m.period, counter: m.counter)
        fieldProblems = Dictionary(parsed.problems.map { ($0.field, $0.message) }, uniquingKeysWith: { a, _ in a })
        guard let params = parsed.params else {
            error = parsed.problems.map(\.message).joined(separator: ". ")
            return
        }
        let input = EntryInput(
            params: params,
            secret: Data(),
            issuer: m.issuer.trimmingCharacters(in: .whitespaces),
            account: m.account.trimmingCharacters(in: .whitespaces),
            note: "",
            groupIds: [],
            favorite: false,
            icon: nil
        )
        let gen = generation
        busy = true
        defer { if gen == generation { busy = false } }
        do {
            let added = try await vault.add(input, secret: SecretBytes(utf8: m.secret), allowDuplicate: allowDuplicate)
            onChanged()
            guard gen == generation else { return }
            reset()
            result = AddResult(addedIds: [added.id], duplicates: [])
        } catch {
            if gen == generation { self.error = TwofoldError.from(error).userMessage }
        }
    }

    /// Another app's export file (from the file importer); `password` (wiped) for an
    /// encrypted one.
    public func importFile(_ bytes: Data, password: SecretBytes? = nil) async {
        let gen = generation
        busy = true
        defer { if gen == generation { busy = false } }
        error = nil
        do {
            let session = try await TwofoldVault.readImport(bytes, password: password)
            guard gen == generation else { return }
            importSession = session
            pendingFile = nil
            filePasswordNeeded = false
            importFormat = session.format()
            pending = session.accounts()
            problems = session.errors().map { "#\($0.index + 1) \($0.label.isEmpty ? "(no name)" : $0.label): \($0.reason)" }
        } catch TwofoldError.PasswordRequired {
            guard gen == generation else { return }
            pendingFile = bytes
            filePasswordNeeded = true
        } catch TwofoldError.WrongCredential {
            guard gen == generation else { return }
            pendingFile = bytes
            filePasswordNeeded = true
            error = "Wrong password for this file"
        } catch {
            if gen == generation { self.error = TwofoldError.from(error).userMessage }
        }
        password?.wipe()
    }

    /// The password (wiped) for the encrypted file read last.
    public func filePassword(_ password: SecretBytes) async {
        guard let bytes = pendingFile else { return password.wipe() }
        await importFile(bytes, password: password)
    }

    /// Starts over at once; a call still running for the old session does not touch the screen.
    public func cancel() {
        generation += 1
        reset()
        result = nil
    }

    private func reset() {
        scanner = EnrollmentScanner()
        importSession = nil
        pendingFile = nil
        pending = []
        progress = nil
        problems = []
        filePasswordNeeded = false
        importFormat = nil
        error = nil
        busy = false
        manual = Manual()
    }
}
