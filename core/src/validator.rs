//! Validating whole records: every field, cross-field rules, uniqueness.
//!
//! A [`Validator`] holds what a file's validation remembers from record to
//! record (the keys seen, for duplicates) and nothing else; the as-of date is
//! given, never read from a clock, so a run can be reproduced anywhere.

use std::borrow::Cow;
use std::sync::Arc;

use chrono::NaiveDate;

use crate::check::{check_choices, check_field, check_into};
use crate::expr::Record;
use crate::issue::{Detail, Issue, codes};
use crate::key_index::KeyIndex;
use crate::protocol::{Branch, Code, Field, Protocol, Repeat, Texts};
use crate::reader::{Cell, InputError, KeyResolver, RecordInput, json_record};
use crate::types::{Scalar, Type};
use crate::value::Value;

/// The verdict on one record.
#[derive(Debug, Clone)]
pub struct Outcome<'a> {
    /// 1-based index of the record among the file's records.
    pub row: u64,
    /// Physical line where the record starts.
    pub line: u64,
    /// Cleaned values by field index (empty for a malformed record; a
    /// field with an issue holds [`Value::Missing`]).
    pub values: Vec<Value<'a>>,
    /// Carried extra columns.
    pub extras: Vec<(Cow<'a, str>, Cow<'a, str>)>,
    /// Every issue of the record: field issues in field order, then row issues.
    pub issues: Vec<Issue>,
    /// The fields branching hides in this record (protocols with logic).
    pub hidden: Vec<usize>,
    /// The calculated fields' values (`calc`), by field index, in order.
    pub calculated: Vec<(usize, Option<f64>)>,
    /// For a workbook's record: its sheet and the fields' columns (see
    /// [`Outcome::cell`]).
    pub sheet: Option<Arc<crate::reader::SheetColumns>>,
}

impl Outcome<'_> {
    /// A record is valid when it has no issue.
    pub fn is_valid(&self) -> bool {
        self.issues.is_empty()
    }

    /// The same outcome owning its texts, to be kept past its input.
    pub fn into_owned(self) -> Outcome<'static> {
        Outcome {
            row: self.row,
            line: self.line,
            values: self.values.into_iter().map(Value::into_owned).collect(),
            extras: self
                .extras
                .into_iter()
                .map(|(k, v)| (Cow::Owned(k.into_owned()), Cow::Owned(v.into_owned())))
                .collect(),
            issues: self.issues,
            hidden: self.hidden,
            calculated: self.calculated,
            sheet: self.sheet,
        }
    }

    /// For a workbook's record: the cell of `field` (`patients!C17`), or
    /// the record's row for a row issue (`patients!17:17`).
    pub fn cell(&self, field: Option<usize>) -> Option<String> {
        let sheet = self.sheet.as_ref()?;
        Some(sheet.reference(field, self.line))
    }
}

/// Validates the records of one file, in order.
#[derive(Debug)]
pub struct Validator {
    protocol: Arc<Protocol>,
    as_of: NaiveDate,
    /// Per `protocol.keys` entry: the keys seen.
    keys_seen: Vec<KeyIndex>,
    /// A duplicate check could not record a key for want of memory.
    index_full: bool,
    /// Per field (empty unless the field is `unique`).
    values_seen: Vec<KeyIndex>,
    /// Per field of the current record: it holds a valid, present value.
    present: Vec<bool>,
    /// Per field of the current record: it has an issue.
    failed: Vec<bool>,
    /// The forms that repeat (for protocols with `repeat`).
    repeating: RepeatingForms,
    /// Per `protocol.foreign_keys` entry: the keys it may refer to, once
    /// given (a foreign key without them is not checked).
    references: Vec<Option<Arc<ReferencedKeys>>>,
    /// The last record's vectors, emptied, for the next one: two
    /// allocations a record fewer (see [`emptied`]).
    spare_values: Vec<Value<'static>>,
    spare_cells: Vec<Cell<'static>>,
}

/// A person's identifying values never leave in an issue.
fn hide_identifiers(protocol: &Protocol, issues: &mut [Issue]) {
    for issue in issues {
        if issue.field.is_some_and(|f| protocol.fields[f].identifier) {
            issue.value = None;
        }
    }
}

/// `items`' allocation, emptied, for items of another lifetime: the
/// standard library collects a `Vec`'s `into_iter` in place when the item
/// layouts match, so this allocates nothing.
fn emptied<T, U>(items: Vec<T>) -> Vec<U> {
    items.into_iter().filter_map(|_| None).collect()
}

/// The keys a foreign key may refer to: the values of the referenced
/// fields in every record of the referenced table that holds them all,
/// as fingerprints (16 bytes a key; see `key_index`).
#[derive(Debug, Default)]
pub struct ReferencedKeys(KeyIndex);

impl ReferencedKeys {
    /// How many distinct keys there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.len() == 0
    }
}

/// Collects [`ReferencedKeys`] from the verdicts on the referenced table
/// (a [`crate::Sink`] for a session over it).
#[derive(Debug)]
pub struct KeyCollector {
    fields: Vec<usize>,
    keys: ReferencedKeys,
    /// The line of the record whose key could not be kept (memory).
    full_at: Option<u64>,
}

impl KeyCollector {
    /// Collects the values of `fields` (names, in key order) of
    /// `protocol`'s records; `Err` names a field the protocol lacks.
    pub fn new(protocol: &Protocol, fields: &[String]) -> Result<KeyCollector, String> {
        let mut indexes = Vec::with_capacity(fields.len());
        for name in fields {
            let index = protocol.fields.iter().position(|f| f.name == *name);
            indexes.push(index.ok_or_else(|| name.clone())?);
        }
        Ok(KeyCollector {
            fields: indexes,
            keys: ReferencedKeys::default(),
            full_at: None,
        })
    }

    /// How many distinct keys were collected so far.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether none were.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The error if a key could not be kept for want of memory: the keys
    /// are then incomplete and must not be used.
    pub fn overflow(&self) -> Option<InputError> {
        self.full_at.map(|line| InputError::DuplicateIndexFull {
            line,
            keys: self.keys.len(),
        })
    }

    /// The keys collected so far (the collector starts afresh).
    pub fn take_keys(&mut self) -> ReferencedKeys {
        std::mem::take(&mut self.keys)
    }
}

impl crate::Sink for KeyCollector {
    fn record(&mut self, outcome: &Outcome<'_>) {
        let values = &outcome.values;
        let present = |&f: &usize| values.get(f).is_some_and(|v| !matches!(v, Value::Missing));
        if self.fields.iter().all(present) {
            let key = self.fields.iter().map(|&f| &values[f]);
            let mut full = false;
            self.keys.0.first_row_or_insert(key, outcome.row, &mut full);
            if full && self.full_at.is_none() {
                self.full_at = Some(outcome.line);
            }
        }
    }

    fn table_issue(&mut self, _issue: &crate::TableIssue) {}
}

impl Validator {
    /// A validator for one file (or stream) under `protocol`, as of `as_of`.
    pub fn new(protocol: Arc<Protocol>, as_of: NaiveDate) -> Validator {
        Validator {
            keys_seen: protocol.keys.iter().map(|_| KeyIndex::default()).collect(),
            index_full: false,
            values_seen: protocol
                .fields
                .iter()
                .map(|_| KeyIndex::default())
                .collect(),
            present: vec![false; protocol.fields.len()],
            failed: vec![false; protocol.fields.len()],
            repeating: RepeatingForms::default(),
            references: vec![None; protocol.foreign_keys.len()],
            spare_values: Vec::new(),
            spare_cells: Vec::new(),
            protocol,
            as_of,
        }
    }

    /// Gives foreign key `fk` (an index into the protocol's foreign keys)
    /// the keys it may refer to.
    pub fn set_referenced_keys(&mut self, fk: usize, keys: Arc<ReferencedKeys>) {
        if let Some(slot) = self.references.get_mut(fk) {
            *slot = Some(keys);
        }
    }

    /// The fields [`Validator::check_keys`] reads, in order: `unique`
    /// fields and the fields of keys and foreign keys.
    pub fn key_fields(&self) -> Vec<usize> {
        let protocol = &self.protocol;
        let parts = protocol.keys.iter().map(|k| &k.fields);
        let mut read: Vec<bool> = protocol.fields.iter().map(|f| f.unique).collect();
        for &f in parts
            .chain(protocol.foreign_keys.iter().map(|k| &k.fields))
            .flatten()
        {
            read[f] = true;
        }
        (0..read.len()).filter(|&f| read[f]).collect()
    }

    /// Makes room in the duplicate checks' indexes for about `records`
    /// records in all, if memory allows: a hint (say, from a file's size),
    /// which saves rehashing them as they grow.
    pub fn expect_records(&mut self, records: usize) {
        let unique = (self.protocol.fields.iter().map(|f| f.unique))
            .zip(&mut self.values_seen)
            .filter_map(|(unique, index)| unique.then_some(index));
        for index in self.keys_seen.iter_mut().chain(unique) {
            index.reserve(records);
        }
    }

    /// A new validator for the same protocol, as-of date and referenced
    /// keys, that has seen no record (for [`Validator::check_keys`]).
    pub(crate) fn key_checker(&self) -> Validator {
        let mut checker = Validator::new(Arc::clone(&self.protocol), self.as_of);
        checker.references.clone_from(&self.references);
        checker
    }

    /// The foreign keys that have no referenced keys (so are not checked).
    pub fn unchecked_foreign_keys(&self) -> Vec<usize> {
        (0..self.references.len())
            .filter(|&k| self.references[k].is_none())
            .collect()
    }

    /// The protocol records are checked against.
    pub fn protocol(&self) -> &Arc<Protocol> {
        &self.protocol
    }

    /// If a duplicate check (a `unique` field or a key) could not record a
    /// key for want of memory: how many keys it holds. The run cannot go
    /// on (see [`crate::InputError::DuplicateIndexFull`]).
    pub fn full_index(&self) -> Option<usize> {
        if !self.index_full {
            return None;
        }
        self.keys_seen
            .iter()
            .chain(&self.values_seen)
            .map(KeyIndex::len)
            .max()
    }

    /// The as-of date of the run.
    pub fn as_of(&self) -> NaiveDate {
        self.as_of
    }

    /// Checks one field's value on its own (as-you-type in a form): the
    /// field's own rules only, no cross-field or uniqueness checks.
    pub fn check_value<'a>(&self, field: usize, cell: Cell<'a>) -> Result<Value<'a>, Issue> {
        let protocol = &self.protocol;
        let definition = &protocol.fields[field];
        check_field(
            definition,
            field,
            cell,
            &protocol.cleaning,
            self.as_of,
            definition.required,
        )
    }

    /// Validates one JSON object (as bytes) as the record numbered `row`:
    /// keys are matched to fields by name or alias, like CSV headers. A key
    /// the protocol does not allow is an issue of the record.
    /// An object with more than `max_keys` keys is an error.
    pub fn validate_json<'a>(
        &mut self,
        row: u64,
        object: &'a [u8],
        max_keys: usize,
    ) -> Result<Outcome<'a>, InputError> {
        let mut keys = KeyResolver::new(Arc::clone(&self.protocol), max_keys);
        let input = json_record(object, 1, &mut keys)?;
        let mut outcome = self.validate(row, input);
        outcome
            .issues
            .extend(keys.take_issues().into_iter().map(|t| t.issue));
        Ok(outcome)
    }

    /// Takes back a record's vectors once its outcome has been reported.
    /// (By reference: moving an outcome is a copy of 144 bytes.)
    pub(crate) fn recycle(&mut self, outcome: &mut Outcome<'_>) {
        // Most values own nothing: forgetting them skips a call to their
        // drop glue each (a visible cost per record in wasm). One pass,
        // collected in place (see [`emptied`]).
        self.spare_values = (std::mem::take(&mut outcome.values).into_iter())
            .filter_map(|value| {
                if value.owns_memory() {
                    drop(value);
                } else {
                    std::mem::forget(value);
                }
                None
            })
            .collect();
    }

    /// An empty vector for a reader to put the next record's cells in.
    pub(crate) fn cell_buffer(&mut self) -> Vec<Cell<'static>> {
        std::mem::take(&mut self.spare_cells)
    }

    /// Validates the record numbered `row` (1-based among the file's records).
    pub fn validate<'a>(&mut self, row: u64, input: RecordInput<'a>) -> Outcome<'a> {
        let mut outcome = self.check(row, input);
        self.check_keys(&mut outcome);
        outcome
    }

    /// Checks one record in all but its keys: [`Validator::validate`]
    /// without [`Validator::check_keys`], which needs the records before.
    pub(crate) fn check<'a>(&mut self, row: u64, input: RecordInput<'a>) -> Outcome<'a> {
        let RecordInput {
            line,
            cells,
            extras,
            malformed,
            extra_cells,
            choices,
            sheet,
        } = input;
        if let Some(detail) = malformed {
            let code = match detail {
                Detail::BlankRow => Code::from(codes::BLANK_ROW),
                _ => self.protocol.malformed_code.clone(),
            };
            let issue = Issue {
                field: None,
                code,
                detail,
                value: None,
            };
            return Outcome {
                row,
                line,
                values: Vec::new(),
                extras,
                issues: vec![issue],
                hidden: Vec::new(),
                calculated: Vec::new(),
                sheet,
            };
        }
        let protocol = &*self.protocol;
        let mut issues = Vec::new();
        let ok = &mut self.present;
        ok.fill(false);
        // Every field's slot, `Missing` until its value is checked (see
        // [`check_into`]).
        let mut values: Vec<Value<'a>> = std::mem::take(&mut self.spare_values);
        values.resize_with(protocol.fields.len(), || Value::Missing);
        let mut cells = cells;
        // A protocol with logic reads every field's text first: what a
        // field's branch is may depend on any other field.
        let logic = protocol.logic.as_deref();
        let mut texts = logic.map(|_| texts_of(protocol, &cells, &choices));
        let calculated = match (logic, &mut texts) {
            (Some(logic), Some(texts)) => logic.calculate(texts, self.as_of),
            _ => Vec::new(),
        };
        let active = match logic.and_then(|l| l.repeat.as_ref()) {
            Some(repeat) => Some(self.repeating.active(repeat, &extras, protocol)),
            None => None,
        };
        let failed = &mut self.failed;
        failed.fill(false);
        let mut hidden = Vec::new();
        let mut next_cell = cells.drain(..);
        for (i, field) in protocol.fields.iter().enumerate() {
            let cell = next_cell.next().unwrap_or(Cell::Absent);
            if active.as_ref().is_some_and(|active| !active[i]) {
                continue;
            }
            let required = match (logic, &texts) {
                (Some(logic), Some(texts)) => {
                    match logic.branch(i, field.required, texts, self.as_of) {
                        Branch::Hidden => {
                            hidden.push(i);
                            if texts.has_value(i) && !logic.is_calculated(i) {
                                failed[i] = true;
                                issues.push(Issue {
                                    field: Some(i),
                                    code: field.codes.hidden.clone(),
                                    detail: Detail::Hidden,
                                    value: Some(texts.text(i).to_owned()),
                                });
                            }
                            continue;
                        }
                        Branch::Shown { required } => required,
                        Branch::Unchecked => false,
                    }
                }
                _ => field.required,
            };
            let by_choice = if choices.is_empty() {
                None
            } else {
                choice_cells(field, i, &choices)
            };
            let slot = &mut values[i];
            let checked = match by_choice {
                Some(cells) => check_choices(field, i, &cells, &protocol.cleaning, required)
                    .map(|value| *slot = value),
                None => check_into(
                    field,
                    i,
                    cell,
                    &protocol.cleaning,
                    self.as_of,
                    required,
                    slot,
                ),
            };
            match checked {
                Ok(()) => ok[i] = !matches!(slot, Value::Missing),
                Err(issue) => {
                    failed[i] = true;
                    issues.push(issue);
                }
            }
        }
        drop(next_cell);
        // A calculated field without a given value holds what it computed.
        for &(f, computed) in &calculated {
            if let (Some(n), Some(slot @ Value::Missing)) = (computed, values.get_mut(f))
                && !failed[f]
                && !hidden.contains(&f)
                && active.as_ref().is_none_or(|active| active[f])
            {
                *slot = calculated_value(&protocol.fields[f].ty, n);
                ok[f] = true;
            }
        }
        if let (Some(logic), Some(texts)) = (logic, &texts) {
            for assert in &logic.asserts {
                // Only over fields that are valid (or empty): a broken
                // field already has its issue.
                let readable = assert.condition.reads().iter().all(|&f| !failed[f]);
                if readable && !assert.condition.holds(texts, self.as_of) {
                    issues.push(Issue {
                        field: assert.field,
                        code: assert.code.clone(),
                        detail: Detail::Assert {
                            description: assert.description.clone(),
                        },
                        value: None,
                    });
                }
            }
        }
        self.spare_cells = emptied(cells);
        if let Some((expected, found)) = extra_cells {
            issues.push(Issue {
                field: None,
                code: Code::from(codes::EXTRA_CELL),
                detail: Detail::ExtraCells { expected, found },
                value: None,
            });
        }
        for rule in &protocol.rules {
            let (a, b) = (&values[rule.field], &values[rule.other]);
            if ok[rule.field] && ok[rule.other] && !a.compare(b).is_some_and(|o| rule.op.holds(o)) {
                issues.push(Issue {
                    field: Some(rule.field),
                    code: rule.code.clone(),
                    detail: Detail::Compare {
                        op: rule.op,
                        other: rule.other,
                        other_value: b.canonical(),
                    },
                    value: Some(a.canonical()),
                });
            }
        }
        hide_identifiers(protocol, &mut issues);
        Outcome {
            row,
            line,
            values,
            extras,
            issues,
            hidden,
            calculated,
            sheet,
        }
    }

    /// Checks a checked record's keys (its `unique` fields, `primaryKey`
    /// and `uniqueKeys`, foreign keys) against the records before it,
    /// adding their issues to `outcome`. Records must come in order: a
    /// host that checks parts of one input in parallel
    /// ([`crate::Session::defer_keys`]) calls this for each record in
    /// turn, on one validator.
    pub fn check_keys(&mut self, outcome: &mut Outcome<'_>) {
        let protocol = &*self.protocol;
        let before = outcome.issues.len();
        // Only a present value was valid (a failed field holds none).
        let values = &outcome.values;
        let ok = |f: usize| values.get(f).is_some_and(|v| !matches!(v, Value::Missing));
        for (f, field) in protocol.fields.iter().enumerate() {
            if field.unique
                && ok(f)
                && let Some(first_row) = self.values_seen[f].first_row_or_insert(
                    [&values[f]].into_iter(),
                    outcome.row,
                    &mut self.index_full,
                )
            {
                outcome.issues.push(Issue {
                    field: Some(f),
                    code: field.codes.unique.clone(),
                    detail: Detail::Duplicate {
                        first_row,
                        fields: vec![f],
                    },
                    value: Some(values[f].canonical()),
                });
            }
        }
        for (k, key) in protocol.keys.iter().enumerate() {
            if key.fields.iter().all(|&f| ok(f))
                && let Some(first_row) = self.keys_seen[k].first_row_or_insert(
                    key.fields.iter().map(|&f| &values[f]),
                    outcome.row,
                    &mut self.index_full,
                )
            {
                outcome.issues.push(Issue {
                    field: None,
                    code: key.code.clone(),
                    detail: Detail::Duplicate {
                        first_row,
                        fields: key.fields.clone(),
                    },
                    value: None,
                });
            }
        }
        for (fk, keys) in protocol.foreign_keys.iter().zip(&self.references) {
            let Some(keys) = keys else { continue };
            // A key with a missing part refers to nothing (SQL's rule).
            if fk.fields.iter().all(|&f| ok(f))
                && !keys.0.contains(fk.fields.iter().map(|&f| &values[f]))
            {
                let shown: Vec<String> = fk.fields.iter().map(|&f| values[f].canonical()).collect();
                outcome.issues.push(Issue {
                    field: None,
                    code: fk.code.clone(),
                    detail: Detail::ForeignKey {
                        resource: fk.resource.clone(),
                        reference: fk.reference_fields.clone(),
                    },
                    value: Some(shown.join(", ")),
                });
            }
        }
        hide_identifiers(protocol, &mut outcome.issues[before..]);
    }

    /// Tells the validator which forms repeat (the distinct values of the
    /// protocol's `repeat` column over the whole input, from a first
    /// reading): a row without a repeat form then skips their fields.
    /// Without it, the forms seen in the column so far are taken.
    pub fn set_repeating_forms(&mut self, forms: Vec<String>) {
        self.repeating = RepeatingForms { forms, given: true };
    }
}

/// Collects the forms that repeat in an input (the distinct values of its
/// protocol's `repeat` column), for a first reading before the one that
/// validates ([`Validator::set_repeating_forms`]).
#[derive(Debug)]
pub struct FormCollector {
    protocol: Arc<Protocol>,
    forms: Vec<String>,
}

impl FormCollector {
    /// A collector for inputs of `protocol`; `None` if it has no `repeat`.
    pub fn new(protocol: &Arc<Protocol>) -> Option<FormCollector> {
        protocol.logic.as_ref()?.repeat.as_ref()?;
        Some(FormCollector {
            protocol: Arc::clone(protocol),
            forms: Vec::new(),
        })
    }

    /// The forms found, in first-seen order.
    pub fn into_forms(self) -> Vec<String> {
        self.forms
    }
}

impl crate::session::Sink for FormCollector {
    fn record(&mut self, outcome: &Outcome<'_>) {
        let Some(repeat) = self.protocol.logic.as_ref().and_then(|l| l.repeat.as_ref()) else {
            return;
        };
        let form = outcome
            .extras
            .iter()
            .find(|(name, _)| self.protocol.header_key(name) == repeat.column.as_str())
            .map(|(_, value)| value.trim())
            .filter(|v| !v.is_empty());
        if let Some(form) = form
            && !self.forms.iter().any(|f| f == form)
        {
            self.forms.push(form.to_owned());
        }
    }

    fn table_issue(&mut self, _issue: &crate::TableIssue) {}
}

/// Which forms repeat: given, or learned as the rows go.
#[derive(Debug, Default)]
struct RepeatingForms {
    forms: Vec<String>,
    given: bool,
}

impl RepeatingForms {
    /// Which fields a row checks: a row of a repeating form (its `repeat`
    /// column names one) that form's fields and the first field (the
    /// record's id); any other row every field but those of repeating
    /// forms.
    fn active(
        &mut self,
        repeat: &Repeat,
        extras: &[(Cow<'_, str>, Cow<'_, str>)],
        protocol: &Protocol,
    ) -> Vec<bool> {
        let form = extras
            .iter()
            .find(|(name, _)| protocol.header_key(name) == repeat.column.as_str())
            .map(|(_, value)| value.trim())
            .filter(|v| !v.is_empty());
        if let Some(form) = form
            && !self.given
            && !self.forms.iter().any(|f| f == form)
        {
            self.forms.push(form.to_owned());
        }
        repeat
            .forms
            .iter()
            .enumerate()
            .map(|(i, field_form)| match form {
                Some(form) => i == 0 || field_form.as_deref() == Some(form),
                None => !field_form
                    .as_deref()
                    .is_some_and(|f| self.forms.iter().any(|r| r == f)),
            })
            .collect()
    }
}

/// The choice cells of field `f` when it is a multi-select written one
/// column per choice and the record has its columns (each choice's cell,
/// `None` where its column is absent). `choices` is sorted by field.
fn choice_cells<'a>(
    field: &Field,
    f: usize,
    choices: &[(usize, usize, &'a str)],
) -> Option<Vec<Option<&'a str>>> {
    let Type::MultiSelect(select) = &field.ty else {
        return None;
    };
    let mut cells = vec![None; select.choices.len()];
    let mut any = false;
    let first = choices.partition_point(|&(field, ..)| field < f);
    for &(_, choice, cell) in choices[first..]
        .iter()
        .take_while(|&&(field, ..)| field == f)
    {
        if let Some(slot) = cells.get_mut(choice) {
            *slot = Some(cell);
            any = true;
        }
    }
    any.then_some(cells)
}

/// Every field's cleaned text, and the chosen codes of multi-selects, for
/// the expressions of a record.
fn texts_of<'a>(
    protocol: &Protocol,
    cells: &[Cell<'a>],
    choices: &[(usize, usize, &'a str)],
) -> Texts<'a> {
    let cleaning = &protocol.cleaning;
    let mut texts = Vec::with_capacity(protocol.fields.len());
    let mut chosen = Vec::with_capacity(protocol.fields.len());
    for (f, field) in protocol.fields.iter().enumerate() {
        let select = match &field.ty {
            Type::MultiSelect(select) => Some(select),
            _ => None,
        };
        let mut codes = Vec::new();
        if let Some(choice_cells) = choice_cells(field, f, choices) {
            // Has a value when a cell is neither empty nor 0.
            let mut value = String::new();
            for (code, cell) in select
                .map_or(&[][..], |s| &s.choices[..])
                .iter()
                .zip(choice_cells)
            {
                let cell = cell.map(str::trim).unwrap_or("");
                if cell == "1" {
                    codes.push(code.clone());
                }
                if !cell.is_empty() && cell != "0" {
                    value.push_str(cell);
                }
            }
            texts.push(Cow::Owned(value));
            chosen.push(codes);
            continue;
        }
        let text: Cow<'a, str> = match cells.get(f) {
            Some(Cell::Value(Scalar::Text(t))) => {
                let text = cleaning.cell(t.clone());
                if let Some(select) = select {
                    codes = text
                        .split(select.delimiter.as_str())
                        .map(str::trim)
                        .filter(|c| select.choices.iter().any(|code| code == c))
                        .map(str::to_owned)
                        .collect();
                }
                text
            }
            Some(Cell::Value(Scalar::Json(json))) => match select {
                Some(_) => {
                    codes = json_codes(json);
                    // Nothing chosen (`[]`) is no value.
                    if codes.is_empty() && is_empty_array(json) {
                        Cow::Borrowed("")
                    } else {
                        Cow::Borrowed(*json)
                    }
                }
                None => Cow::Borrowed(*json),
            },
            Some(Cell::Value(Scalar::Number(n))) => Cow::Borrowed(*n),
            Some(Cell::Value(Scalar::Bool(b))) => Cow::Borrowed(if *b { "1" } else { "0" }),
            _ => Cow::Borrowed(""),
        };
        texts.push(boolean_as_digit(&field.ty, text));
        chosen.push(codes);
    }
    Texts { texts, chosen }
}

/// A boolean field's text as expressions read it: `1` for one of its
/// `trueValues`, `0` for one of its `falseValues` (as REDCap's yes/no
/// fields are written), so `[nausea] = 1` holds whichever language the
/// answer was given in; any other text as it is.
fn boolean_as_digit<'a>(ty: &Type, text: Cow<'a, str>) -> Cow<'a, str> {
    let Type::Boolean {
        true_values,
        false_values,
    } = ty
    else {
        return text;
    };
    if true_values.iter().any(|t| *t == text) {
        Cow::Borrowed("1")
    } else if false_values.iter().any(|f| *f == text) {
        Cow::Borrowed("0")
    } else {
        text
    }
}

/// A calculated number as a value of its field's type: text for a
/// string field, an integer field's whole numbers as integers, else a
/// number.
fn calculated_value(ty: &Type, n: f64) -> Value<'static> {
    match ty {
        Type::String(_) => Value::Text(Cow::Owned(crate::value::number_text(n))),
        Type::Integer { .. } if n.fract() == 0.0 && n.abs() < 9.0e15 => Value::Integer(n as i64),
        _ => Value::Number(n),
    }
}

/// Whether `json` is `[]`.
fn is_empty_array(json: &str) -> bool {
    matches!(crate::raw_json::shape(json.as_bytes()), Ok(crate::raw_json::Shape::Array(items)) if items.is_empty())
}

/// The texts and numbers of a JSON array, as choice codes.
fn json_codes(json: &str) -> Vec<String> {
    match crate::raw_json::shape(json.as_bytes()) {
        Ok(crate::raw_json::Shape::Array(items)) => items
            .iter()
            .filter_map(|item| match Scalar::of_json(item) {
                Some(Scalar::Text(t)) => Some(t.into_owned()),
                Some(Scalar::Number(n)) => Some(n.to_owned()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}
