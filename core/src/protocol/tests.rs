//! Loading protocols: the built-in one, plain Table Schemas, and refusals
//! that name the key.

use super::*;

fn refusal(doc: &str) -> String {
    Protocol::from_json(doc).unwrap_err().to_string()
}

#[test]
fn patient_protocol_loads_and_indexes_aliases() {
    let p = Protocol::builtin("patient").unwrap();
    assert_eq!(p.name, "patient");
    let names: Vec<&str> = p.fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["id", "name", "age", "visitDate", "bloodPressure"]);
    for (header, field) in [
        ("patientid", 0),
        ("id", 0),
        ("患者编号", 0),
        ("患者id", 0),
        ("patientname", 1),
        ("姓名", 1),
        ("年龄", 2),
        ("visitdate", 3),
        ("就诊日期", 3),
        ("bloodpressure", 4),
        ("bp", 4),
        ("血压", 4),
    ] {
        assert_eq!(p.column(header), Some(field), "{header}");
    }
    assert_eq!(p.keys.len(), 1);
    assert_eq!(&*p.keys[0].code, "duplicate");
}

#[test]
fn a_plain_table_schema_is_a_protocol() {
    let p = Protocol::from_json(
        r#"{
          "$schema": "https://specs.frictionlessdata.io/schemas/table-schema.json",
          "fields": [
            {"name": "id", "type": "integer", "title": "ID", "description": "row id",
             "constraints": {"required": true, "unique": true}},
            {"name": "when", "type": "date", "format": "default"},
            {"name": "note", "type": "string", "constraints": {"maxLength": 10}}
          ],
          "missingValues": ["", "NA"],
          "primaryKey": "id"
        }"#,
    )
    .unwrap();
    assert_eq!(p.name, "custom");
    assert_eq!(p.fields[1].missing_values, ["", "NA"]);
}

#[test]
fn unknown_builtin() {
    assert_eq!(
        Protocol::builtin("nope").unwrap_err().to_string(),
        "no built-in protocol named `nope` (built-in: patient)"
    );
}

#[test]
fn syntax_errors_have_a_position() {
    assert_eq!(
        Protocol::from_json("{\n  \"fields\": [,]\n}").unwrap_err(),
        ProtocolError::Syntax {
            line: 2,
            column: 14,
            message: "expected value at line 2 column 14".into()
        }
    );
}

#[test]
fn refusals_name_the_key() {
    let cases = [
        (
            r#"{"fields": []}"#,
            "protocol key `fields`: a protocol needs at least one field",
        ),
        (
            r#"{"fields": [{"name": "a", "constraints": {"maxLenght": 3}}]}"#,
            "protocol key `fields[0].constraints.maxLenght`: unknown field `maxLenght`",
        ),
        (
            r#"{"fields": [{"name": "a", "type": "datetime"}]}"#,
            "protocol key `fields[0].type`: type `datetime` is not supported",
        ),
        (
            r#"{"fields": [{"name": "a", "constraints": {"pattern": "("}}]}"#,
            "protocol key `fields[0].constraints.pattern`: not a valid regular expression",
        ),
        (
            r#"{"fields": [{"name": "a", "type": "integer", "constraints": {"minimum": 1.5}}]}"#,
            "protocol key `fields[0].constraints.minimum`: expected a whole number, found 1.5",
        ),
        (
            r#"{"fields": [{"name": "a", "type": "date", "constraints": {"maximum": "soon"}}]}"#,
            "protocol key `fields[0].constraints.maximum`: expected a date",
        ),
        (
            r#"{"fields": [{"name": "a", "constraints": {"minimum": 1}}]}"#,
            "protocol key `fields[0].constraints`: only integer, number and date fields",
        ),
        (
            r#"{"fields": [{"name": "a", "constraints": {"minLength": 5, "maxLength": 2}}]}"#,
            "protocol key `fields[0].constraints.minLength`: minLength 5 is greater than maxLength 2",
        ),
        (
            r#"{"fields": [{"name": "a"}, {"name": "b", "aliases": ["A"]}]}"#,
            "protocol key `fields[1].aliases[0]`: `A` also names field `a`",
        ),
        (
            r#"{"fields": [{"name": "a"}], "primaryKey": ["b"]}"#,
            "protocol key `primaryKey[0]`: no field is named `b`",
        ),
        (
            r#"{"fields": [{"name": "a"}], "primaryKey": 5}"#,
            "protocol key `primaryKey`: expected a field name or a list of field names",
        ),
        (
            r#"{"fields": [{"name": "a", "codes": {"tpye": "x"}}]}"#,
            "protocol key `fields[0].codes.tpye`: unknown check",
        ),
        (
            r#"{"fields": [{"name": "a", "type": "integer", "constraints": {"enum": ["x"]}}]}"#,
            "protocol key `fields[0].constraints.enum[0]`: `x` is not a valid integer",
        ),
        (
            r#"{"fields": [{"name": "a", "type": "date"}, {"name": "b"}],
                "rules": [{"field": "a", "op": "<", "other": "b", "code": "order"}]}"#,
            "protocol key `rules[0]`: cannot compare a date field with a string field",
        ),
        (
            r#"{"fields": [{"name": "a", "type": "date"}, {"name": "b", "type": "date"}],
                "rules": [{"field": "a", "op": "=<", "other": "b", "code": "order"}]}"#,
            "protocol key `rules[0].op`: `=<` is not one of",
        ),
        (
            r#"{"fields": [{"name": "a", "type": "bloodPressure",
                "constraints": {"systolic": {"minimum": 300, "maximum": 50}}}]}"#,
            "protocol key `fields[0].constraints.systolic`: minimum 300 is greater than maximum 50",
        ),
        (
            r#"{"fields": [{"name": "a", "dateForms": ["Y-M-D"]}]}"#,
            "protocol key `fields[0].dateForms`: a string field does not take this key",
        ),
        (
            r#"{"fields": [{"name": "a", "type": "date", "dateForms": ["D/M/Y"]}]}"#,
            "protocol key `fields[0].dateForms[0]`: unknown variant `D/M/Y`",
        ),
    ];
    for (doc, expected) in cases {
        let message = refusal(doc);
        assert!(
            message.starts_with(expected),
            "{doc}\n  gave: {message}\n  want: {expected}"
        );
    }
}
