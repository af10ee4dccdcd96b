//! The protocols the server validates against: the built-in ones, every
//! `*.json` file of `protocols_dir` and every REDCap data dictionary there
//! (`*.csv`, imported as `clinval protocol import` prints it), each loaded
//! once at start-up by the
//! module itself (so a protocol the module refuses stops the start), in
//! the compact module when it can run it and the full one otherwise: the
//! build is the protocol's from then on.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use serde::Serialize;
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use crate::wasm_host::{Build, WasmHost, hex};

/// One protocol.
#[derive(Debug)]
pub struct Entry {
    /// Its `name`.
    pub name: String,
    /// Its `title`.
    pub title: String,
    /// Its `version`, if set.
    pub version: Option<String>,
    /// sha256 of its JSON document (hex).
    pub sha256: String,
    /// The JSON document, or the built-in name.
    pub source: String,
    /// The document itself.
    pub document: Box<RawValue>,
    /// The module's description: `{"name", "title", "version", "fields"}`.
    pub described: serde_json::Map<String, serde_json::Value>,
    /// Number of fields.
    pub fields: usize,
    /// The module that runs it.
    pub build: Build,
    /// The protocol compiled natively, when it has REDCap repeating forms:
    /// which forms repeat is told only by the data, so a batch is read
    /// once for them before the module checks it (as `clinval validate`
    /// does).
    pub repeating: Option<Arc<clinval_core::Protocol>>,
    /// Its `diary` rules (one a day), if any.
    pub diary: Option<clinval_core::protocol::Diary>,
}

/// A protocol's line in `GET /api/v1/protocols`.
#[derive(Debug, Serialize)]
pub struct Summary<'a> {
    name: &'a str,
    title: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<&'a str>,
    sha256: &'a str,
    fields: usize,
}

/// Every protocol, by name.
#[derive(Debug, Default)]
pub struct Protocols {
    by_name: BTreeMap<String, Arc<Entry>>,
}

/// What a protocol is served as.
#[derive(Clone, Copy)]
enum Name<'a> {
    /// A built-in protocol, under its name.
    Builtin(&'a str),
    /// A file, under its `name`, or this (its file's stem) without one.
    OrFile(&'a str),
}

#[derive(serde::Deserialize)]
struct Described {
    name: String,
    title: Option<String>,
    version: Option<String>,
    fields: Vec<serde::de::IgnoredAny>,
}

impl Protocols {
    /// Loads the built-in protocols and those in `dir`, through `host`.
    pub fn load(host: &WasmHost, dir: Option<&Path>) -> Result<Protocols> {
        let mut protocols = Protocols::default();
        for name in clinval_core::protocol::builtin_names() {
            let source = clinval_core::Protocol::builtin(name)?.source().to_owned();
            protocols.add(host, name, source, Name::Builtin(name))?;
        }
        let Some(dir) = dir else {
            return Ok(protocols);
        };
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .with_context(|| format!("cannot read protocols_dir {}", dir.display()))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| {
                path.extension()
                    .is_some_and(|ext| ext == "json" || ext == "csv")
            })
            .collect();
        files.sort();
        for path in files {
            let label = path.display().to_string();
            let text = if path.extension().is_some_and(|ext| ext == "csv") {
                dictionary(&path)?
            } else {
                std::fs::read_to_string(&path)
                    .with_context(|| format!("cannot read protocol {label}"))?
            };
            // A plain Table Schema often has no `name`: it is served under
            // its file's name then.
            let stem = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            protocols.add(host, &label, text, Name::OrFile(&stem))?;
        }
        Ok(protocols)
    }

    fn add(
        &mut self,
        host: &WasmHost,
        label: &str,
        document: String,
        name: Name<'_>,
    ) -> Result<()> {
        let builtin = match name {
            Name::Builtin(name) => Some(name),
            Name::OrFile(_) => None,
        };
        // Any date will do: only the protocol's description is wanted.
        let options = serde_json::json!({ "asOf": "2000-01-01" });
        let source = builtin.map_or_else(|| document.clone(), str::to_owned);
        let (mut client, handle, described) = host
            .validator(&source, &options, clinval_core::Format::Csv)
            .with_context(|| format!("protocol {label}"))?;
        client.free_validator(handle)?;
        let build = client.build;
        let info: Described = serde_json::from_slice(&described)
            .with_context(|| format!("the module's description of protocol {label}"))?;
        // A built-in is served under its built-in name; a file under its
        // `name`, or its file's name when it has none.
        let name = match name {
            Name::Builtin(name) => name.to_owned(),
            Name::OrFile(stem) => {
                let named =
                    serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&document)
                        .is_ok_and(|doc| doc.get("name").is_some_and(|n| !n.is_null()));
                if named { info.name } else { stem.to_owned() }
            }
        };
        if let Some(existing) = self.by_name.get(&name) {
            bail!(
                "protocol {label} is named `{}`, like protocol {} already loaded",
                name,
                existing.name
            );
        }
        // The module has checked it; natively too, for what the server
        // itself needs of it.
        let native = Arc::new(
            clinval_core::Protocol::from_json(&document)
                .with_context(|| format!("protocol {label}"))?,
        );
        let diary = native.diary;
        let repeating = (builtin.is_none() && clinval_core::FormCollector::new(&native).is_some())
            .then_some(native);
        let entry = Entry {
            repeating,
            diary,
            name: name.clone(),
            title: info.title.unwrap_or_else(|| name.clone()),
            version: info.version,
            sha256: hex(&Sha256::digest(document.as_bytes())),
            document: RawValue::from_string(document)
                .with_context(|| format!("protocol {label} is not JSON"))?,
            described: serde_json::from_slice(&described)?,
            fields: info.fields.len(),
            source,
            build,
        };
        self.by_name.insert(name, Arc::new(entry));
        Ok(())
    }

    /// The protocol named `name`.
    pub fn get(&self, name: &str) -> Option<Arc<Entry>> {
        self.by_name.get(name).cloned()
    }

    /// Every name, sorted.
    pub fn names(&self) -> Vec<&str> {
        self.by_name.keys().map(String::as_str).collect()
    }

    /// Every protocol's summary, by name.
    pub fn summaries(&self) -> Vec<Summary<'_>> {
        self.by_name
            .values()
            .map(|entry| Summary {
                name: &entry.name,
                title: &entry.title,
                version: entry.version.as_deref(),
                sha256: &entry.sha256,
                fields: entry.fields,
            })
            .collect()
    }
}

/// The REDCap data dictionary at `path` as protocol JSON, named after the
/// file; what the import left out is logged by field name (a dictionary's
/// names, never a record's values).
fn dictionary(path: &Path) -> Result<String> {
    let bytes =
        std::fs::read(path).with_context(|| format!("cannot read protocol {}", path.display()))?;
    if !clinval_core::redcap::is_dictionary(&bytes) {
        bail!(
            "protocol {}: a .csv file in protocols_dir must be a REDCap data dictionary, and its header is not one",
            path.display()
        );
    }
    let import = crate::import::dictionary(path, &bytes)?;
    for note in &import.notes {
        tracing::warn!(dictionary = %path.display(), field = %note.field, note = %note.message, "REDCap import note");
    }
    Ok(import.protocol)
}
