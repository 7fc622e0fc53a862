import SwiftUI
import TwofoldKit
import UniformTypeIdentifiers

/// Automatic backups (folder, status, back up now) and checking any backup file.
///
/// One `.fileImporter` for both pickers: SwiftUI reliably drives only one of several importers
/// attached in the same view hierarchy, so the folder picker and the file picker are the same
/// importer with the content types of the current `pick`.
struct BackupView: View {
    let model: BackupModel
    private enum Pick { case folder, backup }
    @State private var importing = false
    @State private var pick = Pick.folder
    @State private var secret = ""
    @State private var pickError: String?

    var body: some View {
        Form {
            Section {
                Text("After every change Twofold writes an encrypted backup into a folder you choose (on this iPhone or in iCloud Drive), reads it back and checks it opens. Your recovery key opens these backups. The newest 10 are kept.")
                if let name = model.folderName {
                    Text("Folder: \(name)")
                    if let last = model.last {
                        Text("Last verified backup: \(last.name), \(last.at, style: .relative) ago, \(last.entryCount) accounts")
                    }
                    ErrorText(message: model.lastError.map { "The last backup failed: \($0)" })
                    Button(model.busy ? "Backing up…" : "Back up now") { Task { await model.backupNow() } }.disabled(model.busy)
                    Button("Change folder") { open(.folder) }
                    Button("Stop automatic backups", role: .destructive) { model.stopAutomaticBackups() }
                } else {
                    Button("Choose backup folder") { open(.folder) }
                }
                ErrorText(message: pickError)
            }
            Section("Check a backup") {
                Text("Open any Twofold backup to see that it decrypts and how it differs from this vault.")
                Button("Choose backup file") { open(.backup) }
                if model.checkFile != nil {
                    SecureField("Backup password or recovery key", text: $secret)
                    Button("Check with this password") {
                        let typed = SecretBytes(utf8: secret)
                        secret = ""
                        Task { await model.verify(password: typed) }
                    }
                    .disabled(secret.isEmpty || model.busy)
                    Button("Check with this recovery key") {
                        let typed = secret
                        secret = ""
                        Task { await model.verify(recoveryKey: typed) }
                    }
                    .disabled(secret.isEmpty || model.busy)
                }
                ErrorText(message: model.checkError)
                if let c = model.check {
                    Text("This backup opens: \(c.entryCount) accounts, made \(Date(timeIntervalSince1970: TimeInterval(c.createdAt) / 1000), style: .relative) ago.")
                    if let d = c.difference, !(d.missing.isEmpty && d.changed.isEmpty && d.extra.isEmpty) {
                        if !d.missing.isEmpty { Text("Not in the backup: " + d.missing.map { $0.issuer.isEmpty ? $0.account : $0.issuer }.joined(separator: ", ")) }
                        if !d.changed.isEmpty { Text("Changed since: " + d.changed.map { $0.issuer.isEmpty ? $0.account : $0.issuer }.joined(separator: ", ")) }
                        if !d.extra.isEmpty { Text("Only in the backup: " + d.extra.map { $0.issuer.isEmpty ? $0.account : $0.issuer }.joined(separator: ", ")) }
                    } else {
                        Text("It holds exactly what this vault holds.")
                    }
                }
            }
        }
        .fileImporter(isPresented: $importing, allowedContentTypes: pick == .folder ? [.folder] : [.data]) { result in
            switch pick {
            case .folder:
                do {
                    let url = try result.get()
                    let bookmark = try BookmarkFolder.bookmark(for: url)
                    Task { await model.chooseFolder(bookmark: bookmark, name: url.lastPathComponent) }
                    pickError = nil
                } catch {
                    pickError = "That folder cannot be used: \(error.localizedDescription)"
                }
            case .backup:
                do {
                    model.pickBackupToVerify(try readPickedFile(try result.get()))
                    pickError = nil
                } catch {
                    pickError = "The file could not be read: \(error.localizedDescription)"
                }
            }
        }
        .pausesAutoLock(while: importing)
        .navigationTitle("Backups")
    }

    private func open(_ what: Pick) {
        pick = what
        importing = true
    }
}
