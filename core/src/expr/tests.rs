//! The grammar, its type rules and errors, and REDCap's value rules.

use std::collections::HashMap;

use chrono::NaiveDate;

use super::*;

/// Fields `a`..`e` and a multi-select `cb` with choices `1`, `2`, `ABC`.
struct Names;

impl Fields for Names {
    fn field(&self, name: &str) -> Option<usize> {
        ["a", "b", "c", "d", "e", "cb"]
            .iter()
            .position(|n| *n == name)
    }
    fn has_choice(&self, field: usize, code: &str) -> bool {
        field == 5 && ["1", "2", "ABC"].contains(&code)
    }
}

/// A record: field texts by name, and the chosen codes of `cb`.
struct Row(HashMap<&'static str, &'static str>, Vec<&'static str>);

impl Record for Row {
    fn text(&self, field: usize) -> &str {
        let name = ["a", "b", "c", "d", "e", "cb"][field];
        self.0.get(name).copied().unwrap_or("")
    }
    fn chosen(&self, _field: usize, code: &str) -> bool {
        self.1.contains(&code)
    }
}

fn row(pairs: &[(&'static str, &'static str)]) -> Row {
    Row(pairs.iter().copied().collect(), vec!["2"])
}

fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 6, 30).unwrap()
}

fn holds(source: &str, record: &Row) -> bool {
    Expr::condition(source, &Names)
        .unwrap_or_else(|e| panic!("{source}: {e}"))
        .holds(record, as_of())
}

fn value(source: &str, record: &Row) -> Option<f64> {
    Expr::compile(source, &Names)
        .unwrap_or_else(|e| panic!("{source}: {e}"))
        .number(record, as_of())
}

#[test]
fn comparisons_as_redcap_makes_them() {
    let r = row(&[("a", "1"), ("b", "ABC"), ("c", "10"), ("d", " 2.0 ")]);
    for (source, expected) in [
        ("[a] = '1'", true),
        ("[a] = 1", true),
        ("[a]='1'", true),
        ("[a] <> '1'", false),
        ("[a] != 1", false),
        ("[b] = 'ABC'", true),
        ("[b] = 'abc'", false), // text is exact
        ("[c] > 9", true),      // numbers compare as numbers...
        ("[c] > '9'", true),
        ("[b] > 'AB'", true), // ...text by code point
        ("[d] = 2", true),    // trimmed, numeric
        ("[e] = ''", true),   // empty
        ("[e] = \"\"", true),
        ("[e] > 0", false), // an ordering with an empty side is false
        ("[e] < 0", false),
        ("[e] <> ''", false),
        ("[a] <= 1", true),
        ("[a] >= 2", false),
        ("[cb(2)] = '1'", true),
        ("[cb(1)] = '1'", false),
        ("[cb(ABC)] = 0", true),
    ] {
        assert_eq!(holds(source, &r), expected, "{source}");
    }
}

#[test]
fn and_binds_tighter_than_or_and_keywords_take_any_case() {
    let r = row(&[("a", "1"), ("b", "2")]);
    assert!(holds("[a] = 1 or [b] = 9 and [b] = 8", &r));
    assert!(!holds("([a] = 1 or [b] = 9) and [b] = 8", &r));
    assert!(holds("[a] = 1 OR [b] = 9 AND [b] = 8", &r));
    assert!(holds("not [a] = 2", &r));
    assert!(holds("NOT ([a] = 2 or [b] = 1)", &r));
    assert!(holds("[a] = 1\n  and\t[b] = 2", &r));
}

#[test]
fn arithmetic_and_functions() {
    let r = row(&[("a", "1"), ("b", "2"), ("c", "10"), ("d", "1990-06-30")]);
    for (source, expected) in [
        ("[a] + [b] * [c]", Some(21.0)),
        ("([a] + [b]) * [c]", Some(30.0)),
        ("2 ^ 3 ^ 2", Some(512.0)), // right-associative
        ("-2 ^ 2", Some(-4.0)),
        ("[c] / [b] - [a]", Some(4.0)),
        ("[c] / 0", None),
        ("[e] + 1", None), // empty in, empty out
        ("sum([a], [b], [e])", Some(3.0)),
        ("mean([a], [b], [e])", Some(1.5)),
        ("min([c], [b])", Some(2.0)),
        ("max([c], [b])", Some(10.0)),
        ("round(2.345, 2)", Some(2.35)),
        ("round(-2.5)", Some(-3.0)),
        ("roundup(2.31, 1)", Some(2.4)),
        ("rounddown(2.39, 1)", Some(2.3)),
        ("abs(-[c])", Some(10.0)),
        ("sqrt(16)", Some(4.0)),
        ("if([a] = 1, 5, 6)", Some(5.0)),
        ("if([a] = 2, 5, 6)", Some(6.0)),
        ("rounddown(datediff([d], 'today', 'y'))", Some(35.0)),
        ("datediff('2025-06-20', '2025-06-30', 'd')", Some(10.0)),
        (
            "datediff('2025-06-30', '2025-06-20', 'd', true)",
            Some(-10.0),
        ),
        (
            "datediff('06-20-2025', '06-30-2025', 'd', 'mdy')",
            Some(10.0),
        ),
        ("datediff([e], 'today', 'd')", None),
        ("length([d])", Some(10.0)),
    ] {
        let got = value(source, &r);
        match (got, expected) {
            (Some(g), Some(e)) => assert!((g - e).abs() < 1e-9, "{source}: {g} != {e}"),
            _ => assert_eq!(got, expected, "{source}"),
        }
    }
    for (source, expected) in [
        ("isblankormissingcode([e])", true),
        ("isblankormissingcode([a])", false),
        ("isnumber([c])", true),
        ("isnumber([d])", false),
        ("isinteger([c])", true),
        ("contains([d], '-06-')", true),
        ("not_contain([d], 'x')", true),
        ("starts_with([d], '1990')", true),
        ("ends_with([d], '31')", false),
        ("concat([a], [b]) = '12'", true),
    ] {
        assert_eq!(holds(source, &r), expected, "{source}");
    }
}

/// Errors name their column and kind.
#[test]
fn errors_with_their_position() {
    for (source, column, kind) in [
        ("", 1, ExprErrorKind::Syntax),
        ("[a] = ", 7, ExprErrorKind::Syntax),
        ("[a] = '1", 7, ExprErrorKind::Syntax),
        ("[a = 1", 1, ExprErrorKind::Syntax),
        ("[a] = 1 and", 12, ExprErrorKind::Syntax),
        ("([a] = 1", 9, ExprErrorKind::Syntax),
        ("[a] = 1 )", 9, ExprErrorKind::Syntax),
        ("[a] # 1", 5, ExprErrorKind::Syntax),
        ("[zz] = 1", 1, ExprErrorKind::UnknownField),
        ("[cb(9)] = 1", 1, ExprErrorKind::UnknownField),
        ("[a] + 'x'", 5, ExprErrorKind::Type),
        ("[a] = 1 and 5", 13, ExprErrorKind::Type),
        ("not 5", 5, ExprErrorKind::Type),
        ("sum([a], 'x')", 10, ExprErrorKind::Type),
        ("datediff([a], [b], 'w')", 20, ExprErrorKind::Type),
        ("round()", 1, ExprErrorKind::Syntax),
        ("if([a] = 1, 2)", 1, ExprErrorKind::Syntax),
        ("frobnicate([a])", 1, ExprErrorKind::Unsupported),
        ("[event-name] = 'x'", 1, ExprErrorKind::Unsupported),
        ("[baseline_arm_1][a] = 1", 1, ExprErrorKind::Unsupported),
        ("a = 1", 1, ExprErrorKind::Syntax),
    ] {
        let error = Expr::compile(source, &Names).expect_err(source);
        assert_eq!(
            (error.column, error.kind),
            (column, kind),
            "{source}: {error}"
        );
    }
    assert_eq!(
        Expr::condition("[a] + 1", &Names).unwrap_err().kind,
        ExprErrorKind::Type
    );
}

/// Depth and size are bounded: a hostile expression is refused, never a
/// stack overflow.
#[test]
fn limits_hold() {
    let deep = format!("{}[a] = 1{}", "(".repeat(10_000), ")".repeat(10_000));
    assert_eq!(
        Expr::compile(&deep, &Names).unwrap_err().kind,
        ExprErrorKind::TooLarge
    );
    let nots = format!("{}[a] = 1", "not ".repeat(5_000));
    assert_eq!(
        Expr::compile(&nots, &Names).unwrap_err().kind,
        ExprErrorKind::TooLarge
    );
    let minus = format!("{}1", "-".repeat(5_000));
    assert_eq!(
        Expr::compile(&minus, &Names).unwrap_err().kind,
        ExprErrorKind::TooLarge
    );
    let long = "[a] = 1 or ".repeat(2_000) + "[a] = 1";
    assert_eq!(
        Expr::compile(&long, &Names).unwrap_err().kind,
        ExprErrorKind::TooLarge
    );
    // Wide but shallow is fine.
    let wide = "[a] = 1 or ".repeat(500) + "[a] = 2";
    assert!(holds(&wide, &row(&[("a", "2")])));
}

#[test]
fn reads_are_the_fields_an_expression_uses() {
    let expr = Expr::compile("[c] + [a] * [cb(1)] + [a]", &Names).unwrap();
    assert_eq!(expr.reads(), &[0, 2, 5]);
}
