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
        "no built-in protocol named `nope` (built-in: patient, epro-daily)"
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

mod scores {
    use super::*;
    use crate::report::RecordVerdict;
    use crate::{Lang, Validator};

    fn verdict(protocol: &Protocol, record: &str) -> serde_json::Value {
        let protocol = Arc::new(Protocol::from_json(protocol.source()).unwrap());
        let as_of = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
        let mut validator = Validator::new(Arc::clone(&protocol), as_of);
        let outcome = validator.validate_json(1, record.as_bytes());
        let verdict = RecordVerdict::new(&outcome, &protocol, Lang::En);
        serde_json::to_value(&verdict).unwrap()
    }

    #[test]
    fn the_epro_diary_scores_a_valid_record() {
        let diary = Protocol::builtin("epro-daily").unwrap();
        let answer = r#"{"pain": 4, "fatigue": "6", "sleepQuality": " poor ", "nausea": "yes",
                         "completedAt": "2026-11-27 08:30"}"#;
        let verdict = verdict(&diary, answer);
        assert_eq!(verdict["valid"], true, "{verdict}");
        assert_eq!(
            verdict["scores"],
            serde_json::json!({"symptomBurden": 17.5, "nauseaDays": 1.0})
        );
        let names: Vec<_> = diary
            .describe_scores()
            .into_iter()
            .map(|s| s.name)
            .collect();
        assert_eq!(names, ["symptomBurden", "nauseaDays"]);
    }

    #[test]
    fn invalid_records_have_no_scores_and_missing_terms_give_null() {
        let diary = Protocol::builtin("epro-daily").unwrap();
        let late = r#"{"pain": 11, "fatigue": 1, "sleepQuality": "good", "nausea": false, "completedAt": "2026-11-28"}"#;
        let verdict = verdict(&diary, late);
        assert_eq!(verdict["valid"], false);
        assert!(verdict.get("scores").is_none());
        let codes: Vec<_> = verdict["issues"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["code"].clone())
            .collect();
        assert_eq!(codes, ["out_of_range", "future_date"]);

        let optional = r#"{"fields": [{"name": "a", "type": "integer"}, {"name": "b", "type": "number"}],
                          "scores": [{"name": "total", "terms": [{"field": "a"}, {"field": "b", "weight": 0.5}]}]}"#;
        let optional = Protocol::from_json(optional).unwrap();
        assert_eq!(
            verdict_of(&optional, r#"{"a": 2, "b": 3}"#),
            serde_json::json!({"total": 3.5})
        );
        assert_eq!(
            verdict_of(&optional, r#"{"a": 2}"#),
            serde_json::json!({"total": null})
        );
    }

    fn verdict_of(protocol: &Protocol, record: &str) -> serde_json::Value {
        verdict(protocol, record)["scores"].clone()
    }

    #[test]
    fn scores_that_cannot_be_computed_are_refused_with_their_key() {
        let doc = |scores: &str| {
            format!(
                r#"{{"fields": [{{"name": "n", "type": "integer"}}, {{"name": "s"}}], "scores": {scores}}}"#
            )
        };
        for (scores, path) in [
            (
                r#"[{"name": "x", "terms": [{"field": "nope"}]}]"#,
                "scores[0].terms[0].field",
            ),
            (r#"[{"name": "x", "terms": []}]"#, "scores[0].terms"),
            (
                r#"[{"name": "x", "terms": [{"field": "s"}]}]"#,
                "scores[0].terms[0]",
            ),
            (
                r#"[{"name": "x", "terms": [{"field": "n", "values": {"a": 1}}]}]"#,
                "scores[0].terms[0].values",
            ),
            (
                r#"[{"name": "x", "terms": [{"field": "n"}]}, {"name": "x", "terms": [{"field": "n"}]}]"#,
                "scores[1].name",
            ),
            (
                r#"[{"name": "x", "terms": [{"field": "n", "wieght": 2}]}]"#,
                "scores[0].terms[0]",
            ),
        ] {
            let message = refusal(&doc(scores));
            assert!(message.contains(&format!("`{path}")), "{path}: {message}");
        }
    }
}

#[test]
fn titles_in_other_languages_are_carried_to_forms_and_checked() {
    let diary = Protocol::builtin("epro-daily").unwrap();
    let fields = diary.describe();
    let sleep = fields.iter().find(|f| f.name == "sleepQuality").unwrap();
    assert_eq!(sleep.titles["zh-CN"], "您昨晚睡得怎么样？");
    assert_eq!(sleep.enum_titles["zh-CN"]["very poor"], "很差");
    let json = serde_json::to_value(sleep).unwrap();
    assert_eq!(json["enumTitles"]["zh-CN"]["good"], "好");
    assert!(
        serde_json::to_value(&fields[5])
            .unwrap()
            .get("enumTitles")
            .is_none()
    );
    assert_eq!(
        diary.describe_scores()[0].titles["zh-CN"],
        "症状负担（0–30）"
    );

    let stray = r#"{"fields": [{"name": "s", "constraints": {"enum": ["a"]},
                    "enumTitles": {"zh-CN": {"b": "乙"}}}]}"#;
    assert!(
        refusal(stray).contains("`fields[0].enumTitles.zh-CN.b`"),
        "{}",
        refusal(stray)
    );
    let no_enum = r#"{"fields": [{"name": "s", "enumTitles": {"zh-CN": {"a": "甲"}}}]}"#;
    assert!(refusal(no_enum).contains("enumTitles.zh-CN.a"));
    let empty = r#"{"fields": [{"name": "s", "titles": {"zh-CN": " "}}]}"#;
    assert!(
        refusal(empty).contains("`fields[0].titles.zh-CN`"),
        "{}",
        refusal(empty)
    );
}
