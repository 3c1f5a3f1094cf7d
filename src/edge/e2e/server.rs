//! The scripted model on loopback: a tiny HTTP/1.1 server answering OpenAI-compatible
//! `POST …/chat/completions` with server-sent events (what [`crate::domain::e2e::script`]
//! decides), one connection at a time, `Connection: close` after every answer.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

use crate::domain::e2e::script::{self, Action};

/// One chat-completions request and what the model did.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub tools: Vec<String>,
    pub action: Action,
    pub tool_result: Option<String>,
    pub body: Value,
}

/// The requests of the current turn (the runner takes them after each turn).
#[derive(Debug, Default)]
pub struct Log {
    pub exchanges: Vec<Exchange>,
    /// Requests that were not chat completions (path), for the record.
    pub other: Vec<String>,
}

pub struct Server {
    pub port: u16,
    pub log: Arc<Mutex<Log>>,
}

impl Server {
    /// Bind 127.0.0.1:0 and serve on a thread for the rest of the process.
    pub fn start(probe: String) -> std::io::Result<Server> {
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        let port = listener.local_addr()?.port();
        let log = Arc::new(Mutex::new(Log::default()));
        let shared = Arc::clone(&log);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let _ = serve(stream, &probe, &shared);
            }
        });
        Ok(Server { port, log })
    }

    /// Take the requests logged since the last call.
    pub fn take(&self) -> Log {
        match self.log.lock() {
            Ok(mut l) => std::mem::take(&mut *l),
            Err(p) => std::mem::take(&mut *p.into_inner()),
        }
    }
}

fn serve(stream: TcpStream, probe: &str, log: &Mutex<Log>) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let path = parts.next().unwrap_or("").to_string();
    let mut length = 0usize;
    let mut chunked = false;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" || h == "\n" {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            let k = k.trim().to_ascii_lowercase();
            if k == "content-length" {
                length = v.trim().parse().unwrap_or(0);
            } else if k == "transfer-encoding" && v.to_ascii_lowercase().contains("chunked") {
                chunked = true;
            }
        }
    }
    let body = if chunked {
        read_chunked(&mut reader)?
    } else {
        let mut b = vec![0u8; length.min(64 << 20)];
        reader.read_exact(&mut b)?;
        b
    };
    let mut out = stream;
    if method != "POST" || !path.ends_with("/chat/completions") {
        if let Ok(mut l) = log.lock() {
            l.other.push(format!("{method} {path}"));
        }
        let msg = r#"{"error":{"message":"not served by clawposture's scripted model"}}"#;
        write!(
            out,
            "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{msg}",
            msg.len()
        )?;
        return out.flush();
    }
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let action = script::decide(&request);
    let events = script::respond(&request, &action, probe);
    if let Ok(mut l) = log.lock() {
        l.exchanges.push(Exchange {
            tools: script::tool_names(&request),
            tool_result: script::tool_result(&request),
            action,
            body: request,
        });
    }
    write!(
        out,
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n"
    )?;
    for e in events {
        write!(out, "data: {e}\n\n")?;
    }
    out.flush()
}

fn read_chunked(r: &mut impl BufRead) -> std::io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let mut size = String::new();
        r.read_line(&mut size)?;
        let n =
            usize::from_str_radix(size.trim().split(';').next().unwrap_or("0"), 16).unwrap_or(0);
        if n == 0 {
            let mut end = String::new();
            let _ = r.read_line(&mut end);
            return Ok(body);
        }
        let mut chunk = vec![0u8; n];
        r.read_exact(&mut chunk)?;
        body.extend(chunk);
        let mut crlf = String::new();
        r.read_line(&mut crlf)?;
    }
}
