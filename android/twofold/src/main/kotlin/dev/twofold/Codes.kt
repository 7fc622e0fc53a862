package dev.twofold

import dev.twofold.core.CodeList
import dev.twofold.core.CodeRows
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.withContext

/**
 * One code screen's list, kept by the core (`vault::codes`): which rows (search, group),
 * their order (favourites first, then the vault's order), hidden and revealed rows, HOTP codes
 * asked for, and [CodeRows.refreshInMs], the wait until something on screen changes. Calls
 * run on the vault's I/O dispatcher; failures are [TwofoldException]s ([TwofoldException.Locked] once
 * the vault locks). Close it when the screen goes away.
 */
class TwofoldCodes internal constructor(
    private val list: CodeList,
    private val io: CoroutineDispatcher,
) : AutoCloseable {

    /**
     * The visible rows at [nowMs] (wall clock): entries of [groupId] (null: all) matching
     * [query]. The filter comes with each call, so a list always matches the filter it shows.
     */
    suspend fun rows(query: String, groupId: String?, nowMs: Long): CodeRows =
        withContext(io) { list.rows(query, groupId, nowMs) }

    suspend fun setTapToReveal(on: Boolean) = withContext(io) { list.setTapToReveal(on) }

    suspend fun reveal(id: String) = withContext(io) { list.reveal(id) }

    /** Leaving the screen or locking: every row hidden, HOTP codes forgotten (no I/O). */
    fun hideAll() = list.hideAll()

    /** Saves the advanced HOTP counter, then shows the code on its row and returns it. */
    suspend fun nextHotp(id: String, nowMs: Long): String = withContext(io) { list.nextHotp(id, nowMs) }

    /** The code to copy (no spaces), the row revealed and the use recorded; null if none. */
    suspend fun copyCode(id: String, nowMs: Long): String? = withContext(io) { list.copyCode(id, nowMs) }

    override fun close() = list.close()
}

/** A code list over this vault (no search, all groups, codes shown). */
fun TwofoldVault.codeList(): TwofoldCodes = TwofoldCodes(session.codeList(), io)
