//! One large CSV file checked on several threads.
//!
//! A first pass, on the calling thread, cuts the file at record ends into
//! blocks of about [`BLOCK_BYTES`]; behind it, each thread takes the next
//! block found and checks its records in a session of its own, the header
//! first (so cells map to fields as in the first block), all but their
//! keys ([`Session::defer_keys`]). Then, in file order, one block after
//! another, the records are numbered, their keys checked on one validator
//! ([`Validator::check_keys`]), counted and written: the output is byte
//! for byte what one thread gives (`parallel/tests.rs` holds the two
//! together). A thread done with a block before the blocks ahead of it
//! leaves it for the thread whose turn comes first and checks the next.
//! Nothing is written before the pass has read the whole file.
//!
//! Only a file the first pass can cut safely is read this way: UTF-8 with
//! no NUL and no lone `\r` (so the text and its line numbers are the same
//! block by block), a header on its first line, the default quoting (so a
//! record end is a `\n` outside quotes, read as csv-core reads them), no
//! comment lines, no repeating forms (which depend on the whole file). Any
//! other input is read by one thread, as before; so is one the pass gives
//! up on (what the threads checked meanwhile is dropped).

use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::ThreadId;

use clinval_core::{
    Format, InputError, Issue, Outcome, Session, Sink, Summary, TableIssue, TextEncoding,
    Validator, Value,
};
use indicatif::ProgressBar;

use super::inputs::{Input, Source};
use super::worker::{BatchSink, Job};

/// About how much of the file one block holds (it ends at the next record
/// end).
const BLOCK_BYTES: u64 = 256 * 1024;

/// Smaller files are read by one thread: too few blocks to share.
const MIN_BYTES: u64 = 4 * BLOCK_BYTES;

/// The header record with its line break (read before each block after
/// the first), and the lines it takes.
#[derive(Debug)]
struct Header {
    bytes: Vec<u8>,
    lines: u64,
}

/// What the first pass has found so far, shared with the threads as it
/// goes: they check blocks while it reads on.
#[derive(Debug, Default)]
struct Cuts {
    header: Option<Arc<Header>>,
    blocks: Vec<Block>,
    /// Set once the pass is over: whether the file can be cut safely.
    /// Nothing is written before it is known.
    done: Option<bool>,
}

/// One block: `start..end` of the file, from the line `first_line`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Block {
    start: u64,
    end: u64,
    first_line: u64,
}

/// A block as a thread takes it: which one, and how many lines later in
/// the file than in its session its lines are (a later block's session
/// reads the header first).
#[derive(Debug, Clone, Copy)]
struct Part {
    index: usize,
    block: Block,
    shift: u64,
}

impl Part {
    fn new(header_lines: u64, index: usize, block: Block) -> Part {
        let shift = match index {
            0 => 0,
            _ => block.first_line - (header_lines + 1),
        };
        Part {
            index,
            block,
            shift,
        }
    }
}

/// Where the first pass is in the quoting of a record (csv-core's states,
/// as far as a record end depends on them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quoting {
    /// At the start of a cell: a quote opens a quoted cell.
    CellStart,
    /// In an unquoted cell: a quote is a character.
    Unquoted,
    /// In a quoted cell: a line break is part of the cell.
    Quoted,
    /// Right after a quote in a quoted cell: a second quote is one quote
    /// character; anything else closes the cell.
    QuoteInQuoted,
}

impl Quoting {
    /// The state after `b`, and whether `b` ended a record.
    fn step(self, b: u8, delimiter: u8, quote: u8) -> (Quoting, bool) {
        match self {
            Quoting::Quoted if b == quote => (Quoting::QuoteInQuoted, false),
            Quoting::Quoted => (Quoting::Quoted, false),
            Quoting::QuoteInQuoted if b == quote => (Quoting::Quoted, false),
            Quoting::CellStart if b == quote => (Quoting::Quoted, false),
            _ if b == b'\n' => (Quoting::CellStart, true),
            _ if b == delimiter || b == b'\r' => (Quoting::CellStart, false),
            _ => (Quoting::Unquoted, false),
        }
    }
}

/// The file `input` is, if it should and may be read on several threads
/// (see the module comment; the first pass has the last word); `None` to
/// read it on one.
fn eligible<'i>(input: &'i Input, job: &Job<'_>) -> Option<&'i Path> {
    let dialect = &input.options.dialect;
    let utf8 = |e: Option<TextEncoding>| e.is_none_or(|e| e == TextEncoding::Utf8);
    let eligible = job.threads > 1
        && job.wasm.is_none()
        && input.format == Format::Csv
        && input.size >= MIN_BYTES
        && dialect.header
        && dialect.double_quote
        && dialect.escape.is_none()
        && dialect.comment.is_none()
        && dialect.quote != b'\n'
        && dialect.quote != b'\r'
        && utf8(input.options.encoding)
        && utf8(input.protocol.encoding)
        && clinval_core::FormCollector::new(&input.protocol).is_none();
    match &input.source {
        Source::Files(files) if eligible => match files.as_slice() {
            [path] => Some(path),
            _ => None,
        },
        _ => None,
    }
}

/// The first pass over `path` (see the module comment), handing what it
/// finds to `publish` as it goes; whether the file can be cut safely. A
/// read error is left to the one-thread reading, which reports it.
fn cut(
    path: &Path,
    delimiter: u8,
    quote: u8,
    publish: &mut dyn FnMut(&mut Cutter),
) -> std::io::Result<bool> {
    let mut file = std::fs::File::open(path)?;
    let mut cutter = Cutter {
        delimiter,
        quote,
        quoting: Quoting::CellStart,
        at: 0,
        newlines: 0,
        after_cr: false,
        header: None,
        blocks: Vec::new(),
        block_start: 0,
        block_line: 1,
    };
    let mut buffer = vec![0u8; BLOCK_BYTES as usize];
    let mut kept = 0; // the start of a character cut by the last read
    loop {
        let n = match file.read(&mut buffer[kept..]) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let data = &buffer[..kept + n];
        let text = match std::str::from_utf8(data) {
            Ok(_) => data,
            Err(e) if n > 0 && e.error_len().is_none() => &data[..e.valid_up_to()],
            Err(_) => return Ok(false),
        };
        if !cutter.scan(text) {
            return Ok(false);
        }
        publish(&mut cutter);
        let len = text.len();
        buffer.copy_within(len..kept + n, 0);
        kept = kept + n - len;
        if n == 0 {
            break;
        }
    }
    let whole = cutter.finish();
    publish(&mut cutter);
    Ok(whole)
}

/// The first pass's state.
struct Cutter {
    delimiter: u8,
    quote: u8,
    quoting: Quoting,
    /// Offset of the next byte.
    at: u64,
    /// `\n`s before it.
    newlines: u64,
    /// The last byte was a `\r`.
    after_cr: bool,
    /// The header, once read.
    header: Option<Arc<Header>>,
    /// Blocks found and not yet published.
    blocks: Vec<Block>,
    block_start: u64,
    block_line: u64,
}

impl Cutter {
    /// Reads the next bytes; false when the file cannot be cut safely.
    fn scan(&mut self, bytes: &[u8]) -> bool {
        if !self.checked(bytes) {
            return false;
        }
        let mut bytes = bytes;
        if self.header.is_none() {
            let bom = if self.at == 0 && bytes.starts_with(b"\xEF\xBB\xBF") {
                3
            } else {
                0
            };
            // The header must be whole in the first bytes read.
            let Some(taken) = self.header_record(&bytes[bom..]) else {
                return false;
            };
            let (head, rest) = bytes.split_at(bom + taken);
            self.newlines += memchr::memchr_iter(b'\n', head).count() as u64;
            self.at += head.len() as u64;
            bytes = rest;
        }
        let mut newlines = 0;
        if self.quoting == Quoting::Quoted || memchr::memchr(self.quote, bytes).is_some() {
            for (i, &b) in bytes.iter().enumerate() {
                newlines += u64::from(b == b'\n');
                let (quoting, record_end) = self.quoting.step(b, self.delimiter, self.quote);
                self.quoting = quoting;
                if record_end {
                    self.record_end(i + 1, newlines);
                }
            }
        } else {
            // No quote: every line break ends a record, and the last byte
            // alone says where the next one starts. A block ends at the
            // first line break past its length; those before are counted,
            // not visited one by one.
            let count = |bytes: &[u8]| memchr::memchr_iter(b'\n', bytes).count() as u64;
            let mut from = 0;
            loop {
                // The first index whose record end would be long enough.
                let long_enough = (self.block_start + BLOCK_BYTES).saturating_sub(self.at + 1);
                let search = usize::try_from(long_enough).map_or(bytes.len(), |i| i.max(from));
                let Some(i) = bytes
                    .get(search..)
                    .and_then(|rest| memchr::memchr(b'\n', rest))
                else {
                    break;
                };
                let end = search + i;
                newlines += count(&bytes[from..=end]);
                self.record_end(end + 1, newlines);
                from = end + 1;
            }
            newlines += count(&bytes[from..]);
            if let Some(&last) = bytes.last() {
                self.quoting = match self.quoting.step(last, self.delimiter, self.quote).0 {
                    Quoting::CellStart => Quoting::CellStart,
                    _ => Quoting::Unquoted,
                };
            }
        }
        self.newlines += newlines;
        self.at += bytes.len() as u64;
        true
    }

    /// The length of the header record at the start of `bytes` with the
    /// blank lines before it, if it ends in them and csv-core and the
    /// header reader take it alike: a record with text.
    fn header_record(&mut self, bytes: &[u8]) -> Option<usize> {
        let start = bytes.iter().position(|&b| b != b'\n' && b != b'\r')?;
        let mut quoting = Quoting::CellStart;
        let end = bytes[start..].iter().position(|&b| {
            let (next, record_end) = quoting.step(b, self.delimiter, self.quote);
            quoting = next;
            record_end
        })?;
        let record = &bytes[start..=start + end];
        // A line of white space before the header is skipped, not read as
        // the header: leave such files to one thread.
        if !record.iter().any(u8::is_ascii_alphanumeric) {
            return None;
        }
        self.header = Some(Arc::new(Header {
            bytes: record.to_vec(),
            lines: memchr::memchr_iter(b'\n', record).count() as u64,
        }));
        Some(start + end + 1)
    }

    /// Whether `bytes` hold no NUL (binary) and no `\r` but before `\n`.
    fn checked(&mut self, bytes: &[u8]) -> bool {
        if memchr::memchr(0, bytes).is_some()
            || (self.after_cr && bytes.first().is_some_and(|&b| b != b'\n'))
        {
            return false;
        }
        let lone_cr = memchr::memchr_iter(b'\r', bytes)
            .any(|i| bytes.get(i + 1).is_some_and(|&b| b != b'\n'));
        if let Some(&last) = bytes.last() {
            self.after_cr = last == b'\r';
        }
        !lone_cr
    }

    /// A record ends `upto` bytes into the bytes being scanned, after
    /// `newlines` of their line breaks: a block ends here if it is long
    /// enough.
    fn record_end(&mut self, upto: usize, newlines: u64) {
        let end = self.at + upto as u64;
        if end >= self.block_start + BLOCK_BYTES {
            self.blocks.push(Block {
                start: self.block_start,
                end,
                first_line: self.block_line,
            });
            self.block_start = end;
            self.block_line = self.newlines + newlines + 1;
        }
    }

    /// Ends the pass at the end of the file, with its last block; whether
    /// the file can be cut safely (it does not end inside quotes or on a
    /// lone `\r`).
    fn finish(&mut self) -> bool {
        if self.at > self.block_start {
            self.blocks.push(Block {
                start: self.block_start,
                end: self.at,
                first_line: self.block_line,
            });
        }
        self.header.is_some() && !self.after_cr && self.quoting != Quoting::Quoted
    }
}

/// What a block's session handed out besides its records' own parts (see
/// [`Records`]), in order.
enum Event {
    /// A lean record's issues (most records have none, and no event):
    /// the record's index in the block.
    Issues { record: usize, issues: Vec<Issue> },
    /// A header issue, after `at` records.
    Table { at: usize, issue: Box<TableIssue> },
}

/// One thread's memory for the block it has, kept from block to block
/// (fresh vectors for each would be fresh pages).
#[derive(Default)]
struct Buffers {
    /// The block's bytes.
    bytes: Vec<u8>,
    records: Records,
}

/// A block's records, checked but for their keys: whole, or (when only
/// issues are written) as columns: a line each, the values of the fields
/// key checks read, and events for the few with issues; a valid record's
/// turn then reads little.
#[derive(Default)]
struct Records {
    /// Kept whole.
    whole: Vec<Outcome<'static>>,
    /// Each lean record's line.
    lines: Vec<u64>,
    /// The values of the fields key checks read, lean record after lean
    /// record.
    key_values: Vec<Value<'static>>,
    events: Vec<Event>,
}

impl Records {
    fn clear(&mut self) {
        self.whole.clear();
        self.lines.clear();
        self.key_values.clear();
        self.events.clear();
    }

    /// How many records there are so far.
    fn len(&self) -> usize {
        self.whole.len() + self.lines.len()
    }
}

/// Takes a block's records into its thread's [`Records`].
struct Checked<'b> {
    records: &'b mut Records,
    /// The first block's header issues (later blocks read the same header
    /// again and say the same).
    header_issues: bool,
    kept: &'b Kept,
}

/// What of a record its turn reads.
enum Kept {
    /// All of it (valid records are written).
    Whole,
    /// Its line, its issues and these fields' values, which key checks
    /// read ([`Validator::key_fields`]).
    Lean(Vec<usize>),
}

impl Sink for Checked<'_> {
    fn record(&mut self, outcome: &Outcome<'_>) {
        let records = &mut *self.records;
        match self.kept {
            Kept::Whole => records.whole.push(outcome.clone().into_owned()),
            Kept::Lean(fields) => {
                for &f in fields {
                    // A malformed record has no values.
                    let value = outcome
                        .values
                        .get(f)
                        .map_or(Value::Missing, Value::to_static);
                    records.key_values.push(value);
                }
                if !outcome.issues.is_empty() {
                    records.events.push(Event::Issues {
                        record: records.lines.len(),
                        issues: outcome.issues.clone(),
                    });
                }
                records.lines.push(outcome.line);
            }
        }
    }

    fn table_issue(&mut self, issue: &TableIssue) {
        if self.header_issues {
            let at = self.records.len();
            let issue = Box::new(issue.clone());
            self.records.events.push(Event::Table { at, issue });
        }
    }
}

/// The part done in file order, one block after another.
struct Ordered {
    /// The block whose turn it is.
    next: usize,
    /// Checks every record's keys, in order.
    keys: Validator,
    summary: Summary,
    /// The first block's summary: its warnings and encoding are the file's.
    first: Option<Summary>,
    failed: Option<String>,
    /// The first pass found the file cannot be cut: nothing was written,
    /// and it is read on one thread instead.
    abandoned: bool,
    /// Blocks checked before their turn, by index: a thread that is done
    /// before the blocks ahead of its own leaves it here and checks
    /// another, rather than wait.
    ready: BTreeMap<usize, Done>,
    /// The buffers of blocks whose turn is over, for the next ones, with
    /// the thread that filled them: each takes its own back (memory last
    /// written on another core is slow to write again).
    spare: Vec<(ThreadId, Buffers)>,
}

/// A checked block waiting for its turn.
struct Done {
    owner: ThreadId,
    part: Part,
    buffers: Buffers,
    result: Result<Summary, String>,
}

impl Ordered {
    fn stopped(&self) -> bool {
        self.failed.is_some() || self.abandoned
    }
}

/// Validates `input` on `job.threads` threads, if it should and can be
/// (see the module comment), writing through sinks made by `sink`: the
/// summary, or why the input could not be validated; `None` to read it
/// on one thread (nothing was written).
pub fn run<'s>(
    job: &Job<'_>,
    input: &Input,
    sink: impl Fn() -> BatchSink<'s, 's> + Sync,
) -> Option<Result<Summary, String>> {
    let path = eligible(input, job)?;
    let session = || {
        let mut options = input.options.clone();
        options.encoding = Some(TextEncoding::Utf8);
        let mut session = Session::new(Arc::clone(&input.protocol), Format::Csv, &options);
        for (fk, keys) in &input.references {
            session.set_referenced_keys(*fk, Arc::clone(keys));
        }
        session.defer_keys();
        session
    };
    let keys = session().key_checker();
    let kept = match job.want_records {
        true => Kept::Whole,
        false => Kept::Lean(keys.key_fields()),
    };
    let ordered = Mutex::new(Ordered {
        next: 0,
        keys,
        summary: Summary::default(),
        first: None,
        failed: None,
        abandoned: false,
        ready: BTreeMap::new(),
        spare: Vec::new(),
    });
    let turn = Condvar::new();
    let cuts = Mutex::new(Cuts::default());
    let found = Condvar::new();
    let claimed = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..job.threads {
            scope.spawn(|| {
                let _unwinding = Unwinding {
                    ordered: &ordered,
                    turn: &turn,
                };
                let mut buffers = Buffers::default();
                loop {
                    let index = claimed.fetch_add(1, Ordering::Relaxed);
                    let claim = {
                        let mut cuts = lock(&cuts);
                        while cuts.blocks.len() <= index && cuts.done.is_none() {
                            cuts = wait(&found, cuts);
                        }
                        match (cuts.blocks.get(index), cuts.done) {
                            (_, Some(false)) => None,
                            (None, _) => return,
                            (Some(&block), _) => Some((block, cuts.header.clone())),
                        }
                    };
                    // The pass gave up: whoever learns it stops the others
                    // (one may wait for the turn of a block no one took).
                    let Some((block, header)) = claim else {
                        lock(&ordered).abandoned = true;
                        turn.notify_all();
                        return;
                    };
                    // Every block ends after the header: a later one has it.
                    let header_lines = header.as_ref().map_or(0, |h| h.lines);
                    let part = Part::new(header_lines, index, block);
                    let result = check_block(
                        session(),
                        path,
                        header.as_deref(),
                        part,
                        &kept,
                        &mut buffers,
                    );
                    // The first turn waits for the pass to end (nothing is
                    // written before), without holding up the others.
                    let whole = index != 0 || whole_pass(&cuts, &found);
                    let mut state = lock(&ordered);
                    state.abandoned |= !whole;
                    let mut done = Some(Done {
                        owner: std::thread::current().id(),
                        part,
                        buffers: std::mem::take(&mut buffers),
                        result,
                    });
                    while let Some(block) = done.take() {
                        if state.stopped() {
                            break;
                        }
                        if state.next == index {
                            take_turns(&mut state, block, &sink, &kept, input.size, job);
                        } else if state.ready.len() < ready_limit(job.threads) {
                            // Not its turn yet: left for the thread whose
                            // turn comes first, while this one checks on.
                            state.ready.insert(index, block);
                        } else {
                            done = Some(block);
                            state = wait(&turn, state);
                        }
                    }
                    let me = std::thread::current().id();
                    let mine = state.spare.iter().position(|(owner, _)| *owner == me);
                    buffers = mine.map_or_else(Buffers::default, |i| state.spare.swap_remove(i).1);
                    turn.notify_all();
                    if state.stopped() {
                        return;
                    }
                }
            });
        }
        // This thread makes the first pass, the others check behind it.
        let mut publish = |cutter: &mut Cutter| {
            let mut cuts = lock(&cuts);
            if cuts.header.is_none() {
                cuts.header.clone_from(&cutter.header);
            }
            if !cutter.blocks.is_empty() {
                cuts.blocks.append(&mut cutter.blocks);
                found.notify_all();
            }
        };
        let dialect = &input.options.dialect;
        let ended = PassEnded {
            cuts: &cuts,
            found: &found,
        };
        let whole = cut(path, dialect.delimiter, dialect.quote, &mut publish);
        ended.with(whole.unwrap_or(false));
    });
    let state = ordered.into_inner().unwrap_or_else(PoisonError::into_inner);
    // Also when the pass gave up before any block was checked.
    if state.abandoned || lock(&cuts).done != Some(true) {
        return None;
    }
    if let Some(failed) = state.failed {
        return Some(Err(failed));
    }
    let mut summary = state.summary;
    if summary.records == 0 {
        return Some(Err(
            InputError::NoRecords("a header but no data rows").to_string()
        ));
    }
    if let Some(first) = state.first {
        summary.warnings = first.warnings;
        summary.encoding = first.encoding;
    }
    Some(Ok(summary))
}

/// Stops the other threads if this one panics, so that none waits for a
/// turn that never comes (the panic then ends the run, as on one thread).
struct Unwinding<'o> {
    ordered: &'o Mutex<Ordered>,
    turn: &'o Condvar,
}

impl Drop for Unwinding<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let failed = "a thread checking the file failed";
            lock(self.ordered)
                .failed
                .get_or_insert_with(|| failed.into());
            self.turn.notify_all();
        }
    }
}

/// Tells the threads the first pass ended, also if it panicked (as not
/// whole: they stop rather than wait for blocks that never come).
struct PassEnded<'c> {
    cuts: &'c Mutex<Cuts>,
    found: &'c Condvar,
}

impl PassEnded<'_> {
    fn with(self, whole: bool) {
        lock(self.cuts).done = Some(whole);
    }
}

impl Drop for PassEnded<'_> {
    fn drop(&mut self) {
        lock(self.cuts).done.get_or_insert(false);
        self.found.notify_all();
    }
}

/// Waits for the first pass to end; whether it found the file can be cut.
fn whole_pass(cuts: &Mutex<Cuts>, found: &Condvar) -> bool {
    let mut cuts = lock(cuts);
    loop {
        match cuts.done {
            Some(whole) => return whole,
            None => cuts = wait(found, cuts),
        }
    }
}

/// `mutex`'s guard; a thread that panicked holding it left nothing half
/// done that the others read (its panic ends the run).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Waits on `condvar` with `guard` (see [`lock`]).
fn wait<'g, T>(condvar: &Condvar, guard: MutexGuard<'g, T>) -> MutexGuard<'g, T> {
    condvar.wait(guard).unwrap_or_else(PoisonError::into_inner)
}

/// Reads and checks one block: its records (but their keys) and, for the
/// first block, header issues; the summary of its session or its error.
fn check_block(
    mut session: Session,
    path: &Path,
    header: Option<&Header>,
    part: Part,
    kept: &Kept,
    buffers: &mut Buffers,
) -> Result<Summary, String> {
    let Buffers { bytes, records } = buffers;
    records.clear();
    let mut checked = Checked {
        records,
        header_issues: part.index == 0,
        kept,
    };
    // An error's line, like the records', as the whole file counts it.
    let fail = |e: InputError| e.lines_later(part.shift).to_string();
    read_block(path, part.block, bytes)?;
    if let Some(header) = header.filter(|_| part.index > 0) {
        session.feed(&header.bytes, &mut checked).map_err(fail)?;
    }
    session.feed(bytes, &mut checked).map_err(fail)?;
    match session.finish(&mut checked) {
        Ok(summary) => Ok(summary),
        // A block of blank lines has no record; the file may have.
        Err(InputError::NoRecords(_)) => Ok(session.summary().clone()),
        Err(e) => Err(fail(e)),
    }
}

/// Reads `block` into `bytes`.
fn read_block(path: &Path, block: Block, bytes: &mut Vec<u8>) -> Result<(), String> {
    let fail = |e: std::io::Error| format!("cannot read {}: {e}", path.display());
    let mut file = std::fs::File::open(path).map_err(fail)?;
    file.seek(SeekFrom::Start(block.start)).map_err(fail)?;
    bytes.clear();
    let len = block.end - block.start;
    // Into the vector's spare room, which is not zeroed first.
    let read = file.take(len).read_to_end(bytes).map_err(fail)?;
    match read as u64 == len {
        true => Ok(()),
        false => Err(format!(
            "cannot read {}: it changed while read",
            path.display()
        )),
    }
}

/// How many checked blocks may wait for their turn: enough that no
/// thread waits while the one whose turn it is checks a slow block, few
/// enough to bound memory (a block's bytes and records: ~1 MB). The tests
/// allow one, so that their runs both leave blocks and wait for room.
fn ready_limit(threads: usize) -> usize {
    if cfg!(test) { 1 } else { 2 * threads }
}

/// The turn of `block` (the next one), then of the blocks after it that
/// wait in `state.ready`, while none fails.
fn take_turns<'s>(
    state: &mut Ordered,
    block: Done,
    sink: &impl Fn() -> BatchSink<'s, 's>,
    kept: &Kept,
    size: u64,
    job: &Job<'_>,
) {
    let mut next = Some(block);
    while let Some(mut block) = next.take() {
        let part = block.part;
        commit(
            state,
            part,
            &mut block.buffers,
            block.result,
            kept,
            &mut sink(),
            job.progress,
        );
        if part.index == 0 {
            let records = expected_records(size, part.block, state);
            state.keys.expect_records(records);
        }
        state.next += 1;
        state.spare.push((block.owner, block.buffers));
        if !state.stopped() {
            next = state.ready.remove(&state.next);
        }
    }
}

/// How many records the whole file of `size` bytes has, about, judging by
/// the first block (so that the key checks' indexes need not grow by
/// doubling, rehashing every key on the turns' one thread).
fn expected_records(size: u64, first: Block, state: &Ordered) -> usize {
    let bytes = (first.end - first.start).max(1);
    let records = u128::from(size) * u128::from(state.summary.records) / u128::from(bytes);
    usize::try_from(records).unwrap_or(usize::MAX)
}

/// A block's turn: its records numbered, their lines moved to the file's,
/// their keys checked, counted and written.
fn commit(
    state: &mut Ordered,
    part: Part,
    buffers: &mut Buffers,
    result: Result<Summary, String>,
    kept: &Kept,
    sink: &mut BatchSink<'_, '_>,
    progress: Option<&ProgressBar>,
) {
    let fields = state.keys.protocol().fields.len();
    // A lean record's turn reads it through this one outcome.
    let mut lean = Outcome {
        row: 0,
        line: 0,
        values: vec![Value::Missing; fields],
        extras: Vec::new(),
        issues: Vec::new(),
        hidden: Vec::new(),
        calculated: Vec::new(),
        sheet: None,
    };
    let take_turn = |state: &mut Ordered, sink: &mut BatchSink, outcome: &mut Outcome<'_>| {
        outcome.row = state.summary.records + 1;
        outcome.line += part.shift;
        state.keys.check_keys(outcome);
        state.summary.add(outcome);
        sink.record(outcome);
    };
    let records = &mut buffers.records;
    let count = records.len();
    // Peeked by reference: a peeked event moved out and back for every
    // record was a store-forwarding stall each time (5% of the run).
    let mut events = records.events.iter_mut().peekable();
    let mut whole = records.whole.drain(..);
    let mut key_values = records.key_values.drain(..);
    for i in 0..=count {
        while let Some(Event::Table { issue, .. }) =
            events.next_if(|e| matches!(e, Event::Table { at, .. } if *at == i))
        {
            state.summary.add_table_issue(issue);
            sink.table_issue(issue);
        }
        if i == count {
            break;
        }
        match kept {
            Kept::Whole => {
                if let Some(mut outcome) = whole.next() {
                    take_turn(state, sink, &mut outcome);
                }
            }
            Kept::Lean(read) => {
                for &f in read {
                    lean.values[f] = key_values.next().unwrap_or(Value::Missing);
                }
                lean.line = records.lines[i];
                lean.issues.clear();
                if let Some(Event::Issues { issues, .. }) =
                    events.next_if(|e| matches!(e, Event::Issues { record, .. } if *record == i))
                {
                    lean.issues = std::mem::take(issues);
                }
                take_turn(state, sink, &mut lean);
            }
        }
    }
    records.events.clear();
    sink.flush();
    if let Some(bar) = progress {
        bar.inc(part.block.end - part.block.start);
    }
    match result {
        Ok(summary) if state.first.is_none() => state.first = Some(summary),
        Ok(_) => {}
        Err(message) => state.failed = Some(message),
    }
}

#[cfg(test)]
mod tests;
