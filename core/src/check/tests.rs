//! Every field rule of the patient spec, at its boundaries.

use chrono::NaiveDate;

use super::*;
use crate::protocol::Protocol;

fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 6, 30).unwrap()
}

/// Checks `text` as the patient field `name`; returns the canonical value
/// or the issue code.
fn patient(field: &str, text: &str) -> Result<String, String> {
    let protocol = Protocol::builtin("patient").unwrap();
    let index = protocol
        .fields
        .iter()
        .position(|f| f.name == field)
        .unwrap();
    check_field(
        &protocol.fields[index],
        index,
        Cell::text(text),
        &protocol.cleaning,
        as_of(),
        protocol.fields[index].required,
    )
    .map(|v| v.canonical())
    .map_err(|issue| issue.code.to_string())
}

fn ok(v: &str) -> Result<String, String> {
    Ok(v.to_owned())
}

fn code(c: &str) -> Result<String, String> {
    Err(c.to_owned())
}

#[test]
fn every_field_is_required() {
    for field in ["id", "name", "age", "visitDate", "bloodPressure"] {
        assert_eq!(patient(field, ""), code("required"), "{field}");
        assert_eq!(patient(field, " \t "), code("required"), "{field}");
        assert_eq!(patient(field, "\u{3000}"), code("required"), "{field}");
    }
}

#[test]
fn id_pattern() {
    assert_eq!(patient("id", "P-001_a"), ok("P-001_a"));
    assert_eq!(patient("id", " ＰＡ１ "), ok("PA1"));
    assert_eq!(patient("id", &"X".repeat(32)), ok(&"X".repeat(32)));
    assert_eq!(patient("id", &"X".repeat(33)), code("pattern"));
    assert_eq!(patient("id", "P#12"), code("pattern"));
    assert_eq!(patient("id", "P 12"), code("pattern"));
    assert_eq!(patient("id", "P-01;DROP"), code("pattern"));
    assert_eq!(patient("id", "患者1"), code("pattern"));
}

#[test]
fn name_length_counts_characters_after_collapsing() {
    assert_eq!(patient("name", "  Sean   García \t"), ok("Sean García"));
    assert_eq!(patient("name", "Line\nBreak 赵敏"), ok("Line Break 赵敏"));
    assert_eq!(patient("name", &"名".repeat(100)), ok(&"名".repeat(100)));
    assert_eq!(patient("name", &"N".repeat(101)), code("too_long"));
    // 100 characters once inner white space is collapsed.
    let spaced = format!("{}     {}", "a".repeat(50), "b".repeat(49));
    assert_eq!(patient("name", &spaced).map(|s| s.chars().count()), Ok(100));
}

#[test]
fn age_boundaries_and_forms() {
    assert_eq!(patient("age", "18"), code("out_of_range"));
    assert_eq!(patient("age", "19"), ok("19"));
    assert_eq!(patient("age", "80"), ok("80"));
    assert_eq!(patient("age", "81"), code("out_of_range"));
    assert_eq!(patient("age", "０"), code("out_of_range"));
    assert_eq!(patient("age", "+51"), ok("51"));
    assert_eq!(patient("age", "051"), ok("51"));
    assert_eq!(patient("age", "７０"), ok("70"));
    assert_eq!(patient("age", "８１"), code("out_of_range"));
    assert_eq!(patient("age", "++60"), code("type"));
    assert_eq!(patient("age", "-30"), code("type"));
    assert_eq!(patient("age", "45岁"), code("type"));
    assert_eq!(patient("age", "1000"), code("type"));
    assert_eq!(patient("age", "51.0"), code("type"));
    assert_eq!(patient("age", "5e1"), code("type"));
}

#[test]
fn visit_date_rules() {
    assert_eq!(patient("visitDate", "2023.2.20"), ok("2023-02-20"));
    assert_eq!(patient("visitDate", "2024年9月25日"), ok("2024-09-25"));
    assert_eq!(patient("visitDate", "2025-06-30"), ok("2025-06-30"));
    assert_eq!(patient("visitDate", "2025-07-01"), code("future_date"));
    assert_eq!(patient("visitDate", "1900-01-01"), ok("1900-01-01"));
    assert_eq!(patient("visitDate", "1899-12-31"), code("invalid_date"));
    assert_eq!(patient("visitDate", "2024年2月30日"), code("invalid_date"));
    assert_eq!(patient("visitDate", "04/07/2022"), code("ambiguous_date"));
    assert_eq!(patient("visitDate", "13/07/2022"), ok("2022-07-13"));
    assert_eq!(patient("visitDate", "07/13/2022"), ok("2022-07-13"));
    assert_eq!(
        patient("visitDate", "２０２３－０７－１０"),
        ok("2023-07-10")
    );
}

#[test]
fn blood_pressure_pattern_and_plausibility() {
    assert_eq!(patient("bloodPressure", "120/80"), ok("120/80"));
    assert_eq!(patient("bloodPressure", "120 / 80"), ok("120/80"));
    assert_eq!(patient("bloodPressure", "１６８／７７"), ok("168/77"));
    assert_eq!(patient("bloodPressure", "090/060"), ok("90/60"));
    for bad in [
        "120-80",
        "/80",
        "1/8",
        "1200/80",
        "120/80/70",
        "12 0/80",
        "abc",
    ] {
        assert_eq!(patient("bloodPressure", bad), code("pattern"), "{bad}");
    }
    assert_eq!(patient("bloodPressure", "50/20"), ok("50/20"));
    assert_eq!(patient("bloodPressure", "49/20"), code("implausible"));
    assert_eq!(patient("bloodPressure", "300/200"), ok("300/200"));
    assert_eq!(patient("bloodPressure", "301/80"), code("implausible"));
    assert_eq!(patient("bloodPressure", "250/201"), code("implausible"));
    assert_eq!(patient("bloodPressure", "60/19"), code("implausible"));
    assert_eq!(patient("bloodPressure", "80/80"), code("implausible"));
    assert_eq!(patient("bloodPressure", "80/90"), code("implausible"));
}

#[test]
fn json_values_are_checked_like_text() {
    let protocol = Protocol::builtin("patient").unwrap();
    let age = &protocol.fields[2];
    let check = |cell| {
        check_field(age, 2, cell, &protocol.cleaning, as_of(), age.required)
            .map_err(|i| i.code.to_string())
    };
    let number = |n| Cell::Value(Scalar::Number(n));
    assert_eq!(check(number("51")), Ok(Value::Integer(51)));
    assert_eq!(check(number("51.5")), Err("type".into()));
    assert_eq!(check(number("51.0")), Err("type".into()));
    assert_eq!(check(Cell::Null), Err("required".into()));
    assert_eq!(check(Cell::Value(Scalar::Bool(true))), Err("type".into()));
    assert_eq!(check(Cell::Value(Scalar::Json("{}"))), Err("type".into()));
}

fn custom(field: &str) -> Protocol {
    Protocol::from_json(&format!(r#"{{"fields": [{field}]}}"#)).unwrap()
}

fn check_custom(protocol: &Protocol, text: &str) -> Result<String, String> {
    check_field(
        &protocol.fields[0],
        0,
        Cell::text(text),
        &protocol.cleaning,
        as_of(),
        protocol.fields[0].required,
    )
    .map(|v| v.canonical())
    .map_err(|issue| issue.code.to_string())
}

#[test]
fn table_schema_constraints() {
    let p = custom(
        r#"{"name": "score", "type": "number", "constraints": {"exclusiveMinimum": 0, "maximum": 10}}"#,
    );
    assert_eq!(check_custom(&p, "0"), code("out_of_range"));
    assert_eq!(check_custom(&p, "0.5"), ok("0.5"));
    assert_eq!(check_custom(&p, "10"), ok("10"));
    assert_eq!(check_custom(&p, "10.01"), code("out_of_range"));
    // NaN is a number (Table Schema) but within no bounds; INF above 10.
    assert_eq!(check_custom(&p, "NaN"), code("out_of_range"));
    assert_eq!(check_custom(&p, "inf"), code("out_of_range"));
    assert_eq!(check_custom(&p, ""), ok(""));

    let p = custom(r#"{"name": "arm", "constraints": {"enum": ["A", "B"], "minLength": 1}}"#);
    assert_eq!(check_custom(&p, "A"), ok("A"));
    assert_eq!(
        check_custom(&p, " A "),
        code("not_allowed"),
        "a plain schema trims nothing"
    );
    assert_eq!(check_custom(&p, "C"), code("not_allowed"));

    let p = custom(r#"{"name": "n", "type": "integer", "constraints": {"enum": [1, "+2"]}}"#);
    assert_eq!(check_custom(&p, "2"), ok("2"));
    assert_eq!(check_custom(&p, "3"), code("not_allowed"));

    let p = custom(r#"{"name": "code", "constraints": {"minLength": 3, "maxLength": 4}}"#);
    assert_eq!(check_custom(&p, "ab"), code("too_short"));
    assert_eq!(check_custom(&p, "abcde"), code("too_long"));

    let p = custom(r#"{"name": "flag", "type": "boolean", "constraints": {"required": true}}"#);
    assert_eq!(check_custom(&p, "TRUE"), ok("true"));
    assert_eq!(check_custom(&p, "0"), ok("false"));
    assert_eq!(check_custom(&p, "yes"), code("type"));

    let p =
        custom(r#"{"name": "x", "missingValues": ["NA", "-"], "constraints": {"required": true}}"#);
    assert_eq!(check_custom(&p, "NA"), code("required"));
}

#[test]
fn dates_with_fixed_order_and_exclusive_bounds() {
    let p = custom(
        r#"{"name": "d", "type": "date", "dateForms": ["A/B/Y"], "dayMonthOrder": "dayFirst",
            "constraints": {"exclusiveMaximum": "$asOf"}}"#,
    );
    assert_eq!(check_custom(&p, "04/07/2022"), ok("2022-07-04"));
    assert_eq!(check_custom(&p, "30/06/2025"), code("out_of_range"));
    assert_eq!(check_custom(&p, "2022-07-04"), code("invalid_date"));
}

#[test]
fn messages_carry_the_facts_in_both_languages() {
    let protocol = Protocol::builtin("patient").unwrap();
    let issue = check_field(
        &protocol.fields[2],
        2,
        Cell::text("17"),
        &protocol.cleaning,
        as_of(),
        protocol.fields[2].required,
    )
    .unwrap_err();
    assert_eq!(
        issue.message(&protocol, crate::Lang::En),
        "age 17 is outside 19..=80"
    );
    assert_eq!(
        issue.message(&protocol, crate::Lang::ZhCn),
        "age 17 超出范围 19..=80"
    );
    let issue = check_field(
        &protocol.fields[3],
        3,
        Cell::text("2025-07-01"),
        &protocol.cleaning,
        as_of(),
        protocol.fields[3].required,
    )
    .unwrap_err();
    assert_eq!(
        issue.message(&protocol, crate::Lang::En),
        "visitDate 2025-07-01 is after the as-of date 2025-06-30"
    );
}
