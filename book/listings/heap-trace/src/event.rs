//! One heap event, a finished recording of them, and its text format.
//!
//! The format is JSON lines, written and read by hand here so the crate has
//! no dependencies and builds for `wasm32-unknown-unknown` as well. The first
//! line says what follows; then comes one object per event:
//!
//! ```text
//! {"heap-trace":1,"events":2,"dropped":0}
//! {"seq":0,"thread":1,"kind":"alloc","addr":"0x5581a2b0","size":16,"align":8}
//! {"seq":1,"thread":1,"kind":"realloc","addr":"0x5581a2d0","size":32,"align":8,"old_addr":"0x5581a2b0","old_size":16}
//! ```
//!
//! Addresses are hexadecimal strings: they are names of blocks, not numbers to
//! compute with (and a JavaScript number could not hold all of them).

use std::collections::HashMap;
use std::fmt;
use std::io;

/// What the program asked the allocator for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// [`GlobalAlloc::alloc`](std::alloc::GlobalAlloc::alloc).
    Alloc,
    /// [`GlobalAlloc::alloc_zeroed`](std::alloc::GlobalAlloc::alloc_zeroed).
    AllocZeroed,
    /// [`GlobalAlloc::realloc`](std::alloc::GlobalAlloc::realloc).
    Realloc,
    /// [`GlobalAlloc::dealloc`](std::alloc::GlobalAlloc::dealloc).
    Dealloc,
}

impl Kind {
    /// Every kind, in the order the format lists them.
    pub const ALL: [Kind; 4] = [Kind::Alloc, Kind::AllocZeroed, Kind::Realloc, Kind::Dealloc];

    /// The name the text format uses: `"alloc"`, `"alloc_zeroed"`,
    /// `"realloc"` or `"dealloc"`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Alloc => "alloc",
            Kind::AllocZeroed => "alloc_zeroed",
            Kind::Realloc => "realloc",
            Kind::Dealloc => "dealloc",
        }
    }

    /// The kind with this name, if there is one.
    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|kind| kind.name() == name)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

// ANCHOR: event
/// One call to the allocator, as the recorder saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    /// Position in the recording: 0, 1, 2, ... in the order the recorder
    /// reserved slots. A number can be missing: an event not completed in
    /// time (counted in `dropped`), or a slot given back unused.
    pub seq: u64,
    /// 1 for the first thread that allocated while recording, 2 for the
    /// next, and so on.
    pub thread: u32,
    pub kind: Kind,
    /// The block. For `Realloc`, the new address. 0 when the call failed.
    pub addr: usize,
    /// Bytes asked for. For `Realloc`, the new size.
    pub size: usize,
    pub align: usize,
    /// `Realloc` only: the block it was asked to resize; 0 otherwise.
    pub old_addr: usize,
    /// `Realloc` only: that block's size; 0 otherwise.
    pub old_size: usize,
}
// ANCHOR_END: event

/// A finished recording.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Trace {
    /// The completed events, in `seq` order.
    pub events: Vec<Event>,
    /// Events the recorder could not keep: it was full, or the event was
    /// still unfinished when the trace was taken.
    pub dropped: u64,
}

/// Why [`Trace::parse`] refused its input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong on that line.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ParseError {}

/// The format's version, the value of `"heap-trace"` in the header line.
pub const FORMAT_VERSION: u64 = 1;

impl Trace {
    /// The trace as JSON lines: a header `{"heap-trace":1,"events":N,"dropped":D}`,
    /// then one object per event, each line ending in `\n`.
    pub fn to_json_lines(&self) -> String {
        let mut out = Vec::new();
        // Writing into a `Vec` cannot fail.
        let _ = self.write_json_lines(&mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    /// Writes [`to_json_lines`](Self::to_json_lines)'s text to `out`.
    pub fn write_json_lines(&self, out: &mut impl io::Write) -> io::Result<()> {
        writeln!(
            out,
            "{{\"heap-trace\":{FORMAT_VERSION},\"events\":{},\"dropped\":{}}}",
            self.events.len(),
            self.dropped
        )?;
        for e in &self.events {
            write!(
                out,
                "{{\"seq\":{},\"thread\":{},\"kind\":\"{}\",\"addr\":\"{:#x}\",\"size\":{},\"align\":{}",
                e.seq, e.thread, e.kind, e.addr, e.size, e.align
            )?;
            if e.kind == Kind::Realloc {
                write!(
                    out,
                    ",\"old_addr\":\"{:#x}\",\"old_size\":{}",
                    e.old_addr, e.old_size
                )?;
            }
            writeln!(out, "}}")?;
        }
        Ok(())
    }

    /// Reads the text [`to_json_lines`](Self::to_json_lines) writes.
    ///
    /// Strict: every field must be there once, with the right type; no other
    /// field is accepted; `seq` must increase; the header's event count must
    /// match. The error names the line and what is wrong with it.
    pub fn parse(text: &str) -> Result<Trace, ParseError> {
        let mut lines = text.lines().enumerate().map(|(i, line)| (i + 1, line));
        let Some((_, header)) = lines.next() else {
            return Err(ParseError {
                line: 1,
                message:
                    "empty input: expected the header {\"heap-trace\":1,\"events\":N,\"dropped\":D}"
                        .to_string(),
            });
        };
        let at = |line: usize| move |message: String| ParseError { line, message };
        let (expected, dropped) = parse_header(header).map_err(at(1))?;
        let mut events = Vec::new();
        let mut last_seq: Option<u64> = None;
        for (line, text) in lines {
            let event = parse_event(text).map_err(at(line))?;
            if let Some(last) = last_seq
                && event.seq <= last
            {
                return Err(ParseError {
                    line,
                    message: format!(
                        "`seq` {} does not follow {last}: events are listed in increasing `seq` order",
                        event.seq
                    ),
                });
            }
            last_seq = Some(event.seq);
            events.push(event);
        }
        if events.len() as u64 != expected {
            return Err(ParseError {
                line: events.len() + 2,
                message: format!(
                    "the header announces {expected} events but {} follow it",
                    events.len()
                ),
            });
        }
        Ok(Trace { events, dropped })
    }

    /// Live bytes after each event (as many values as events): the bytes in
    /// blocks this trace saw allocated and not yet freed.
    ///
    /// Blocks allocated before the recording began are not counted: freeing
    /// one does not lower the total, and resizing one does not raise it.
    /// Failed calls (address 0) change nothing.
    pub fn live_bytes(&self) -> Vec<usize> {
        let mut blocks: HashMap<usize, usize> = HashMap::new();
        let mut live = 0usize;
        let mut out = Vec::with_capacity(self.events.len());
        for e in &self.events {
            match e.kind {
                Kind::Alloc | Kind::AllocZeroed => {
                    if e.addr != 0 {
                        live = live.saturating_add(e.size);
                        if let Some(was) = blocks.insert(e.addr, e.size) {
                            // The same address twice without a free: the
                            // trace is inconsistent; keep the newer block.
                            live = live.saturating_sub(was);
                        }
                    }
                }
                Kind::Dealloc => {
                    if let Some(size) = blocks.remove(&e.addr) {
                        live = live.saturating_sub(size);
                    }
                }
                Kind::Realloc => {
                    if e.addr != 0
                        && let Some(old) = blocks.remove(&e.old_addr)
                    {
                        live = live.saturating_sub(old).saturating_add(e.size);
                        if let Some(was) = blocks.insert(e.addr, e.size) {
                            live = live.saturating_sub(was);
                        }
                    }
                }
            }
            out.push(live);
        }
        out
    }
}

/// A value in one of our flat objects.
#[derive(Debug)]
enum Value<'a> {
    Number(&'a str),
    Text(&'a str),
}

/// Splits `{"key":value,...}` into its fields, in order. Only what the format
/// uses: string values without escapes and unsigned integers.
fn fields(line: &str) -> Result<Vec<(&str, Value<'_>)>, String> {
    let trimmed = line.trim();
    if trimmed.is_empty() {
        return Err("empty line: every line is one JSON object".to_string());
    }
    let inner = trimmed
        .strip_prefix('{')
        .and_then(|rest| rest.strip_suffix('}'))
        .ok_or_else(|| "expected one JSON object, `{` ... `}`".to_string())?;
    let mut out = Vec::new();
    let mut rest = inner.trim_start();
    if rest.is_empty() {
        return Ok(out);
    }
    loop {
        let (key, after) = string(rest).map_err(|e| format!("a key: {e}"))?;
        let after = after.trim_start();
        let after = after
            .strip_prefix(':')
            .ok_or_else(|| format!("expected `:` after the key \"{key}\""))?
            .trim_start();
        let (value, after) = if after.starts_with('"') {
            let (text, after) =
                string(after).map_err(|e| format!("the value of \"{key}\": {e}"))?;
            (Value::Text(text), after)
        } else {
            let end = after
                .find(|c: char| c == ',' || c.is_whitespace())
                .unwrap_or(after.len());
            let (number, after) = after.split_at(end);
            if number.is_empty() {
                return Err(format!("\"{key}\" has no value"));
            }
            (Value::Number(number), after)
        };
        if out.iter().any(|(seen, _)| *seen == key) {
            return Err(format!("\"{key}\" appears twice"));
        }
        out.push((key, value));
        let after = after.trim_start();
        if after.is_empty() {
            return Ok(out);
        }
        rest = after
            .strip_prefix(',')
            .ok_or_else(|| format!("expected `,` or `}}` after \"{key}\""))?
            .trim_start();
    }
}

/// A `"..."` string at the start of `text`, and what follows it.
fn string(text: &str) -> Result<(&str, &str), String> {
    let body = text
        .strip_prefix('"')
        .ok_or_else(|| "expected a string in double quotes".to_string())?;
    let end = body
        .find('"')
        .ok_or_else(|| "a string is not closed".to_string())?;
    let (content, after) = body.split_at(end);
    if content.contains('\\') {
        return Err(format!(
            "\"{content}\" contains a `\\` escape, which this format never uses"
        ));
    }
    Ok((content, &after[1..]))
}

/// The fields of one line, taken out by name.
struct Fields<'a> {
    fields: Vec<(&'a str, Value<'a>)>,
}

impl<'a> Fields<'a> {
    fn take(&mut self, key: &str) -> Option<Value<'a>> {
        let at = self.fields.iter().position(|(k, _)| *k == key)?;
        Some(self.fields.remove(at).1)
    }

    fn required(&mut self, key: &str) -> Result<Value<'a>, String> {
        self.take(key)
            .ok_or_else(|| format!("the field \"{key}\" is missing"))
    }

    fn number(&mut self, key: &str) -> Result<u64, String> {
        number_value(key, self.required(key)?)
    }

    fn address(&mut self, key: &str) -> Result<usize, String> {
        address_value(key, self.required(key)?)
    }

    /// Fails on the first field nobody took.
    fn finish(self, what: &str) -> Result<(), String> {
        match self.fields.first() {
            Some((key, _)) => Err(format!("unknown field \"{key}\" in {what}")),
            None => Ok(()),
        }
    }
}

fn number_value(key: &str, value: Value<'_>) -> Result<u64, String> {
    let Value::Number(digits) = value else {
        return Err(format!(
            "\"{key}\" must be an unsigned integer, not a string"
        ));
    };
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "\"{key}\" must be an unsigned integer, found `{digits}`"
        ));
    }
    if digits.len() > 1 && digits.starts_with('0') {
        return Err(format!("\"{key}\": `{digits}` has a leading zero"));
    }
    digits
        .parse::<u64>()
        .map_err(|_| format!("\"{key}\": `{digits}` is too large"))
}

fn usize_value(key: &str, value: Value<'_>) -> Result<usize, String> {
    let n = number_value(key, value)?;
    usize::try_from(n).map_err(|_| format!("\"{key}\": {n} does not fit in this machine's usize"))
}

fn address_value(key: &str, value: Value<'_>) -> Result<usize, String> {
    let Value::Text(text) = value else {
        return Err(format!(
            "\"{key}\" must be a hexadecimal string such as \"0x7f3a10\""
        ));
    };
    let digits = text
        .strip_prefix("0x")
        .ok_or_else(|| format!("\"{key}\" must start with 0x, found \"{text}\""))?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!(
            "\"{key}\" must be hexadecimal digits after 0x, found \"{text}\""
        ));
    }
    usize::from_str_radix(digits, 16)
        .map_err(|_| format!("\"{key}\": \"{text}\" does not fit in this machine's usize"))
}

fn parse_header(line: &str) -> Result<(u64, u64), String> {
    let mut f = Fields {
        fields: fields(line)?,
    };
    let version = f.take("heap-trace").ok_or_else(|| {
        "the first line must be the header {\"heap-trace\":1,\"events\":N,\"dropped\":D}"
            .to_string()
    })?;
    let version = number_value("heap-trace", version)?;
    if version != FORMAT_VERSION {
        return Err(format!(
            "format version {version} is not known: this reader knows version {FORMAT_VERSION}"
        ));
    }
    let events = f.number("events")?;
    let dropped = f.number("dropped")?;
    f.finish("the header")?;
    Ok((events, dropped))
}

fn parse_event(line: &str) -> Result<Event, String> {
    let mut f = Fields {
        fields: fields(line)?,
    };
    let seq = f.number("seq")?;
    let thread = f.number("thread")?;
    let thread = u32::try_from(thread).map_err(|_| format!("\"thread\": {thread} is too large"))?;
    let kind = match f.required("kind")? {
        Value::Text(name) => Kind::from_name(name).ok_or_else(|| {
            format!(
                "\"kind\" must be one of alloc, alloc_zeroed, realloc, dealloc; found \"{name}\""
            )
        })?,
        Value::Number(n) => {
            return Err(format!(
                "\"kind\" must be a string (alloc, alloc_zeroed, realloc, dealloc), found {n}"
            ));
        }
    };
    let addr = f.address("addr")?;
    let size = usize_value("size", f.required("size")?)?;
    let align = usize_value("align", f.required("align")?)?;
    if !align.is_power_of_two() {
        return Err(format!("\"align\" must be a power of two, found {align}"));
    }
    let (old_addr, old_size) = if kind == Kind::Realloc {
        let old_addr = f.address("old_addr")?;
        let old_size = usize_value("old_size", f.required("old_size")?)?;
        (old_addr, old_size)
    } else {
        for key in ["old_addr", "old_size"] {
            if f.take(key).is_some() {
                return Err(format!(
                    "\"{key}\" belongs only to realloc events, not to {kind}"
                ));
            }
        }
        (0, 0)
    };
    f.finish("an event")?;
    Ok(Event {
        seq,
        thread,
        kind,
        addr,
        size,
        align,
        old_addr,
        old_size,
    })
}
