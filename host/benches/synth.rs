//! Deterministic synthetic patient exports for benchmarks (no real person).
//!
//! The mix resembles the shared samples: mostly valid records, the rest
//! spread over every issue code, several date forms, full-width digits,
//! quoted names; written streaming, so any size takes constant memory.

#![allow(dead_code, reason = "each benchmark uses part of this")]

use std::io::{self, Write};

/// A small xorshift generator: fast, seedable, the same stream everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const FIRST: [&str; 10] = [
    "Anna", "Wei", "José", "Mary", "Jun", "Fang", "Lukas", "Min", "Sean", "Thi Lan",
];
const LAST: [&str; 8] = [
    "Chen", "Wang", "García", "Müller", "Li", "O'Brien", "Zhang", "Nguyen",
];
const CJK: [&str; 6] = ["李娜", "赵敏", "周杰", "吴霞", "陈静", "黄涛"];

/// Writes a CSV of `records` patient records (plus header) to `out`.
pub fn write_patients(out: &mut impl Write, records: u64, seed: u64) -> io::Result<()> {
    let mut rng = Rng(seed.max(1));
    writeln!(out, "patient_id,patient_name,age,visit_date,blood_pressure")?;
    let mut last_id = 0u64;
    for n in 0..records {
        let id = if n > 0 && rng.below(100) == 0 {
            last_id
        } else {
            1_000_000 + n
        };
        last_id = id;
        let name = match rng.below(10) {
            0 => CJK[rng.below(6) as usize].to_owned(),
            1 => format!(
                "\"{}, {}\"",
                LAST[rng.below(8) as usize],
                FIRST[rng.below(10) as usize]
            ),
            2 => format!(
                "  {}   {} ",
                FIRST[rng.below(10) as usize],
                LAST[rng.below(8) as usize]
            ),
            _ => format!(
                "{} {}",
                FIRST[rng.below(10) as usize],
                LAST[rng.below(8) as usize]
            ),
        };
        let age = 19 + rng.below(62);
        let age = match rng.below(50) {
            0 => "17".to_owned(),
            1 => "+45".to_owned(),
            2 => "７０".to_owned(),
            _ => age.to_string(),
        };
        let (y, m, d) = (2020 + rng.below(5), 1 + rng.below(12), 1 + rng.below(28));
        let date = match rng.below(20) {
            0 => format!("{y}{m:02}{d:02}"),
            1 => format!("{y}年{m}月{d}日"),
            2 => format!("{y}.{m}.{d}"),
            3 => format!("{:02}/{:02}/{y}", d.max(13), m),
            4 => format!("{m:02}/{d:02}/{y}"),
            5 if rng.below(4) == 0 => "2026-07-01".to_owned(),
            _ => format!("{y}-{m:02}-{d:02}"),
        };
        let (s, dia) = (95 + rng.below(80), 55 + rng.below(40));
        let bp = match rng.below(40) {
            0 => format!("{dia}/{s}"),
            1 => "120-80".to_owned(),
            2 => format!("{s} / {dia}"),
            _ => format!("{s}/{dia}"),
        };
        if rng.below(200) == 0 {
            writeln!(out, "P{id},{name},{age},{date}")?;
        } else {
            writeln!(out, "P{id},{name},{age},{date},{bp}")?;
        }
    }
    Ok(())
}

/// `target/bench-data/patients-{records}.csv`, written once.
pub fn data_file(records: u64) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-data");
    std::fs::create_dir_all(&dir).expect("create target/bench-data");
    let path = dir.join(format!("patients-{records}.csv"));
    if !path.exists() {
        let tmp = path.with_extension("tmp");
        let mut out = io::BufWriter::new(std::fs::File::create(&tmp).expect("create data file"));
        write_patients(&mut out, records, 42).expect("write data file");
        drop(out);
        std::fs::rename(&tmp, &path).expect("rename data file");
    }
    path
}

/// A benchmark's input files.
pub struct Inputs {
    /// Records in `big`.
    pub records: u64,
    /// Bytes of `big`.
    pub size: u64,
    /// `records` records.
    pub big: std::path::PathBuf,
    /// A tenth of them.
    pub small: std::path::PathBuf,
}

/// `--records N` (default 1,000,000) records and a tenth of them, written
/// once; the big file is described on stdout.
pub fn inputs() -> Inputs {
    let records = records_arg();
    let big = data_file(records);
    let small = data_file((records / 10).max(1));
    let size = std::fs::metadata(&big).map(|m| m.len()).unwrap_or(0);
    println!(
        "input: {} ({records} records, {:.1} MB)",
        big.display(),
        size as f64 / 1e6
    );
    Inputs {
        records,
        size,
        big,
        small,
    }
}

/// `--records N` from the command line (default 1,000,000).
fn records_arg() -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == "--records")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000)
}
