//! `twofold watch`: a live full-screen view of every code, with countdown bars, the next code,
//! search as you type, and HOTP "next code" on Enter.

use std::time::Duration;

use crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, TableState};
use twofold_core::otp::OtpKind;
use twofold_core::vault::codes::{CodeList, CodeRows};
use twofold_core::vault::{EntryId, VaultSession};

use crate::context::{Global, vault_error};
use crate::error::{CliError, CliResult};

/// Everything the view shows besides the code list (which keeps the search and the HOTP
/// codes asked for, see `vault::codes`): the search being typed, the selection and a status
/// line.
#[derive(Default)]
pub struct ViewState {
    pub query: String,
    pub selected: usize,
    pub status: String,
    /// The selection was moved with the arrow keys: `c` and `q` act on it (until the next
    /// letter typed into the search).
    pub browsing: bool,
}

fn bar(remaining_ms: u64, period: u32, width: usize) -> String {
    let period_ms = u64::from(period.max(1)) * 1000;
    let filled = ((remaining_ms.min(period_ms) * width as u64).div_ceil(period_ms)) as usize;
    format!("{}{}", "█".repeat(filled), "░".repeat(width - filled))
}

/// Draws the whole screen.
pub fn render(frame: &mut Frame, listed: &CodeRows, state: &ViewState) {
    let rows = &listed.rows;
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
        Span::raw(format!("   {} of {} accounts", rows.len(), listed.total)),
    ]))
    .block(Block::default().borders(Borders::ALL).title(" Twofold "));
    frame.render_widget(search, top);

    let table_rows: Vec<Row> = rows
        .iter()
        .map(|r| {
            let name = r.display_name();
            let hotp = matches!(r.kind, OtpKind::Hotp { .. });
            let (code, timer, next) = match (r.code_display(), hotp) {
                (Some(code), false) => (
                    code,
                    format!(
                        "{} {:>2}s",
                        bar(r.remaining_ms, r.period, 10),
                        r.remaining_ms.div_ceil(1000)
                    ),
                    r.next_code_display().unwrap_or_default(),
                ),
                (Some(code), true) => (code, "counter".to_owned(), String::new()),
                (None, _) => (
                    "••• •••".to_owned(),
                    "Enter: next".to_owned(),
                    String::new(),
                ),
            };
            let urgent = r.period > 0 && r.remaining_ms <= 5000;
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
    if listed.clock_warning {
        help = format!(" clock offset {:+} s ·{help}", listed.clock_offset_s);
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
    listed: &CodeRows,
) -> Action {
    let rows = &listed.rows;
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
                    Action::Copy(r.entry_id)
                } else {
                    Action::ShowQr(r.entry_id)
                };
            }
        }
        KeyCode::Enter => {
            if let Some(r) = rows.get(state.selected)
                && matches!(r.kind, OtpKind::Hotp { .. })
            {
                return Action::NextHotp(r.entry_id);
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

/// The code to copy for a row: a time-based code now, or the HOTP code asked for (while the
/// list still shows it).
fn code_to_copy(id: EntryId, listed: &CodeRows) -> Option<String> {
    listed
        .rows
        .iter()
        .find(|r| r.entry_id == id)
        .and_then(|r| r.code.clone())
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
    let mut list = CodeList::new();
    loop {
        // The list reads the session on every tick, so a sync's changes show by themselves.
        if let Some(bg) = sync {
            if let Some(message) = bg.take_status() {
                state.status = message;
            } else if bg.take_changed() {
                state.status = "updated by sync".into();
            }
        }
        list.set_query(&state.query);
        let listed = list.rows(session, super::now_ms()).map_err(vault_error)?;
        terminal
            .draw(|f| render(f, &listed, &state))
            .map_err(|e| CliError::failed(format!("terminal: {e}")))?;
        let wait = Duration::from_millis(listed.refresh_in_ms.min(200));
        if !event::poll(wait).map_err(|e| CliError::failed(format!("terminal: {e}")))? {
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
        match handle_key(&mut state, key.code, key.modifiers, &listed) {
            Action::Continue => {}
            Action::Quit => return Ok(()),
            Action::NextHotp(id) => next_hotp(session, &mut list, &mut state, id, sync),
            Action::Copy(id) => match code_to_copy(id, &listed) {
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

/// Enter on an HOTP row: the counter is saved, then the code shows on the row.
fn next_hotp(
    session: &VaultSession,
    list: &mut CodeList,
    state: &mut ViewState,
    id: EntryId,
    sync: Option<&super::sync::Background>,
) {
    match list.next_hotp(session, id, super::now_ms()) {
        Ok(_) => {
            state.status = "counter saved".into();
            if let Some(bg) = sync {
                bg.poke();
            }
        }
        Err(e) => state.status = e.to_string(),
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

    fn screen(listed: &CodeRows, state: &ViewState) -> String {
        let mut terminal = Terminal::new(TestBackend::new(90, 14)).unwrap();
        terminal.draw(|f| render(f, listed, state)).unwrap();
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
        let mut list = CodeList::new();
        let mut state = ViewState::default();

        let listed = list.rows(&s, 59_000).unwrap();
        let text = screen(&listed, &state);
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
            handle_key(&mut state, KeyCode::Char(c), KeyModifiers::NONE, &listed);
        }
        list.set_query(&state.query);
        let filtered = list.rows(&s, 59_000).unwrap();
        let text = screen(&filtered, &state);
        assert!(text.contains("1 of 3 accounts"), "{text}");
        assert!(!text.contains("GitHub"), "{text}");

        // Esc clears, then quits; Enter on an HOTP row asks for its next code.
        assert!(matches!(
            handle_key(&mut state, KeyCode::Esc, KeyModifiers::NONE, &filtered),
            Action::Continue
        ));
        assert!(state.query.is_empty());
        list.set_query(&state.query);
        let listed = list.rows(&s, 59_000).unwrap();
        state.selected = 2;
        let bank = listed.rows[2].entry_id;
        assert!(
            matches!(handle_key(&mut state, KeyCode::Enter, KeyModifiers::NONE, &listed), Action::NextHotp(id) if id == bank)
        );
        next_hotp(&s, &mut list, &mut state, bank, None);
        let text = screen(&list.rows(&s, super::super::now_ms()).unwrap(), &state);
        assert!(text.contains("counter"), "{text}");
        assert!(text.contains("counter saved"), "{text}");
        assert!(matches!(
            handle_key(&mut state, KeyCode::Esc, KeyModifiers::NONE, &listed),
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
        let mut list = CodeList::new();
        let listed = list.rows(&s, 59_000).unwrap();
        let mut state = ViewState::default();
        // Typed first, c and q are search text.
        for c in ['c', 'q'] {
            assert!(matches!(
                handle_key(&mut state, KeyCode::Char(c), KeyModifiers::NONE, &listed),
                Action::Continue
            ));
        }
        assert_eq!(state.query, "cq");
        handle_key(&mut state, KeyCode::Esc, KeyModifiers::NONE, &listed);
        // After an arrow key they act on the selected row.
        handle_key(&mut state, KeyCode::Down, KeyModifiers::NONE, &listed);
        let quay = listed.rows[1].entry_id;
        assert!(matches!(
            handle_key(&mut state, KeyCode::Char('c'), KeyModifiers::NONE, &listed),
            Action::Copy(id) if id == quay
        ));
        assert!(matches!(
            handle_key(&mut state, KeyCode::Char('q'), KeyModifiers::NONE, &listed),
            Action::ShowQr(id) if id == quay
        ));
        assert!(state.query.is_empty());
        // Any other letter goes back to searching; Alt+c copies from anywhere.
        handle_key(&mut state, KeyCode::Char('x'), KeyModifiers::NONE, &listed);
        assert!(matches!(
            handle_key(&mut state, KeyCode::Char('c'), KeyModifiers::NONE, &listed),
            Action::Continue
        ));
        assert_eq!(state.query, "xc");
        assert!(matches!(
            handle_key(&mut state, KeyCode::Char('c'), KeyModifiers::ALT, &listed),
            Action::Copy(_)
        ));
        // What is copied: the code now.
        let code = code_to_copy(quay, &listed).unwrap();
        assert_eq!(Some(&code), listed.rows[1].code.as_ref());
        let text = screen(&listed, &state);
        assert!(text.contains("c: copy"), "{text}");
    }

    #[test]
    fn countdown_bar_tracks_the_period() {
        assert_eq!(bar(30_000, 30, 10), "██████████");
        assert_eq!(bar(15_000, 30, 10), "█████░░░░░");
        assert_eq!(bar(1, 30, 10), "█░░░░░░░░░");
    }
}
