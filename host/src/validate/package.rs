//! `clinval validate datapackage.json`: every tabular resource of a Data
//! Package with its own schema, and its foreign keys checked against the
//! keys of the resources they refer to.
//!
//! The referenced keys are collected first, by validating the referenced
//! resource with a [`KeyCollector`]: memory grows with the referenced keys
//! (16 bytes each), not with the data.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clinval_core::package::{Data, Package, Resource, Schema, read_package};
use clinval_core::{Format, KeyCollector, Options, Protocol, ReferencedKeys, Session};

use super::inputs::{Input, Label, Source, format_of};
use super::{print_warnings, read_source};

/// The inputs of the package at `path`: all its tabular resources, or the
/// one named `only`.
pub fn inputs(path: &Path, only: Option<&str>, options: &Options) -> Result<Vec<Input>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let package = read_package(&text).with_context(|| path.display().to_string())?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tables = Vec::new();
    for resource in &package.resources {
        tables.push(table(dir, resource, options).with_context(|| path.display().to_string())?);
    }
    for name in &package.skipped {
        eprintln!(
            "{}: resource `{name}` has no schema: not a table, not validated",
            path.display()
        );
    }
    let picked: Vec<usize> = match only {
        Some(name) => match package.resources.iter().position(|r| r.name == name) {
            Some(i) => vec![i],
            None => bail!(
                "{}: no resource named `{name}` (tabular resources: {})",
                path.display(),
                names(&package)
            ),
        },
        None => (0..tables.len()).collect(),
    };
    if picked.is_empty() {
        bail!(
            "{}: the package has no tabular resource (none has a schema)",
            path.display()
        );
    }
    let mut collected: HashMap<(usize, Vec<String>), Arc<ReferencedKeys>> = HashMap::new();
    let mut inputs = Vec::new();
    for i in picked {
        let mut input = tables[i].clone();
        for (k, fk) in input.protocol.foreign_keys.iter().enumerate() {
            let at = format!(
                "{}.schema.foreignKeys[{k}].reference",
                package.resources[i].path
            );
            let target = match &fk.resource {
                None => i,
                Some(name) => package
                    .resources
                    .iter()
                    .position(|r| r.name == *name)
                    .with_context(|| {
                        format!(
                            "{}: data package key `{at}.resource`: no tabular resource named `{name}` (tabular resources: {})",
                            path.display(),
                            names(&package)
                        )
                    })?,
            };
            let key = (target, fk.reference_fields.clone());
            let keys = match collected.get(&key) {
                Some(keys) => Arc::clone(keys),
                None => {
                    let keys = collect(&tables[target], &fk.reference_fields)
                        .map_err(|field| {
                            anyhow::anyhow!(
                                "{}: data package key `{at}.fields`: resource `{}` has no field `{field}`",
                                path.display(),
                                package.resources[target].name
                            )
                        })?
                        .with_context(|| format!("resource `{}`", package.resources[target].name))?;
                    let keys = Arc::new(keys);
                    collected.insert(key, Arc::clone(&keys));
                    keys
                }
            };
            input.references.push((k, keys));
        }
        inputs.push(input);
    }
    Ok(inputs)
}

fn names(package: &Package) -> String {
    let names: Vec<&str> = package.resources.iter().map(|r| r.name.as_str()).collect();
    names.join(", ")
}

/// One resource as an input: its schema compiled, its files found.
fn table(dir: &Path, resource: &Resource, options: &Options) -> Result<Input> {
    let at = &resource.path;
    let schema = match &resource.schema {
        Schema::Inline(text) => text.clone(),
        Schema::File(file) => std::fs::read_to_string(dir.join(file))
            .with_context(|| format!("data package key `{at}.schema`: cannot read {file}"))?,
    };
    let protocol =
        Protocol::from_json(&schema).with_context(|| format!("data package key `{at}.schema`"))?;
    print_warnings(&format!("{at}.schema"), &protocol);
    let mut options = options.clone();
    options.dialect = resource.dialect;
    let declared = resource.format.as_deref().map(|f| {
        f.parse::<Format>()
            .with_context(|| format!("data package key `{at}.format`"))
    });
    let (source, size, implied) = match &resource.data {
        Data::Inline { text, json } => {
            let bytes: Arc<[u8]> = Arc::from(text.as_bytes());
            let implied = json.then_some(Format::Json);
            (
                Source::Inline(Arc::clone(&bytes)),
                bytes.len() as u64,
                implied,
            )
        }
        Data::Files(files) => {
            let mut paths: Vec<PathBuf> = Vec::new();
            let mut size = 0;
            for (k, file) in files.iter().enumerate() {
                let full = dir.join(file);
                let key = if files.len() > 1 {
                    format!("{at}.path[{k}]")
                } else {
                    format!("{at}.path")
                };
                let meta = std::fs::metadata(&full)
                    .with_context(|| format!("data package key `{key}`: cannot read {file}"))?;
                size += meta.len();
                paths.push(full);
            }
            let implied = format_of(&paths[0]);
            (Source::Files(paths), size, implied)
        }
    };
    let format = match (implied, declared) {
        (Some(Format::Json), _) if matches!(resource.data, Data::Inline { json: true, .. }) => {
            Format::Json
        }
        (_, Some(format)) => format?,
        (implied, None) => implied.with_context(|| {
            format!(
                "data package key `{at}`: cannot tell the format; give `format` (csv, json, ndjson)"
            )
        })?,
    };
    Ok(Input {
        source,
        label: Label::Resource(resource.name.clone()),
        format,
        size,
        protocol: Arc::new(protocol),
        options,
        references: Vec::new(),
    })
}

/// The keys of `fields` in `table`'s records; `Err` names a field the
/// table lacks, the inner error why the table cannot be read.
fn collect(
    table: &Input,
    fields: &[String],
) -> std::result::Result<Result<ReferencedKeys>, String> {
    let mut collector = KeyCollector::new(&table.protocol, fields)?;
    let mut session = Session::new(Arc::clone(&table.protocol), table.format, &table.options);
    let read = read_source(&table.source, |chunk| {
        session
            .feed(chunk, &mut collector)
            .map_err(|e| e.to_string())
    })
    .and_then(|()| {
        session
            .finish(&mut collector)
            .map(drop)
            .map_err(|e| e.to_string())
    });
    Ok(match read {
        Ok(()) => Ok(collector.take_keys()),
        Err(message) => Err(anyhow::anyhow!(message)),
    })
}
