//! WebDAV as sync storage (RFC 4918): `PROPFIND Depth: 1` to list, `GET`, `PUT`, `DELETE`,
//! and one `MKCOL` at setup — nothing whose correctness depends on the server honouring
//! conditional requests, locks or ETags (several real servers ignore `If-Match` or give
//! one-second ETags; see `docs/sync-protocol.md` §8). Every file has one writer and is never
//! rewritten, so none of that is needed.
//!
//! HTTP is ureq (blocking, rustls with the ring provider the core already uses, Mozilla's
//! roots); the apps reach this through the FFI and need no HTTP code of their own.
//! Credentials are sent only over HTTPS (plain HTTP is accepted for loopback addresses
//! only: tests and local servers).

use std::io::Read;
use std::time::Duration;

use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use zeroize::Zeroizing;

use super::SyncError;
use super::storage::{StorageError, StoredFile, SyncStorage, check_own_name};

/// Largest PROPFIND answer read.
const MAX_LISTING_BYTES: u64 = 16 * 1024 * 1024;
/// Most `response` elements accepted in a listing.
const MAX_RESPONSES: usize = 200_000;
const DAV: &str = "DAV:";
const PROPFIND_BODY: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<d:propfind xmlns:d="DAV:"><d:prop><d:resourcetype/><d:getcontentlength/><d:getetag/></d:prop></d:propfind>"#;

/// A WebDAV collection.
pub struct WebDavStorage {
    agent: ureq::Agent,
    /// The collection's URL, ending in `/`.
    base: String,
    /// Its path, percent-decoded, ending in `/`.
    base_path: String,
    authorization: Option<Zeroizing<String>>,
}

impl std::fmt::Debug for WebDavStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebDavStorage")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

/// The parts of an http(s) URL the client needs.
struct UrlParts {
    https: bool,
    host: String,
    path: String,
}

fn split_url(url: &str) -> Result<UrlParts, SyncError> {
    let bad = |why: &str| SyncError::InvalidInput(format!("not a WebDAV URL ({why}): {url}"));
    let (https, rest) = if let Some(r) = url.strip_prefix("https://") {
        (true, r)
    } else if let Some(r) = url.strip_prefix("http://") {
        (false, r)
    } else {
        return Err(bad("it must start with https://"));
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if authority.is_empty() || authority.contains('@') {
        return Err(bad("give the user name with --user, not in the URL"));
    }
    if path.contains(['?', '#']) || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad("no query, fragment or spaces"));
    }
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or_default().to_owned()
    } else {
        authority.split(':').next().unwrap_or_default().to_owned()
    };
    Ok(UrlParts {
        https,
        host: host.to_ascii_lowercase(),
        path: path.to_owned(),
    })
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Percent-decodes a URL path (invalid escapes are kept as they are).
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

fn percent_encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// What a server honours, found by [`WebDavStorage::probe`] at setup. For diagnostics only:
/// correctness never depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    /// A second `PUT` with `If-None-Match: *` was refused (412).
    pub conditional_create: bool,
    /// The listing carries ETags.
    pub etags: bool,
}

impl WebDavStorage {
    /// A client for the collection at `url` (created by [`WebDavStorage::ensure_collection`]).
    pub fn new(
        url: &str,
        user: Option<String>,
        password: Option<String>,
    ) -> Result<Self, SyncError> {
        let parts = split_url(url.trim())?;
        if !parts.https && !is_loopback(&parts.host) {
            return Err(SyncError::Insecure(format!(
                "refusing plain http:// to {}: use https:// (credentials and metadata would \
                 travel in the clear; plain HTTP is allowed only for this computer itself)",
                parts.host
            )));
        }
        let mut base = url.trim().to_owned();
        if !base.ends_with('/') {
            base.push('/');
        }
        let mut base_path = percent_decode(&parts.path);
        if !base_path.ends_with('/') {
            base_path.push('/');
        }
        let authorization = match (user, password) {
            (Some(u), Some(p)) => {
                let plain = Zeroizing::new(format!("{u}:{p}"));
                Some(Zeroizing::new(format!(
                    "Basic {}",
                    base64_encode(plain.as_bytes())
                )))
            }
            (Some(_), None) => {
                return Err(SyncError::InvalidInput(
                    "a WebDAV user needs a password (an app password for Nextcloud)".into(),
                ));
            }
            (None, _) => None,
        };
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .allow_non_standard_methods(true)
            .max_redirects(0)
            .timeout_connect(Some(Duration::from_secs(15)))
            .timeout_global(Some(Duration::from_secs(120)))
            .user_agent("Twofold sync")
            .build()
            .into();
        Ok(WebDavStorage {
            agent,
            base,
            base_path,
            authorization,
        })
    }

    fn url(&self, name: &str) -> String {
        format!("{}{}", self.base, percent_encode_segment(name))
    }

    fn request(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Result<ureq::http::Response<ureq::Body>, StorageError> {
        let method = ureq::http::Method::from_bytes(method.as_bytes())
            .map_err(|e| StorageError::Other(e.to_string()))?;
        let mut builder = ureq::http::Request::builder().method(method).uri(url);
        for (k, v) in headers {
            builder = builder.header(*k, *v);
        }
        if let Some(auth) = &self.authorization {
            builder = builder.header("Authorization", auth.as_str());
        }
        let request = builder
            .body(body)
            .map_err(|e| StorageError::Other(e.to_string()))?;
        self.agent.run(request).map_err(|e| match e {
            ureq::Error::Io(io) => StorageError::Unavailable(io.to_string()),
            other => StorageError::Unavailable(other.to_string()),
        })
    }

    fn status_error(&self, what: &str, status: u16) -> StorageError {
        match status {
            401 | 403 => StorageError::Denied(format!(
                "{what}: the server answered {status} (check the user name and password; \
                 Nextcloud needs an app password)"
            )),
            404 | 409 => StorageError::Unavailable(format!(
                "{what}: the server answered {status} (the collection {} does not exist)",
                self.base
            )),
            507 => StorageError::Unavailable(format!("{what}: the server is out of space (507)")),
            s if s >= 500 => StorageError::Unavailable(format!("{what}: server error {s}")),
            s => StorageError::Other(format!("{what}: unexpected answer {s}")),
        }
    }

    /// Creates the collection if it does not exist (405, or rclone's 201, when it does).
    pub fn ensure_collection(&self) -> Result<(), StorageError> {
        let response = self.request("MKCOL", &self.base, &[], Vec::new())?;
        match response.status().as_u16() {
            200 | 201 | 204 | 405 => Ok(()),
            s => Err(self.status_error("creating the collection", s)),
        }
    }

    /// Probes what the server honours (writes and deletes one probe file).
    pub fn probe(&self) -> Result<Capabilities, StorageError> {
        let name = format!(
            "twofold-probe-{:x}.tmp",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        );
        let url = self.url(&name);
        let put = |body: &[u8]| {
            self.request(
                "PUT",
                &url,
                &[
                    ("If-None-Match", "*"),
                    ("Content-Type", "application/octet-stream"),
                ],
                body.to_vec(),
            )
        };
        let first = put(b"probe")?.status().as_u16();
        if !(200..300).contains(&first) {
            return Err(self.status_error("writing a probe file", first));
        }
        let second = put(b"probe again")?.status().as_u16();
        let listing = self.propfind_raw()?.to_ascii_lowercase();
        // An element `…getetag>` with content (not an empty one followed by `</…`).
        let etags = listing.match_indices("getetag>").any(|(i, m)| {
            listing[i + m.len()..]
                .chars()
                .next()
                .is_some_and(|c| c != '<')
        });
        let _ = self.request("DELETE", &url, &[], Vec::new());
        Ok(Capabilities {
            conditional_create: second == 412,
            etags,
        })
    }

    fn propfind_raw(&self) -> Result<String, StorageError> {
        let response = self.request(
            "PROPFIND",
            &self.base,
            &[
                ("Depth", "1"),
                ("Content-Type", "application/xml; charset=utf-8"),
            ],
            PROPFIND_BODY.as_bytes().to_vec(),
        )?;
        let status = response.status().as_u16();
        if status != 207 {
            return Err(self.status_error("listing", status));
        }
        let mut body = Vec::new();
        response
            .into_body()
            .into_reader()
            .take(MAX_LISTING_BYTES + 1)
            .read_to_end(&mut body)
            .map_err(|e| StorageError::Unavailable(e.to_string()))?;
        if body.len() as u64 > MAX_LISTING_BYTES {
            return Err(StorageError::Other("the listing is too large".into()));
        }
        Ok(String::from_utf8_lossy(&body).into_owned())
    }
}

impl SyncStorage for WebDavStorage {
    fn list(&self) -> Result<Vec<StoredFile>, StorageError> {
        let body = self.propfind_raw()?;
        parse_multistatus(body.as_bytes(), &self.base_path).map_err(StorageError::Other)
    }

    fn read(&self, name: &str, max: u64) -> Result<Option<Vec<u8>>, StorageError> {
        let response = self.request("GET", &self.url(name), &[], Vec::new())?;
        match response.status().as_u16() {
            200 => {
                let mut bytes = Vec::new();
                response
                    .into_body()
                    .into_reader()
                    .take(max.saturating_add(1))
                    .read_to_end(&mut bytes)
                    .map_err(|e| StorageError::Unavailable(e.to_string()))?;
                Ok(Some(bytes))
            }
            404 | 410 => Ok(None),
            s => Err(self.status_error("reading a file", s)),
        }
    }

    fn write(&self, name: &str, bytes: &[u8]) -> Result<(), StorageError> {
        check_own_name(name)?;
        // If-None-Match is defence in depth only: rclone and nginx ignore it.
        let response = self.request(
            "PUT",
            &self.url(name),
            &[
                ("If-None-Match", "*"),
                ("Content-Type", "application/octet-stream"),
            ],
            bytes.to_vec(),
        )?;
        match response.status().as_u16() {
            200 | 201 | 204 => Ok(()),
            412 => Err(StorageError::Other(format!(
                "{name} exists already on the server; not overwritten"
            ))),
            s => Err(self.status_error("writing a file", s)),
        }
    }

    fn delete(&self, name: &str) -> Result<(), StorageError> {
        check_own_name(name)?;
        let response = self.request("DELETE", &self.url(name), &[], Vec::new())?;
        match response.status().as_u16() {
            200 | 202 | 204 | 404 => Ok(()),
            s => Err(self.status_error("deleting a file", s)),
        }
    }
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// One `response` of a multistatus.
#[derive(Default)]
struct Response {
    href: String,
    collection: bool,
    size: Option<u64>,
}

/// The files directly inside the collection at `base_path` (percent-decoded, ending in `/`)
/// from a `207 Multi-Status` body. Matches elements by namespace (`DAV:`), never by prefix;
/// accepts absolute paths and full URIs as hrefs; skips the collection itself, collections
/// and anything deeper. Refuses a DOCTYPE (entities are never expanded).
pub fn parse_multistatus(body: &[u8], base_path: &str) -> Result<Vec<StoredFile>, String> {
    let mut reader = quick_xml::NsReader::from_reader(body);
    let mut stack: Vec<String> = Vec::new();
    let mut current: Option<Response> = None;
    // Inside a propstat: its props wait for its status.
    let mut prop_collection = false;
    let mut prop_size: Option<u64> = None;
    let mut status_ok = true;
    let mut text = String::new();
    let mut responses = Vec::new();
    loop {
        let (ns, event) = reader
            .read_resolved_event()
            .map_err(|e| format!("the server's listing is not XML: {e}"))?;
        let in_dav = matches!(ns, ResolveResult::Bound(n) if n.as_ref() == DAV);
        match event {
            Event::DocType(_) => return Err("the server's listing has a DOCTYPE; refused".into()),
            Event::Start(e) => {
                let local = e.local_name().as_ref().to_owned();
                if stack.len() > 64 {
                    return Err("the server's listing is nested too deeply".into());
                }
                let name = if in_dav { local } else { String::new() };
                match name.as_str() {
                    "response" => current = Some(Response::default()),
                    "propstat" => {
                        prop_collection = false;
                        prop_size = None;
                        status_ok = true;
                    }
                    _ => {}
                }
                text.clear();
                stack.push(name);
            }
            Event::Empty(e)
                if in_dav
                    && e.local_name().as_ref() == "collection"
                    && stack.last().is_some_and(|p| p == "resourcetype") =>
            {
                prop_collection = true;
            }
            Event::Text(t) => text.push_str(&t.xml10_content()),
            Event::CData(t) => text.push_str(&t.xml10_content()),
            Event::GeneralRef(r) => {
                if let Some(c) = r.resolve_char_ref().map_err(|e| e.to_string())? {
                    text.push(c);
                } else {
                    text.push(match &*r {
                        "amp" => '&',
                        "lt" => '<',
                        "gt" => '>',
                        "quot" => '"',
                        "apos" => '\'',
                        _ => return Err("the server's listing uses an unknown entity".into()),
                    });
                }
            }
            Event::End(_) => {
                let name = stack.pop().unwrap_or_default();
                match name.as_str() {
                    "href" => {
                        if let Some(r) = current.as_mut()
                            && stack.last().is_some_and(|p| p == "response")
                        {
                            r.href = text.trim().to_owned();
                        }
                    }
                    "collection" if stack.last().is_some_and(|p| p == "resourcetype") => {
                        prop_collection = true;
                    }
                    "getcontentlength" => prop_size = text.trim().parse().ok(),
                    "status" if stack.last().is_some_and(|p| p == "propstat") => {
                        status_ok = text.split_whitespace().nth(1) == Some("200");
                    }
                    "propstat" => {
                        if status_ok && let Some(r) = current.as_mut() {
                            r.collection |= prop_collection;
                            if prop_size.is_some() {
                                r.size = prop_size;
                            }
                        }
                    }
                    "response" => {
                        if let Some(r) = current.take() {
                            responses.push(r);
                            if responses.len() > MAX_RESPONSES {
                                return Err("the server's listing has too many entries".into());
                            }
                        }
                    }
                    _ => {}
                }
                text.clear();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err("the server's listing is truncated".into());
    }
    let mut out = Vec::new();
    for r in responses {
        if r.collection || r.href.is_empty() {
            continue;
        }
        let path = href_path(&r.href);
        let decoded = percent_decode(&path);
        let Some(rest) = decoded.strip_prefix(base_path) else {
            continue;
        };
        if rest.is_empty() || rest.contains('/') {
            continue;
        }
        out.push(StoredFile {
            name: rest.to_owned(),
            size: r.size,
        });
    }
    Ok(out)
}

/// The path of an href that is either an absolute path or a full URI.
fn href_path(href: &str) -> String {
    for scheme in ["https://", "http://"] {
        if let Some(rest) = href.strip_prefix(scheme) {
            return match rest.find('/') {
                Some(i) => rest[i..].to_owned(),
                None => "/".to_owned(),
            };
        }
    }
    href.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listings_of_several_servers_parse() {
        // Apache mod_dav style: lp1 prefix, absolute paths.
        let apache = r#"<?xml version="1.0" encoding="utf-8"?>
<D:multistatus xmlns:D="DAV:" xmlns:ns0="DAV:">
<D:response xmlns:lp1="DAV:"><D:href>/dav/sync/</D:href><D:propstat><D:prop>
<lp1:resourcetype><D:collection/></lp1:resourcetype></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat>
<D:propstat><D:prop><D:getcontentlength/></D:prop><D:status>HTTP/1.1 404 Not Found</D:status></D:propstat></D:response>
<D:response xmlns:lp1="DAV:"><D:href>/dav/sync/d-0123456789abcdef-3.twfs</D:href><D:propstat><D:prop>
<lp1:resourcetype/><lp1:getcontentlength>4123</lp1:getcontentlength><lp1:getetag>"101b-5f"</lp1:getetag></D:prop>
<D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>
<D:response><D:href>/dav/sync/sub/</D:href><D:propstat><D:prop><D:resourcetype><D:collection/></D:resourcetype></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>
</D:multistatus>"#;
        let files = parse_multistatus(apache.as_bytes(), "/dav/sync/").unwrap();
        assert_eq!(
            files,
            vec![StoredFile {
                name: "d-0123456789abcdef-3.twfs".into(),
                size: Some(4123)
            }]
        );
        // Nextcloud style: d: prefix, oc: extras, full URIs, percent-encoding, &amp;.
        let nextcloud = r#"<?xml version="1.0"?>
<d:multistatus xmlns:d="DAV:" xmlns:s="http://sabredav.org/ns" xmlns:oc="http://owncloud.org/ns">
<d:response><d:href>https://cloud.example/remote.php/dav/files/a/My%20Sync/</d:href><d:propstat><d:prop><d:resourcetype><d:collection/></d:resourcetype></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>
<d:response><d:href>https://cloud.example/remote.php/dav/files/a/My%20Sync/a%26b%20(conflicted%20copy).twfs</d:href><d:propstat><d:prop><d:resourcetype/><d:getcontentlength>10</d:getcontentlength><oc:fileid>7</oc:fileid></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>
<d:response><d:href>/remote.php/dav/files/a/My%20Sync/x&amp;y</d:href><d:propstat><d:prop><d:getcontentlength>0</d:getcontentlength></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>
</d:multistatus>"#;
        let files =
            parse_multistatus(nextcloud.as_bytes(), "/remote.php/dav/files/a/My Sync/").unwrap();
        let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["a&b (conflicted copy).twfs", "x&y"]);
        // A prefix that is not DAV: is not DAV.
        let foreign = r#"<m:multistatus xmlns:m="urn:other"><m:response><m:href>/s/x</m:href></m:response></m:multistatus>"#;
        assert!(
            parse_multistatus(foreign.as_bytes(), "/s/")
                .unwrap()
                .is_empty()
        );
        // Entities from a DTD are refused, truncated XML is refused.
        let xxe = r#"<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><d:multistatus xmlns:d="DAV:">&x;</d:multistatus>"#;
        assert!(parse_multistatus(xxe.as_bytes(), "/").is_err());
        assert!(parse_multistatus(b"<d:multistatus xmlns:d=\"DAV:\"><d:response>", "/").is_err());
    }

    #[test]
    fn urls_are_checked() {
        assert!(WebDavStorage::new("https://cloud.example/dav", None, None).is_ok());
        assert!(WebDavStorage::new("http://127.0.0.1:8080/dav", None, None).is_ok());
        assert!(WebDavStorage::new("http://[::1]:8080/dav", None, None).is_ok());
        assert!(matches!(
            WebDavStorage::new("http://cloud.example/dav", None, None),
            Err(SyncError::Insecure(_))
        ));
        assert!(WebDavStorage::new("ftp://x/", None, None).is_err());
        assert!(WebDavStorage::new("https://user:pw@x/", None, None).is_err());
        assert!(WebDavStorage::new("https://x/", Some("u".into()), None).is_err());
        assert_eq!(percent_decode("a%20b%2Fc%zz"), "a b/c%zz");
    }
}
