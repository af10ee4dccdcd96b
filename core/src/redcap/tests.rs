//! Dictionaries in both header styles, every field type, choices, logic.

use std::sync::Arc;

use super::*;
use crate::{Format, Options, Outcome, Protocol, Session, Sink, TableIssue, Warning};

const DOWNLOAD: &str = "\
\"Variable / Field Name\",\"Form Name\",\"Section Header\",\"Field Type\",\"Field Label\",\"Choices, Calculations, OR Slider Labels\",\"Field Note\",\"Text Validation Type OR Show Slider Number\",\"Text Validation Min\",\"Text Validation Max\",Identifier?,\"Branching Logic (Show field only if...)\",\"Required Field?\",\"Custom Alignment\",\"Question Number (surveys only)\",\"Matrix Group Name\",\"Matrix Ranking?\",\"Field Annotation\"
record_id,enrol,,text,\"Record ID\",,,,,,,[x] = 1,,,,,,
name,enrol,,text,\"<b>Name</b> &amp; surname\",,,,,,y,,y,,,,,
dob,enrol,,text,Born,,,date_mdy,01-01-1900,today,,,,,,,,
sex,enrol,,radio,Sex,\"1, Female | 2, Male | ABC, Other\",,,,,,,y,,,,,
symptoms,enrol,,checkbox,Symptoms,\"1, Nausea | -99, Unknown\",,,,,,,,,,,,
severity,enrol,,slider,Severity,\"Low | Mid | High\",,,,,,[symptoms(1)] = '1',,,,,,
bmi,enrol,,calc,BMI,[w]/[h],,,,,,,,,,,,
smoker,enrol,,yesno,Smoker,,,,,,,,,,,,,
packs,enrol,,text,Packs,,,integer,0,10,,\"[smoker] = '1' and [sex] <> ''\",y,,,,,
zip,enrol,,text,ZIP,,,zipcode,,,,[event-name] = 'x',,,,,,
";

fn imported(dictionary: &str) -> Protocol {
    let import = import(dictionary.as_bytes(), "test").unwrap_or_else(|e| panic!("{e}"));
    Protocol::from_json(&import.protocol).unwrap_or_else(|e| panic!("{e}\n{}", import.protocol))
}

#[derive(Default)]
struct Log(
    Vec<(u64, String, String)>,
    Vec<Warning>,
    Option<Arc<Protocol>>,
);

impl Sink for Log {
    fn record(&mut self, outcome: &Outcome<'_>) {
        let protocol = self.2.as_ref().unwrap();
        for issue in &outcome.issues {
            let field = issue.field_name(protocol).unwrap_or("-").to_owned();
            self.0.push((outcome.row, field, issue.code.to_string()));
        }
    }
    fn table_issue(&mut self, issue: &TableIssue) {
        panic!("{issue:?}");
    }
    fn warning(&mut self, warning: &Warning) {
        self.1.push(warning.clone());
    }
}

fn validate(protocol: Protocol, csv: &str) -> Log {
    let protocol = Arc::new(protocol);
    let mut log = Log(Vec::new(), Vec::new(), Some(Arc::clone(&protocol)));
    let options = Options::new(chrono::NaiveDate::from_ymd_opt(2025, 6, 30).unwrap());
    let mut session = Session::new(protocol, Format::Csv, &options);
    session.feed(csv.as_bytes(), &mut log).unwrap();
    session.finish(&mut log).unwrap();
    log
}

#[test]
fn every_field_type_and_its_verdicts() {
    let protocol = imported(DOWNLOAD);
    assert_eq!(protocol.fields[1].title.as_deref(), Some("Name & surname"));
    assert!(protocol.fields[1].identifier);
    let csv = "\
record_id,name,dob,sex,symptoms___1,symptoms____99,severity,bmi,smoker,packs,zip,redcap_event_name,enrol_complete,site
1,Ann,12-31-1990,1,1,0,50,23.1,0,,1,baseline,2,x
2,,02-30-1990,3,0,0,,,1,,,baseline,2,
3,Cy,1899-12-31,ABC,0,1,50,,1,11,,,,
,Di,2025-07-01,,2,0,,,0,,,,,
5,Ed,06-30-2025,2,1,0,101,,2,5,,,,
6,Fa,,2,0,0,,,1,-1,,,,
";
    let log = validate(protocol, csv);
    let got: Vec<(u64, &str, &str)> = log
        .0
        .iter()
        .map(|(r, f, c)| (*r, f.as_str(), c.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (1, "zip", "type"), // its logic is not evaluated; its value is checked
            (2, "name", "required"),
            (2, "dob", "type"),
            (2, "sex", "not_allowed"),
            (2, "packs", "required"),
            (3, "dob", "out_of_range"),
            (3, "severity", "hidden_has_value"),
            (3, "packs", "out_of_range"),
            (4, "record_id", "required"),
            (4, "dob", "out_of_range"),
            (4, "sex", "required"),
            (4, "symptoms", "not_allowed"),
            (5, "severity", "out_of_range"),
            (5, "smoker", "not_allowed"),
            (5, "packs", "hidden_has_value"), // logic reads raw values
            (6, "packs", "out_of_range"),
        ]
    );
    assert!(log.1.contains(&Warning::UnknownColumns {
        columns: vec!["site".into()]
    }));
    assert!(log.1.contains(&Warning::UnsupportedLogic {
        fields: vec!["zip".into()]
    }));
}

#[test]
fn the_api_header_style_and_windows_1252() {
    let api = "field_name,form_name,section_header,field_type,field_label,select_choices_or_calculations,field_note,text_validation_type_or_show_slider_number,text_validation_min,text_validation_max,identifier,branching_logic,required_field\nid,f,,text,Id,,,,,,,,\nnote,f,,notes,Caf\u{e9},,,,,,,,\n";
    let mut bytes = api.replace('\u{e9}', "").into_bytes();
    // `Café` in Windows-1252: not UTF-8.
    let at = bytes.windows(3).position(|w| w == b"Caf").unwrap() + 3;
    bytes.insert(at, 0xE9);
    let import = import(&bytes, "api").unwrap();
    let protocol = Protocol::from_json(&import.protocol).unwrap();
    assert_eq!(protocol.fields[1].title.as_deref(), Some("Café"));
    assert!(is_dictionary_header(&[
        "field_name",
        "Form_Name",
        "FIELD_TYPE"
    ]));
    assert!(is_dictionary_header(&[
        "Variable / Field Name",
        "Field Type"
    ]));
    assert!(!is_dictionary_header(&["id", "name"]));
}

#[test]
fn validation_types_and_their_bounds() {
    let dictionary = "\"Variable / Field Name\",\"Form Name\",\"Field Type\",\"Field Label\",\"Text Validation Type OR Show Slider Number\",\"Text Validation Min\",\"Text Validation Max\"\n\
id,f,text,Id,,,\n\
n,f,text,N,number,-1.5,2.5e1\n\
n2,f,text,N2,number_2dp,,\n\
t,f,text,T,time,08:00,17:30\n\
ms,f,text,MS,time_mm_ss,,\n\
dt,f,text,DT,datetime_dmy,01-01-2020,now\n\
e,f,text,E,email,,\n\
p,f,text,P,phone,,\n\
a,f,text,A,alpha_only,,\n\
x,f,text,X,ssn,,\n\
bad,f,text,B,integer,low,\n";
    let import = import(dictionary.as_bytes(), "v").unwrap();
    assert_eq!(
        import.notes,
        vec![ImportNote {
            field: "bad".into(),
            message: "the bound `low` does not parse: ignored".into()
        }]
    );
    let csv = "id,n,n2,t,ms,dt,e,p,a,x,bad\n\
1,25,1.25,8:00,05:00,31-12-2019 0:00,a@b.co,336-481-2635,Abc,anything,7\n\
2,5.,1.2,7:59,5:00,01-01-2020 24:00,a@b,136-481-2635,A1,,x\n\
3,NaN,-1.00,17:31,60:00,30-06-2025 23:59,,,,,\n";
    let log = validate(Protocol::from_json(&import.protocol).unwrap(), csv);
    let got: Vec<(u64, &str, &str)> = log
        .0
        .iter()
        .map(|(r, f, c)| (*r, f.as_str(), c.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (1, "dt", "out_of_range"),
            (2, "n", "type"),
            (2, "n2", "type"),
            (2, "t", "out_of_range"),
            (2, "ms", "type"),
            (2, "dt", "type"),
            (2, "e", "type"),
            (2, "p", "type"),
            (2, "a", "type"),
            (2, "bad", "type"),
            (3, "n", "type"),
            (3, "t", "out_of_range"),
            (3, "ms", "type"),
        ]
    );
}

#[test]
fn bad_dictionaries_name_the_field_and_line() {
    let header = "field_name,form_name,field_type,field_label,select_choices_or_calculations\n";
    for (rows, message) in [
        (
            "a,f,text,A,\na,f,text,A,\n",
            "line 3, field `a`: defined twice (first on line 2, as `a`)",
        ),
        // Found by the `protocol` fuzz target: names differing only in
        // case are one column to the protocol, so one field.
        (
            "Arm,f,text,A,\narm,f,text,A,\n",
            "line 3, field `arm`: defined twice (first on line 2, as `Arm`)",
        ),
        // Found by the fuzz target too: what the protocol loader would
        // refuse is refused at import, on the field's line.
        (
            "a,f,text,A,\nh,f,calc,H,\"[h] * 2\"\n",
            "line 3, field `h`: the calculated fields h cannot be ordered: their calculations read each other in a cycle",
        ),
        (
            "a,f,radio,A,\", x | 2, y\"\n",
            "line 2, field `a`: the choice `, x` has no code before its comma",
        ),
        (
            "a,f,checkbox,A,\"1, x | 1, y\"\n",
            "line 2, field `a`: the choice code `1` is listed twice",
        ),
    ] {
        let error = import(format!("{header}{rows}").as_bytes(), "bad").unwrap_err();
        assert_eq!(error.to_string(), message);
    }
    assert_eq!(
        import(b"id,name\n1,2\n", "x").unwrap_err(),
        DictionaryError::Header {
            missing: "Variable / Field Name"
        }
    );
}

#[test]
fn calc_fields_are_computed_not_checked() {
    let dictionary = "field_name,form_name,field_type,field_label,select_choices_or_calculations,branching_logic\n\
id,f,text,Id,,\n\
w,f,text,Weight,,\n\
h,f,text,Height,,\n\
bmi,f,calc,BMI,\"round([w]/(([h]/100)^2),1)\",[h] <> ''\n\
odd,f,calc,Odd,[nowhere] * 2,\n";
    let import = import(dictionary.as_bytes(), "calc").unwrap();
    assert_eq!(import.notes.len(), 1);
    assert_eq!(import.notes[0].field, "odd");
    assert!(
        import.notes[0]
            .message
            .starts_with("calculation names a field the dictionary lacks"),
        "{}",
        import.notes[0].message
    );
    let protocol = Protocol::from_json(&import.protocol).unwrap();
    let bmi = protocol.field_index("bmi").unwrap();
    assert!(protocol.logic.as_ref().unwrap().is_calculated(bmi));
    // An exported value, even a wrong one or a hidden one, is never an issue.
    let log = validate(
        protocol,
        "id,w,h,bmi,odd\n1,70,175,22.9,\n2,70,,5,x\n3,,,,\n",
    );
    assert!(log.0.is_empty(), "{:?}", log.0);
}

#[test]
fn forms_and_section_headers_reach_form_builders() {
    let dictionary = "\"Variable / Field Name\",\"Form Name\",\"Section Header\",\"Field Type\",\"Field Label\"\n\
id,screening,,text,Id\n\
sbp,screening,\"<h3>Vital <b>signs</b></h3>\",text,Systolic\n";
    let protocol = imported(dictionary);
    let fields = protocol.describe();
    assert_eq!(fields[1].form.as_deref(), Some("screening"));
    assert_eq!(fields[1].section.as_deref(), Some("Vital signs"));
    assert_eq!(fields[0].section, None);
}
