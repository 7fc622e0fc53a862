//! The code list every front end shows (`vault::codes`): which rows, their order, hiding,
//! HOTP codes on demand, and when to ask again.
#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

mod common;

use common::*;
use twofold_core::otp;
use twofold_core::vault::codes::{CodeList, HOTP_VISIBLE_MS};
use twofold_core::vault::{EntryUpdate, VaultError};

/// RFC 6238 SHA1 secret "12345678901234567890".
const RFC_SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

fn names(list: &mut CodeList, s: &twofold_core::vault::VaultSession, now: i64) -> Vec<String> {
    list.rows(s, now)
        .unwrap()
        .rows
        .iter()
        .map(|r| r.issuer.clone())
        .collect()
}

fn vault_with_four() -> (tempfile::TempDir, twofold_core::vault::VaultSession) {
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = create(&dir.path().join("v"));
    for issuer in ["Alpha", "Bäckerei", "Gamma", "Delta"] {
        s.add_entry(totp(issuer, "me", RFC_SECRET), true).unwrap();
    }
    (dir, s)
}

fn id_of(s: &twofold_core::vault::VaultSession, issuer: &str) -> twofold_core::vault::EntryId {
    s.entries()
        .unwrap()
        .into_iter()
        .find(|e| e.issuer == issuer)
        .unwrap()
        .id
}

#[test]
fn favourites_come_first_then_the_users_order_within_each_part() {
    let (_d, s) = vault_with_four();
    let mut list = CodeList::new();
    assert_eq!(
        names(&mut list, &s, 59_000),
        ["Alpha", "Bäckerei", "Gamma", "Delta"]
    );
    for fav in ["Delta", "Bäckerei"] {
        s.update_entry(
            id_of(&s, fav),
            EntryUpdate {
                favorite: Some(true),
                ..Default::default()
            },
        )
        .unwrap();
    }
    assert_eq!(
        names(&mut list, &s, 59_000),
        ["Bäckerei", "Delta", "Alpha", "Gamma"],
        "favourites first, each part in the vault's order"
    );
    // Reordering the vault reorders both parts.
    let mut order: Vec<_> = s.entries().unwrap().iter().map(|e| e.id).collect();
    order.reverse();
    s.reorder(&order).unwrap();
    assert_eq!(
        names(&mut list, &s, 59_000),
        ["Delta", "Bäckerei", "Gamma", "Alpha"]
    );
}

#[test]
fn search_and_group_filter_select_rows_and_total_counts_all() {
    let (_d, s) = vault_with_four();
    let work = s.add_group("Work").unwrap();
    s.update_entry(
        id_of(&s, "Gamma"),
        EntryUpdate {
            group_ids: Some(vec![work.id]),
            ..Default::default()
        },
    )
    .unwrap();
    let mut list = CodeList::new();
    list.set_query("backerei");
    assert_eq!(names(&mut list, &s, 0), ["Bäckerei"], "accents ignored");
    list.set_query("work");
    assert_eq!(names(&mut list, &s, 0), ["Gamma"], "group names match");
    list.set_query("");
    list.set_group(Some(work.id));
    let rows = list.rows(&s, 0).unwrap();
    assert_eq!(rows.rows.len(), 1);
    assert_eq!(rows.total, 4, "total counts the vault, not the filter");
    list.set_query("alpha");
    assert!(
        list.rows(&s, 0).unwrap().rows.is_empty(),
        "both filters apply"
    );
}

#[test]
fn rows_carry_rfc_codes_next_code_countdown_and_display_grouping() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = create(&dir.path().join("v"));
    s.add_entry(
        entry(&format!(
            "otpauth://totp/GitHub:alice?secret={RFC_SECRET}&digits=8"
        )),
        false,
    )
    .unwrap();
    let mut list = CodeList::new();
    let rows = list.rows(&s, 59_000).unwrap();
    let r = &rows.rows[0];
    assert_eq!(r.code.as_deref(), Some("94287082"), "RFC 6238 at t=59");
    assert_eq!(r.code_display().as_deref(), Some("9428 7082"));
    assert_eq!(r.period, 30);
    assert_eq!(r.remaining_ms, 1_000);
    let secret = twofold_core::Secret::from_base32(RFC_SECRET).unwrap();
    assert_eq!(
        r.next_code.as_deref(),
        Some(otp::totp(&secret, otp::Algorithm::Sha1, 8, 30, 60).as_str())
    );
    assert_eq!(r.display_name(), "GitHub (alice)");
    assert!(!rows.clock_warning);
}

#[test]
fn refresh_is_at_the_next_second_or_period_boundary() {
    let (_d, s) = vault_with_four();
    let mut list = CodeList::new();
    assert_eq!(list.rows(&s, 10_250).unwrap().refresh_in_ms, 750);
    // 200 ms before the boundary at 30 s, and before the next second.
    assert_eq!(list.rows(&s, 29_800).unwrap().refresh_in_ms, 200);
    s.add_entry(
        entry(&format!(
            "otpauth://totp/Short:x?secret={RFC_SECRET}&period=7"
        )),
        true,
    )
    .unwrap();
    // At 13.5 s the 7-second entry turns at 14 s, 500 ms away; the next second is also 500 ms.
    assert_eq!(list.rows(&s, 13_500).unwrap().refresh_in_ms, 500);
    // A negative time (a broken clock) still gives a positive wait.
    assert!(list.rows(&s, -1).unwrap().refresh_in_ms >= 1);
}

#[test]
fn the_clock_offset_shifts_codes_and_warns() {
    let (_d, s) = vault_with_four();
    s.set_clock_offset(60).unwrap();
    let mut list = CodeList::new();
    let shifted = list.rows(&s, 0).unwrap();
    let at_sixty = {
        s.set_clock_offset(0).unwrap();
        list.rows(&s, 60_000).unwrap()
    };
    assert_eq!(shifted.rows[0].code, at_sixty.rows[0].code);
    assert_eq!(shifted.clock_offset_s, 60);
    assert!(shifted.clock_warning);
    assert!(!at_sixty.clock_warning);
}

#[test]
fn tap_to_reveal_hides_codes_until_revealed_or_copied_and_hide_all_hides_again() {
    let (_d, s) = vault_with_four();
    let alpha = id_of(&s, "Alpha");
    let gamma = id_of(&s, "Gamma");
    let mut list = CodeList::new();
    list.set_tap_to_reveal(true);
    let rows = list.rows(&s, 59_000).unwrap();
    assert!(
        rows.rows
            .iter()
            .all(|r| r.hidden && r.code.is_none() && r.next_code.is_none()),
        "no code leaves the core while hidden"
    );
    list.reveal(alpha);
    let rows = list.rows(&s, 59_000).unwrap();
    let a = rows.rows.iter().find(|r| r.entry_id == alpha).unwrap();
    assert!(!a.hidden && a.code.is_some());
    // Copying a hidden row reveals it and records the use.
    let copied = list.copy(&s, gamma, 59_000).unwrap();
    assert_eq!(copied.as_deref(), Some("287082"));
    assert_eq!(s.entry(gamma).unwrap().use_count, 1);
    assert!(
        !list.rows(&s, 59_000).unwrap().rows[2].hidden,
        "Gamma is revealed"
    );
    list.hide_all();
    assert!(list.rows(&s, 59_000).unwrap().rows.iter().all(|r| r.hidden));
}

#[test]
fn hotp_rows_have_no_code_until_asked_and_the_code_expires_from_the_row() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = create(&dir.path().join("v"));
    s.add_entry(
        entry(&format!(
            "otpauth://hotp/Bank:carol?secret={RFC_SECRET}&counter=0"
        )),
        false,
    )
    .unwrap();
    let id = s.entries().unwrap()[0].id;
    let mut list = CodeList::new();
    let r = list.rows(&s, 1_000).unwrap().rows.remove(0);
    assert!(matches!(r.kind, otp::OtpKind::Hotp { .. }));
    assert_eq!((r.code, r.period, r.remaining_ms), (None, 0, 0));
    assert_eq!(
        list.copy(&s, id, 1_000).unwrap(),
        None,
        "nothing to copy yet"
    );
    assert_eq!(
        s.entry(id).unwrap().use_count,
        0,
        "no use recorded for nothing"
    );

    // RFC 4226 appendix D: counter 0 gives 755224; the counter is saved before the code shows.
    assert_eq!(list.next_hotp(&s, id, 1_000).unwrap(), "755224");
    assert!(matches!(
        s.entry(id).unwrap().kind,
        otp::OtpKind::Hotp { counter: 1, .. }
    ));
    let rows = list.rows(&s, 2_000).unwrap();
    assert_eq!(rows.rows[0].code.as_deref(), Some("755224"));
    assert_eq!(rows.refresh_in_ms, 1_000, "next second comes first");
    let rows = list.rows(&s, 1_000 + HOTP_VISIBLE_MS - 300).unwrap();
    assert_eq!(rows.refresh_in_ms, 300, "the expiry is a change on screen");
    assert_eq!(
        list.rows(&s, 1_000 + HOTP_VISIBLE_MS).unwrap().rows[0].code,
        None,
        "gone after the visible time"
    );
    // A clock set back does not keep a code on screen.
    list.next_hotp(&s, id, 50_000).unwrap();
    assert_eq!(list.rows(&s, 40_000).unwrap().rows[0].code, None);
}

#[test]
fn a_locked_vault_gives_locked_not_stale_rows() {
    let (_d, s) = vault_with_four();
    let mut list = CodeList::new();
    assert_eq!(list.rows(&s, 0).unwrap().rows.len(), 4);
    s.lock();
    assert!(matches!(list.rows(&s, 0), Err(VaultError::Locked)));
    assert!(matches!(
        list.copy(
            &s,
            twofold_core::vault::Id::parse(&"0".repeat(32)).unwrap(),
            0
        ),
        Err(VaultError::Locked)
    ));
}

#[test]
fn trashed_entries_leave_the_list() {
    let (_d, s) = vault_with_four();
    let mut list = CodeList::new();
    s.delete_entry(id_of(&s, "Gamma")).unwrap();
    let rows = list.rows(&s, 0).unwrap();
    assert_eq!(rows.total, 3);
    assert_eq!(
        rows.rows
            .iter()
            .map(|r| r.issuer.as_str())
            .collect::<Vec<_>>(),
        ["Alpha", "Bäckerei", "Delta"]
    );
}
