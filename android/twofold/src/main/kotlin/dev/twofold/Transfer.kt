package dev.twofold

import dev.twofold.core.AddResult
import dev.twofold.core.ReceivedFrame
import dev.twofold.core.TransferProgress
import dev.twofold.core.TransferReceiver
import dev.twofold.core.TransferSender
import dev.twofold.core.TwofoldException
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.flow
import kotlinx.coroutines.withContext


private fun nowSeconds(): Long = System.currentTimeMillis() / 1000

/**
 * New device: a transfer session. Show [inviteText] as a QR code, feed scanned frames; once
 * complete, show [replyText] as a QR code for the old device and [confirmationCode] to compare.
 */
class IncomingTransfer private constructor(
    private val receiver: TransferReceiver,
    private val io: CoroutineDispatcher,
) : AutoCloseable {
    companion object {
        suspend fun start(ttlSeconds: Long = 600, lan: String? = null, io: CoroutineDispatcher = Dispatchers.IO): IncomingTransfer =
            withContext(io) { IncomingTransfer(TransferReceiver(nowSeconds().toULong(), ttlSeconds.toULong(), lan), io) }
    }

    suspend fun inviteText(): String = withContext(io) { receiver.inviteText() }

    /**
     * One decoded frame text from the camera; duplicates and order do not matter. Once the
     * accounts are complete the result carries the confirmation code, reply and preview.
     */
    suspend fun receiveFrame(text: String, nowSeconds: Long = nowSeconds()): ReceivedFrame =
        withContext(io) { receiver.receiveFrame(text, nowSeconds.toULong()) }

    /** Waits for the old device on the invite's LAN address; [timeoutMillis] bounds it all. */
    suspend fun receiveLan(timeoutMillis: Long): Unit = withContext(io) { receiver.receiveLan(timeoutMillis.toULong()) }

    /** The reply to show the old device as a QR code, once a sender is locked. */
    suspend fun replyText(): String? = withContext(io) { receiver.replyText() }

    suspend fun confirmationCode(): String? = withContext(io) { receiver.confirmationCode() }

    suspend fun preview() = withContext(io) { receiver.preview() }

    /** After the user confirmed both screens show the same code. */
    suspend fun acceptInto(vault: TwofoldVault): AddResult = withContext(io) { receiver.acceptInto(vault.session) }

    /** The codes differ, or the user gave up: nothing is added (a LAN sender hears no). */
    suspend fun reject(): Unit = withContext(io) { receiver.reject() }

    override fun close() = receiver.close()
}

/**
 * Old device: seals accounts for a scanned invite and produces the animated frames (or uses the
 * LAN). Its code exists only after the new device's reply: [acceptReply].
 */
class OutgoingTransfer private constructor(private val sender: TransferSender, private val io: CoroutineDispatcher) : AutoCloseable {
    companion object {
        /** Re-authenticate the user before calling: the chosen accounts leave the vault (sealed). */
        suspend fun start(
            vault: TwofoldVault,
            inviteText: String,
            entryIds: List<String> = emptyList(),
            qrVersion: Int = 0,
            io: CoroutineDispatcher = Dispatchers.IO,
        ): OutgoingTransfer =
            withContext(io) { OutgoingTransfer(TransferSender(vault.session, inviteText, entryIds, nowSeconds().toULong(), qrVersion.toUByte()), io) }
    }

    /** Null until the reply was accepted: show no code before. */
    val confirmationCode: String? get() = sender.confirmationCode()

    val sourceFrames: Long get() = sender.sourceFrames().toLong()

    /** Where a LAN transfer goes (private IP and port): show it and ask before [connectLan]. */
    val lanDestination: String? get() = sender.lanDestination()

    /** The new device's reply as scanned; returns the code to compare. */
    suspend fun acceptReply(replyText: String): String = withContext(io) { sender.acceptReply(replyText, nowSeconds().toULong()) }

    /** Frame texts to show as QR codes, [perSecond] of them a second, endlessly. */
    fun frames(perSecond: Int = 6): Flow<String> = flow {
        var n = 0uL
        while (true) {
            emit(sender.frame(n))
            n++
            delay(1000L / perSecond)
        }
    }

    fun frame(n: Long): String = sender.frame(n.toULong())

    /** Connects (after the user agreed to [lanDestination]); returns the code to compare. */
    suspend fun connectLan(timeoutMillis: Long): String = withContext(io) { sender.connectLan(timeoutMillis.toULong()) }

    /** The user confirmed the codes match: sends the accounts, waits for the new device's user. */
    suspend fun finishLan(): Unit = withContext(io) { sender.finishLan() }

    /** The codes differ: nothing is sent. */
    fun cancelLan() = sender.cancelLan()

    override fun close() = sender.close()
}
