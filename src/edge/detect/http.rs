//! A minimal HTTP/1.0 GET over an already-connected unix socket: the request and the response
//! parser are shared with `verify`'s blocking client (`verify::engine::raw_get`).
//!
//! bollard always prefixes paths with its client API version (v1.53 in 0.21), which Docker
//! 20.10 and Podman 4 reject as "too new" before negotiation, and it has no libpod endpoints.
//! The unversioned `/_ping` (to identify and negotiate), `/version` and `/v4.0.0/libpod/info`
//! are therefore read here.
//! HTTP/1.0 makes the server close the connection after the body, so no chunked decoding.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;

/// Engines answer these small documents in a few KiB; anything far larger is not an engine.
const MAX_RESPONSE: u64 = 4 * 1024 * 1024;

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as text, chunked transfer encoding undone (Podman chunks even for HTTP/1.0).
    pub fn body_text(&self) -> String {
        let body = String::from_utf8_lossy(&self.body);
        let chunked = self
            .header("transfer-encoding")
            .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
        if chunked {
            dechunk(&body)
        } else {
            body.into_owned()
        }
    }
}

fn dechunk(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    while let Some((size, after)) = rest.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || after.len() < n {
            break;
        }
        out.push_str(&after[..n]);
        rest = after[n..].trim_start_matches("\r\n");
    }
    out
}

/// The request line and headers of a GET for `path`.
pub fn request(path: &str) -> String {
    format!("GET {path} HTTP/1.0\r\nHost: engine\r\nAccept: application/json\r\n\r\n")
}

pub async fn get(stream: &mut UnixStream, path: &str) -> std::io::Result<Response> {
    stream.write_all(request(path).as_bytes()).await?;
    let mut raw = Vec::new();
    stream.take(MAX_RESPONSE).read_to_end(&mut raw).await?;
    parse(&raw)
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, "not an HTTP response"))
}

pub fn parse(raw: &[u8]) -> Option<Response> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..split]).ok()?;
    let mut lines = head.split("\r\n");
    let mut parts = lines.next()?.split_whitespace();
    if !parts.next()?.starts_with("HTTP/") {
        return None;
    }
    let status = parts.next()?.parse().ok()?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Some(Response {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_status_and_body() {
        let r = parse(b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\nApi-Version: 1.41\r\n\r\n{\"a\":1}");
        let r = r.expect("valid response");
        assert_eq!(r.status, 200);
        assert_eq!(r.header("api-version"), Some("1.41"));
        assert_eq!(r.body, b"{\"a\":1}");
        assert!(parse(b"SSH-2.0-OpenSSH\r\n").is_none());
    }
}
