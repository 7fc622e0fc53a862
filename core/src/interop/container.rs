//! Bounded readers for the containers other apps' files come in: ZIP archives (plain,
//! ZipCrypto, WinZip AES), SQLite databases (apps' internal files) and Android shared-preferences
//! XML. Each refuses hostile input with a typed [`ImportError`] before doing unbounded work:
//! ZIP bombs (entry count, per-entry and total expanded size, compression ratio), SQLite files
//! (opened read-only from a private copy, defensive mode, no triggers or views, length and
//! step limits, only fixed `SELECT`s of named tables), XML with a DOCTYPE (no entity
//! expansion at all) or absurd nesting.

use std::io::{Cursor, Read};

use zeroize::Zeroizing;

use super::{ImportError, MAX_IMPORT_BYTES, MAX_IMPORT_ENTRIES};

fn hostile(detail: impl Into<String>) -> ImportError {
    ImportError::HostileParameters(detail.into())
}

// ---------------------------------------------------------------------------------------------
// ZIP

/// Most entries an archive may list (real exports hold one to a few hundred).
pub const ZIP_MAX_ENTRIES: usize = 4096;
/// Most bytes one entry may expand to.
pub const ZIP_MAX_ENTRY_BYTES: u64 = 16 * 1024 * 1024;
/// Most bytes all entries read from one archive may expand to.
pub const ZIP_MAX_TOTAL_BYTES: u64 = 64 * 1024 * 1024;
/// Highest expansion ratio accepted for entries above [`ZIP_RATIO_FLOOR`] bytes (text
/// compresses 3–10×; bombs 1000× and more).
pub const ZIP_MAX_RATIO: u64 = 100;
/// Entries this small are never refused for their ratio.
pub const ZIP_RATIO_FLOOR: u64 = 64 * 1024;

pub const ZIP_MAGIC: &[u8] = b"PK\x03\x04";

pub fn is_zip(bytes: &[u8]) -> bool {
    bytes.starts_with(ZIP_MAGIC) || bytes.starts_with(b"PK\x05\x06")
}

/// A ZIP archive read from memory, with a running total of the bytes expanded.
pub struct Zip<'a> {
    archive: zip::ZipArchive<Cursor<&'a [u8]>>,
    expanded: u64,
}

fn zip_damaged(e: zip::result::ZipError) -> ImportError {
    ImportError::Damaged(format!("ZIP archive: {e}"))
}

impl<'a> Zip<'a> {
    pub fn open(bytes: &'a [u8]) -> Result<Self, ImportError> {
        let archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(zip_damaged)?;
        if archive.len() > ZIP_MAX_ENTRIES {
            return Err(hostile(format!(
                "ZIP archive with {} entries (at most {ZIP_MAX_ENTRIES})",
                archive.len()
            )));
        }
        Ok(Zip {
            archive,
            expanded: 0,
        })
    }

    /// Names of the files (not folders) in the archive.
    pub fn names(&self) -> Vec<String> {
        self.archive
            .file_names()
            .filter_map(Result::ok)
            .filter(|n| !n.ends_with('/'))
            .map(|n| n.into_owned())
            .collect()
    }

    /// The first file whose name (or base name, case-insensitively) is `base`.
    pub fn find(&self, base: &str) -> Option<String> {
        self.names().into_iter().find(|n| {
            n == base
                || n.rsplit('/')
                    .next()
                    .is_some_and(|b| b.eq_ignore_ascii_case(base))
        })
    }

    /// Whether the entry is encrypted (ZipCrypto or AES).
    pub fn is_encrypted(&mut self, name: &str) -> bool {
        let Some(index) = self.archive.index_for_name(name) else {
            return false;
        };
        self.archive
            .by_index_raw(index)
            .map(|f| f.encrypted())
            .unwrap_or(false)
    }

    /// Reads one entry, decrypting it with `password` when it is encrypted. Refuses entries
    /// that expand beyond the limits, whatever their headers claim (the read itself is capped).
    pub fn read(
        &mut self,
        name: &str,
        password: Option<&[u8]>,
    ) -> Result<Zeroizing<Vec<u8>>, ImportError> {
        let encrypted = self.is_encrypted(name);
        let password = match (encrypted, password) {
            (true, None) => return Err(ImportError::PasswordRequired),
            (true, Some(p)) => Some(p),
            (false, _) => None,
        };
        let already = self.expanded;
        let mut file = match password {
            Some(p) => self.archive.by_name_decrypt(name, p),
            None => self.archive.by_name(name),
        }
        .map_err(|e| match e {
            zip::result::ZipError::InvalidPassword => ImportError::WrongPassword,
            zip::result::ZipError::UnsupportedArchive(m)
                if m == zip::result::ZipError::PASSWORD_REQUIRED =>
            {
                ImportError::PasswordRequired
            }
            zip::result::ZipError::FileNotFound => {
                ImportError::Damaged(format!("the archive has no '{name}'"))
            }
            other => zip_damaged(other),
        })?;
        let declared = file.size();
        let compressed = file.compressed_size().max(1);
        let allowed = ZIP_MAX_ENTRY_BYTES.min(ZIP_MAX_TOTAL_BYTES - already);
        if declared > allowed {
            return Err(hostile(format!(
                "ZIP entry '{name}' expands to {declared} bytes (at most {allowed})"
            )));
        }
        let ratio_cap = compressed
            .saturating_mul(ZIP_MAX_RATIO)
            .max(ZIP_RATIO_FLOOR)
            .min(allowed);
        if declared > ratio_cap {
            return Err(hostile(format!(
                "ZIP entry '{name}' expands {}× (at most {ZIP_MAX_RATIO}×)",
                declared / compressed
            )));
        }
        // The header may lie: never read more than the cap, whatever it says.
        let mut out = Zeroizing::new(Vec::with_capacity(declared.min(1 << 20) as usize));
        let read = (&mut file)
            .take(ratio_cap + 1)
            .read_to_end(&mut out)
            .map_err(|e| {
                if encrypted && e.kind() == std::io::ErrorKind::InvalidData {
                    // ZipCrypto's check byte passes one wrong password in 256; the CRC (or
                    // AES's MAC) then fails.
                    ImportError::WrongPassword
                } else {
                    ImportError::Damaged(format!("ZIP entry '{name}': {e}"))
                }
            })? as u64;
        if read > ratio_cap {
            return Err(hostile(format!(
                "ZIP entry '{name}' expands beyond what its header says (more than {ratio_cap} bytes)"
            )));
        }
        self.expanded = already + read;
        Ok(out)
    }
}

// ---------------------------------------------------------------------------------------------
// SQLite

pub const SQLITE_MAGIC: &[u8] = b"SQLite format 3\0";

pub fn is_sqlite(bytes: &[u8]) -> bool {
    bytes.starts_with(SQLITE_MAGIC)
}

/// Most virtual-machine steps the queries of one import may take (a few thousand per row).
const SQLITE_MAX_STEPS: u64 = 50_000_000;

/// A database opened read-only from a private copy in a temporary folder (deleted on drop).
pub struct Db {
    conn: rusqlite::Connection,
    _dir: tempfile::TempDir,
}

/// A value read from a row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl Cell {
    pub fn text(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Int(i) => i.to_string(),
            Cell::Real(f) => f.to_string(),
            Cell::Blob(b) => String::from_utf8_lossy(b).into_owned(),
            Cell::Null => String::new(),
        }
    }

    pub fn int(&self) -> Option<i64> {
        match self {
            Cell::Int(i) => Some(*i),
            Cell::Text(s) => s.trim().parse().ok(),
            Cell::Real(f) if f.fract() == 0.0 => Some(*f as i64),
            _ => None,
        }
    }
}

fn db_damaged(e: rusqlite::Error) -> ImportError {
    match e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::OperationInterrupted =>
        {
            hostile("the database needs more work to read than an import allows")
        }
        rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::NotADatabase => {
            ImportError::Damaged(
                "not a readable SQLite database (encrypted with SQLCipher, or damaged)".into(),
            )
        }
        rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::TooBig => {
            hostile("a value in the database is larger than an import allows")
        }
        other => ImportError::Damaged(format!("database: {other}")),
    }
}

impl Db {
    /// Opens `bytes` as an SQLite database. The bytes are written to a private temporary
    /// folder (so nothing of the original, nor any `-wal` or `-journal` beside it, is touched)
    /// and opened read-only and immutable, with defensive settings and tight limits.
    pub fn open(bytes: &[u8]) -> Result<Self, ImportError> {
        if !is_sqlite(bytes) || bytes.len() < 100 {
            return Err(ImportError::Damaged("not an SQLite database".into()));
        }
        let page_size = match u16::from_be_bytes([bytes[16], bytes[17]]) {
            1 => 65_536usize,
            n if n >= 512 && n.is_power_of_two() => usize::from(n),
            _ => return Err(ImportError::Damaged("SQLite header: bad page size".into())),
        };
        let pages = u32::from_be_bytes([bytes[28], bytes[29], bytes[30], bytes[31]]) as usize;
        let size = super::support::checked_size(page_size, pages, "SQLite header")?;
        if size > MAX_IMPORT_BYTES {
            return Err(ImportError::TooLarge(size));
        }
        let dir = tempfile::tempdir()
            .map_err(|e| ImportError::Damaged(format!("cannot make a temporary copy: {e}")))?;
        let path = dir.path().join("import.db");
        let mut copy = bytes.to_vec();
        // A WAL-mode file (format bytes 2, 2) would make SQLite look for its -wal and -shm;
        // the copy is marked as a rollback-journal file, which reads the same pages.
        if copy[18] == 2 || copy[19] == 2 {
            copy[18] = 1;
            copy[19] = 1;
        }
        std::fs::write(&path, &copy)
            .map_err(|e| ImportError::Damaged(format!("cannot make a temporary copy: {e}")))?;
        drop(copy);
        let uri = format!(
            "file:{}?immutable=1",
            path.to_str()
                .ok_or_else(|| ImportError::Damaged("temporary path is not UTF-8".into()))?
        );
        use rusqlite::OpenFlags as F;
        let mut conn = rusqlite::Connection::open_with_flags(
            uri,
            F::SQLITE_OPEN_READ_ONLY | F::SQLITE_OPEN_URI | F::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(db_damaged)?;
        use rusqlite::config::DbConfig as C;
        for (flag, on) in [
            (C::SQLITE_DBCONFIG_DEFENSIVE, true),
            (C::SQLITE_DBCONFIG_ENABLE_TRIGGER, false),
            (C::SQLITE_DBCONFIG_ENABLE_VIEW, false),
            (C::SQLITE_DBCONFIG_TRUSTED_SCHEMA, false),
            (C::SQLITE_DBCONFIG_ENABLE_FTS3_TOKENIZER, false),
        ] {
            conn.set_db_config(flag, on).map_err(db_damaged)?;
        }
        use rusqlite::limits::Limit as L;
        for (limit, value) in [
            (L::SQLITE_LIMIT_LENGTH, 1_000_000),
            (L::SQLITE_LIMIT_SQL_LENGTH, 100_000),
            (L::SQLITE_LIMIT_COLUMN, 200),
            (L::SQLITE_LIMIT_EXPR_DEPTH, 50),
            (L::SQLITE_LIMIT_COMPOUND_SELECT, 4),
            (L::SQLITE_LIMIT_VDBE_OP, 10_000),
            (L::SQLITE_LIMIT_FUNCTION_ARG, 8),
            (L::SQLITE_LIMIT_ATTACHED, 0),
            (L::SQLITE_LIMIT_LIKE_PATTERN_LENGTH, 100),
            (L::SQLITE_LIMIT_VARIABLE_NUMBER, 16),
            (L::SQLITE_LIMIT_TRIGGER_DEPTH, 1),
        ] {
            conn.set_limit(limit, value).map_err(db_damaged)?;
        }
        let steps = std::cell::Cell::new(0u64);
        conn.progress_handler(
            1000,
            Some(move || {
                steps.set(steps.get() + 1000);
                steps.get() > SQLITE_MAX_STEPS
            }),
        )
        .map_err(db_damaged)?;
        conn.execute_batch("PRAGMA query_only = ON; PRAGMA cache_size = -8192;")
            .map_err(db_damaged)?;
        Ok(Db { conn, _dir: dir })
    }

    /// The columns of a real table (not a view), lower-cased; `None` when there is no such
    /// table.
    pub fn columns(&self, table: &str) -> Result<Option<Vec<String>>, ImportError> {
        let kind: Option<String> = self
            .conn
            .query_row(
                "SELECT type FROM sqlite_master WHERE name = ?1 COLLATE NOCASE",
                [table],
                |r| r.get(0),
            )
            .map(Some)
            .or_else(|e| match e {
                rusqlite::Error::QueryReturnedNoRows => Ok(None),
                other => Err(db_damaged(other)),
            })?;
        if kind.as_deref() != Some("table") {
            return Ok(None);
        }
        let mut stmt = self
            .conn
            .prepare("SELECT name FROM pragma_table_info(?1)")
            .map_err(db_damaged)?;
        let names = stmt
            .query_map([table], |r| r.get::<_, String>(0))
            .map_err(db_damaged)?
            .map(|r| r.map(|n| n.to_ascii_lowercase()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(db_damaged)?;
        Ok(Some(names))
    }

    /// Every row of `table` with the given columns (a column the table lacks reads as
    /// NULL). Table and column names come from the importer, never from the file.
    pub fn rows(&self, table: &str, wanted: &[&str]) -> Result<Vec<Vec<Cell>>, ImportError> {
        let have = self
            .columns(table)?
            .ok_or_else(|| ImportError::Damaged(format!("the database has no table '{table}'")))?;
        let select: Vec<String> = wanted
            .iter()
            .map(|c| {
                if have.iter().any(|h| h == &c.to_ascii_lowercase()) {
                    format!("\"{c}\"")
                } else {
                    "NULL".to_owned()
                }
            })
            .collect();
        let sql = format!("SELECT {} FROM \"{table}\"", select.join(", "));
        let mut stmt = self.conn.prepare(&sql).map_err(db_damaged)?;
        let mut rows = stmt.query([]).map_err(db_damaged)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(db_damaged)? {
            if out.len() >= MAX_IMPORT_ENTRIES {
                return Err(ImportError::TooManyEntries);
            }
            let mut cells = Vec::with_capacity(wanted.len());
            for i in 0..wanted.len() {
                use rusqlite::types::ValueRef as V;
                cells.push(match row.get_ref(i).map_err(db_damaged)? {
                    V::Null => Cell::Null,
                    V::Integer(n) => Cell::Int(n),
                    V::Real(f) => Cell::Real(f),
                    V::Text(t) => Cell::Text(String::from_utf8_lossy(t).into_owned()),
                    V::Blob(b) => Cell::Blob(b.to_vec()),
                });
            }
            out.push(cells);
        }
        Ok(out)
    }
}

// ---------------------------------------------------------------------------------------------
// Android shared-preferences XML

/// One `<string name="…">value</string>` (or `<int name value>` etc.) of a preferences file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pref {
    pub name: String,
    pub value: String,
}

/// Most elements a preferences file may hold.
const XML_MAX_ELEMENTS: usize = 2 * MAX_IMPORT_ENTRIES;
const XML_MAX_DEPTH: usize = 16;

pub fn looks_like_prefs_xml(text: &str) -> bool {
    let t = text.trim_start();
    (t.starts_with("<?xml") || t.starts_with("<map")) && t.contains("<map")
}

/// Reads an Android preferences file: the direct children of `<map>`. A DOCTYPE is refused
/// (it is the only way to declare entities, so nothing is ever expanded); only the five
/// predefined entities and character references are resolved.
pub fn prefs(text: &str) -> Result<Vec<Pref>, ImportError> {
    use quick_xml::events::Event;
    let bad = |e: &dyn std::fmt::Display| ImportError::Damaged(format!("not valid XML ({e})"));
    let mut reader = quick_xml::Reader::from_str(text);
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut elements = 0usize;
    let mut current: Option<(String, String)> = None;
    let attr =
        |e: &quick_xml::events::BytesStart, key: &str| -> Result<Option<String>, ImportError> {
            for a in e.attributes() {
                let a = a.map_err(|e| bad(&e))?;
                if a.key.0 == key {
                    return Ok(Some(
                        a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                            .map_err(|e| bad(&e))?
                            .into_owned(),
                    ));
                }
            }
            Ok(None)
        };
    loop {
        match reader.read_event().map_err(|e| bad(&e))? {
            Event::DocType(_) => {
                return Err(hostile(
                    "XML with a DOCTYPE (entity declarations are never expanded)",
                ));
            }
            Event::Start(e) => {
                depth += 1;
                elements += 1;
                if depth > XML_MAX_DEPTH || elements > XML_MAX_ELEMENTS {
                    return Err(hostile(
                        "XML nested or repeated beyond what an import allows",
                    ));
                }
                if depth == 2 {
                    let name = attr(&e, "name")?.unwrap_or_default();
                    current = Some((name, attr(&e, "value")?.unwrap_or_default()));
                }
            }
            Event::Empty(e) => {
                elements += 1;
                if elements > XML_MAX_ELEMENTS {
                    return Err(hostile("XML repeated beyond what an import allows"));
                }
                if depth == 1 {
                    out.push(Pref {
                        name: attr(&e, "name")?.unwrap_or_default(),
                        value: attr(&e, "value")?.unwrap_or_default(),
                    });
                }
            }
            Event::Text(t) => {
                if let Some((_, v)) = current.as_mut() {
                    v.push_str(&t.into_inner());
                }
            }
            Event::CData(t) => {
                if let Some((_, v)) = current.as_mut() {
                    v.push_str(&t.into_inner());
                }
            }
            Event::GeneralRef(r) => {
                if let Some((_, v)) = current.as_mut() {
                    if let Some(c) = r.resolve_char_ref().map_err(|e| bad(&e))? {
                        v.push(c);
                    } else {
                        v.push(match &*r {
                            "amp" => '&',
                            "lt" => '<',
                            "gt" => '>',
                            "quot" => '"',
                            "apos" => '\'',
                            other => {
                                return Err(ImportError::Damaged(format!(
                                    "XML refers to an undeclared entity '{}'",
                                    other.chars().take(32).collect::<String>()
                                )));
                            }
                        });
                    }
                }
            }
            Event::End(_) => {
                if depth == 2
                    && let Some((name, value)) = current.take()
                {
                    out.push(Pref { name, value });
                }
                depth = depth.saturating_sub(1);
            }
            Event::Eof => break,
            _ => {}
        }
        if out.len() > MAX_IMPORT_ENTRIES {
            return Err(ImportError::TooManyEntries);
        }
    }
    if depth != 0 {
        return Err(ImportError::Damaged("the XML is truncated".into()));
    }
    Ok(out)
}

/// The value of one preference.
pub fn pref<'p>(prefs: &'p [Pref], name: &str) -> Option<&'p str> {
    prefs
        .iter()
        .find(|p| p.name == name)
        .map(|p| p.value.as_str())
}
