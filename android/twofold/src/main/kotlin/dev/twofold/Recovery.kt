package dev.twofold

import dev.twofold.core.BackupKey
import dev.twofold.core.CareStatusView
import dev.twofold.core.CheckupSettingsView
import dev.twofold.core.DrillResult
import dev.twofold.core.ExposureView
import dev.twofold.core.ExposureWay
import dev.twofold.core.FindingView
import dev.twofold.core.RecoveryCodeSummary
import dev.twofold.core.RotationResult
import dev.twofold.core.TwofoldException
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.withContext

/** One recovery code as shown: the text lives only as long as the screen needs it. */
class RevealedRecoveryCode(val code: CharArray, val used: Boolean, val usedAt: Long?) {
    fun wipe() = code.fill('\u0000')
}

/**
 * Never locked out, for one unlocked vault: recovery codes per account, restore drills,
 * the status screen, the security checkup, the exposure ledger and rotation. Every rule is
 * the core's; this class moves calls off the main thread, wipes the bytes it passes and
 * turns errors into [TwofoldException]s.
 */
class TwofoldCare(vault: TwofoldVault) {
    private val session = vault.session
    private val io: CoroutineDispatcher = vault.io


    /** Adds codes (UTF-8 bytes, wiped afterwards); all or nothing. Returns how many were new. */
    suspend fun addRecoveryCodes(entryId: String, codes: List<ByteArray>): Int =
        try {
            withContext(io) { session.addRecoveryCodes(entryId, codes.map { it.copyOf() }).toInt() }
        } finally {
            codes.forEach { it.fill(0) }
        }

    suspend fun useRecoveryCode(entryId: String, code: ByteArray) =
        withContext(io) { code.useThenWipe { session.useRecoveryCode(entryId, it) } }

    /** Counts only: nothing revealed. */
    suspend fun recoveryCodeSummary(entryId: String): RecoveryCodeSummary =
        withContext(io) { session.recoveryCodeSummary(entryId) }

    /**
     * The codes, unused first, handed to [use] and wiped afterwards. Re-authenticate the
     * user before calling it.
     */
    suspend fun <T> revealRecoveryCodes(entryId: String, use: suspend (List<RevealedRecoveryCode>) -> T): T {
        val views = withContext(io) { session.exportRecoveryCodes(entryId) }
        val codes = views.map { v ->
            v.code.useThenWipe { bytes ->
                val chars = Charsets.UTF_8.decode(java.nio.ByteBuffer.wrap(bytes))
                val out = CharArray(chars.remaining())
                chars.get(out)
                if (chars.hasArray()) chars.array().fill('\u0000')
                RevealedRecoveryCode(out, v.used, v.usedAt)
            }
        }
        return try {
            use(codes)
        } finally {
            codes.forEach { it.wipe() }
        }
    }

    /** A drill with the backup password typed from memory (wiped afterwards). */
    suspend fun drillWithPassword(path: String, password: ByteArray): DrillResult =
        withContext(io) { password.useThenWipe { session.restoreDrill(path, BackupKey.Password(it)) } }

    suspend fun drillWithRecoveryKey(path: String, recoveryKey: String): DrillResult =
        withContext(io) { session.restoreDrill(path, BackupKey.RecoveryKey(recoveryKey)) }

    /** A drill on bytes read from a document provider. */
    suspend fun drillBytesWithPassword(bytes: ByteArray, name: String, password: ByteArray): DrillResult =
        withContext(io) { password.useThenWipe { session.restoreDrillBytes(bytes, name, BackupKey.Password(it)) } }

    suspend fun status(): CareStatusView = withContext(io) { session.careStatus() }

    suspend fun securityCheckup(): List<FindingView> = withContext(io) { session.securityCheckup() }

    suspend fun settings(): CheckupSettingsView = withContext(io) { session.checkupSettings() }

    suspend fun setSettings(settings: CheckupSettingsView) = withContext(io) { session.setCheckupSettings(settings) }

    suspend fun exposures(): List<ExposureView> = withContext(io) { session.exposures() }

    /** The entry's URI to show as [way] (recorded first), handed to [use] and wiped. */
    suspend fun <T> revealEntryUri(entryId: String, way: ExposureWay, use: suspend (ByteArray) -> T): T =
        withContext(io) { session.exportEntryUriAs(entryId, way) }.useThenWipeSuspending(use)

    /** Rotation: the new URI (wiped) and a code the service accepted. */
    suspend fun rotate(entryId: String, newUri: ByteArray, acceptedCode: String): RotationResult =
        withContext(io) { newUri.useThenWipe { session.rotateEntry(entryId, it, acceptedCode) } }
}
