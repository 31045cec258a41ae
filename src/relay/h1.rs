//! HTTP/1 pieces of the fast path (`fast.rs`), free of I/O: which requests it takes,
//! how header names sort, chunked bodies, and the `Date` header.
//!
//! The fast path takes a request only when hyper would read it the same way: it parses
//! with the same parser (`httparse`, hyper's default configuration and limits) and then
//! accepts only an unambiguous subset ([`qualify`]). Anything else — chunked or
//! `Expect`ing request bodies, duplicate framing or admission headers, `HTTP/1.0`,
//! unusual methods or targets, a parse error — is handed, bytes and all, to the hyper
//! server, which answers or refuses it as before. `tests/it/relay_fast_path.rs` checks the
//! subset against hyper itself.

use std::mem::MaybeUninit;
use std::time::{SystemTime, UNIX_EPOCH};

use hyper::Method;
use hyper::http::uri::PathAndQuery;

use crate::calendar::civil_from_days;

/// Headers a request may have (hyper's default; more is a 431 from hyper).
pub(super) const MAX_HEADERS: usize = 100;
/// The longest request target (hyper's and the `http` crate's limit; a 414 above it).
pub(super) const MAX_URI_LEN: usize = 65_534;

pub(super) type Slots<'b> = [MaybeUninit<httparse::Header<'b>>; MAX_HEADERS];

pub(super) fn slots<'b>() -> Slots<'b> {
    [MaybeUninit::uninit(); MAX_HEADERS]
}

/// A request head the fast path can serve: what it needs to know about it.
pub(super) struct Head<'b> {
    /// The bytes of the head, up to and including its empty line.
    pub len: usize,
    pub method: Method,
    /// The origin-form target, as it goes upstream.
    pub target: &'b str,
    pub path_and_query: PathAndQuery,
    pub headers: &'b [httparse::Header<'b>],
    /// Bit `i` set: `headers[i]` is not forwarded (`Host`, hop-by-hop).
    pub dropped: u128,
    /// From `Content-Length`; 0 without one.
    pub body_len: u64,
    /// HTTP/1.1 without `Connection: close`.
    pub keep_alive: bool,
    /// The one `Host` header, in visible ASCII.
    pub host: &'b str,
    pub origin: Option<&'b [u8]>,
    pub sec_fetch_site: Option<&'b [u8]>,
    pub anthropic_version: bool,
}

pub(super) enum Qualify<'b> {
    /// Not the whole head yet.
    Partial,
    /// For the hyper server (with the bytes read so far).
    Handoff,
    Ready(Head<'b>),
}

/// What the fast path needs to know about a header name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Name {
    Host,
    ContentLength,
    TransferEncoding,
    Connection,
    /// Describes one connection (RFC 9110 §7.6.1): never forwarded.
    HopByHop,
    Expect,
    Upgrade,
    Te,
    Trailer,
    Origin,
    SecFetchSite,
    AnthropicVersion,
    Date,
    Other,
}

/// Sorts a header name (any case): by length first, so most names cost one compare.
pub(super) fn name(name: &str) -> Name {
    // Setting bit 0x20 lower-cases a letter and leaves `-` as it is; no other byte of a
    // header name (a token: no controls) becomes a lower-case letter or `-` by it. So
    // this is a case-insensitive compare with the lower-case names below.
    let is = |known: &str| name.bytes().zip(known.bytes()).all(|(b, k)| b | 0x20 == k);
    match name.len() {
        2 if is("te") => Name::Te,
        4 if is("host") => Name::Host,
        4 if is("date") => Name::Date,
        6 if is("expect") => Name::Expect,
        6 if is("origin") => Name::Origin,
        7 if is("upgrade") => Name::Upgrade,
        7 if is("trailer") => Name::Trailer,
        10 if is("connection") => Name::Connection,
        10 if is("keep-alive") => Name::HopByHop,
        14 if is("content-length") => Name::ContentLength,
        14 if is("sec-fetch-site") => Name::SecFetchSite,
        16 if is("proxy-connection") => Name::HopByHop,
        17 if is("transfer-encoding") => Name::TransferEncoding,
        17 if is("anthropic-version") => Name::AnthropicVersion,
        18 if is("proxy-authenticate") => Name::HopByHop,
        19 if is("proxy-authorization") => Name::HopByHop,
        _ => Name::Other,
    }
}

impl Name {
    /// Never forwarded in either direction (the framing headers are rewritten).
    pub(super) fn is_hop_by_hop(self) -> bool {
        matches!(
            self,
            Name::Connection
                | Name::HopByHop
                | Name::TransferEncoding
                | Name::Upgrade
                | Name::Te
                | Name::Trailer
        )
    }
}

/// Parses the request head at the start of `buf` and decides whether the fast path
/// takes it.
pub(super) fn qualify<'b>(buf: &'b [u8], slots: &'b mut Slots<'b>, max_head: usize) -> Qualify<'b> {
    let mut req = httparse::Request::new(&mut []);
    let len = match httparse::ParserConfig::default()
        .parse_request_with_uninit_headers(&mut req, buf, slots)
    {
        Ok(httparse::Status::Complete(len)) if len <= max_head => len,
        Ok(httparse::Status::Partial) if buf.len() <= max_head => return Qualify::Partial,
        // Too large, too many headers, or malformed: hyper answers.
        _ => return Qualify::Handoff,
    };
    match qualify_head(req, len) {
        Some(head) => Qualify::Ready(head),
        None => Qualify::Handoff,
    }
}

fn qualify_head<'b>(req: httparse::Request<'b, 'b>, len: usize) -> Option<Head<'b>> {
    let httparse::Request {
        method,
        path,
        version,
        headers,
    } = req;
    let headers: &'b [httparse::Header<'b>] = headers;
    if version? != 1 {
        return None; // HTTP/1.0: keep-alive and framing rules of its own
    }
    let method = match method? {
        "GET" => Method::GET,
        "POST" => Method::POST,
        "PUT" => Method::PUT,
        "PATCH" => Method::PATCH,
        "DELETE" => Method::DELETE,
        _ => return None, // HEAD has no response body, OPTIONS may be a preflight
    };
    let target = path?;
    // Origin-form only, parsed as hyper parses it; a fragment would be cut by it.
    if !target.starts_with('/') || target.len() > MAX_URI_LEN || target.as_bytes().contains(&b'#') {
        return None;
    }
    let path_and_query = PathAndQuery::try_from(target).ok()?;
    let mut head = Head {
        len,
        method,
        target,
        path_and_query,
        headers,
        dropped: 0,
        body_len: 0,
        keep_alive: true,
        host: "",
        origin: None,
        sec_fetch_site: None,
        anthropic_version: false,
    };
    let (mut host, mut content_length) = (None, None);
    for (i, h) in headers.iter().enumerate() {
        let kind = name(h.name);
        if kind == Name::Host || kind.is_hop_by_hop() {
            head.dropped |= 1 << i;
        }
        match kind {
            Name::Host => once(&mut host, h.value)?,
            Name::ContentLength => once(&mut content_length, h.value)?,
            Name::Origin => once(&mut head.origin, h.value)?,
            Name::SecFetchSite => once(&mut head.sec_fetch_site, h.value)?,
            Name::AnthropicVersion => head.anthropic_version = true,
            Name::Connection => {
                for token in tokens(h.value) {
                    if token.eq_ignore_ascii_case(b"close") {
                        head.keep_alive = false;
                    } else if !token.eq_ignore_ascii_case(b"keep-alive") {
                        return None; // it names headers to drop: hyper's path does that
                    }
                }
            }
            Name::TransferEncoding | Name::Expect | Name::Upgrade | Name::Te | Name::Trailer => {
                return None;
            }
            Name::HopByHop | Name::Date | Name::Other => {}
        }
    }
    head.host = visible_ascii(host?)?;
    head.body_len = content_length.map_or(Some(0), digits)?;
    Some(head)
}

/// Sets `slot` to `value` unless it was set before (`None` then: a duplicate).
fn once<'b>(slot: &mut Option<&'b [u8]>, value: &'b [u8]) -> Option<()> {
    match slot.replace(value) {
        None => Some(()),
        Some(_) => None,
    }
}

/// `bytes` as text if it is visible ASCII (what `HeaderValue::to_str` accepts).
fn visible_ascii(bytes: &[u8]) -> Option<&str> {
    if bytes.iter().all(|&b| b == b'\t' || (32..127).contains(&b)) {
        std::str::from_utf8(bytes).ok()
    } else {
        None
    }
}

/// A decimal length as hyper reads one: digits only, no sign, no overflow.
pub(super) fn digits(bytes: &[u8]) -> Option<u64> {
    if bytes.is_empty() {
        return None;
    }
    bytes.iter().try_fold(0u64, |n, &b| {
        if !b.is_ascii_digit() {
            return None;
        }
        n.checked_mul(10)?.checked_add(u64::from(b - b'0'))
    })
}

/// The comma-separated tokens of a header value, trimmed, empty ones skipped.
pub(super) fn tokens(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|&b| b == b',')
        .map(<[u8]>::trim_ascii)
        .filter(|t| !t.is_empty())
}

/// How a gateway's response body is framed (RFC 9112 §6.3, as hyper's client reads it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Framing {
    /// 204 and 304 (the fast path never sends HEAD).
    Empty,
    Length(u64),
    Chunked,
    /// Until the gateway closes the connection.
    Close,
}

/// A gateway response head: its framing and whether its connection stays open.
pub(super) struct ResponseHead<'b> {
    pub len: usize,
    pub code: u16,
    pub reason: &'b str,
    pub headers: &'b [httparse::Header<'b>],
    /// Bit `i` set: `headers[i]` is not passed on (hop-by-hop, or the length, which the
    /// relay writes itself).
    pub dropped: u128,
    /// A `Connection` header names other headers (to drop too).
    pub connection_names: bool,
    pub dated: bool,
    pub framing: Framing,
    pub keep_alive: bool,
}

pub(super) enum ParsedResponse<'b> {
    Partial,
    /// A 1xx other than 101, this many bytes long: skipped, as hyper's client does.
    Informational(usize),
    Ready(ResponseHead<'b>),
}

/// Parses a gateway's response head at the start of `buf`.
pub(super) fn parse_response<'b>(
    buf: &'b [u8],
    slots: &'b mut Slots<'b>,
    max_head: usize,
) -> Result<ParsedResponse<'b>, &'static str> {
    let mut res = httparse::Response::new(&mut []);
    let len = match httparse::ParserConfig::default()
        .parse_response_with_uninit_headers(&mut res, buf, slots)
    {
        Ok(httparse::Status::Complete(len)) if len <= max_head => len,
        Ok(httparse::Status::Partial) if buf.len() <= max_head => {
            return Ok(ParsedResponse::Partial);
        }
        Ok(_) => return Err("response headers too large"),
        Err(_) => return Err("invalid HTTP response"),
    };
    let code = res.code.ok_or("invalid HTTP response")?;
    let http11 = res.version == Some(1);
    match code {
        101 => return Err("the gateway switched protocols"),
        100..=199 => return Ok(ParsedResponse::Informational(len)),
        _ => {}
    }
    let (mut te, mut chunked, mut length, mut bad_length) = (false, false, None, false);
    let (mut dropped, mut connection_names, mut dated) = (0u128, false, false);
    let (mut saw_close, mut saw_keep_alive) = (false, false);
    for (i, h) in res.headers.iter().enumerate() {
        let kind = name(h.name);
        if kind.is_hop_by_hop() || kind == Name::ContentLength {
            dropped |= 1 << i;
        }
        dated |= kind == Name::Date;
        match kind {
            Name::TransferEncoding => {
                te = true;
                // hyper's client: the last Transfer-Encoding line decides.
                chunked = tokens(h.value)
                    .last()
                    .is_some_and(|t| t.eq_ignore_ascii_case(b"chunked"));
            }
            Name::ContentLength => {
                for token in h.value.split(|&b| b == b',') {
                    match digits(token.trim_ascii()) {
                        Some(n) if length.is_none_or(|l| l == n) => length = Some(n),
                        _ => bad_length = true,
                    }
                }
            }
            Name::Connection => {
                for token in tokens(h.value) {
                    if token.eq_ignore_ascii_case(b"close") {
                        saw_close = true;
                    } else if token.eq_ignore_ascii_case(b"keep-alive") {
                        saw_keep_alive = true;
                    } else {
                        connection_names = true;
                    }
                }
            }
            _ => {}
        }
    }
    // As hyper's client: a close anywhere wins; HTTP/1.0 stays open only when asked.
    let keep_alive = !saw_close && (http11 || saw_keep_alive);
    let framing = match code {
        204 | 304 => Framing::Empty,
        _ if te && !http11 => return Err("Transfer-Encoding in an HTTP/1.0 response"),
        _ if te && chunked => Framing::Chunked,
        _ if te => Framing::Close,
        _ if bad_length => return Err("invalid Content-Length"),
        _ => length.map_or(Framing::Close, Framing::Length),
    };
    Ok(ParsedResponse::Ready(ResponseHead {
        len,
        code,
        reason: res.reason.unwrap_or_default(),
        headers: res.headers,
        dropped,
        connection_names,
        dated,
        keep_alive: keep_alive && framing != Framing::Close,
        framing,
    }))
}

/// A chunked body being read: each call turns what arrived into chunks of the same
/// data for the client (extensions and trailers dropped, as hyper does), as strictly as
/// hyper's decoder reads them.
#[derive(Debug, Default)]
pub(super) struct Chunked {
    state: ChunkState,
    /// Bytes left of the current chunk's size or data.
    left: u64,
    /// Bytes of trailer lines and extensions read so far (bounded, as hyper bounds them).
    overhead: usize,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum ChunkState {
    #[default]
    Start,
    Size,
    SizeLws,
    Extension,
    SizeLf,
    Body,
    BodyCr,
    BodyLf,
    Trailer,
    TrailerLf,
    EndCr,
    EndLf,
    End,
}

/// The most bytes of chunk extensions and trailers a body may carry (hyper: 16 KiB).
const MAX_CHUNK_OVERHEAD: usize = 16 * 1024;

impl Chunked {
    /// Reads `input`, appending re-chunked data to `out`. Returns how many bytes of
    /// `input` it used, how many of them were data, and whether the body is complete
    /// (the rest then belongs to the connection, not the body) or malformed (the data
    /// before the fault is in `out`).
    pub(super) fn decode(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
    ) -> (usize, u64, Result<bool, &'static str>) {
        let (mut i, mut data) = (0, 0);
        let result = self.decode_into(input, out, &mut i, &mut data);
        (i, data, result)
    }

    fn decode_into(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
        i: &mut usize,
        data: &mut u64,
    ) -> Result<bool, &'static str> {
        use ChunkState::*;
        while *i < input.len() && self.state != End {
            if self.state == Body {
                let n = usize::try_from(self.left)
                    .unwrap_or(usize::MAX)
                    .min(input.len() - *i);
                push_chunk(out, &input[*i..*i + n]);
                *i += n;
                *data += n as u64;
                self.left -= n as u64;
                if self.left == 0 {
                    self.state = BodyCr;
                }
                continue;
            }
            let b = input[*i];
            *i += 1;
            self.state = match (self.state, b) {
                (Start, _) | (Size, _) if b.is_ascii_hexdigit() => {
                    let digit = u64::from((b as char).to_digit(16).unwrap_or(0));
                    self.left = self
                        .left
                        .checked_mul(16)
                        .and_then(|n| n.checked_add(digit))
                        .ok_or("invalid chunk size: overflow")?;
                    Size
                }
                (Start, _) => return Err("invalid chunk size line"),
                (Size | SizeLws, b'\t' | b' ') => SizeLws,
                (Size | SizeLws, b';') => self.more(Extension)?,
                (Size | SizeLws, b'\r') => SizeLf,
                (Size | SizeLws, _) => return Err("invalid chunk size line"),
                (Extension, b'\r') => SizeLf,
                (Extension, b'\n') => return Err("invalid chunk extension: newline"),
                (Extension, _) => self.more(Extension)?,
                (SizeLf, b'\n') if self.left == 0 => EndCr,
                (SizeLf, b'\n') => Body,
                (SizeLf, _) => return Err("invalid chunk size line"),
                (BodyCr, b'\r') => BodyLf,
                (BodyCr, _) => return Err("invalid chunk body: no CRLF after the data"),
                (BodyLf, b'\n') => Start,
                (BodyLf, _) => return Err("invalid chunk body: no CRLF after the data"),
                (EndCr, b'\r') => EndLf,
                (EndCr, _) => self.more(Trailer)?,
                (Trailer, b'\r') => TrailerLf,
                (Trailer, _) => self.more(Trailer)?,
                (TrailerLf, b'\n') => EndCr,
                (TrailerLf, _) => return Err("invalid chunk trailer"),
                (EndLf, b'\n') => End,
                (EndLf, _) => return Err("invalid chunked body end"),
                (Body | End, _) => unreachable!("handled above"),
            };
        }
        Ok(self.state == End)
    }

    fn more(&mut self, next: ChunkState) -> Result<ChunkState, &'static str> {
        self.overhead += 1;
        if self.overhead > MAX_CHUNK_OVERHEAD {
            return Err("chunk extensions or trailers too large");
        }
        Ok(next)
    }
}

/// Appends `data` as one chunk (nothing for no data: an empty chunk would end the body).
pub(super) fn push_chunk(out: &mut Vec<u8>, data: &[u8]) {
    if data.is_empty() {
        return;
    }
    push_hex(out, data.len());
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

fn push_hex(out: &mut Vec<u8>, mut n: usize) {
    let mut digits = [0u8; 16];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b"0123456789abcdef"[n % 16];
        n /= 16;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[start..]);
}

/// Appends `n` in decimal.
pub(super) fn push_decimal(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[start..]);
}

/// The `Date` header's value for now (IMF-fixdate), as hyper adds it to responses that
/// lack one; built once a second per thread.
pub(super) fn http_date() -> [u8; 29] {
    use std::cell::Cell;
    thread_local! {
        static CACHED: Cell<(u64, [u8; 29])> = const { Cell::new((u64::MAX, [0; 29])) };
    }
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    CACHED.with(|cached| {
        let (at, date) = cached.get();
        if at == secs {
            return date;
        }
        let date = imf_fixdate(secs);
        cached.set((secs, date));
        date
    })
}

/// `Sun, 06 Nov 1994 08:49:37 GMT` for `secs` after the Unix epoch.
fn imf_fixdate(secs: u64) -> [u8; 29] {
    const DAYS: [&[u8; 3]; 7] = [b"Thu", b"Fri", b"Sat", b"Sun", b"Mon", b"Tue", b"Wed"];
    const MONTHS: [&[u8; 3]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    let mut out = Vec::with_capacity(29);
    out.extend_from_slice(DAYS[(days % 7) as usize]);
    out.extend_from_slice(b", ");
    push_two(&mut out, day);
    out.push(b' ');
    out.extend_from_slice(MONTHS[(month as usize).clamp(1, 12) - 1]);
    out.push(b' ');
    push_two(&mut out, year / 100 % 100);
    push_two(&mut out, year % 100);
    out.push(b' ');
    for (n, sep) in [
        (rem / 3600, b':'),
        (rem % 3600 / 60, b':'),
        (rem % 60, b' '),
    ] {
        push_two(&mut out, n);
        out.push(sep);
    }
    out.extend_from_slice(b"GMT");
    let mut date = [b' '; 29];
    let n = out.len().min(29);
    date[..n].copy_from_slice(&out[..n]);
    date
}

fn push_two(out: &mut Vec<u8>, n: u64) {
    out.push(b'0' + (n / 10 % 10) as u8);
    out.push(b'0' + (n % 10) as u8);
}

#[cfg(test)]
mod differential;

#[cfg(test)]
mod tests {
    use super::*;

    fn ready(text: &str) -> Option<(u64, bool, String)> {
        let mut slots = slots();
        match qualify(text.as_bytes(), &mut slots, 64 * 1024) {
            Qualify::Ready(h) => Some((h.body_len, h.keep_alive, h.target.to_string())),
            _ => None,
        }
    }

    #[test]
    fn plain_requests_qualify() {
        let post = "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:8787\r\n\
                    Content-Type: application/json\r\nContent-Length: 12\r\n\r\n";
        assert_eq!(ready(post), Some((12, true, "/v1/chat/completions".into())));
        let get = "\r\nGET /v1/models?x=1 HTTP/1.1\r\nhost: localhost:1\r\nConnection: Keep-Alive, close\r\n\r\n";
        assert_eq!(ready(get), Some((0, false, "/v1/models?x=1".into())));
    }

    #[test]
    fn anything_unusual_goes_to_hyper() {
        let h = "Host: a:1\r\n";
        for text in [
            format!("POST / HTTP/1.1\r\n{h}Transfer-Encoding: chunked\r\n\r\n"),
            format!("POST / HTTP/1.1\r\n{h}Content-Length: 2\r\nContent-Length: 2\r\n\r\n"),
            format!("POST / HTTP/1.1\r\n{h}Content-Length: +2\r\n\r\n"),
            format!("POST / HTTP/1.1\r\n{h}Content-Length: 2, 2\r\n\r\n"),
            format!("POST / HTTP/1.1\r\n{h}Content-Length: 2,2\r\n\r\n"),
            format!("POST / HTTP/1.1\r\n{h}Content-Length: 2 \r\nContent-Length: 2\r\n\r\n"),
            format!("POST / HTTP/1.1\r\n{h}Expect: 100-continue\r\nContent-Length: 2\r\n\r\n"),
            format!("GET / HTTP/1.1\r\n{h}Upgrade: websocket\r\nConnection: upgrade\r\n\r\n"),
            format!("GET / HTTP/1.1\r\n{h}Connection: x-private\r\n\r\n"),
            format!("GET / HTTP/1.1\r\n{h}TE: trailers\r\n\r\n"),
            format!("GET / HTTP/1.0\r\n{h}\r\n"),
            format!("HEAD / HTTP/1.1\r\n{h}\r\n"),
            format!("OPTIONS * HTTP/1.1\r\n{h}\r\n"),
            format!("GET http://a:1/ HTTP/1.1\r\n{h}\r\n"),
            format!("GET * HTTP/1.1\r\n{h}\r\n"),
            format!("CONNECT a:1 HTTP/1.1\r\n{h}\r\n"),
            format!("GET /a#b HTTP/1.1\r\n{h}\r\n"),
            "GET / HTTP/1.1\r\n\r\n".to_string(),
            format!("GET / HTTP/1.1\r\n{h}{h}\r\n"),
            format!("GET / HTTP/1.1\r\n{h}Origin: a\r\nOrigin: b\r\n\r\n"),
            "GET / HTTP/1.1\r\nHost: caf\u{e9}\r\n\r\n".to_string(),
            format!("GET / HTTP/1.1\r\n{h} X: y\r\n\r\n"),
            format!("GET / HTTP/1.1\r\n{h}X : y\r\n\r\n"),
            format!("GET / HTTP/1.1\r\n{h}X: a\rb\r\n\r\n"),
        ] {
            assert_eq!(ready(&text), None, "{text:?}");
        }
        let many: String = (0..MAX_HEADERS).map(|i| format!("X-{i}: v\r\n")).collect();
        assert_eq!(ready(&format!("GET / HTTP/1.1\r\n{h}{many}\r\n")), None);
    }

    #[test]
    fn heads_are_partial_until_complete_and_bounded() {
        let partial = b"GET / HTTP/1.1\r\nHost: a:1\r\n";
        let mut room = slots();
        assert!(matches!(
            qualify(partial, &mut room, 1024),
            Qualify::Partial
        ));
        let mut room = slots();
        assert!(matches!(qualify(partial, &mut room, 10), Qualify::Handoff));
    }

    fn response(text: &str) -> Result<(u16, Framing, bool), &'static str> {
        let mut slots = slots();
        match parse_response(text.as_bytes(), &mut slots, 64 * 1024)? {
            ParsedResponse::Ready(r) => Ok((r.code, r.framing, r.keep_alive)),
            ParsedResponse::Informational(n) => Ok((100, Framing::Length(n as u64), false)),
            ParsedResponse::Partial => Err("partial"),
        }
    }

    #[test]
    fn response_framing_follows_rfc_9112() {
        use Framing::*;
        let ok = |h: &str| response(&format!("HTTP/1.1 200 OK\r\n{h}\r\n"));
        assert_eq!(ok("Content-Length: 5\r\n"), Ok((200, Length(5), true)));
        assert_eq!(ok("Content-Length: 5, 5\r\n"), Ok((200, Length(5), true)));
        assert_eq!(
            ok("Content-Length: 5\r\ncontent-length: 6\r\n"),
            Err("invalid Content-Length")
        );
        assert_eq!(ok("Content-Length: x\r\n"), Err("invalid Content-Length"));
        assert_eq!(
            ok("Transfer-Encoding: gzip, chunked\r\nContent-Length: 3\r\n"),
            Ok((200, Chunked, true))
        );
        assert_eq!(
            ok("Transfer-Encoding: chunked, gzip\r\n"),
            Ok((200, Close, false))
        );
        assert_eq!(ok(""), Ok((200, Close, false)));
        assert_eq!(
            ok("Connection: close\r\nContent-Length: 0\r\n"),
            Ok((200, Length(0), false))
        );
        let r = |s: &str| response(s);
        assert_eq!(
            r("HTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n"),
            Ok((204, Empty, true))
        );
        assert_eq!(
            r("HTTP/1.1 304 Not Modified\r\n\r\n"),
            Ok((304, Empty, true))
        );
        assert_eq!(
            r("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n"),
            Ok((200, Length(1), false))
        );
        assert_eq!(
            r("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\n"),
            Ok((200, Length(1), true))
        );
        assert_eq!(
            r(
                "HTTP/1.0 200 OK\r\nConnection: close\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\n"
            ),
            Ok((200, Length(1), false)),
            "a close anywhere wins"
        );
        assert!(r("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n").is_err());
        let hints = "HTTP/1.1 103 Early Hints\r\nLink: x\r\n\r\n";
        assert_eq!(r(hints), Ok((100, Length(hints.len() as u64), false)));
        assert!(r("HTTP/1.1 101 Switching Protocols\r\n\r\n").is_err());
        assert!(r("HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n").is_err());
        assert_eq!(r("HTTP/1.1 200 OK\r\nContent-Le"), Err("partial"));
    }

    fn dechunk(input: &[&[u8]]) -> Result<(Vec<u8>, usize, bool), &'static str> {
        let mut c = Chunked::default();
        let (mut out, mut used, mut done) = (Vec::new(), 0, false);
        for part in input {
            let (n, data, d) = c.decode(part, &mut out);
            used += n;
            done = d?;
            assert!(data <= n as u64);
        }
        Ok((out, used, done))
    }

    #[test]
    fn chunked_bodies_are_rechunked_across_reads() {
        let (out, used, done) =
            dechunk(&[b"5;ext=1\r\nhel", b"lo\r\n", b"0\r\nX-T: 1\r\n\r\nNEXT"]).unwrap();
        assert_eq!(out, b"3\r\nhel\r\n2\r\nlo\r\n");
        assert!(done);
        assert_eq!(used, 12 + 4 + 13, "the bytes after the body stay unread");
        let (out, _, done) = dechunk(&[b"A \t\r\n0123456789\r\n0\r\n\r\n"]).unwrap();
        assert_eq!(out, b"a\r\n0123456789\r\n");
        assert!(done);
        let (_, _, done) = dechunk(&[b"1\r\nx\r\n"]).unwrap();
        assert!(!done);
    }

    #[test]
    fn malformed_chunks_are_errors() {
        for bad in [
            &b"x\r\n"[..],
            b"\r\n",
            b"2\nab\r\n",
            b"2;x\nab\r\n",
            b"2\r\nabc\r\n",
            b"2\r\nab\n\n",
            b"1 2\r\n",
            b"FFFFFFFFFFFFFFFFF1\r\n",
            b"0\r\nX\r\r",
        ] {
            assert!(
                dechunk(&[bad]).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        let huge = [b'a'; MAX_CHUNK_OVERHEAD + 2];
        assert!(dechunk(&[b"1;", &huge]).is_err());
        // What came before the fault is kept for the client.
        let mut out = Vec::new();
        let (used, data, result) = Chunked::default().decode(b"2\r\nab\r\nZZ", &mut out);
        assert_eq!((used, data, out.as_slice()), (8, 2, &b"2\r\nab\r\n"[..]));
        assert!(result.is_err());
    }

    #[test]
    fn header_names_sort_in_any_case() {
        for (text, kind) in [
            ("Host", Name::Host),
            ("CONTENT-LENGTH", Name::ContentLength),
            ("Transfer-Encoding", Name::TransferEncoding),
            ("connection", Name::Connection),
            ("Keep-Alive", Name::HopByHop),
            ("Proxy-Connection", Name::HopByHop),
            ("Proxy-Authenticate", Name::HopByHop),
            ("proxy-authorization", Name::HopByHop),
            ("Expect", Name::Expect),
            ("Upgrade", Name::Upgrade),
            ("TE", Name::Te),
            ("Trailer", Name::Trailer),
            ("Origin", Name::Origin),
            ("Sec-Fetch-Site", Name::SecFetchSite),
            ("Anthropic-Version", Name::AnthropicVersion),
            ("Date", Name::Date),
            ("CoNtEnT-lEnGtH", Name::ContentLength),
            ("content-type", Name::Other),
            ("content_length", Name::Other),
            ("content.length", Name::Other),
            ("Content-Lengt@", Name::Other),
            ("hosts", Name::Other),
            ("x-te", Name::Other),
        ] {
            assert_eq!(name(text), kind, "{text}");
        }
        let hop: Vec<&str> = [
            "connection",
            "keep-alive",
            "proxy-connection",
            "te",
            "trailer",
        ]
        .into_iter()
        .chain([
            "transfer-encoding",
            "upgrade",
            "proxy-authenticate",
            "proxy-authorization",
        ])
        .collect();
        for h in hop {
            assert!(name(h).is_hop_by_hop(), "{h}");
        }
        assert!(!name("content-length").is_hop_by_hop());
    }

    #[test]
    fn numbers_and_dates() {
        assert_eq!(digits(b"0"), Some(0));
        assert_eq!(digits(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(digits(b"18446744073709551616"), None);
        assert_eq!(digits(b""), None);
        assert_eq!(digits(b" 1"), None);
        let mut out = Vec::new();
        push_decimal(&mut out, 0);
        push_hex(&mut out, 255);
        assert_eq!(out, b"0ff");
        assert_eq!(&imf_fixdate(784_111_777), b"Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(&imf_fixdate(0), b"Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(
            &imf_fixdate(1_709_210_096),
            b"Thu, 29 Feb 2024 12:34:56 GMT"
        );
        assert_eq!(http_date().len(), 29);
    }
}
