//! The host's layers hold: nothing below the HTTP layer (`serve`) names
//! HTTP — the services, the store, the pool, the module's host, the
//! protocols, the domain types — so each is used and tested without a
//! server, and the background processor depends on services only.

use std::path::{Path, PathBuf};

/// Words that only HTTP code has any business writing.
const HTTP: &[&str] = &[
    "axum",
    "hyper",
    "http::",
    "tower",
    "StatusCode",
    "crate::serve",
];

/// The library's files below the HTTP layer.
fn below_http() -> Vec<PathBuf> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    let mut dirs = vec![src.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path == src.join("serve")
                || path == src.join("main.rs")
                || path == src.join("lib.rs")
            {
                continue;
            }
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files
}

#[test]
fn nothing_below_the_http_layer_names_http() {
    let files = below_http();
    for layer in ["service", "store", "pool.rs", "wasm_host.rs"] {
        assert!(
            files.iter().any(|f| f.to_string_lossy().contains(layer)),
            "{layer} is checked"
        );
    }
    let mut found = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for word in HTTP.iter().filter(|w| code.contains(*w)) {
                found.push(format!("{}:{}: {word}", file.display(), n + 1));
            }
        }
    }
    assert!(
        found.is_empty(),
        "HTTP below the HTTP layer:\n{}",
        found.join("\n")
    );
}
