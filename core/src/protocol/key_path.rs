//! The key path (`fields[2].constraints.pattern`) at a position of a JSON
//! text, for naming the key a protocol error is about.
//!
//! serde_json reports where it stopped (line and column); scanning the text
//! up to there with a stack of objects and arrays gives the path. This is a
//! few dozen lines where a path-tracking deserializer wrapper would add
//! ~70 KB to the wasm module (one generic visitor per type).

/// One open container while scanning.
enum Level {
    Object {
        key: Option<String>,
        expecting_key: bool,
    },
    Array {
        index: usize,
    },
}

/// The path of keys and indexes open at `line`:`column` (1-based) of `text`.
pub(super) fn key_path_at(text: &str, line: usize, column: usize) -> String {
    let end = offset(text, line, column);
    let mut stack: Vec<Level> = Vec::new();
    let mut chars = text[..end].char_indices();
    while let Some((at, c)) = chars.next() {
        match c {
            '"' => {
                let string = read_string(&text[at + 1..end], &mut chars);
                if let Some(Level::Object { key, expecting_key }) = stack.last_mut()
                    && *expecting_key
                {
                    *key = Some(string);
                    *expecting_key = false;
                }
            }
            '{' => stack.push(Level::Object {
                key: None,
                expecting_key: true,
            }),
            '[' => stack.push(Level::Array { index: 0 }),
            '}' | ']' => {
                stack.pop();
            }
            ',' => match stack.last_mut() {
                Some(Level::Object { expecting_key, .. }) => *expecting_key = true,
                Some(Level::Array { index }) => *index += 1,
                None => {}
            },
            _ => {}
        }
    }
    let mut path = String::new();
    for level in &stack {
        match level {
            Level::Object { key: Some(key), .. } => {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
            }
            Level::Object { key: None, .. } => {}
            Level::Array { index } => path.push_str(&format!("[{index}]")),
        }
    }
    if path.is_empty() {
        path.push_str("(document)");
    }
    path
}

/// Reads a string body (after its opening quote), consuming it from `chars`.
fn read_string(rest: &str, chars: &mut std::str::CharIndices<'_>) -> String {
    let mut escaped = false;
    let mut length = 0;
    for (_, c) in chars.by_ref() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == '"' {
            break;
        }
        length += c.len_utf8();
    }
    let raw = &rest[..length.min(rest.len())];
    // Keys are unescaped for display; a broken escape shows as written.
    serde_json::from_slice::<String>(format!("\"{raw}\"").as_bytes())
        .unwrap_or_else(|_| raw.to_owned())
}

/// Byte offset of `line`:`column` (1-based; column in bytes as serde_json counts).
fn offset(text: &str, line: usize, column: usize) -> usize {
    let line_start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let mut at = (line_start + column).min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_of_keys_and_indexes() {
        let text = "{\"fields\": [{\"name\": \"a\"},\n {\"name\": \"b\", \"constraints\": {\"maxLenght\": 3}}]}";
        let at = text.find("maxLenght").unwrap() + "maxLenght\"".len();
        let column = at - text.find('\n').unwrap();
        assert_eq!(
            key_path_at(text, 2, column),
            "fields[1].constraints.maxLenght"
        );
        assert_eq!(key_path_at(text, 1, 1), "(document)");
        assert_eq!(key_path_at("{\"a\\\"b\": [1, 2, ", 1, 16), "a\"b[2]");
    }
}
