//! `twofold watch`: a live full-screen view of every code, with countdown bars, the next code,
//! search as you type, and HOTP "next code" on Enter.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, TableState};
use twofold_core::vault::{CodeView, Entry, EntryId, Group, VaultSession, model};

use super::output::grouped;
use crate::context::{Global, vault_error};
use crate::error::{CliError, CliResult};

/// How long a revealed HOTP code stays on screen.
const HOTP_SHOW: Duration = Duration::from_secs(30);

/// Everything the view shows besides the vault: the search text, the selection, revealed
/// HOTP codes and a status line.
#[derive(Default)]
pub struct ViewState {
    pub query: String,
    pub selected: usize,
    pub hotp_codes: HashMap<EntryId, (String, Instant)>,
    pub status: String,
    /// The selection was moved with the arrow keys: `c` and `q` act on it (until the next
    /// letter typed into the search).
    pub browsing: bool,
}

/// One visible row.
pub struct RowData<'a> {
    pub entry: &'a Entry,
    pub code: Option<&'a CodeView>,
}

/// The entries that match the query, in vault order, with their codes.
pub fn visible_rows<'a>(
    entries: &'a [Entry],
    groups: &[Group],
    codes: &'a [CodeView],
    query: &str,
) -> Vec<RowData<'a>> {
    entries
        .iter()
        .filter(|e| model::matches(e, groups, query))
        .map(|entry| RowData {
            entry,
            code: codes.iter().find(|c| c.entry_id == entry.id),
        })
        .collect()
}

fn bar(remaining_ms: u64, period: u32, width: usize) -> String {
    let period_ms = u64::from(period.max(1)) * 1000;
    let filled = ((remaining_ms.min(period_ms) * width as u64).div_ceil(period_ms)) as usize;
    format!("{}{}", "█".repeat(filled), "░".repeat(width - filled))
}

/// Draws the whole screen.
pub fn render(
    frame: &mut Frame,
    rows: &[RowData<'_>],
    state: &ViewState,
    total: usize,
    clock_offset_s: i64,
) {
    let [top, body, bottom] = Layout::vertical([
        Constraint::Length(3),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(frame.area());

    let search = Paragraph::new(Line::from(vec![
        Span::raw(" Search: "),
        Span::styled(
            format!("{}▏", state.query),
            Style::new().add_modifier(Modifier::BOLD),
        ),
        Span::raw(format!("   {} of {total} accounts", rows.len())),
    ]))
    .block(Block::default().borders(Borders::ALL).title(" Twofold "));
    frame.render_widget(search, top);

    let now = Instant::now();
    let table_rows: Vec<Row> = rows
        .iter()
        .map(|r| {
            let name = r.entry.display_name();
            let (code, timer, next) = match (r.code.and_then(|c| c.code.as_ref()), r.code) {
                (Some(code), Some(c)) => (
                    grouped(code),
                    format!(
                        "{} {:>2}s",
                        bar(c.remaining_ms, c.period, 10),
                        c.remaining_ms.div_ceil(1000)
                    ),
                    grouped(c.next_code.as_deref().unwrap_or("")),
                ),
                _ => match state
                    .hotp_codes
                    .get(&r.entry.id)
                    .filter(|(_, at)| now.duration_since(*at) < HOTP_SHOW)
                {
                    Some((code, _)) => (grouped(code), "counter".to_owned(), String::new()),
                    None => (
                        "••• •••".to_owned(),
                        "Enter: next".to_owned(),
                        String::new(),
                    ),
                },
            };
            let urgent = r
                .code
                .is_some_and(|c| c.period > 0 && c.remaining_ms <= 5000);
            let code_style = if urgent {
                Style::new().fg(Color::Red).bold()
            } else {
                Style::new().bold()
            };
            Row::new(vec![
                Cell::from(name),
                Cell::from(code).style(code_style),
                Cell::from(timer),
                Cell::from(next).style(Style::new().fg(Color::DarkGray)),
            ])
        })
        .collect();
    let table = Table::new(
        table_rows,
        [
            Constraint::Fill(1),
            Constraint::Length(12),
            Constraint::Length(15),
            Constraint::Length(12),
        ],
    )
    .header(Row::new(vec!["Account", "Code", "Expires", "Next"]).style(Style::new().underlined()))
    .row_highlight_style(Style::new().reversed())
    .block(Block::default().borders(Borders::ALL));
    let mut table_state = TableState::default();
    if !rows.is_empty() {
        table_state.select(Some(state.selected.min(rows.len() - 1)));
    }
    frame.render_stateful_widget(table, body, &mut table_state);

    let mut help = String::from(
        " type to search · ↑↓ select, then c: copy, q: QR code · Enter: next HOTP code · Esc: clear/quit",
    );
    if twofold_core::otp::offset_needs_warning(clock_offset_s) {
        help = format!(" clock offset {clock_offset_s:+} s ·{help}");
    }
    if !state.status.is_empty() {
        help = format!(" {} ·{help}", state.status);
    }
    frame.render_widget(
        Paragraph::new(help).style(Style::new().fg(Color::DarkGray)),
        bottom,
    );
}

/// What a key press does.
pub enum Action {
    Continue,
    Quit,
    NextHotp(EntryId),
    /// Copy the selected account's code to the clipboard.
    Copy(EntryId),
    /// Show the selected account's QR code (after re-authentication).
    ShowQr(EntryId),
}

/// Applies a key to the view state.
pub fn handle_key(
    state: &mut ViewState,
    code: KeyCode,
    modifiers: KeyModifiers,
    rows: &[RowData<'_>],
) -> Action {
    match code {
        KeyCode::Char('c') if modifiers.contains(KeyModifiers::CONTROL) => return Action::Quit,
        KeyCode::Esc if state.query.is_empty() => return Action::Quit,
        KeyCode::Esc => {
            state.query.clear();
            state.browsing = false;
        }
        KeyCode::Backspace => {
            state.query.pop();
            state.browsing = false;
        }
        KeyCode::Up => {
            state.selected = state.selected.saturating_sub(1);
            state.browsing = true;
        }
        KeyCode::Down => {
            state.selected = (state.selected + 1).min(rows.len().saturating_sub(1));
            state.browsing = true;
        }
        KeyCode::Char(c @ ('c' | 'q'))
            if state.browsing || modifiers.contains(KeyModifiers::ALT) =>
        {
            if let Some(r) = rows.get(state.selected) {
                return if c == 'c' {
                    Action::Copy(r.entry.id)
                } else {
                    Action::ShowQr(r.entry.id)
                };
            }
        }
        KeyCode::Enter => {
            if let Some(r) = rows.get(state.selected)
                && r.code.is_some_and(|c| c.code.is_none())
            {
                return Action::NextHotp(r.entry.id);
            }
        }
        KeyCode::Char(c) => {
            state.query.push(c);
            state.selected = 0;
            state.browsing = false;
        }
        _ => {}
    }
    Action::Continue
}

/// Restores the terminal even when the view exits through an error or a panic.
struct TerminalGuard;

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        ratatui::restore();
    }
}

pub fn run(g: &Global) -> CliResult {
    let (session, _) = g.unlock()?;
    // In a sync group, sync in the background: at start, after each change, every minute.
    std::thread::scope(|scope| {
        let background = super::sync::background(scope, &session);
        watch(g, &session, background.as_ref())
    })
}

/// The code to copy for a row: a time-based code now, or the HOTP code last revealed.
fn code_to_copy(id: EntryId, codes: &[CodeView], state: &ViewState) -> Option<String> {
    codes
        .iter()
        .find(|c| c.entry_id == id)
        .and_then(|c| c.code.clone())
        .or_else(|| {
            state
                .hotp_codes
                .get(&id)
                .filter(|(_, at)| at.elapsed() < HOTP_SHOW)
                .map(|(code, _)| code.clone())
        })
}

/// Leaves the full-screen view, asks for the password again, shows the account's QR code
/// until Enter, and returns to the view.
fn show_qr(g: &Global, session: &VaultSession, id: EntryId) -> Result<(), String> {
    ratatui::restore();
    let name = session
        .entry(id)
        .map(|e| e.display_name())
        .map_err(|e| e.to_string())?;
    eprintln!("Showing the QR code of {name} reveals its secret to anyone who sees the screen.");
    let password = g
        .password("Vault password (to show the QR code): ")
        .map_err(|e| e.message)?;
    let qr = crate::context::with_spinner("Checking the password (Argon2id)…", || {
        session.entry_qr_for_display(id, &password)
    })
    .map_err(|e| e.to_string())?;
    println!("\n{name}\n");
    print!("{}", qr.to_terminal());
    println!("\nScan it with an authenticator app. Press Enter to hide it.");
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
    // Clear the screen and its scrollback before going back.
    print!("\x1b[2J\x1b[3J\x1b[H");
    Ok(())
}

fn watch(g: &Global, session: &VaultSession, sync: Option<&super::sync::Background>) -> CliResult {
    let mut terminal = ratatui::try_init()
        .map_err(|e| CliError::failed(format!("cannot start the full-screen view: {e}")))?;
    let _guard = TerminalGuard;
    let mut state = ViewState::default();
    let mut entries = session.entries().map_err(vault_error)?;
    let groups = session.groups().map_err(vault_error)?;
    let offset = session.clock_offset().map_err(vault_error)?;
    loop {
        if let Some(bg) = sync {
            if bg.take_changed() {
                entries = session.entries().map_err(vault_error)?;
            }
            if let Some(message) = bg.take_status() {
                state.status = message;
            }
        }
        let codes = session.codes_at(super::now_ms()).map_err(vault_error)?;
        let rows = visible_rows(&entries, &groups, &codes, &state.query);
        terminal
            .draw(|f| render(f, &rows, &state, entries.len(), offset))
            .map_err(|e| CliError::failed(format!("terminal: {e}")))?;
        if !event::poll(Duration::from_millis(200))
            .map_err(|e| CliError::failed(format!("terminal: {e}")))?
        {
            continue;
        }
        let Event::Key(key) =
            event::read().map_err(|e| CliError::failed(format!("terminal: {e}")))?
        else {
            continue;
        };
        if key.kind != KeyEventKind::Press {
            continue;
        }
        match handle_key(&mut state, key.code, key.modifiers, &rows) {
            Action::Continue => {}
            Action::Quit => return Ok(()),
            Action::NextHotp(id) => match session.next_hotp(id) {
                Ok(code) => {
                    state.hotp_codes.insert(id, (code, Instant::now()));
                    state.status = "counter saved".into();
                    entries = session.entries().map_err(vault_error)?;
                    if let Some(bg) = sync {
                        bg.poke();
                    }
                }
                Err(e) => state.status = e.to_string(),
            },
            Action::Copy(id) => match code_to_copy(id, &codes, &state) {
                Some(code) => {
                    let code = zeroize::Zeroizing::new(code);
                    state.status = match super::desktop::put_on_clipboard(
                        &code,
                        super::desktop::CLEAR_AFTER_S,
                    ) {
                        Ok(()) => {
                            let _ = session.record_use(id);
                            format!("copied; cleared in {} s", super::desktop::CLEAR_AFTER_S)
                        }
                        Err(why) => format!("cannot copy: {why}"),
                    };
                }
                None => state.status = "press Enter for the next HOTP code first".into(),
            },
            Action::ShowQr(id) => {
                let shown = show_qr(g, session, id);
                terminal = ratatui::try_init()
                    .map_err(|e| CliError::failed(format!("cannot return to the view: {e}")))?;
                state.status = match shown {
                    Ok(()) => "QR code hidden".into(),
                    Err(why) => why,
                };
                state.browsing = false;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use twofold_core::crypto::KdfParams;
    use twofold_core::uri;
    use twofold_core::vault::{CreateOptions, NewEntry};

    fn screen(rows: &[RowData<'_>], state: &ViewState, total: usize) -> String {
        let mut terminal = Terminal::new(TestBackend::new(90, 14)).unwrap();
        terminal.draw(|f| render(f, rows, state, total, 0)).unwrap();
        let buffer = terminal.backend().buffer().clone();
        let mut out = String::new();
        for y in 0..buffer.area.height {
            for x in 0..buffer.area.width {
                out.push_str(buffer[(x, y)].symbol());
            }
            out.push('\n');
        }
        out
    }

    #[test]
    fn shows_codes_countdown_next_code_and_filters_as_you_type() {
        let dir = tempfile::tempdir().unwrap();
        let (s, _) = VaultSession::create(
            &dir.path().join("v"),
            CreateOptions {
                password: b"pw",
                kdf: KdfParams::FLOOR,
            },
        )
        .unwrap();
        for u in [
            "otpauth://totp/GitHub:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&digits=8",
            "otpauth://totp/B%C3%A4ckerei:bob?secret=JBSWY3DPEHPK3PXP",
            "otpauth://hotp/Bank:carol?secret=MZXW6YTBOI&counter=0",
        ] {
            s.add_entry(NewEntry::from_credential(uri::parse(u).unwrap()), false)
                .unwrap();
        }
        let entries = s.entries().unwrap();
        let groups = s.groups().unwrap();
        let codes = s.codes_at(59_000).unwrap();
        let mut state = ViewState::default();

        let rows = visible_rows(&entries, &groups, &codes, &state.query);
        let text = screen(&rows, &state, entries.len());
        assert!(text.contains("GitHub (alice)"), "{text}");
        assert!(
            text.contains("9428 7082"),
            "RFC 6238 code at t=59, grouped:\n{text}"
        );
        assert!(text.contains(" 1s"), "one second left:\n{text}");
        assert!(text.contains("Bäckerei (bob)"));
        assert!(
            text.contains("Enter: next"),
            "HOTP codes are hidden until asked for:\n{text}"
        );
        assert!(text.contains("3 of 3 accounts"));

        // Typing filters, accent-insensitively.
        for c in "backe".chars() {
            handle_key(&mut state, KeyCode::Char(c), KeyModifiers::NONE, &rows);
        }
        let rows = visible_rows(&entries, &groups, &codes, &state.query);
        let text = screen(&rows, &state, entries.len());
        assert!(text.contains("1 of 3 accounts"), "{text}");
        assert!(!text.contains("GitHub"), "{text}");

        // Esc clears, then quits; Enter on an HOTP row asks for its next code.
        assert!(matches!(
            handle_key(&mut state, KeyCode::Esc, KeyModifiers::NONE, &rows),
            Action::Continue
        ));
        assert!(state.query.is_empty());
        let rows = visible_rows(&entries, &groups, &codes, &state.query);
        state.selected = 2;
        let bank = entries[2].id;
        assert!(
            matches!(handle_key(&mut state, KeyCode::Enter, KeyModifiers::NONE, &rows), Action::NextHotp(id) if id == bank)
        );
        state
            .hotp_codes
            .insert(bank, (s.next_hotp(bank).unwrap(), Instant::now()));
        let text = screen(&rows, &state, entries.len());
        assert!(text.contains("counter"), "{text}");
        assert!(matches!(
            handle_key(&mut state, KeyCode::Esc, KeyModifiers::NONE, &rows),
            Action::Quit
        ));
    }

    #[test]
    fn c_and_q_act_on_the_selection_after_the_arrows_and_search_otherwise() {
        let dir = tempfile::tempdir().unwrap();
        let (s, _) = VaultSession::create(
            &dir.path().join("v"),
            CreateOptions {
                password: b"pw",
                kdf: KdfParams::FLOOR,
            },
        )
        .unwrap();
        for u in [
            "otpauth://totp/Coinbase:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
            "otpauth://totp/Quay:bob?secret=JBSWY3DPEHPK3PXP",
        ] {
            s.add_entry(NewEntry::from_credential(uri::parse(u).unwrap()), false)
                .unwrap();
        }
        let entries = s.entries().unwrap();
        let groups = s.groups().unwrap();
        let codes = s.codes_at(59_000).unwrap();
        let mut state = ViewState::default();
        let rows = visible_rows(&entries, &groups, &codes, &state.query);
        // Typed first, c and q are search text.
        for c in ['c', 'q'] {
            assert!(matches!(
                handle_key(&mut state, KeyCode::Char(c), KeyModifiers::NONE, &rows),
                Action::Continue
            ));
        }
        assert_eq!(state.query, "cq");
        handle_key(&mut state, KeyCode::Esc, KeyModifiers::NONE, &rows);
        // After an arrow key they act on the selected row.
        handle_key(&mut state, KeyCode::Down, KeyModifiers::NONE, &rows);
        let quay = rows[1].entry.id;
        assert!(matches!(
            handle_key(&mut state, KeyCode::Char('c'), KeyModifiers::NONE, &rows),
            Action::Copy(id) if id == quay
        ));
        assert!(matches!(
            handle_key(&mut state, KeyCode::Char('q'), KeyModifiers::NONE, &rows),
            Action::ShowQr(id) if id == quay
        ));
        assert!(state.query.is_empty());
        // Any other letter goes back to searching; Alt+c copies from anywhere.
        handle_key(&mut state, KeyCode::Char('x'), KeyModifiers::NONE, &rows);
        assert!(matches!(
            handle_key(&mut state, KeyCode::Char('c'), KeyModifiers::NONE, &rows),
            Action::Continue
        ));
        assert_eq!(state.query, "xc");
        assert!(matches!(
            handle_key(&mut state, KeyCode::Char('c'), KeyModifiers::ALT, &rows),
            Action::Copy(_)
        ));
        // What is copied: the code now.
        let code = code_to_copy(quay, &codes, &state).unwrap();
        assert_eq!(Some(&code), codes[1].code.as_ref());
        let text = screen(&rows, &state, entries.len());
        assert!(text.contains("c: copy"), "{text}");
    }

    #[test]
    fn countdown_bar_tracks_the_period() {
        assert_eq!(bar(30_000, 30, 10), "██████████");
        assert_eq!(bar(15_000, 30, 10), "█████░░░░░");
        assert_eq!(bar(1, 30, 10), "█░░░░░░░░░");
    }
}
