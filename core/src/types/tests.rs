//! Every type and format read as Table Schema defines it: valid, invalid
//! and boundary cases written from the spec (v1 and v2).

use super::*;

/// The type of a one-field protocol whose field is `field` (JSON).
fn ty(field: &str) -> Type {
    let protocol =
        crate::Protocol::from_json(&format!(r#"{{"fields": [{{"name": "x", {field}}}]}}"#))
            .unwrap_or_else(|e| panic!("{field}: {e}"));
    protocol.fields[0].ty.clone()
}

/// The canonical value of `text`, or `None` when it is not of the type.
fn read(ty: &Type, text: &str) -> Option<String> {
    ty.parse(&Scalar::Text(Cow::Borrowed(text)))
        .ok()
        .map(|v| v.canonical())
}

fn accepts(field: &str, cases: &[(&str, &str)], refuses: &[&str]) {
    let ty = ty(field);
    for (text, canonical) in cases {
        assert_eq!(
            read(&ty, text).as_deref(),
            Some(*canonical),
            "{field}: {text:?}"
        );
    }
    for text in refuses {
        assert_eq!(read(&ty, text), None, "{field}: {text:?} should be refused");
    }
}

#[cfg(feature = "full")] // wkt, strptime, geo and JSON types
#[test]
fn string_formats() {
    accepts(
        r#""type": "string""#,
        &[("", ""), (" a ", " a "), ("李娜", "李娜")],
        &[],
    );
    accepts(
        r#""type": "string", "format": "email""#,
        &[("a@b.co", "a@b.co")],
        &["a@b", "a b@c.co"],
    );
    accepts(
        r#""type": "string", "format": "uri""#,
        &[("https://x.org/p?q=1", "https://x.org/p?q=1")],
        &["x.org", "http://x.org/a b"],
    );
    accepts(
        r#""type": "string", "format": "uuid""#,
        &[(
            "123e4567-e89b-12d3-a456-426614174000",
            "123e4567-e89b-12d3-a456-426614174000",
        )],
        &["123e4567e89b12d3a456426614174000"],
    );
    accepts(
        r#""type": "string", "format": "binary""#,
        &[("aGVsbG8=", "aGVsbG8=")],
        &["aGVsbG8", "!!!!"],
    );
    accepts(
        r#""type": "string", "format": "wkt""#,
        &[("POINT (30 10)", "POINT (30 10)")],
        &["POINT"],
    );
}

#[test]
fn numbers_and_integers() {
    accepts(
        r#""type": "number""#,
        &[
            ("1.5", "1.5"),
            (".5", "0.5"),
            ("5.", "5"),
            ("-1.23", "-1.23"),
            ("1E3", "1000"),
            ("NaN", "NaN"),
            ("inf", "INF"),
            ("-INF", "-INF"),
        ],
        &["", " 1", "1,000", "1_000", "+INF", "١٢"],
    );
    accepts(
        r#""type": "number", "decimalChar": ",", "groupChar": " ""#,
        &[("1 000,5", "1000.5")],
        &["1.5"],
    );
    accepts(
        r#""type": "number", "bareNumber": false"#,
        &[("€95", "95"), ("95%", "95"), ("EUR 95.5", "95.5")],
        &["EUR"],
    );
    accepts(
        r#""type": "integer""#,
        &[
            ("0", "0"),
            ("+7", "7"),
            ("-12", "-12"),
            ("9223372036854775807", "9223372036854775807"),
        ],
        &["1.0", "1e3", "9223372036854775808", " 1"],
    );
    accepts(
        r#""type": "integer", "groupChar": ",""#,
        &[("1,000,000", "1000000")],
        &["1.000"],
    );
    accepts(
        r#""type": "integer", "bareNumber": false"#,
        &[("95%", "95"), ("€-3", "-3")],
        &["95.5%"],
    );
}

#[test]
fn booleans_exactly_as_listed() {
    accepts(
        r#""type": "boolean""#,
        &[
            ("true", "true"),
            ("True", "true"),
            ("TRUE", "true"),
            ("1", "true"),
            ("0", "false"),
            ("FALSE", "false"),
        ],
        &["tRUE", "yes", " true", "t"],
    );
    accepts(
        r#""type": "boolean", "trueValues": ["Y"], "falseValues": ["N"]"#,
        &[("Y", "true"), ("N", "false")],
        &["true", "y"],
    );
}

#[cfg(feature = "full")] // wkt, strptime, geo and JSON types
#[test]
fn dates_times_and_datetimes() {
    accepts(
        r#""type": "date""#,
        &[("2024-01-26", "2024-01-26"), ("2024-02-29", "2024-02-29")],
        &["2024-1-26", "2023-02-29", "26/01/2024"],
    );
    accepts(
        r#""type": "date", "format": "%d/%m/%Y""#,
        &[("26/01/2024", "2024-01-26"), ("1/2/2024", "2024-02-01")],
        &["2024-01-26", "31/02/2024"],
    );
    accepts(
        r#""type": "date", "format": "any""#,
        &[
            ("2024年1月26日", "2024-01-26"),
            ("26/01/2024", "2024-01-26"),
        ],
        &["tomorrow"],
    );
    accepts(
        r#""type": "time""#,
        &[
            ("15:00:00", "15:00:00"),
            ("00:00:00", "00:00:00"),
            ("23:59:59.5", "23:59:59.5"),
            ("15:00:00+05:00", "15:00:00+05:00"),
        ],
        &["15:00", "24:00:01", "3 pm"],
    );
    accepts(r#""type": "time""#, &[("24:00:00", "00:00:00")], &[]);
    accepts(
        r#""type": "datetime""#,
        &[("2024-01-26T24:00:00", "2024-01-27T00:00:00")],
        &[],
    );
    accepts(
        r#""type": "time", "format": "%H:%M""#,
        &[("7:05", "07:05:00")],
        &["07:05:00"],
    );
    accepts(
        r#""type": "datetime""#,
        &[
            ("2024-01-26T15:00:00", "2024-01-26T15:00:00"),
            (
                "2024-01-26T15:00:00.300-05:00",
                "2024-01-26T15:00:00.3-05:00",
            ),
            ("2024-01-26T15:00:00Z", "2024-01-26T15:00:00Z"),
        ],
        &["2024-01-26 15:00:00", "2024-01-26T15:00", "2024-01-26"],
    );
    accepts(
        r#""type": "datetime", "format": "%d/%m/%Y %H:%M:%S""#,
        &[("12/11/2018 09:15:32", "2018-11-12T09:15:32")],
        &["2018-11-12T09:15:32"],
    );
    accepts(
        r#""type": "datetime", "format": "fmt:%Y%m%d""#,
        &[("20240126", "2024-01-26T00:00:00")],
        &[],
    );
}

#[test]
fn partial_dates_and_durations() {
    accepts(
        r#""type": "year""#,
        &[("2024", "2024"), ("0000", "0000"), ("9999", "9999")],
        &["24", "20240", "-2024"],
    );
    accepts(
        r#""type": "yearmonth""#,
        &[("2024-01", "2024-01"), ("2024-12", "2024-12")],
        &["2024-13", "2024-1", "2024/01"],
    );
    accepts(
        r#""type": "duration""#,
        &[
            ("P1Y2M10DT2H30M", "P1Y2M10DT2H30M"),
            ("PT0.5S", "PT0.5S"),
            ("-P1D", "-P1D"),
            ("PT36H", "PT36H"),
        ],
        &["P", "PT", "P1W", "1D"],
    );
}

#[cfg(feature = "full")] // wkt, strptime, geo and JSON types
#[test]
fn geo_and_json_types() {
    accepts(
        r#""type": "geopoint""#,
        &[("90.5, 45.5", "90.5,45.5"), ("-180,-90", "-180,-90")],
        &["181,0", "[90, 45]"],
    );
    accepts(
        r#""type": "geopoint", "format": "array""#,
        &[("[90.5, 45.5]", "90.5,45.5")],
        &["90.5, 45.5"],
    );
    accepts(
        r#""type": "geopoint", "format": "object""#,
        &[(r#"{"lon": 90, "lat": 45}"#, "90,45")],
        &[r#"{"lon": 90}"#],
    );
    accepts(
        r#""type": "geojson""#,
        &[(
            r#"{"type": "Point", "coordinates": [1, 2]}"#,
            r#"{"coordinates":[1,2],"type":"Point"}"#,
        )],
        &[r#"{"type": "Point"}"#, "[1, 2]"],
    );
    accepts(
        r#""type": "object""#,
        &[(r#"{"b": 1, "a": [true]}"#, r#"{"a":[true],"b":1}"#)],
        &["[1]", "{bad", r#"{"a": 1, "a": 2}"#],
    );
    accepts(
        r#""type": "array""#,
        &[("[1, \"x\"]", r#"[1,"x"]"#)],
        &[r#"{"a": 1}"#],
    );
    accepts(
        r#""type": "list""#,
        &[("a,b,c", "a,b,c"), ("a,,b", "a,,b")],
        &[],
    );
    accepts(
        r#""type": "list", "itemType": "integer", "delimiter": ";""#,
        &[("1;2;3", "1,2,3")],
        &["1;x", "1,2"],
    );
    accepts(
        r#""type": "any""#,
        &[("anything at all", "anything at all")],
        &[],
    );
}

#[cfg(feature = "full")] // wkt, strptime, geo and JSON types
#[test]
fn native_json_values() {
    let number = |t: &Type, raw| t.parse(&Scalar::Number(raw)).ok().map(|v| v.canonical());
    assert_eq!(number(&ty(r#""type": "integer""#), "30"), Some("30".into()));
    assert_eq!(number(&ty(r#""type": "integer""#), "30.5"), None);
    assert_eq!(
        number(&ty(r#""type": "number""#), "1e2"),
        Some("100".into())
    );
    assert_eq!(
        number(&ty(r#""type": "year""#), "2024"),
        Some("2024".into())
    );
    assert_eq!(
        number(&ty(r#""type": "string""#), "5"),
        None,
        "a JSON number is not a string"
    );
    let json = |t: &Type, raw| t.parse(&Scalar::Json(raw)).ok().map(|v| v.canonical());
    assert_eq!(
        json(&ty(r#""type": "object""#), r#"{"a":1}"#),
        Some(r#"{"a":1}"#.into())
    );
    assert_eq!(json(&ty(r#""type": "array""#), r#"{"a":1}"#), None);
    assert_eq!(
        json(&ty(r#""type": "list", "itemType": "number""#), "[1, 2.5]"),
        Some("1,2.5".into())
    );
    assert_eq!(
        json(&ty(r#""type": "geopoint", "format": "array""#), "[1, 2]"),
        Some("1,2".into())
    );
    assert_eq!(json(&ty(r#""type": "any""#), "[1]"), Some("[1]".into()));
    let boolean = ty(r#""type": "boolean""#);
    assert_eq!(
        boolean.parse(&Scalar::Bool(false)).ok(),
        Some(Value::Boolean(false))
    );
}
