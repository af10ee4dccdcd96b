//! Data Package descriptors (`datapackage.json`): the tabular resources
//! of a package, where each one's data and schema are, and its CSV
//! dialect.
//!
//! Pure: this reads the descriptor's text and says what to read next; the
//! host resolves paths (relative to the descriptor, never outside it) and
//! reads the files. Every refusal names the key (`resources[1].path`).

use serde_json::value::RawValue;

use crate::raw_json::{Shape, json_kind, shape};
use crate::reader::Dialect;

/// Why a descriptor cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PackageError {
    /// Not JSON.
    #[error("data package is not valid JSON (line {line}, column {column}): {message}")]
    Syntax {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// A key that cannot be used.
    #[error("data package key `{path}`: {message}")]
    Key {
        /// Where, e.g. `resources[0].path`.
        path: String,
        /// What is wrong.
        message: String,
    },
}

fn key_error(path: impl Into<String>, message: impl Into<String>) -> PackageError {
    PackageError::Key {
        path: path.into(),
        message: message.into(),
    }
}

/// A package's tabular resources, in descriptor order.
#[derive(Debug, Clone)]
pub struct Package {
    /// The package's `name`, if any.
    pub name: Option<String>,
    /// Resources with a schema (the ones that can be validated).
    pub resources: Vec<Resource>,
    /// Names of resources without a schema (not tables; not validated).
    pub skipped: Vec<String>,
}

/// One tabular resource.
#[derive(Debug, Clone)]
pub struct Resource {
    /// Its `name` (unique in the package).
    pub name: String,
    /// Where its rows are.
    pub data: Data,
    /// Its `format` (`csv`, `json`, ...), if given.
    pub format: Option<String>,
    /// Its schema.
    pub schema: Schema,
    /// Its CSV dialect.
    pub dialect: Dialect,
    /// The key path of the resource (`resources[2]`), for messages.
    pub path: String,
}

/// Where a resource's rows are.
#[derive(Debug, Clone)]
pub enum Data {
    /// Files, relative to the descriptor, read one after the other.
    Files(Vec<String>),
    /// Rows inline (`data`): a JSON array of objects (arrays of cells are
    /// turned into objects by the header row), or a text in the
    /// resource's `format`.
    Inline {
        /// The rows.
        text: String,
        /// Whether `text` is the JSON array (else a text in `format`).
        json: bool,
    },
}

/// A resource's schema.
#[derive(Debug, Clone)]
pub enum Schema {
    /// Written in the descriptor (its JSON text).
    Inline(String),
    /// A JSON file relative to the descriptor.
    File(String),
}

/// Reads a descriptor.
pub fn read_package(text: &str) -> Result<Package, PackageError> {
    let entries = match shape(text.as_bytes()) {
        Ok(Shape::Object(entries)) => entries,
        Ok(_) => {
            return Err(key_error(
                "(descriptor)",
                format!("expected a JSON object, found {}", json_kind(text)),
            ));
        }
        Err(e) => {
            return Err(PackageError::Syntax {
                line: e.line(),
                column: e.column(),
                message: e.to_string(),
            });
        }
    };
    let mut package = Package {
        name: None,
        resources: Vec::new(),
        skipped: Vec::new(),
    };
    let mut resources = None;
    for (key, value) in entries {
        match key.as_ref() {
            "name" => package.name = text_of("name", value).ok(),
            "resources" => resources = Some(value),
            _ => {}
        }
    }
    let resources =
        resources.ok_or_else(|| key_error("resources", "a data package needs `resources`"))?;
    let Ok(Shape::Array(items)) = shape(resources.get().as_bytes()) else {
        return Err(key_error("resources", "expected a list of resources"));
    };
    for (i, item) in items.iter().enumerate() {
        let path = format!("resources[{i}]");
        let Some(resource) = resource(&path, item)? else {
            let name = object_entries(&path, item)?
                .into_iter()
                .find(|(k, _)| k == "name")
                .and_then(|(_, v)| {
                    crate::raw_json::string(v.get().as_bytes()).map(|s| s.into_owned())
                })
                .unwrap_or_else(|| path.clone());
            package.skipped.push(name);
            continue;
        };
        if package
            .resources
            .iter()
            .any(|r: &Resource| r.name == resource.name)
        {
            return Err(key_error(
                format!("{path}.name"),
                format!("two resources are named `{}`", resource.name),
            ));
        }
        package.resources.push(resource);
    }
    Ok(package)
}

impl Package {
    /// The resource named `name`.
    pub fn resource(&self, name: &str) -> Option<&Resource> {
        self.resources.iter().find(|r| r.name == name)
    }
}

fn object_entries<'a>(
    path: &str,
    raw: &'a RawValue,
) -> Result<Vec<(std::borrow::Cow<'a, str>, &'a RawValue)>, PackageError> {
    match shape(raw.get().as_bytes()) {
        Ok(Shape::Object(entries)) => Ok(entries),
        _ => Err(key_error(
            path,
            format!("expected an object, found {}", json_kind(raw.get())),
        )),
    }
}

fn text_of(path: &str, raw: &RawValue) -> Result<String, PackageError> {
    crate::raw_json::string(raw.get().as_bytes())
        .map(|s| s.into_owned())
        .ok_or_else(|| {
            key_error(
                path,
                format!("expected a string, found {}", json_kind(raw.get())),
            )
        })
}

/// One resource; `None` when it has no schema (not a table).
fn resource(path: &str, raw: &RawValue) -> Result<Option<Resource>, PackageError> {
    let entries = object_entries(path, raw)?;
    let get = |name: &str| entries.iter().find(|(k, _)| k == name).map(|(_, v)| *v);
    let at = |key: &str| format!("{path}.{key}");
    let Some(schema) = get("schema") else {
        return Ok(None);
    };
    let name = match get("name") {
        Some(v) => text_of(&at("name"), v)?,
        None => return Err(key_error(at("name"), "a resource needs a name")),
    };
    let schema = match schema.get().as_bytes().first() {
        Some(b'{') => Schema::Inline(schema.get().to_owned()),
        Some(b'"') => Schema::File(relative_path(
            &at("schema"),
            &text_of(&at("schema"), schema)?,
        )?),
        _ => {
            return Err(key_error(
                at("schema"),
                "expected a schema object or the path of a schema file",
            ));
        }
    };
    let data = match (get("path").or(get("url")), get("data")) {
        (Some(_), Some(_)) => return Err(key_error(path, "give `path` or `data`, not both")),
        (None, None) => return Err(key_error(path, "a resource needs `path` or `data`")),
        (Some(p), None) => match p.get().as_bytes().first() {
            Some(b'[') => {
                let Ok(Shape::Array(items)) = shape(p.get().as_bytes()) else {
                    return Err(key_error(at("path"), "expected a path or a list of paths"));
                };
                if items.is_empty() {
                    return Err(key_error(at("path"), "an empty list of paths"));
                }
                let mut files = Vec::new();
                for (k, item) in items.iter().enumerate() {
                    let here = format!("{}[{k}]", at("path"));
                    files.push(relative_path(&here, &text_of(&here, item)?)?);
                }
                Data::Files(files)
            }
            _ => Data::Files(vec![relative_path(&at("path"), &text_of(&at("path"), p)?)?]),
        },
        (None, Some(rows)) if rows.get().starts_with('"') => {
            if get("format").is_none() {
                return Err(key_error(
                    at("format"),
                    "inline data given as text needs its `format` (csv, ndjson)",
                ));
            }
            Data::Inline {
                text: text_of(&at("data"), rows)?,
                json: false,
            }
        }
        (None, Some(rows)) => Data::Inline {
            text: inline_rows(&at("data"), rows)?,
            json: true,
        },
    };
    let format = match get("format") {
        Some(v) => Some(text_of(&at("format"), v)?.to_ascii_lowercase()),
        None => None,
    };
    let dialect = match get("dialect") {
        Some(d) => dialect(&at("dialect"), d)?,
        None => Dialect::default(),
    };
    Ok(Some(Resource {
        name,
        data,
        format,
        schema,
        dialect,
        path: path.to_owned(),
    }))
}

/// A path inside the package: relative, no `..`, not a URL.
fn relative_path(path: &str, value: &str) -> Result<String, PackageError> {
    if value.contains("://") {
        return Err(key_error(
            path,
            format!(
                "`{value}` is a URL: clinval reads local files only; download it next to the descriptor"
            ),
        ));
    }
    let unsafe_path = value.starts_with('/')
        || value.starts_with('\\')
        || value.split(['/', '\\']).any(|part| part == "..")
        || value.as_bytes().get(1) == Some(&b':');
    if value.is_empty() || unsafe_path {
        return Err(key_error(
            path,
            format!("`{value}` is not a path inside the package (relative, without `..`)"),
        ));
    }
    Ok(value.to_owned())
}

/// Inline `data` as a JSON array of objects: objects are kept, and an
/// array of arrays is read as a header row and rows.
fn inline_rows(path: &str, raw: &RawValue) -> Result<String, PackageError> {
    let Ok(Shape::Array(rows)) = shape(raw.get().as_bytes()) else {
        return Err(key_error(path, "expected a list of rows"));
    };
    if rows
        .first()
        .is_none_or(|r| r.get().trim_start().starts_with('{'))
    {
        return Ok(raw.get().to_owned());
    }
    fn cells<'r>(
        path: &str,
        i: usize,
        row: &'r RawValue,
    ) -> Result<Vec<&'r RawValue>, PackageError> {
        match shape(row.get().as_bytes()) {
            Ok(Shape::Array(cells)) => Ok(cells),
            _ => Err(key_error(
                format!("{path}[{i}]"),
                "expected a row as a list of cells, like the first",
            )),
        }
    }
    let header: Vec<String> = cells(path, 0, rows[0])?
        .iter()
        .enumerate()
        .map(|(c, cell)| text_of(&format!("{path}[0][{c}]"), cell))
        .collect::<Result<_, _>>()?;
    let mut out = String::from("[");
    for (i, row) in rows.iter().enumerate().skip(1) {
        let values = cells(path, i, row)?;
        if i > 1 {
            out.push(',');
        }
        out.push('{');
        for (c, value) in values.iter().enumerate() {
            let name = header
                .get(c)
                .cloned()
                .unwrap_or_else(|| format!("column{}", c + 1));
            if c > 0 {
                out.push(',');
            }
            out.push_str(&serde_json::to_string(&name).unwrap_or_default());
            out.push(':');
            out.push_str(value.get());
        }
        out.push('}');
    }
    out.push(']');
    Ok(out)
}

/// A Table Dialect object (or the path of one, which is refused: inline it).
fn dialect(path: &str, raw: &RawValue) -> Result<Dialect, PackageError> {
    let mut d = Dialect::default();
    for (key, value) in object_entries(path, raw)? {
        let at = format!("{path}.{key}");
        let byte = |value: &RawValue| -> Result<u8, PackageError> {
            let text = text_of(&at, value)?;
            match text.as_bytes() {
                [b] if b.is_ascii() => Ok(*b),
                _ => Err(key_error(
                    &at,
                    format!("`{text}`: expected one ASCII character"),
                )),
            }
        };
        let flag = |value: &RawValue| match value.get() {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(key_error(&at, "expected true or false")),
        };
        match key.as_ref() {
            "delimiter" => d.delimiter = byte(value)?,
            "quoteChar" => d.quote = byte(value)?,
            "doubleQuote" => d.double_quote = flag(value)?,
            "escapeChar" => d.escape = Some(byte(value)?),
            "commentChar" => d.comment = Some(byte(value)?),
            "header" => d.header = flag(value)?,
            "lineTerminator"
            | "caseSensitiveHeader"
            | "csvddfVersion"
            | "$schema"
            | "skipInitialSpace" => {}
            other => {
                return Err(key_error(
                    at,
                    format!("`{other}` is not a dialect key clinval reads"),
                ));
            }
        }
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_paths_schemas_and_dialects() {
        let package = read_package(
            r#"{"name": "trial", "resources": [
                {"name": "sites", "path": "sites.csv", "schema": "sites.schema.json"},
                {"name": "visits", "path": ["a.csv", "b.csv"], "format": "CSV",
                 "dialect": {"delimiter": ";", "header": true},
                 "schema": {"fields": [{"name": "site"}]}},
                {"name": "inline", "data": [["a", "b"], [1, "x"]], "schema": {"fields": [{"name": "a"}]}},
                {"name": "readme", "path": "README.md"}
            ]}"#,
        )
        .unwrap();
        assert_eq!(package.name.as_deref(), Some("trial"));
        assert_eq!(package.skipped, ["readme"]);
        let visits = package.resource("visits").unwrap();
        assert!(matches!(&visits.data, Data::Files(f) if f == &["a.csv", "b.csv"]));
        assert_eq!(visits.format.as_deref(), Some("csv"));
        assert_eq!(visits.dialect.delimiter, b';');
        assert!(
            matches!(&package.resource("sites").unwrap().schema, Schema::File(f) if f == "sites.schema.json")
        );
        let Data::Inline { text, json: true } = &package.resource("inline").unwrap().data else {
            panic!("inline")
        };
        assert_eq!(text, r#"[{"a":1,"b":"x"}]"#);
        let csv = read_package(
            r#"{"resources": [{"name": "t", "format": "csv", "data": "a\n1\n", "schema": {}}]}"#,
        )
        .unwrap();
        assert!(
            matches!(&csv.resources[0].data, Data::Inline { text, json: false } if text == "a\n1\n")
        );
    }

    #[test]
    fn refusals_name_the_key() {
        for (text, want) in [
            (
                r#"{"resources": [{"name": "a", "path": "../x.csv", "schema": {}}]}"#,
                "`resources[0].path`: `../x.csv` is not a path inside the package",
            ),
            (
                r#"{"resources": [{"name": "a", "path": "https://x.org/a.csv", "schema": {}}]}"#,
                "is a URL",
            ),
            (
                r#"{"resources": [{"name": "a", "schema": {}}]}"#,
                "`resources[0]`: a resource needs `path` or `data`",
            ),
            (
                r#"{"resources": [{"path": "a.csv", "schema": {}}]}"#,
                "`resources[0].name`: a resource needs a name",
            ),
            (
                r#"{"resources": [{"name": "a", "path": "a", "schema": {}}, {"name": "a", "path": "b", "schema": {}}]}"#,
                "two resources are named `a`",
            ),
            (
                r#"{"resources": [{"name": "a", "path": "a", "schema": {}, "dialect": {"delimiter": ";;"}}]}"#,
                "`resources[0].dialect.delimiter`: `;;`: expected one ASCII character",
            ),
            (r#"{"name": "x"}"#, "a data package needs `resources`"),
            (
                r#"{"resources": [{"name": "a", "data": "a,b", "schema": {}}]}"#,
                "`resources[0].format`: inline data given as text needs its `format`",
            ),
            ("[1]", "expected a JSON object"),
        ] {
            let error = read_package(text).unwrap_err().to_string();
            assert!(error.contains(want), "{text}: {error}");
        }
    }
}
