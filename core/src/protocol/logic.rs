//! What makes a field's checks depend on the rest of its record: branching
//! (`showIf`: a hidden field must be empty and is not required),
//! conditional requirement (`requiredIf`), assertions over the record
//! (`rules` with `assert`), calculated fields (`calc`: computed first, so
//! the other expressions read their values), and repeating forms (REDCap's
//! repeating instruments: a row holds one form's fields). Expressions are compiled
//! here, once every field is known, so they may name any field.

use std::borrow::Cow;

use chrono::NaiveDate;

use super::tree::{Result, key_error};
use super::{Code, Field};
use crate::expr::{Expr, ExprError, Fields, Record};
use crate::types::Type;

/// A protocol's logic (see the module comment).
#[derive(Debug, Default)]
pub struct Logic {
    /// Per field: when it is shown.
    show_if: Vec<Option<Expr>>,
    /// Per field: when it is required, beside `required`.
    required_if: Vec<Option<Expr>>,
    /// Per field: its logic is not evaluated (`unsupportedLogic`), so it is
    /// not branch-checked at all.
    unchecked: Vec<bool>,
    /// Per field: it is calculated (`calc`), so never required.
    calculated: Vec<bool>,
    /// The fields whose logic is not evaluated (for the input's warning).
    pub unsupported: Vec<usize>,
    /// Assertions over a record.
    pub asserts: Vec<Assert>,
    /// Repeating forms, if the protocol has them.
    pub repeat: Option<Repeat>,
    /// Calculated fields (`calc`): `(field, expression)`, each after the
    /// calculated fields it reads.
    pub calcs: Vec<(usize, Expr)>,
}

/// A rule with an `assert` condition.
#[derive(Debug)]
pub struct Assert {
    /// What must hold.
    pub condition: Expr,
    /// The issue's code when it does not.
    pub code: Code,
    /// The field the issue is about, if any.
    pub field: Option<usize>,
    /// For people.
    pub description: Option<String>,
}

/// Repeating forms: the column that names a row's form (REDCap's
/// `redcap_repeat_instrument`), and each field's form.
#[derive(Debug)]
pub struct Repeat {
    /// The column's header key.
    pub column: String,
    /// Per field: its form, if it has one.
    pub forms: Vec<Option<String>>,
}

/// How a field's checks go for one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Branch {
    /// `showIf` is false: the field must be empty, and is not required.
    Hidden,
    /// Checked; `required` says whether an empty value is an issue.
    Shown {
        /// Whether it must have a value.
        required: bool,
    },
    /// Its logic is not evaluated: its value is checked, it is never
    /// required and never hidden.
    Unchecked,
}

/// A field's logic keys as written (compiled once every field is known).
#[derive(Debug, Default)]
pub(super) struct Sources {
    /// `(path, expression)` of `showIf`.
    pub show_if: Option<(String, String)>,
    /// `(path, expression)` of `requiredIf`.
    pub required_if: Option<(String, String)>,
    /// `unsupportedLogic`: logic kept as written, not evaluated.
    pub unsupported: Option<String>,
    /// `(path, expression)` of `calc`.
    pub calc: Option<(String, String)>,
}

impl Sources {
    /// Whether the field has any logic.
    pub fn any(&self) -> bool {
        self.show_if.is_some()
            || self.required_if.is_some()
            || self.unsupported.is_some()
            || self.calc.is_some()
    }
}

/// Names resolved against a protocol's fields.
pub(super) struct Names<'f>(pub &'f [Field]);

impl Fields for Names<'_> {
    fn field(&self, name: &str) -> Option<usize> {
        let fields = self.0;
        fields.iter().position(|f| f.name == name).or_else(|| {
            fields
                .iter()
                .position(|f| f.name.eq_ignore_ascii_case(name))
        })
    }

    fn has_choice(&self, field: usize, code: &str) -> bool {
        matches!(&self.0[field].ty, Type::MultiSelect(select)
            if select.choices.iter().any(|c| c.eq_ignore_ascii_case(code)))
    }
}

/// An expression error as a refusal of the key at `path`.
pub(super) fn refusal(path: &str, error: &ExprError) -> Box<super::ProtocolError> {
    key_error(path, error.to_string())
}

impl Logic {
    /// Compiles the fields' logic `sources` (one per field).
    pub(super) fn compile(fields: &[Field], sources: Vec<Sources>) -> Result<Logic> {
        let names = Names(fields);
        let mut logic = Logic::default();
        let mut calcs = Vec::new();
        for (f, source) in sources.into_iter().enumerate() {
            logic.calculated.push(source.calc.is_some());
            if let Some((path, text)) = source.calc {
                let expr = Expr::compile(&text, &names).map_err(|e| refusal(&path, &e))?;
                calcs.push((f, path, expr));
            }
            let compile = |key: Option<(String, String)>| -> Result<Option<Expr>> {
                key.map(|(path, text)| {
                    Expr::condition(&text, &names).map_err(|e| refusal(&path, &e))
                })
                .transpose()
            };
            logic.show_if.push(compile(source.show_if)?);
            logic.required_if.push(compile(source.required_if)?);
            logic.unchecked.push(source.unsupported.is_some());
            if source.unsupported.is_some() {
                logic.unsupported.push(f);
            }
        }
        logic.calcs = order_calcs(fields, calcs)?;
        Ok(logic)
    }

    /// The calculated fields' values for `record`, each written back into
    /// it (as text) for the calculated fields after it.
    pub fn calculate(&self, record: &mut Texts<'_>, as_of: NaiveDate) -> Vec<(usize, Option<f64>)> {
        let mut out = Vec::with_capacity(self.calcs.len());
        for (field, expr) in &self.calcs {
            let value = expr.number(record, as_of);
            if let Some(slot) = record.texts.get_mut(*field) {
                *slot = Cow::Owned(value.map(crate::value::number_text).unwrap_or_default());
            }
            out.push((*field, value));
        }
        out
    }

    /// Whether field `field` is calculated: hidden or not, its value is
    /// never an issue.
    pub fn is_calculated(&self, field: usize) -> bool {
        self.calculated.get(field).copied().unwrap_or(false)
    }

    /// How field `field` (whose own `required` is `required`) is checked
    /// in `record`.
    pub fn branch(
        &self,
        field: usize,
        required: bool,
        record: &dyn Record,
        as_of: NaiveDate,
    ) -> Branch {
        if self.unchecked.get(field).copied().unwrap_or(false) {
            return Branch::Unchecked;
        }
        if let Some(Some(show)) = self.show_if.get(field)
            && !show.holds(record, as_of)
        {
            return Branch::Hidden;
        }
        let required = !self.is_calculated(field)
            && (required
                || matches!(self.required_if.get(field), Some(Some(when)) if when.holds(record, as_of)));
        Branch::Shown { required }
    }
}

/// Calculated fields ordered so that each comes after those it reads; a
/// cycle is refused, naming its fields.
fn order_calcs(fields: &[Field], calcs: Vec<(usize, String, Expr)>) -> Result<Vec<(usize, Expr)>> {
    let mut pending = calcs;
    let mut ordered: Vec<(usize, Expr)> = Vec::with_capacity(pending.len());
    while !pending.is_empty() {
        let ready = pending.iter().position(|(_, _, expr)| {
            expr.reads()
                .iter()
                .all(|read| !pending.iter().any(|(other, _, _)| other == read))
        });
        let Some(at) = ready else {
            let names: Vec<&str> = pending
                .iter()
                .map(|(f, _, _)| fields[*f].name.as_str())
                .collect();
            return Err(key_error(
                pending[0].1.clone(),
                format!(
                    "the calculated fields {} cannot be ordered: their calculations read each other in a cycle",
                    names.join(", ")
                ),
            ));
        };
        let (field, _, expr) = pending.remove(at);
        ordered.push((field, expr));
    }
    Ok(ordered)
}

/// A record's fields as the expressions read them: each field's cleaned
/// text (`""` when it has none), and the chosen codes of multi-selects.
pub struct Texts<'a> {
    /// Per field.
    pub texts: Vec<Cow<'a, str>>,
    /// Per field: the chosen codes of a multi-select, else empty.
    pub chosen: Vec<Vec<String>>,
}

impl Record for Texts<'_> {
    fn text(&self, field: usize) -> &str {
        self.texts.get(field).map_or("", |t| t.as_ref())
    }

    fn chosen(&self, field: usize, code: &str) -> bool {
        self.chosen
            .get(field)
            .is_some_and(|codes| codes.iter().any(|c| c.eq_ignore_ascii_case(code)))
    }
}

impl Texts<'_> {
    /// Whether field `field` has a value (a multi-select: a choice).
    pub fn has_value(&self, field: usize) -> bool {
        !self.text(field).is_empty() || self.chosen.get(field).is_some_and(|c| !c.is_empty())
    }
}

// Logic is the full build's (see `Logics`).
#[cfg(all(test, feature = "full"))]
mod tests {
    use std::sync::Arc;

    use crate::{Format, Options, Outcome, Protocol, Session, Sink, TableIssue, Warning};

    /// `(line, [(field, code)])` of every record with issues, and the
    /// warnings.
    #[derive(Default)]
    struct Seen {
        protocol: Option<Arc<Protocol>>,
        issues: Vec<(u64, Vec<(String, String)>)>,
        records: usize,
        warnings: Vec<Warning>,
    }

    impl Sink for Seen {
        fn record(&mut self, outcome: &Outcome<'_>) {
            self.records += 1;
            let protocol = self.protocol.as_ref().unwrap();
            if !outcome.issues.is_empty() {
                let issues = outcome
                    .issues
                    .iter()
                    .map(|i| {
                        let field = i.field_name(protocol).unwrap_or("-").to_owned();
                        (field, i.code.to_string())
                    })
                    .collect();
                self.issues.push((outcome.line, issues));
            }
        }
        fn table_issue(&mut self, issue: &TableIssue) {
            panic!("table issue {issue:?}");
        }
        fn warning(&mut self, warning: &Warning) {
            self.warnings.push(warning.clone());
        }
    }

    fn run(protocol: &str, csv: &str) -> Seen {
        let protocol = Arc::new(Protocol::from_json(protocol).unwrap_or_else(|e| panic!("{e}")));
        let mut seen = Seen {
            protocol: Some(Arc::clone(&protocol)),
            ..Seen::default()
        };
        let options = Options::new(chrono::NaiveDate::from_ymd_opt(2025, 6, 30).unwrap());
        let mut session = Session::new(protocol, Format::Csv, &options);
        session.feed(csv.as_bytes(), &mut seen).unwrap();
        session.finish(&mut seen).unwrap();
        seen
    }

    fn codes(seen: &Seen) -> Vec<(u64, Vec<(&str, &str)>)> {
        seen.issues
            .iter()
            .map(|(line, issues)| {
                let issues = issues
                    .iter()
                    .map(|(f, c)| (f.as_str(), c.as_str()))
                    .collect();
                (*line, issues)
            })
            .collect()
    }

    const DIARY: &str = r#"{
      "fieldsMatch": "equal",
      "fields": [
        {"name": "id", "constraints": {"required": true}},
        {"name": "nausea", "constraints": {"required": true, "enum": ["yes", "no"]}},
        {"name": "severity", "type": "integer", "showIf": "[nausea] = 'yes'",
         "constraints": {"required": true, "minimum": 1, "maximum": 10}},
        {"name": "note", "requiredIf": "[severity] >= 8"},
        {"name": "symptoms", "type": "multiselect", "categories": ["1", "2", "3"],
         "choiceColumns": true, "constraints": {"maxLength": 2}},
        {"name": "other", "showIf": "[symptoms(3)] = '1'"}
      ],
      "rules": [{"assert": "not ([severity] >= 9 and [note] = 'bad')", "code": "inconsistent"}]
    }"#;

    #[test]
    fn branches_hide_require_and_check() {
        let csv = "\
id,nausea,severity,note,symptoms___1,symptoms___2,symptoms___3,other
a,yes,3,,1,0,0,
b,no,,,0,0,0,
c,no,4,,0,0,0,
d,yes,,,0,0,0,
e,yes,9,,0,0,0,
f,yes,9,bad,1,0,1,cough
g,yes,2,,0,0,0,x
h,yes,2,,1,1,1,
i,yes,2,,2,0,0,
";
        let seen = run(DIARY, csv);
        assert_eq!(
            codes(&seen),
            vec![
                (4, vec![("severity", "hidden_has_value")]),
                (5, vec![("severity", "required")]),
                (6, vec![("note", "required")]),
                (7, vec![("-", "inconsistent")]),
                (8, vec![("other", "hidden_has_value")]),
                (9, vec![("symptoms", "too_long")]),
                (10, vec![("symptoms", "not_allowed")]),
            ]
        );
    }

    #[test]
    fn nested_branches_hide_what_depends_on_a_hidden_field() {
        let protocol = r#"{"fields": [
            {"name": "id"},
            {"name": "smoker", "constraints": {"enum": ["yes", "no"]}},
            {"name": "packs", "type": "integer", "showIf": "[smoker] = 'yes'"},
            {"name": "quit", "showIf": "[packs] > 20", "constraints": {"required": true}}]}"#;
        let seen = run(
            protocol,
            "id,smoker,packs,quit\n1,no,,\n2,yes,5,\n3,yes,30,\n4,yes,30,soon\n5,no,,soon\n",
        );
        assert_eq!(
            codes(&seen),
            vec![
                (4, vec![("quit", "required")]),
                (6, vec![("quit", "hidden_has_value")]),
            ]
        );
    }

    #[test]
    fn multiselect_in_one_cell_and_in_json() {
        let protocol = r#"{"fields": [
            {"name": "id"},
            {"name": "symptoms", "type": "multiselect", "categories": [
                {"value": "n", "label": "Nausea"}, {"value": "h", "label": "Headache"}],
             "constraints": {"required": true}},
            {"name": "why", "showIf": "[symptoms(h)] = 1"}]}"#;
        let seen = run(
            protocol,
            "id,symptoms,why\n1,n|h,tired\n2,n,tired\n3,,\n4,x,\n",
        );
        assert_eq!(
            codes(&seen),
            vec![
                (3, vec![("why", "hidden_has_value")]),
                (4, vec![("symptoms", "required")]),
                (5, vec![("symptoms", "type")]),
            ]
        );
        let protocol = Arc::new(Protocol::from_json(protocol).unwrap());
        let validator = crate::Validator::new(protocol, chrono::NaiveDate::MIN);
        let json = serde_json::value::RawValue::from_string(r#"["h","n"]"#.into()).unwrap();
        let outcome = validator.check_value(1, crate::Cell::of_json(&json));
        assert_eq!(outcome.unwrap().canonical(), "n,h");
    }

    #[test]
    fn absent_columns_system_columns_and_empty_rows() {
        let protocol = r#"{
          "fieldsMatch": "partial", "absentColumns": "empty",
          "systemColumns": ["redcap_event_name", "*_complete"],
          "cleaning": {"trim": true, "headers": "caseless", "blankRows": "ignore"},
          "fields": [{"name": "record_id", "constraints": {"required": true}},
                     {"name": "age", "type": "integer", "constraints": {"required": true}},
                     {"name": "ssn", "identifier": true, "constraints": {"pattern": "[0-9]{9}"}}]}"#;
        let seen = run(
            protocol,
            "Record_ID,redcap_event_name,SSN,form_1_complete,extra\n1,e,12,2,x\n,,,,\n2,e,123456789,0,\n",
        );
        assert_eq!(
            codes(&seen),
            vec![
                (2, vec![("age", "required"), ("ssn", "pattern")]),
                (4, vec![("age", "required")]),
            ]
        );
        assert_eq!(seen.records, 2, "the empty row is not a record");
        assert_eq!(
            seen.warnings,
            vec![Warning::UnknownColumns {
                columns: vec!["extra".into()]
            }]
        );
    }

    #[test]
    fn repeating_forms_check_their_own_fields() {
        let protocol = r#"{
          "fieldsMatch": "partial", "absentColumns": "empty",
          "systemColumns": ["redcap_repeat_instrument", "redcap_repeat_instance"],
          "repeat": {"column": "redcap_repeat_instrument"},
          "fields": [{"name": "id", "form": "enrol", "constraints": {"required": true}},
                     {"name": "born", "form": "enrol", "constraints": {"required": true}},
                     {"name": "day", "form": "daily", "constraints": {"required": true}}]}"#;
        let csv = "id,redcap_repeat_instrument,redcap_repeat_instance,born,day\n1,,,1990,\n1,daily,1,,\n1,daily,2,,mon\n";
        let protocol = Arc::new(Protocol::from_json(protocol).unwrap());
        let mut seen = Seen {
            protocol: Some(Arc::clone(&protocol)),
            ..Seen::default()
        };
        let options = Options::new(chrono::NaiveDate::from_ymd_opt(2025, 6, 30).unwrap());
        let mut session = Session::new(Arc::clone(&protocol), Format::Csv, &options);
        session.set_repeating_forms(vec!["daily".into()]);
        session.feed(csv.as_bytes(), &mut seen).unwrap();
        session.finish(&mut seen).unwrap();
        assert_eq!(codes(&seen), vec![(3, vec![("day", "required")])]);
    }

    #[test]
    fn unsupported_logic_is_a_warning_and_no_branch_check() {
        let protocol = r#"{"fields": [{"name": "id"},
            {"name": "a", "constraints": {"required": true}, "unsupportedLogic": "[event-name] = 'x'"}]}"#;
        let seen = run(protocol, "id,a\n1,\n");
        assert!(seen.issues.is_empty());
        assert_eq!(
            seen.warnings,
            vec![Warning::UnsupportedLogic {
                fields: vec!["a".into()]
            }]
        );
    }

    /// BMI from weight and height, a band from the BMI (a calc reading a
    /// calc, declared before it), and a question shown from the band.
    const CALCS: &str = r#"{
      "fields": [
        {"name": "id"},
        {"name": "band", "type": "integer", "calc": "if([bmi] >= 30, 2, if([bmi] >= 25, 1, 0))"},
        {"name": "weight", "type": "number"},
        {"name": "height", "type": "number"},
        {"name": "bmi", "calc": "round([weight] / ([height] / 100) ^ 2, 1)"},
        {"name": "advice", "showIf": "[band] > 0", "constraints": {"required": true}}
      ]
    }"#;

    #[test]
    fn calculated_fields_are_computed_in_order_and_read_by_logic() {
        let csv = "\
id,band,weight,height,bmi,advice
a,,70,175,,
b,,95,175,,diet
c,,95,175,,
d,,70,175,99,x
e,,,175,,
";
        let seen = run(CALCS, csv);
        // Their columns are allowed, never expected.
        let strict = CALCS.replacen('{', r#"{"fieldsMatch": "equal","#, 1);
        let without = run(&strict, "id,weight,height,advice\na,70,175,\n");
        assert_eq!(codes(&without), vec![]);
        // c: band 2 shows advice, so it is required; d: the exported BMI
        // is replaced by the calculated one, so advice is hidden.
        assert_eq!(
            codes(&seen),
            vec![
                (4, vec![("advice", "required")]),
                (5, vec![("advice", "hidden_has_value")]),
            ]
        );
    }

    #[test]
    fn record_verdicts_carry_hidden_fields_and_calculated_values() {
        use crate::report::RecordVerdict;
        use crate::{Lang, Validator};

        let protocol = Arc::new(Protocol::from_json(CALCS).unwrap());
        let as_of = chrono::NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
        let mut validator = Validator::new(Arc::clone(&protocol), as_of);
        let verdict = |validator: &mut Validator, record: &str| {
            let outcome = validator
                .validate_json(1, record.as_bytes(), usize::MAX)
                .unwrap();
            serde_json::to_value(RecordVerdict::new(&outcome, &protocol, Lang::En)).unwrap()
        };
        let lean = verdict(
            &mut validator,
            r#"{"id": "a", "weight": 70, "height": 175}"#,
        );
        assert_eq!(lean["valid"], true, "{lean}");
        assert_eq!(lean["hidden"], serde_json::json!(["advice"]));
        assert_eq!(
            lean["calculated"],
            serde_json::json!({"bmi": 22.9, "band": 0})
        );
        // A calculated field with no given value holds what it computed
        // (an integer field as an integer); a given one is kept as given.
        assert_eq!(lean["record"]["bmi"], 22.9, "{lean}");
        assert_eq!(lean["record"]["band"], 0);
        let given = verdict(
            &mut validator,
            r#"{"id": "a", "weight": 70, "height": 175, "bmi": "23"}"#,
        );
        assert_eq!(given["record"]["bmi"], "23");
        assert_eq!(given["calculated"]["bmi"], 22.9);
        let heavy = verdict(
            &mut validator,
            r#"{"id": "b", "weight": 95, "height": 175}"#,
        );
        assert_eq!(heavy["valid"], false);
        assert_eq!(heavy["hidden"], serde_json::json!([]));
        assert_eq!(
            heavy["calculated"],
            serde_json::json!({"bmi": 31, "band": 2})
        );
        let unknown = verdict(&mut validator, r#"{"id": "c", "height": 0}"#);
        assert_eq!(
            unknown["calculated"],
            serde_json::json!({"bmi": null, "band": 0})
        );
    }

    #[test]
    fn calculated_fields_in_a_cycle_are_refused() {
        let doc = r#"{"fields": [{"name": "a", "calc": "[b] + 1"}, {"name": "b", "calc": "[c] * 2"},
            {"name": "c", "calc": "[a]"}, {"name": "d", "calc": "[d] + 1"}]}"#;
        let error = Protocol::from_json(doc).unwrap_err().to_string();
        assert_eq!(
            error,
            "protocol key `fields[0].calc`: the calculated fields a, b, c, d cannot be ordered: their calculations read each other in a cycle"
        );
        let doc = r#"{"fields": [{"name": "a", "calc": "[a] +"}]}"#;
        let error = Protocol::from_json(doc).unwrap_err().to_string();
        assert!(
            error.starts_with("protocol key `fields[0].calc`: column 6:"),
            "{error}"
        );
    }

    #[test]
    fn expression_errors_name_the_key_and_column() {
        for (doc, message) in [
            (
                r#"{"fields": [{"name": "a", "showIf": "[b] = 1"}]}"#,
                "protocol key `fields[0].showIf`: column 1: `[b]` is not a field of the protocol",
            ),
            (
                r#"{"fields": [{"name": "a", "requiredIf": "[a] = "}]}"#,
                "protocol key `fields[0].requiredIf`: column 7: the expression ends too soon",
            ),
            (
                r#"{"fields": [{"name": "a"}], "rules": [{"assert": "[a] + 1", "code": "x"}]}"#,
                "protocol key `rules[0].assert`: column 1: expected a condition",
            ),
            (
                r#"{"fields": [{"name": "a"}], "rules": [{"assert": "[a] = 1", "op": "<", "code": "x"}]}"#,
                "protocol key `rules[0].op`: a rule has either `assert` or `op` and `other`",
            ),
        ] {
            let error = Protocol::from_json(doc).unwrap_err().to_string();
            assert!(error.starts_with(message), "{error}");
        }
    }
}
