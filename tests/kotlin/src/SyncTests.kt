package dev.twofold.tests

import dev.twofold.DirectorySyncStorage
import dev.twofold.JoiningDevice
import dev.twofold.TwofoldSync
import dev.twofold.TwofoldVault
import dev.twofold.core.TwofoldException
import dev.twofold.app.model.MemorySyncSettings
import dev.twofold.app.model.SyncModel
import dev.twofold.core.EntryChanges
import dev.twofold.core.SyncKeep

private const val GITHUB = "otpauth://totp/GitHub:alice?secret=JBSWY3DPEHPK3PXP&issuer=GitHub"

/** The new device joins [member]'s group through the frames and the reply, as two phones do. */
private suspend fun join(member: TwofoldSync, newVault: TwofoldVault, name: String, folderLabel: String) {
    val joining = JoiningDevice.start(name)
    val invite = member.inviteDevice(joining.inviteText(), shareCredentials = false)
    check(invite.deviceName == name) { "the member sees the new device's name" }
    var n = 0L
    while (joining.replyText() == null) {
        joining.receiveFrame(invite.frame(n++))
        check(n < 100) { "the frames never completed" }
    }
    val memberCode = invite.acceptReply(joining.replyText()!!)
    assertEquals(memberCode, joining.confirmationCode(), "both screens show the same code")
    invite.confirm()
    val preview = joining.preview()!!
    check(preview.devices.contains(name)) { "the preview lists the new device: $preview" }
    joining.acceptInto(newVault, folderLabel)
}

fun registerSyncTests(suite: Suite) {
    suite.test("sync: two vaults through a folder the app opens; join, edits both ways, conflict, revoke") {
        val folder = tempDir()
        val storage = DirectorySyncStorage(folder)
        val (phone, _) = newVault()
        val (tablet, _) = newVault()
        val a = TwofoldSync(phone, storage)
        val b = TwofoldSync(tablet, storage)
        check(!a.isSetUp()) { "not set up yet" }
        assertThrowsSuspend<TwofoldException.SyncNotSetUp> { a.syncNow() }
        phone.addFromUri(GITHUB.toByteArray())
        a.setUpInAppFolder("Nextcloud/Twofold", "phone")
        join(a, tablet, "tablet", "Nextcloud/Twofold")
        a.syncNow()
        val first = b.syncNow()
        check(first.changes.any { it.kind == "added" && it.label.startsWith("GitHub") }) { "the tablet got the account: $first" }
        assertEquals(1, tablet.entries().size, "one account on the tablet")
        // The same note on both at once: one conflict, the loser kept for review.
        val id = phone.entries().single().id
        phone.update(id, EntryChanges(note = "from the phone"))
        Thread.sleep(5)
        tablet.update(id, EntryChanges(note = "from the tablet"))
        a.syncNow()
        val report = b.syncNow()
        assertEquals(1, report.newConflicts.size, "a conflict")
        a.syncNow()
        val conflict = a.conflicts().single()
        assertEquals("note", conflict.field, "the field")
        assertEquals(phone.entries().single().note, tablet.entries().single().note, "the same winner on both")
        a.resolve(id, SyncKeep.MINE)
        a.syncNow()
        b.syncNow()
        assertEquals("from the phone", tablet.entries().single().note, "the phone kept its note")
        check(b.conflicts().isEmpty()) { "resolved everywhere" }
        // Status, then the tablet is removed.
        val status = a.status()
        assertEquals(listOf("phone", "tablet"), status.devices.map { it.name }, "devices")
        check(status.warnings.isEmpty()) { "no warnings: ${status.warnings}" }
        a.revoke("tablet")
        a.syncNow()
        assertThrowsSuspend<TwofoldException.SyncRevoked> { b.syncNow() }
        // The folder holds only snapshot files (and no secret in the clear).
        val names = folder.listFiles()!!.map { it.name }
        check(names.all { it.matches(Regex("d-[0-9a-f]{16}-[0-9]+\\.twfs")) }) { "$names" }
        val plain = "JBSWY3DPEHPK3PXP".toByteArray()
        for (f in folder.listFiles()!!) {
            val bytes = f.readBytes()
            check((0..bytes.size - plain.size).none { i -> (plain.indices).all { bytes[i + it] == plain[it] } }) { "${f.name} holds the secret" }
        }
    }

    suite.test("sync: refusals are typed (plain HTTP to another host, a transfer invite as a join invite)") {
        val (vault, _) = newVault()
        val sync = TwofoldSync(vault, null)
        val password = "app password".toCharArray()
        assertThrowsSuspend<TwofoldException.SyncRefused> {
            sync.setUpWebDav("http://cloud.example/dav", "alice", password, "phone")
        }
        check(password.all { it == '\u0000' }) { "the password characters were wiped" }
        // A folder only the app opens needs the app's storage.
        assertThrowsSuspend<TwofoldException.SyncRefused> { sync.setUpInAppFolder("x", "phone") }
        val withFolder = TwofoldSync(vault, DirectorySyncStorage(tempDir()))
        withFolder.setUpInAppFolder("folder", "phone")
        val transferInvite = dev.twofold.IncomingTransfer.start().inviteText()
        assertThrowsSuspend<TwofoldException.SyncRefused> { withFolder.inviteDevice(transferInvite, false) }
        assertThrowsSuspend<TwofoldException.SyncRefused> { withFolder.setUpInAppFolder("again", "phone") }
    }

    suite.test("sync: a device is added only when the member confirms the codes; a cancelled invite leaves nothing") {
        val folder = tempDir()
        val storage = DirectorySyncStorage(folder)
        val (phone, _) = newVault()
        val (tablet, _) = newVault()
        val a = TwofoldSync(phone, storage)
        val b = TwofoldSync(tablet, storage)
        a.setUpInAppFolder("Nextcloud/Twofold", "phone")
        val files = folder.listFiles()!!.map { it.name }.sorted()
        val joining = JoiningDevice.start("tablet")
        val invite = a.inviteDevice(joining.inviteText(), shareCredentials = false)
        // Not before the codes were compared.
        assertThrowsSuspend<TwofoldException.SyncRefused> { invite.confirm() }
        var n = 0L
        while (joining.replyText() == null) {
            joining.receiveFrame(invite.frame(n++))
            check(n < 100) { "the frames never completed" }
        }
        val code = invite.acceptReply(joining.replyText()!!)
        assertEquals(code, joining.confirmationCode(), "both screens show the same code")
        // A sync in between publishes nothing of the invitation.
        a.syncNow()
        assertEquals(files, folder.listFiles()!!.map { it.name }.sorted(), "nothing written")
        joining.acceptInto(tablet, "Nextcloud/Twofold")
        invite.cancel()
        assertEquals(listOf("phone"), a.devices().map { it.name }, "not added")
        assertThrowsSuspend<TwofoldException.SyncRefused> { invite.confirm() }
        b.syncNow()
        check(b.status().awaitingAdmission) { "the tablet waits for its admission" }
        assertEquals(files, folder.listFiles()!!.map { it.name }.sorted(), "the tablet wrote nothing")
    }

    suite.test("sync model: set up, a local change syncs after the debounce, both sides of a join") {
        withMainScope { scope ->
            val folder = tempDir()
            val (phone, _) = newVault()
            val (laptop, _) = newVault()
            val settingsA = MemorySyncSettings()
            val settingsB = MemorySyncSettings()
            val folders = { _: String -> DirectorySyncStorage(folder) }
            val a = SyncModel(phone, settingsA, scope, folders, sleep = {})
            val b = SyncModel(laptop, settingsB, scope, folders, sleep = {})
            a.start().join()
            check(!a.state.value.setUp) { "not set up" }
            a.setUp("content://tree/1", "Syncthing/Twofold", "phone").join()
            check(a.state.value.setUp && a.state.value.error == null) { "${a.state.value}" }
            assertEquals("Syncthing/Twofold", settingsA.syncFolderName, "remembered")
            // Join: the laptop shows an invite, the phone scans it and shows frames.
            b.startJoin("laptop").join()
            val invite = b.state.value.join!!.inviteText
            a.startInvite(invite).join()
            assertEquals("laptop", a.state.value.invite?.deviceName, "the member sees the new device")
            var n = 0L
            while (b.state.value.join?.reply == null) {
                b.joinFrame(a.inviteFrame(n++)!!).join()
                check(n < 100) { "frames never completed: ${b.state.value}" }
            }
            a.inviteReply(b.state.value.join!!.reply!!).join()
            assertEquals(a.state.value.invite?.code, b.state.value.join?.code, "same code on both")
            a.finishInvite(codesMatched = true).join()
            b.acceptJoin("content://tree/2", "Syncthing/Twofold").join()
            check(b.state.value.setUp && b.state.value.error == null) { "${b.state.value}" }
            assertEquals(2, b.state.value.status?.devices?.size, "two devices")
            // A change on the phone is sent after the debounce, without a button.
            phone.addFromUri(GITHUB.toByteArray())
            a.onLocalChange()
            var waited = 0
            while (a.state.value.last?.localChanges != 1u) {
                Thread.sleep(10)
                check(++waited < 500) { "the debounced sync never ran: ${a.state.value}" }
            }
            b.syncNow().join()
            assertEquals(1, laptop.entries().size, "the laptop has it")
            // Removing the laptop from the phone.
            a.revoke("laptop").join()
            b.syncNow().join()
            check(b.state.value.error?.contains("removed") == true) { "${b.state.value}" }
            a.stop()
            b.stop()
        }
    }
}
