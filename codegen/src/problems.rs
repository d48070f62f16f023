//! Why a backend cannot generate code for a schema the front end accepted: a name the target
//! language needs is taken (a struct `TicketsClient` beside a service `Tickets`, a method that
//! would hide a method every generated client has, …).
//!
//! Each backend has a `check` that lists every such [`Problem`] without generating anything, and
//! its `generate` fails with all of them in a [`GenerateError`]. [`check_all`] runs the checks of
//! every backend, as `rpcgen check` does; [`GenerateError::diagnostics`] points each problem at
//! the declaration to rename, like the front end's errors.

use std::collections::HashMap;
use std::fmt;

use rpcgen_idl::locate::{Declaration, SourceMap};
use rpcgen_idl::{Diagnostic, Diagnostics, Schema};

/// A declaration that a backend cannot name as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The declaration to rename: the diagnostic points at its name.
    pub at: Declaration,
    /// What is wrong, in one sentence that names the target language.
    pub message: String,
    /// What to do about it.
    pub help: String,
    /// The declaration that already has the name, when the problem is a clash.
    pub taken_by: Option<Declaration>,
}

impl Problem {
    /// A problem with the declaration `at`.
    pub fn new(at: Declaration, message: impl Into<String>, help: impl Into<String>) -> Problem {
        Problem {
            at,
            message: message.into(),
            help: help.into(),
            taken_by: None,
        }
    }

    /// A clash: the name the backend needs for `at` is already the name of `holder`.
    pub fn clash(
        at: Declaration,
        holder: Declaration,
        message: impl Into<String>,
        help: impl Into<String>,
    ) -> Problem {
        Problem {
            taken_by: Some(holder),
            ..Problem::new(at, message, help)
        }
    }

    fn diagnostic(&self, map: &SourceMap) -> Diagnostic {
        let mut error = Diagnostic::error(self.message.clone()).help(self.help.clone());
        if let Some((file, span)) = map.place(&self.at) {
            error = error.primary(file, span, "declared here");
        }
        let holder = self.taken_by.as_ref().and_then(|holder| map.place(holder));
        if let Some((file, span)) = holder {
            error = error.secondary(file, span, "which has the name already");
        }
        error
    }
}

/// A name a generated module declares, with the IDL declaration it comes from.
#[derive(Debug, Clone)]
pub struct DeclaredName {
    /// The name in the target language.
    pub name: String,
    /// The IDL declaration it comes from.
    pub at: Declaration,
    /// What it names, for messages: "the client of service `Tickets`".
    pub what: String,
}

/// A clash for every declared name that an earlier one already has, in the order of `names`:
/// `message(declared, holder)` says what is wrong, `help` what to do.
pub fn clashes(
    names: impl IntoIterator<Item = DeclaredName>,
    message: impl Fn(&DeclaredName, &DeclaredName) -> String,
    help: &str,
) -> Vec<Problem> {
    let mut taken: HashMap<String, DeclaredName> = HashMap::new();
    let mut problems = Vec::new();
    for declared in names {
        match taken.get(&declared.name) {
            Some(holder) => problems.push(Problem::clash(
                declared.at.clone(),
                holder.at.clone(),
                message(&declared, holder),
                help,
            )),
            None => {
                taken.insert(declared.name.clone(), declared);
            }
        }
    }
    problems
}

/// Why a backend generated nothing: every problem it found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenerateError {
    /// The problems, in the order of the schema's declarations.
    pub problems: Vec<Problem>,
}

impl GenerateError {
    /// `Err` with `problems`, or `Ok` when there are none.
    pub fn check(problems: Vec<Problem>) -> Result<(), GenerateError> {
        if problems.is_empty() {
            Ok(())
        } else {
            Err(GenerateError { problems })
        }
    }

    /// The problems as diagnostics that point at their declarations in the schema's sources.
    pub fn diagnostics(&self, map: &SourceMap) -> Diagnostics {
        let list = self
            .problems
            .iter()
            .map(|problem| problem.diagnostic(map))
            .collect();
        Diagnostics::new(map.files().clone(), list)
    }
}

/// One `error:` line and one `help:` line per problem, for places without the sources.
impl fmt::Display for GenerateError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        for problem in &self.problems {
            writeln!(formatter, "error: {}", problem.message)?;
            writeln!(formatter, "  = help: {}", problem.help)?;
        }
        Ok(())
    }
}

impl std::error::Error for GenerateError {}

/// The problems of every backend (Rust, TypeScript, Python) with `schema`: what `rpcgen check`
/// reports, so that a schema it accepts generates in every language.
pub fn check_all(schema: &Schema) -> Vec<Problem> {
    let mut problems = crate::rust::check(schema);
    problems.extend(crate::typescript::check(schema));
    problems.extend(crate::python::check(schema));
    problems
}
