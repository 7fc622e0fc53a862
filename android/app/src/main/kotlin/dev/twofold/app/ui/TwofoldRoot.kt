package dev.twofold.app.ui

import androidx.activity.compose.BackHandler
import androidx.compose.foundation.isSystemInDarkTheme
import androidx.compose.foundation.layout.Box
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.layout.safeDrawingPadding
import androidx.compose.material3.CircularProgressIndicator
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.Surface
import androidx.compose.material3.Text
import androidx.compose.material3.darkColorScheme
import androidx.compose.material3.dynamicDarkColorScheme
import androidx.compose.material3.dynamicLightColorScheme
import androidx.compose.material3.lightColorScheme
import androidx.compose.runtime.Composable
import androidx.compose.runtime.CompositionLocalProvider
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.saveable.rememberSaveable
import androidx.compose.runtime.setValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.platform.LocalContext
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import dev.twofold.app.AppViewModel
import dev.twofold.app.model.Route

/** The screens reachable from the code list. */
enum class Screen { CODES, ADD, BACKUP, EXPORT, RECEIVE, SEND, SETTINGS, SYNC }

@Composable
fun TwofoldTheme(content: @Composable () -> Unit) {
    val dark = isSystemInDarkTheme()
    val context = LocalContext.current
    val scheme = when {
        android.os.Build.VERSION.SDK_INT >= 31 -> if (dark) dynamicDarkColorScheme(context) else dynamicLightColorScheme(context)
        dark -> darkColorScheme()
        else -> lightColorScheme()
    }
    MaterialTheme(colorScheme = scheme, content = content)
}

@Composable
fun TwofoldRoot(model: AppViewModel) {
    TwofoldTheme {
        Surface(Modifier.fillMaxSize()) {
            Box(Modifier.safeDrawingPadding()) {
            CompositionLocalProvider(LocalAutoLock provides model.app) {
            when (val route = model.app.route.collectAsStateWithLifecycle().value) {
                Route.Loading -> Box(Modifier.fillMaxSize(), contentAlignment = Alignment.Center) { CircularProgressIndicator() }
                Route.Onboarding -> OnboardingScreen(model.onboarding)
                is Route.Failed -> Text(route.message, Modifier.padding(24.dp))
                is Route.Locked -> {
                    LaunchedEffect(route) { model.locked() }
                    UnlockScreen(model.unlockModel(route.vault))
                }
                is Route.Unlocked -> UnlockedApp(model, model.unlocked(route.vault))
            }
            }
            }
        }
    }
}

@Composable
private fun UnlockedApp(model: AppViewModel, session: AppViewModel.Unlocked) {
    var screen by rememberSaveable { mutableStateOf(Screen.CODES) }
    BackHandler(enabled = screen != Screen.CODES) { screen = Screen.CODES }
    val back = { screen = Screen.CODES }
    when (screen) {
        Screen.CODES -> CodesScreen(session.codes, session.backup, open = { screen = it }, lock = model.app::lock)
        Screen.ADD -> AddScreen(session.enroll, done = back)
        Screen.BACKUP -> BackupScreen(session, back = back)
        Screen.EXPORT -> ExportScreen(session.export, back = back)
        Screen.RECEIVE -> ReceiveScreen(session.receive, back = back)
        Screen.SEND -> SendScreen(session.send, back = back)
        Screen.SETTINGS -> SettingsScreen(session.security, back = back)
        Screen.SYNC -> SyncScreen(session, back = back)
    }
}
