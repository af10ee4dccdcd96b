//! The workbook reader on any bytes: seeded with real xlsx, xls and ods
//! files, so mutations reach the zip and OLE containers, the sheet XML and
//! BIFF records, cell types and merged regions. Under the patient protocol
//! and the workbook fixtures' one, with a sheet chosen or not.
//!
//! Besides not panicking (and not hanging or exhausting memory: the
//! libFuzzer limits), a run checks that feeding the bytes in chunks gives
//! what feeding them at once gives: a workbook is gathered whole, so the
//! chunking must not matter.
//!
//! calamine's xls parser still panics on some damaged files (unchecked
//! record offsets; vendor/calamine/PATCHES.md); the reader catches that
//! and reports the file as unreadable, as `clinval` does. So a panic
//! raised inside calamine is left to that catch (libFuzzer's hook would
//! abort on it); any other panic is a finding.

#![no_main]

mod streaming;

use std::sync::{Arc, LazyLock, Once};

use clinval_core::{Format, Protocol, SheetChoice};
use libfuzzer_sys::fuzz_target;
use streaming::run;

static PROTOCOLS: LazyLock<[Arc<Protocol>; 2]> = LazyLock::new(|| {
    [
        Arc::new(Protocol::builtin("patient").expect("built-in protocol")),
        Arc::new(
            Protocol::from_json(include_str!("../../tests/fixtures/workbooks/types.protocol.json"))
                .expect("fixture protocol"),
        ),
    ]
});

/// Lets panics raised inside calamine reach the reader's catch.
fn leave_calamine_panics_to_the_reader() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let abort = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !info.location().is_some_and(|at| at.file().contains("calamine")) {
                abort(info);
            }
        }));
    });
}

fuzz_target!(|data: &[u8]| {
    leave_calamine_panics_to_the_reader();
    // The selector is the last byte, so the seed files' own first bytes
    // (their containers' magic) stay where the reader looks for them.
    let [input @ .., selector] = data else {
        return;
    };
    let protocol = &PROTOCOLS[usize::from(selector & 1)];
    let sheet = [None, Some("visits"), Some("2"), Some("nope")][usize::from(selector >> 1 & 3)];
    let mut options = streaming::options();
    options.max_workbook_bytes = 1 << 20;
    options.sheet = sheet.map(|s| SheetChoice(s.to_owned()));
    let whole = run(protocol, Format::Workbook, &options, input, input.len());
    let chunked = run(protocol, Format::Workbook, &options, input, 1 + usize::from(selector >> 3) * 97);
    assert_eq!(whole, chunked);
});
