//! Loading protocols: the built-in one, plain Table Schemas, and refusals
//! that name the key.

use super::*;
use crate::types::{DateForm, DateFormat, DayMonthOrder};

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

/// Every key of the format is read into the protocol; `null` is the same
/// as leaving an optional key out.
#[test]
fn every_key_is_read() {
    let p = Protocol::from_json(
        r#"{
          "$schema": null, "name": "all", "title": "All keys", "description": "d",
          "version": "2", "missingValues": ["-"], "uniqueKeys": [["b", "c"]],
          "primaryKey": ["a"], "codes": {"malformedRow": "bad_row"},
          "fields": [
            {"name": "a", "title": null, "type": "integer", "example": 1.50,
             "aliases": ["A1"], "typePattern": "[0-9]+", "missingValues": ["?"],
             "constraints": {"required": true, "unique": false, "exclusiveMinimum": 0,
                             "maximum": 9, "minLength": null, "enum": [1, "2", 3]},
             "codes": {"minimum": "too_low"}},
            {"name": "b", "type": "date", "dateForms": ["A/B/Y", "Y年M月D日"],
             "dayMonthOrder": "dayFirst", "allowTime": true,
             "constraints": {"minimum": "2020-01-01", "exclusiveMaximum": "$asOf"}},
            {"name": "c", "type": "boolean", "trueValues": ["y"], "falseValues": ["n"]},
            {"name": "d", "collapseWhitespace": true, "titles": {"zh-CN": "丁"},
             "constraints": {"pattern": "x+", "minLength": 1, "maxLength": 3,
                             "enum": ["x", "xx"]},
             "enumTitles": {"zh-CN": {"x": "一"}}},
            {"name": "e", "type": "bloodPressure",
             "constraints": {"systolic": {"minimum": 60, "maximum": 250},
                             "diastolic": {"minimum": 30, "maximum": 150}}},
            {"name": "f", "type": "number", "format": "default"},
            {"name": "g", "type": "date", "format": "any"}
          ],
          "rules": [{"field": "b", "op": "<=", "other": "g", "code": "order",
                     "description": "b first"}],
          "scores": [{"name": "s", "title": "S", "titles": {"zh-CN": "分"},
                      "description": "sum", "terms": [{"field": "a", "weight": 2},
                      {"field": "d", "values": {"x": 1, "xx": 2}}, {"field": "c"}]}]
        }"#,
    )
    .unwrap();
    assert_eq!(
        (p.name.as_str(), p.title.as_deref(), p.version.as_deref()),
        ("all", Some("All keys"), Some("2"))
    );
    assert_eq!(&*p.malformed_code, "bad_row");
    assert_eq!(p.keys.len(), 2);
    let [a, b, c, d, e, ..] = &p.fields[..] else {
        panic!("seven fields")
    };
    assert_eq!(a.title, None);
    assert_eq!(a.example.as_ref().map(|j| j.get()), Some("1.50"));
    assert_eq!(a.missing_values, ["?"]);
    assert!(a.required && !a.unique);
    assert_eq!(
        a.allowed_text().as_deref(),
        Some(&["1".to_owned(), "2".into(), "3".into()][..])
    );
    assert_eq!(&*a.codes.minimum, "too_low");
    assert_eq!(p.column("A1"), Some(0));
    assert_eq!(p.column("a1"), None, "a plain schema matches names exactly");
    let Type::Date(DateFormat::Forms(syntax)) = &b.ty else {
        panic!("b is a date")
    };
    assert_eq!(syntax.forms, [DateForm::DayMonthYear, DateForm::Chinese]);
    assert_eq!(syntax.order, DayMonthOrder::DayFirst);
    assert!(syntax.allow_time);
    assert!(matches!(&c.ty, Type::Boolean { true_values, .. } if true_values == &["y"]));
    assert_eq!((d.min_length, d.max_length), (Some(1), Some(3)));
    assert!(d.collapse_whitespace && d.pattern.is_some());
    assert_eq!(d.enum_titles["zh-CN"]["x"], "一");
    assert!(matches!(
        e.ty,
        Type::BloodPressure {
            systolic: (60, 250),
            diastolic: (30, 150)
        }
    ));
    assert_eq!(p.rules[0].description.as_deref(), Some("b first"));
    assert_eq!(p.scores[0].titles["zh-CN"], "分");
}

#[test]
fn custom_properties_are_kept_as_warnings() {
    let p = Protocol::from_json(
        r#"{"fields": [
              {"name": "a", "type": "string", "unit": "mg", "x-source": "lab", "rdfType": "http://schema.org/Text",
               "trueValues": ["y"]},
              {"name": "b", "type": "integer", "format": "hex", "constraints": {"enum": [1, "x"]}},
              {"name": "c", "type": "number", "floatNumber": true}
            ],
            "profile": "tabular-data-resource"}"#,
    )
    .unwrap();
    let warnings: Vec<String> = p.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        warnings,
        [
            "protocol key `profile`: not a key clinval knows; kept, not checked",
            "protocol key `fields[0].unit`: not a key clinval knows; kept, not checked",
            "protocol key `fields[0].trueValues`: a string field does not use this key; ignored",
            "protocol key `fields[1].format`: an integer field has no format `hex`; ignored",
            "protocol key `fields[1].constraints.enum[1]`: not a number: no value can match it",
            "protocol key `fields[2].floatNumber`: frictionless-py's own key: numbers are read the same either way",
        ]
    );
}

#[test]
fn plain_schemas_get_the_spec_defaults() {
    let p = Protocol::from_json(
        r#"{"fields": [{"name": "a"}, {"name": "b", "type": "integer"}], "primaryKey": "a"}"#,
    )
    .unwrap();
    assert_eq!(p.fields_match, FieldsMatch::Exact);
    assert_eq!(p.cleaning, Cleaning::default());
    assert_eq!(p.fields[0].ty.name(), "any", "no type is `any`");
    assert!(p.fields[0].required, "a primary key is required");
    assert_eq!(p.fields[1].missing_values, [""]);
    let all = Protocol::from_json(r#"{"fields": [{"name": "a"}], "cleaning": true}"#).unwrap();
    let patient = Protocol::builtin("patient").unwrap();
    assert_eq!(all.cleaning, patient.cleaning);
    assert_eq!(patient.fields_match, FieldsMatch::Subset);
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

#[cfg(feature = "full")] // some refusals are of regex syntax
#[test]
fn refusals_name_the_key() {
    let cases = [
        (
            r#"{"fields": [{"name": "a", "constraints": {"maxLenght": 3}}]}"#,
            "protocol key `fields[0].constraints.maxLenght`: unknown key `maxLenght`; did you mean `maxLength`?",
        ),
        (
            r#"{"fields": [{"name": "a", "constraints": {"checkDigit": true}}]}"#,
            "protocol key `fields[0].constraints.checkDigit`: unknown key `checkDigit`; known keys: required, unique, minLength, maxLength,",
        ),
        (
            r#"{"fields": [{"name": "a", "Type": "integer"}]}"#,
            "protocol key `fields[0].Type`: unknown key `Type`; did you mean `type`?",
        ),
        (
            r#"{"fields": [{"name": "a", "required": true}]}"#,
            "protocol key `fields[0].required`: `required` is a constraint: write it inside `constraints`",
        ),
        (
            r#"{"feilds": [{"name": "a"}]}"#,
            "protocol key `feilds`: unknown key `feilds`; did you mean `fields`?",
        ),
        (
            r#"{"fields": [{"name": "a", "type": "datetim"}]}"#,
            "protocol key `fields[0].type`: type `datetim` is not a type; did you mean `datetime`?",
        ),
        (
            r#"{"fields": [{"name": "a", "type": "text"}]}"#,
            "protocol key `fields[0].type`: type `text` is not a type; the types are string, integer, number,",
        ),
        (
            r#"{"fields": [{"name": "a", "type": "string", "format": "phone"}]}"#,
            "protocol key `fields[0].format`: a string field's format is one of default, email, uri, uuid, binary, wkt, redcap-email, redcap-phone, redcap-zipcode, not `phone`",
        ),
        (
            r#"{"fields": [{"name": "a", "type": "date", "format": "dd/mm/yyyy"}]}"#,
            "protocol key `fields[0].format`: `dd/mm/yyyy` is not a strptime pattern (it has no % directive",
        ),
        (
            r#"{"fields": [{"name": "a", "type": "datetime", "format": "%d/%m/%Y %Q"}]}"#,
            "protocol key `fields[0].format`: `%d/%m/%Y %Q`: `%Q` is not a strptime directive",
        ),
        (
            r#"{"fields": [{"name": "a", "type": "geopoint", "format": "wkt"}]}"#,
            "protocol key `fields[0].format`: a geopoint field's format is default, array or object, not `wkt`",
        ),
        (
            r#"{"fields": [{"name": "a", "type": "list", "itemType": "object"}]}"#,
            "protocol key `fields[0].itemType`: a list's items are string, integer, number, boolean, date, time or datetime, not `object`",
        ),
        (
            r#"{"fields": [{"name": "a", "type": "number", "decimalChar": ",,"}]}"#,
            "protocol key `fields[0].decimalChar`: expected one character",
        ),
        (
            r#"{"fields": [{"name": "a"}], "fieldsMatch": "loose"}"#,
            "protocol key `fieldsMatch`: `loose` is not one of exact, equal, subset, superset, partial",
        ),
        (
            r#"{"fields": [{"name": "a"}], "cleaning": {"trimm": true}}"#,
            "protocol key `cleaning.trimm`: unknown key `trimm`; did you mean `trim`?",
        ),
        (
            r#"{"fields": [{"name": "a"}], "cleaning": {"headers": "fuzzy"}}"#,
            "protocol key `cleaning.headers`: `fuzzy` is not one of exact, loose",
        ),
        (
            r#"{"fields": [{"name": "a"}, {"name": "a"}]}"#,
            "protocol key `fields[1].name`: two fields have this name",
        ),
        (
            r#"{"fields": [{"name": "a"}], "foreignKeys": [{"fields": ["b"], "reference": {"fields": ["a"]}}]}"#,
            "protocol key `foreignKeys[0].fields[0]`: no field is named `b`",
        ),
        (
            r#"{"fields": [{"name": "a"}], "foreignKeys": [{"fields": ["a"], "reference": {"fields": ["z"]}}]}"#,
            "protocol key `foreignKeys[0].reference.fields[0]`: no field is named `z`",
        ),
        (
            r#"{"fields": [{"name": "a"}], "foreignKeys": [{"fields": "a", "reference": {"resource": "sites", "fields": ["x", "y"]}}]}"#,
            "protocol key `foreignKeys[0].reference.fields`: 1 field(s) refer to 2 field(s)",
        ),
        (
            r#"{"fields": [{"name": "a"}], "foreignKeys": [{"fields": "a"}]}"#,
            "protocol key `foreignKeys[0].reference`: this key is required",
        ),
        (
            r#"{"fields": [{"name": "a", "constraints": {"pattern": "("}}]}"#,
            "protocol key `fields[0].constraints.pattern`: not a valid regular expression",
        ),
        (
            r#"{"fields": [{"name": "a", "type": "integer", "constraints": {"minimum": "x"}}]}"#,
            "protocol key `fields[0].constraints.minimum`: expected a number, found \"x\"",
        ),
        (
            r#"{"fields": [{"name": "a", "type": "date", "constraints": {"maximum": "soon"}}]}"#,
            "protocol key `fields[0].constraints.maximum`: expected a date",
        ),
        (
            r#"{"fields": [{"name": "a", "constraints": {"minimum": 1}}]}"#,
            "protocol key `fields[0].constraints`: only integer, number, date, time, datetime, year, yearmonth and duration fields take bounds, not any",
        ),
        (
            r#"{"fields": [{"name": "a", "constraints": {"minLength": 5, "maxLength": 2}}]}"#,
            "protocol key `fields[0].constraints.minLength`: minLength 5 is greater than maxLength 2",
        ),
        (
            r#"{"fields": [{"name": "a"}, {"name": "b", "aliases": ["a"]}]}"#,
            "protocol key `fields[1].aliases[0]`: `a` also names field `a`",
        ),
        (
            r#"{"cleaning": {"headers": "loose"}, "fields": [{"name": "a"}, {"name": "b", "aliases": ["A"]}]}"#,
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
            r#"{"fields": [{"name": "a", "type": "date"}, {"name": "b", "type": "string"}],
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
            "protocol key `fields[0]`: dateForms, dayMonthOrder and allowTime are for date fields, not any",
        ),
        (
            r#"{"fields": [{"name": "a", "type": "date", "dateForms": ["D/M/Y"]}]}"#,
            "protocol key `fields[0].dateForms[0]`: `D/M/Y` is not a date form (Y-M-D, YYYYMMDD, Y年M月D日, A/B/Y)",
        ),
        (
            r#"[{"name": "a"}]"#,
            "protocol key `(document)`: expected a JSON object, found an array",
        ),
        (
            r#"{"name": "x"}"#,
            "protocol key `fields`: this key is required",
        ),
        (
            r#"{"fields": [{"title": "A"}]}"#,
            "protocol key `fields[0].name`: this key is required in `fields[0]`",
        ),
        (
            r#"{"fields": [{"name": "a", "constraints": {"maxLength": 3, "maxLength": 4}}]}"#,
            "protocol key `fields[0].constraints.maxLength`: this key is given twice",
        ),
        (
            r#"{"fields": [{"name": "a", "titles": {"zh-CN": "甲", "zh-CN": "乙"}}]}"#,
            "protocol key `fields[0].titles.zh-CN`: this key is given twice",
        ),
        (
            r#"{"fields": [{"name": "a", "constraints": {"maxLength": "3"}}]}"#,
            "protocol key `fields[0].constraints.maxLength`: expected a whole number of 0 or more, found a string",
        ),
        (
            r#"{"fields": [{"name": "a", "constraints": {"required": 1}}]}"#,
            "protocol key `fields[0].constraints.required`: expected true or false, found a number",
        ),
        (
            r#"{"fields": [{"name": 7}]}"#,
            "protocol key `fields[0].name`: expected a string, found a number",
        ),
        (
            r#"{"fields": {"name": "a"}}"#,
            "protocol key `fields`: expected a list, found an object",
        ),
        (
            r#"{"fields": [{"name": "a", "dayMonthOrder": "yearFirst", "type": "date"}]}"#,
            "protocol key `fields[0].dayMonthOrder`: `yearFirst` is not one of infer, dayFirst, monthFirst",
        ),
        (
            r#"{"fields": [{"name": "a", "type": "bloodPressure", "constraints": {"systolic": {"minimum": 50}}}]}"#,
            "protocol key `fields[0].constraints.systolic.maximum`: this key is required",
        ),
        (
            r#"{"fields": [{"name": "a"}], "rules": [{"field": "a", "op": "<", "code": "x"}]}"#,
            "protocol key `rules[0].other`: this key is required",
        ),
        (
            r#"{"fields": [{"name": "a"}], "scores": [{"name": "s", "terms": [{"field": "a", "weight": "2"}]}]}"#,
            "protocol key `scores[0].terms[0].weight`: expected a number, found a string",
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

/// The compact build refuses what only the full module has, naming the
/// key and the feature.
#[cfg(not(feature = "full"))]
#[test]
fn the_compact_build_names_what_needs_the_full_module() {
    let cases = [
        (r#""type": "geojson""#, "fields[0].type", "the geojson type"),
        (
            r#""type": "geopoint""#,
            "fields[0].type",
            "the geopoint type",
        ),
        (r#""type": "object""#, "fields[0].type", "the object type"),
        (r#""type": "array""#, "fields[0].type", "the array type"),
        (r#""type": "list""#, "fields[0].type", "the list type"),
        (
            r#""type": "string", "format": "wkt""#,
            "fields[0].format",
            "the wkt format",
        ),
        (
            r#""type": "date", "format": "%d/%m/%Y""#,
            "fields[0].format",
            "strptime format `%d/%m/%Y`",
        ),
        (
            r#""constraints": {"pattern": "(M|F)"}"#,
            "fields[0].constraints.pattern",
            "pattern `(M|F)` (beyond quantified ASCII classes)",
        ),
        (
            r#""showIf": "[a] = 1""#,
            "fields[0]",
            "branching, requiredIf, calculated fields, assertions and repeating forms",
        ),
        (
            r#""type": "date", "format": "redcap-ymd""#,
            "fields[0].format",
            "REDCap formats",
        ),
    ];
    for (field, path, feature) in cases {
        let doc = format!(r#"{{"fields": [{{"name": "a", {field}}}]}}"#);
        match Protocol::from_json(&doc) {
            Err(ProtocolError::NeedsFullModule {
                path: p,
                feature: f,
            }) => {
                assert_eq!((p.as_str(), f.as_str()), (path, feature), "{doc}");
            }
            other => panic!("{doc}: {other:?}"),
        }
    }
    // What the compact build does read.
    let doc = r#"{"fields": [{"name": "a", "constraints": {"pattern": "[A-Z]{2}[0-9]{4}"}}]}"#;
    assert!(Protocol::from_json(doc).is_ok());
}

// The diary branches, which is the full build's.
#[cfg(feature = "full")]
mod scores {
    use chrono::NaiveDate;

    use super::*;
    use crate::report::RecordVerdict;
    use crate::{Lang, Validator};

    fn verdict(protocol: &Protocol, record: &str) -> serde_json::Value {
        let protocol = Arc::new(Protocol::from_json(protocol.source()).unwrap());
        let as_of = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
        let mut validator = Validator::new(Arc::clone(&protocol), as_of);
        let outcome = validator
            .validate_json(1, record.as_bytes(), usize::MAX)
            .unwrap();
        let verdict = RecordVerdict::new(&outcome, &protocol, Lang::En);
        serde_json::to_value(&verdict).unwrap()
    }

    #[test]
    fn the_epro_diary_scores_a_valid_record() {
        let diary = Protocol::builtin("epro-daily").unwrap();
        let answer = r#"{"pain": 4, "fatigue": "6", "sleepQuality": " poor ", "nausea": "yes",
                         "nauseaSeverity": "moderate", "symptoms": ["headache", "rash"],
                         "completedAt": "2026-11-27 08:30"}"#;
        let verdict = verdict(&diary, answer);
        assert_eq!(verdict["valid"], true, "{verdict}");
        assert_eq!(verdict["hidden"], serde_json::json!([]));
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
        let late = r#"{"pain": 11, "fatigue": 1, "sleepQuality": "good", "nausea": false,
                       "symptoms": ["none"], "completedAt": "2026-11-28"}"#;
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

    #[test]
    fn the_epro_diary_asks_nausea_severity_only_after_nausea() {
        let diary = Protocol::builtin("epro-daily").unwrap();
        let answer = |nausea: &str, more: &str| {
            format!(
                r#"{{"pain": 1, "fatigue": 1, "sleepQuality": "good", "nausea": {nausea},
                    "completedAt": "2026-11-27", {more}}}"#
            )
        };
        let codes = |verdict: &serde_json::Value| -> Vec<(String, String)> {
            verdict["issues"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| (i["field"].to_string(), i["code"].to_string()))
                .collect()
        };
        // In either language, "no" hides the question; an answer to it
        // anyway is an issue, not silently kept.
        let no = verdict(&diary, &answer(r#""否""#, r#""symptoms": ["none"]"#));
        assert_eq!(no["valid"], true, "{no}");
        assert_eq!(no["hidden"], serde_json::json!(["nauseaSeverity"]));
        let stale = verdict(
            &diary,
            &answer("false", r#""nauseaSeverity": "mild", "symptoms": ["none"]"#),
        );
        assert_eq!(
            codes(&stale),
            [(r#""nauseaSeverity""#.into(), r#""hidden_has_value""#.into())]
        );
        // "是" (yes) shows it, and then it is required.
        let yes = verdict(&diary, &answer(r#""是""#, r#""symptoms": ["vomiting"]"#));
        assert_eq!(yes["hidden"], serde_json::json!([]));
        assert_eq!(
            codes(&yes),
            [(r#""nauseaSeverity""#.into(), r#""required""#.into())]
        );
        // The checklist: required, its choices, and "none" alone.
        let checklist = |symptoms: &str| {
            codes(&verdict(
                &diary,
                &answer("false", &format!(r#""symptoms": {symptoms}"#)),
            ))
        };
        assert_eq!(
            checklist("[]"),
            [(r#""symptoms""#.into(), r#""required""#.into())]
        );
        assert_eq!(
            checklist(r#"["fever"]"#),
            [(r#""symptoms""#.into(), r#""type""#.into())]
        );
        assert_eq!(
            checklist(r#"["none", "rash"]"#),
            [(r#""symptoms""#.into(), r#""none_with_symptoms""#.into())]
        );
        assert_eq!(checklist(r#"["headache", "dizziness"]"#), []);
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

#[cfg(not(feature = "full"))]
#[test]
fn the_compact_build_sends_the_branching_diary_to_the_full_module() {
    let refused = Protocol::builtin("epro-daily").unwrap_err();
    assert!(
        matches!(refused, ProtocolError::NeedsFullModule { ref path, .. } if path == "fields[4]"),
        "{refused}"
    );
}

#[cfg(feature = "full")]
#[test]
fn titles_in_other_languages_are_carried_to_forms_and_checked() {
    let diary = Protocol::builtin("epro-daily").unwrap();
    let fields = diary.describe();
    let sleep = fields.iter().find(|f| f.name == "sleepQuality").unwrap();
    assert_eq!(sleep.titles["zh-CN"], "您昨晚睡得怎么样？");
    assert_eq!(sleep.enum_titles["zh-CN"]["very poor"], "很差");
    let json = serde_json::to_value(sleep).unwrap();
    assert_eq!(json["enumTitles"]["zh-CN"]["good"], "好");
    let notes = fields.iter().find(|f| f.name == "notes").unwrap();
    assert!(
        serde_json::to_value(notes)
            .unwrap()
            .get("enumTitles")
            .is_none()
    );
    let symptoms = fields.iter().find(|f| f.name == "symptoms").unwrap();
    assert_eq!(symptoms.kind, "multiselect");
    assert_eq!(symptoms.allowed.as_ref().unwrap()[5], "none");
    assert_eq!(symptoms.labels["rash"], "Skin rash");
    assert_eq!(symptoms.enum_titles["zh-CN"]["rash"], "皮疹");
    assert_eq!(
        diary.describe_scores()[0].titles["zh-CN"],
        "症状负担（0–30）"
    );
}

#[test]
fn titles_of_no_value_or_empty_are_refused() {
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

#[cfg(feature = "full")]
#[test]
fn a_diary_names_its_completion_field_and_says_one_a_day() {
    let diary = Protocol::builtin("epro-daily")
        .unwrap()
        .describe_diary()
        .unwrap();
    assert_eq!(diary.completion_field.as_deref(), Some("completedAt"));
    assert!(diary.one_per_day);
    let json = serde_json::to_value(&diary).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"completionField": "completedAt", "onePerDay": true})
    );
    let plain = Protocol::from_json(r#"{"fields": [{"name": "a"}]}"#).unwrap();
    assert_eq!(plain.describe_diary(), None);
    let doc = |diary: &str| {
        format!(
            r#"{{"fields": [{{"name": "at", "type": "date"}}, {{"name": "n", "type": "integer"}}], "diary": {diary}}}"#
        )
    };
    let only = Protocol::from_json(&doc(r#"{"onePerDay": true}"#)).unwrap();
    assert_eq!(only.describe_diary().unwrap().completion_field, None);
    for (diary, expected) in [
        (
            r#"{"completionField": "n"}"#,
            "`diary.completionField`: `n` is not a date field",
        ),
        (
            r#"{"completionField": "x"}"#,
            "`diary.completionField`: no field is named `x`",
        ),
        (r#"{"onePerDay": "yes"}"#, "`diary.onePerDay`"),
        (r#"{"onePreDay": true}"#, "onePerDay"),
        ("true", "`diary`"),
    ] {
        let message = refusal(&doc(diary));
        assert!(message.contains(expected), "{diary}: {message}");
    }
}

#[cfg(not(feature = "full"))]
#[test]
fn the_compact_build_sends_a_diary_to_the_full_module() {
    let refused =
        Protocol::from_json(r#"{"fields": [{"name": "a"}], "diary": {"onePerDay": true}}"#)
            .unwrap_err();
    assert!(
        matches!(refused, ProtocolError::NeedsFullModule { ref path, .. } if path == "diary"),
        "{refused}"
    );
}
