package dev.twofold

import dev.twofold.core.CodeView
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.flow

/**
 * A flow of code lists that ticks once a second (for countdowns) and wakes exactly at the
 * next period boundary of any entry (so a new code appears on time, not up to a second
 * late). [fetch] asks the core for the codes at a given time; [clock] is the wall clock.
 */
fun codeTicker(clock: () -> Long, fetch: suspend (Long) -> List<CodeView>): Flow<List<CodeView>> = flow {
    while (true) {
        val now = clock()
        val codes = fetch(now)
        emit(codes)
        val toNextSecond = 1000 - Math.floorMod(now, 1000L)
        val toBoundary = codes.filter { it.period > 0u }.minOfOrNull { it.remainingMs.toLong() } ?: Long.MAX_VALUE
        delay(minOf(toNextSecond, toBoundary).coerceAtLeast(1))
    }
}
