import SwiftUI
import TwofoldKit
import UIKit

/// Keep several devices in step: a folder (iCloud Drive, a Files provider) or a WebDAV
/// server, devices, conflicts, adding a device (both sides) and removing one.
struct SyncView: View {
    @Bindable var model: SyncModel
    @State private var deviceName = UIDevice.current.name
    @State private var pickingFolder = false
    @State private var pickingJoinFolder = false
    @State private var addingDevice = false
    @State private var webDavURL = ""
    @State private var webDavUser = ""
    @State private var webDavPassword = ""
    @State private var frame: String?
    @State private var removing: String?

    var body: some View {
        Form {
            if model.busy { ProgressView() }
            if let join = model.join {
                Section("Join") {
                    if join.reply == nil {
                        Text("1. On a device already syncing, open Twofold › Sync › Add a device and scan this code.")
                        QRCodeView(text: join.inviteText)
                        Text("2. Then point this camera at the codes it shows. \(join.received) of about \(join.needed)")
                        QRScannerView { text in Task { await model.joinFrame(text) } }.frame(height: 260)
                    } else {
                        Text("3. On the other device, scan this reply. Only then does it show its code.")
                        QRCodeView(text: join.reply ?? "").frame(maxWidth: 220)
                        Text("4. Does it show this code?")
                        Text(join.code ?? "").font(.system(.largeTitle, design: .monospaced))
                        if let p = join.preview { Text("Group of \(p.inviter): \(p.devices.joined(separator: ", ")). Files in \(p.storage).") }
                        Button("Codes match: choose the folder on this device") { pickingJoinFolder = true }
                        if join.preview?.withCredentials == true {
                            Button("Codes match: use the WebDAV server") { Task { await model.acceptJoin(folderBookmark: nil, folderName: nil) } }
                        }
                        Button("Codes differ: cancel", role: .destructive) { model.cancelJoin() }
                    }
                }
            } else if let invite = model.invite {
                Section("Adding \(invite.deviceName)") {
                    if let code = invite.code {
                        Text("Does \(invite.deviceName) show this code?")
                        Text(code).font(.system(.largeTitle, design: .monospaced))
                        Button("Codes match") { Task { await model.finishInvite(codesMatched: true); addingDevice = false } }
                        Button("Codes differ: don't add it", role: .destructive) { Task { await model.finishInvite(codesMatched: false); addingDevice = false } }
                    } else {
                        if let frame { QRCodeView(text: frame) }
                        Text("Hold this screen in front of its camera; when it shows a reply code, scan it here:")
                        QRScannerView { text in Task { await model.inviteReply(text) } }.frame(height: 200)
                    }
                }
                .task(id: invite.deviceName) {
                    var n: UInt64 = 0
                    while !Task.isCancelled {
                        frame = model.inviteFrame(n)
                        n += 1
                        try? await Task.sleep(nanoseconds: 166_000_000)
                    }
                }
            } else if addingDevice {
                Section("Add a device") {
                    Text("On the new device, open Twofold › Sync › Join, and scan the code it shows.")
                    QRScannerView { text in Task { await model.startInvite(text) } }.frame(height: 300)
                    Button("Cancel") { addingDevice = false }
                }
            } else if !model.setUp {
                Section {
                    Text("Each device writes its own signed, encrypted file into a folder that iCloud Drive or your cloud app copies between devices, or onto your WebDAV server. No account, no server of ours; whoever holds the files can read nothing and forge nothing.")
                    TextField("This device's name", text: $deviceName)
                    Button("Start syncing in a folder") { pickingFolder = true }.disabled(deviceName.isEmpty)
                    Button("Join a device that already syncs") { Task { await model.startJoin(deviceName: deviceName) } }.disabled(deviceName.isEmpty)
                }
                Section("Or a WebDAV server") {
                    TextField("https://cloud.example/remote.php/dav/files/you/Twofold", text: $webDavURL)
                        .textInputAutocapitalization(.never).keyboardType(.URL)
                    TextField("User", text: $webDavUser).textInputAutocapitalization(.never)
                    SecureField("App password", text: $webDavPassword)
                    Button("Start syncing on this server") {
                        var password: Data? = webDavPassword.isEmpty ? nil : Data(webDavPassword.utf8)
                        webDavPassword = ""
                        Task { await model.setUpWebDav(url: webDavURL, user: webDavUser.isEmpty ? nil : webDavUser, password: &password, deviceName: deviceName) }
                    }.disabled(webDavURL.isEmpty || deviceName.isEmpty)
                }
            } else {
                Section("Devices") {
                    if let s = model.status {
                        Text("This device: \(s.deviceName) · \(s.storage)")
                        if s.awaitingAdmission { Text("Waiting for the other device to confirm the codes and sync") }
                        ForEach(s.devices.filter { !$0.thisDevice }, id: \.tag) { d in
                            HStack {
                                VStack(alignment: .leading) {
                                    Text(d.name)
                                    Text(d.revoked ? "removed" : d.quarantined ? "ignored: it forked (a copied device?)"
                                        : d.lastUpdate.map { "last update " + Date(timeIntervalSince1970: Double($0) / 1000).formatted() } ?? "nothing yet")
                                        .font(.caption).foregroundStyle(.secondary)
                                }
                                Spacer()
                                if d.active { Button("Remove", role: .destructive) { removing = d.name } }
                            }
                        }
                        ForEach(s.warnings, id: \.message) { w in Text(w.message).foregroundStyle(.red) }
                    }
                }
                if !model.conflicts.isEmpty {
                    Section("Changed on two devices at once") {
                        ForEach(model.conflicts, id: \.entryId) { c in
                            VStack(alignment: .leading) {
                                Text("\(c.label): \(c.field)").font(.headline)
                                Text("Shown: \(c.shown) (\(c.shownBy))\nKept for review: \(c.other) (\(c.otherBy))")
                                HStack {
                                    Button("Keep mine") { Task { await model.resolve(entryId: c.entryId, keep: .mine) } }
                                    Button("Keep theirs") { Task { await model.resolve(entryId: c.entryId, keep: .theirs) } }
                                    Button("Keep both") { Task { await model.resolve(entryId: c.entryId, keep: .both) } }
                                }.buttonStyle(.borderless)
                            }
                        }
                    }
                }
                Section {
                    Button("Sync now") { Task { await model.syncNow() } }.disabled(model.busy)
                    Button("Add a device") { addingDevice = true }
                    Button("Stop syncing this device", role: .destructive) { Task { await model.leave() } }
                }
            }
            if let error = model.error { Section { Text(error).foregroundStyle(.red) } }
        }
        .navigationTitle("Sync")
        .fileImporter(isPresented: $pickingFolder, allowedContentTypes: [.folder]) { result in
            if case let .success(url) = result, let bookmark = SyncFolder.bookmark(url) {
                Task { await model.setUp(folderBookmark: bookmark, folderName: url.lastPathComponent, deviceName: deviceName) }
            }
        }
        .pausesAutoLock(while: pickingFolder)
        .fileImporter(isPresented: $pickingJoinFolder, allowedContentTypes: [.folder]) { result in
            if case let .success(url) = result, let bookmark = SyncFolder.bookmark(url) {
                Task { await model.acceptJoin(folderBookmark: bookmark, folderName: url.lastPathComponent) }
            }
        }
        .pausesAutoLock(while: pickingJoinFolder)
        .alert("Remove \(removing ?? "")?", isPresented: Binding(get: { removing != nil }, set: { if !$0 { removing = nil } })) {
            Button("Remove", role: .destructive) { if let r = removing { Task { await model.revoke(r) } }; removing = nil }
            Button("Cancel", role: .cancel) { removing = nil }
        } message: {
            Text("It will not be able to read anything written from now on, and what it writes is refused. It keeps what it already has.")
        }
    }
}

/// A security-scoped bookmark of a picked folder, kept across launches.
enum SyncFolder {
    static func bookmark(_ url: URL) -> Data? {
        let accessing = url.startAccessingSecurityScopedResource()
        defer { if accessing { url.stopAccessingSecurityScopedResource() } }
        return try? url.bookmarkData(options: [], includingResourceValuesForKeys: nil, relativeTo: nil)
    }
}
