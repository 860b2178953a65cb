//! A small HTTP server on 127.0.0.1 for a built site: static files (with
//! the content types a browser insists on, `application/wasm` above all),
//! the site's `404.html`, and optionally mdBook's live-reload WebSocket,
//! which tells open pages to reload after a rebuild. The book's server and
//! the playground's page both use it.
//!
//! One thread per connection (a browser opens connections it uses later, or
//! never, and one idle socket must not stall the rest) and `Connection:
//! close`: it serves one reader's browser, not the internet.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sha1::{Digest, Sha1};

/// Counts the book's builds; an open page reloads when it changes.
#[derive(Default)]
pub struct Builds(AtomicU64);

impl Builds {
    pub fn finished(&self) {
        self.0.fetch_add(1, Ordering::AcqRel);
    }

    fn current(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }
}

/// The live-reload socket: its path, and the builds it reports.
#[derive(Clone)]
pub struct LiveReload {
    /// The path pages connect to (mdBook's `live-reload-endpoint`).
    pub path: &'static str,
    pub builds: Arc<Builds>,
}

/// Serves `site` on `listener` until the process ends; with `reload`,
/// pages connecting to its path are told to reload after the next build.
pub fn serve(listener: TcpListener, site: PathBuf, reload: Option<LiveReload>) {
    for stream in listener.incoming().flatten() {
        let site = site.clone();
        let reload = reload.clone();
        std::thread::spawn(move || {
            // A client that goes away mid-answer is no error of ours.
            let _ = answer(stream, &site, reload.as_ref());
        });
    }
}

/// Serves `site` on a free port of 127.0.0.1 from a background thread; its
/// base URL (`http://127.0.0.1:PORT/`).
pub fn serve_in_background(site: &Path) -> Result<String, String> {
    let listener = TcpListener::bind(("127.0.0.1", 0))
        .map_err(|e| format!("cannot listen on 127.0.0.1: {e}"))?;
    let address = listener
        .local_addr()
        .map_err(|e| format!("cannot read the server's address: {e}"))?;
    let site = site.to_path_buf();
    std::thread::spawn(move || serve(listener, site, None));
    Ok(format!("http://{address}/"))
}

/// What a request asks for.
#[derive(Debug, PartialEq, Eq)]
struct Request {
    method: String,
    path: String,
    websocket_key: Option<String>,
}

fn answer(stream: TcpStream, site: &Path, reload: Option<&LiveReload>) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let Some(request) = read_request(&mut BufReader::new(&stream))? else {
        return respond(
            &stream,
            "400 Bad Request",
            "text/plain",
            b"bad request",
            true,
        );
    };
    if let Some(reload) = reload
        && request.path.trim_start_matches('/') == reload.path
    {
        return match &request.websocket_key {
            Some(key) => reload_socket(stream, key, &reload.builds),
            None => respond(
                &stream,
                "400 Bad Request",
                "text/plain",
                b"a WebSocket",
                true,
            ),
        };
    }
    let head = request.method == "HEAD";
    if request.method != "GET" && !head {
        return respond(&stream, "405 Method Not Allowed", "text/plain", b"", !head);
    }
    match file_for(site, &request.path) {
        Some(file) => match std::fs::read(&file) {
            Ok(body) => respond(&stream, "200 OK", content_type(&file), &body, !head),
            Err(_) => not_found(&stream, site, !head),
        },
        None => not_found(&stream, site, !head),
    }
}

/// The request line and the one header we need; `None` when it is not
/// HTTP.
fn read_request(reader: &mut impl BufRead) -> std::io::Result<Option<Request>> {
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return Ok(None);
    };
    let mut request = Request {
        method: method.to_owned(),
        path: target.split(['?', '#']).next().unwrap_or("/").to_owned(),
        websocket_key: None,
    };
    // Headers, up to the blank line (bounded, so a client cannot make us
    // read forever).
    for _ in 0..100 {
        line.clear();
        if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
            return Ok(Some(request));
        }
        if let Some((name, value)) = line.split_once(':')
            && name.trim().eq_ignore_ascii_case("sec-websocket-key")
        {
            request.websocket_key = Some(value.trim().to_owned());
        }
    }
    Ok(None)
}

/// The file under `site` a URL path names (a directory's `index.html`), or
/// `None` when it leaves the site or does not exist.
fn file_for(site: &Path, url_path: &str) -> Option<PathBuf> {
    let decoded = percent_decode(url_path)?;
    let relative = Path::new(decoded.trim_start_matches('/'));
    if relative
        .components()
        .any(|c| !matches!(c, Component::Normal(_)))
    {
        return None;
    }
    let mut path = site.join(relative);
    if path.is_dir() {
        path.push("index.html");
    }
    path.is_file().then_some(path)
}

/// `%XX` escapes decoded; `None` for a malformed escape or non-UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn content_type(file: &Path) -> &'static str {
    match file.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" | "map" => "application/json",
        // `WebAssembly.instantiateStreaming` refuses any other type.
        "wasm" => "application/wasm",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "ico" => "image/x-icon",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "ttf" => "font/ttf",
        "otf" => "font/otf",
        "txt" | "md" | "rs" | "toml" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn not_found(stream: &TcpStream, site: &Path, with_body: bool) -> std::io::Result<()> {
    let body = std::fs::read(site.join("404.html")).unwrap_or_else(|_| b"not found".to_vec());
    respond(
        stream,
        "404 Not Found",
        "text/html; charset=utf-8",
        &body,
        with_body,
    )
}

fn respond(
    mut stream: &TcpStream,
    status: &str,
    content_type: &str,
    body: &[u8],
    with_body: bool,
) -> std::io::Result<()> {
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    if with_body {
        stream.write_all(body)?;
    }
    stream.flush()
}

/// mdBook's live-reload protocol: a WebSocket on which the server sends the
/// text `reload` once, after the next build.
fn reload_socket(mut stream: TcpStream, key: &str, builds: &Builds) -> std::io::Result<()> {
    write!(
        stream,
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n\r\n",
        websocket_accept(key)
    )?;
    let seen = builds.current();
    // Reading with a short timeout is the clock: it also notices a page
    // that closed (end of stream, or a close frame, opcode 8).
    stream.set_read_timeout(Some(Duration::from_millis(500)))?;
    let mut buf = [0u8; 256];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) if n > 0 && buf[0] & 0x0f == 0x8 => return Ok(()),
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(e) => return Err(e),
        }
        if builds.current() != seen {
            // FIN + text frame, unmasked (servers never mask), 6 bytes.
            stream.write_all(b"\x81\x06reload")?;
            return stream.flush();
        }
    }
}

/// RFC 6455's `Sec-WebSocket-Accept`: base64 of the SHA-1 of the client's
/// key and the protocol's fixed GUID.
fn websocket_accept(key: &str) -> String {
    let digest = Sha1::new()
        .chain_update(key.as_bytes())
        .chain_update(b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11")
        .finalize();
    base64(&digest)
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_accept_value_is_the_rfc_example() {
        // RFC 6455, section 1.3.
        assert_eq!(
            websocket_accept("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn base64_pads() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foob"), "Zm9vYg==");
    }

    #[test]
    fn reads_the_request_line_and_the_websocket_key() {
        let text =
            "GET /a%20b.html?selftest=1 HTTP/1.1\r\nHost: x\r\nSec-WebSocket-Key: abc==\r\n\r\n";
        let request = read_request(&mut text.as_bytes()).unwrap().unwrap();
        assert_eq!(
            request,
            Request {
                method: "GET".into(),
                path: "/a%20b.html".into(),
                websocket_key: Some("abc==".into()),
            }
        );
        assert_eq!(read_request(&mut "\r\n".as_bytes()).unwrap(), None);
    }

    #[test]
    fn paths_stay_inside_the_site_and_directories_mean_their_index() {
        let site = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(site.path().join("sub dir")).unwrap();
        std::fs::write(site.path().join("index.html"), "i").unwrap();
        std::fs::write(site.path().join("sub dir/index.html"), "s").unwrap();
        std::fs::write(site.path().join("a.wasm"), "w").unwrap();
        let root = site.path();
        assert_eq!(file_for(root, "/"), Some(root.join("index.html")));
        assert_eq!(
            file_for(root, "/sub%20dir/"),
            Some(root.join("sub dir/index.html"))
        );
        assert_eq!(
            content_type(&file_for(root, "/a.wasm").unwrap()),
            "application/wasm"
        );
        assert_eq!(file_for(root, "/../index.html"), None);
        assert_eq!(file_for(root, "/%2e%2e/index.html"), None);
        assert_eq!(file_for(root, "/missing.html"), None);
        assert_eq!(file_for(root, "/bad%zz"), None);
        assert_eq!(file_for(root, "//etc/passwd"), None);
    }

    #[test]
    fn serves_files_404s_and_tells_a_page_to_reload_after_a_build() {
        let site = tempfile::tempdir().unwrap();
        std::fs::write(site.path().join("index.html"), "<p>hi</p>").unwrap();
        std::fs::write(site.path().join("404.html"), "<p>lost</p>").unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let builds = Arc::new(Builds::default());
        let root = site.path().to_path_buf();
        let reload = LiveReload {
            path: "__livereload",
            builds: Arc::clone(&builds),
        };
        std::thread::spawn(move || serve(listener, root, Some(reload)));

        let get = |request: &str| {
            let mut stream = TcpStream::connect(address).unwrap();
            stream.write_all(request.as_bytes()).unwrap();
            let mut text = String::new();
            stream.read_to_string(&mut text).unwrap();
            text
        };
        let page = get("GET / HTTP/1.1\r\n\r\n");
        assert!(page.starts_with("HTTP/1.1 200 OK\r\n"), "{page}");
        assert!(
            page.contains("Content-Type: text/html") && page.ends_with("<p>hi</p>"),
            "{page}"
        );
        let lost = get("GET /nowhere HTTP/1.1\r\n\r\n");
        assert!(
            lost.starts_with("HTTP/1.1 404") && lost.ends_with("<p>lost</p>"),
            "{lost}"
        );

        let mut socket = TcpStream::connect(address).unwrap();
        socket
            .write_all(b"GET /__livereload HTTP/1.1\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
            .unwrap();
        let mut reader = BufReader::new(socket.try_clone().unwrap());
        let mut head = String::new();
        while !head.ends_with("\r\n\r\n") {
            reader.read_line(&mut head).unwrap();
        }
        assert!(head.starts_with("HTTP/1.1 101"), "{head}");
        assert!(head.contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), "{head}");
        // Nothing is sent before a build finishes.
        socket
            .set_read_timeout(Some(Duration::from_millis(700)))
            .unwrap();
        let mut frame = [0u8; 8];
        assert!(
            reader.read(&mut frame).is_err(),
            "a frame came before any build"
        );
        builds.finished();
        socket
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        reader.read_exact(&mut frame).unwrap();
        assert_eq!(&frame, b"\x81\x06reload");
    }
}
