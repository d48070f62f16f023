//! Wire compatibility between two versions of a schema: what `rpcgen breaking` reports.
//!
//! Programs generated from an old schema keep running while a service changes: clients built
//! before the change call servers built after it (servers deploy first), or the other way round.
//! [`breaking_changes`] compares the schema the clients were generated from with the schema the
//! servers were generated from, method by method, and lists every change that makes one of those
//! calls fail. Only what travels counts: methods are matched by wire name, struct fields and enum
//! variants by wire name, so renaming a type, a parameter, or a field that keeps its `@name` is
//! safe, and renaming a method's wire name is not.
//!
//! The rules are what the decoders of every runtime (Rust, TypeScript, Python) do:
//! - a call sends one value per parameter; servers refuse any other count, but for optional
//!   parameters at the end, which a call may leave out (they read as nil);
//! - a reader refuses nil where its type is not optional (or `any`), a value outside its integer
//!   type's range, and an enum variant it does not know;
//! - a reader ignores struct fields it does not know, and reads a missing optional field as nil;
//! - so a type may widen where it is read: to a larger integer type that holds every value of
//!   the old one, from `f32` to `f64`, to `T?` or to `any`; any other change of a wire form breaks.

use std::collections::HashSet;
use std::fmt;

use crate::ir::{
    Field, Method, Param, Returns, Schema, Service, Type, TypeKind, TypeName, Variant, VariantData,
};
use crate::locate::Declaration;

/// One side of a comparison: a schema, and how messages name the programs generated from it.
#[derive(Debug, Clone, Copy)]
pub struct Side<'a> {
    /// The schema.
    pub schema: &'a Schema,
    /// The programs generated from it, in the plural: `"old clients"`, `"new servers"`.
    pub called: &'a str,
}

/// A change that makes calls fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incompatibility {
    /// The method (`shop.Tickets.get`), or the service, that changed.
    pub place: String,
    /// The value of the method that changed, if any: ``argument `ticket.owner` ``,
    /// ``result `result.body` ``.
    pub value: Option<String>,
    /// What fails on the wire.
    pub problem: String,
    /// The usual way to make such a change safely.
    pub hint: Option<String>,
    /// The declaration the change is about in the clients' schema, when it has one there (to
    /// point at its source with a [`crate::locate::SourceMap`]).
    pub in_clients: Option<Declaration>,
    /// The same in the servers' schema.
    pub in_servers: Option<Declaration>,
}

impl fmt::Display for Incompatibility {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            Some(value) => write!(formatter, "{}, {value}: {}", self.place, self.problem),
            None => write!(formatter, "{}: {}", self.place, self.problem),
        }
    }
}

/// Every change from the schema of `clients` to the schema of `servers` that makes a call of the
/// former to the latter fail, in the order of the clients' services and methods. Each problem of a
/// named type is reported once, at the first place that uses it.
///
/// ```
/// use rpcgen_idl::compat::{breaking_changes, Side};
/// use rpcgen_idl::{Compiler, MemoryLoader};
///
/// let compile = |text: &str| {
///     let loader = MemoryLoader::new().with_file("shop.rpc", text);
///     Compiler::with_loader(loader).compile(&["shop.rpc"]).unwrap()
/// };
/// let old = compile("package shop; service Shop { price(item: string) -> u32; }");
/// let new = compile("package shop; service Shop { price(item: string) -> u32?; }");
/// let clients = Side { schema: &old, called: "old clients" };
/// let servers = Side { schema: &new, called: "new servers" };
/// let found = breaking_changes(clients, servers);
/// assert_eq!(
///     found[0].to_string(),
///     "shop.Shop.price, result `result`: new servers may send nil (u32?) where old clients expect u32"
/// );
/// ```
pub fn breaking_changes(clients: Side<'_>, servers: Side<'_>) -> Vec<Incompatibility> {
    let mut check = Check {
        clients,
        servers,
        package: String::new(),
        service: String::new(),
        compared: HashSet::new(),
        found: Vec::new(),
    };
    for package in clients.schema.root_packages() {
        check.package.clone_from(&package.name);
        for service in &package.services {
            check.service(service);
        }
    }
    check.found
}

/// The hint for a method or service the servers lack.
const KEEP_SERVING: &str =
    "servers must serve it while clients call it: keep it (mark it @deprecated), or deploy \
     servers that have it before clients that call it";

/// Which way a value travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Flow {
    /// Arguments: the clients write, the servers read.
    ToServers,
    /// Results, stream items and errors: the servers write, the clients read.
    ToClients,
}

/// Where a value is: its method, what it is there, the path into it, and the innermost
/// declaration it belongs to on each side.
struct At<'p> {
    place: &'p str,
    /// `argument`, `result`, `stream item` or `error`.
    role: &'static str,
    /// The path: the parameter's name, `result`, `item` or the error's name, then `.field`,
    /// `[]` (list items), `{key}` and `{value}` (map keys and values), `.Variant`, `.0`.
    path: String,
    declared: Declared,
}

impl At<'_> {
    /// The value one step further in, in the same declarations.
    fn child(&self, step: &str) -> At<'_> {
        self.entering(step, self.declared.clone())
    }

    /// The value one step further in, which `declared` declare.
    fn entering(&self, step: &str, declared: Declared) -> At<'_> {
        At {
            place: self.place,
            role: self.role,
            path: format!("{}{step}", self.path),
            declared,
        }
    }
}

/// A declaration in the clients' schema and its counterpart in the servers' schema (either may
/// be missing).
#[derive(Debug, Clone, Default)]
struct Declared {
    clients: Option<Declaration>,
    servers: Option<Declaration>,
}

/// A struct's (or error's, or struct-like variant's) fields, with where they are declared.
struct Fields<'f> {
    owner: &'f TypeName,
    variant: Option<&'f str>,
    fields: &'f [Field],
}

impl Fields<'_> {
    fn declaration(&self, field: &Field) -> Declaration {
        Declaration::Field {
            package: self.owner.package.clone(),
            type_name: self.owner.name.clone(),
            variant: self.variant.map(str::to_string),
            field: field.name.clone(),
        }
    }
}

/// A comparison in progress.
struct Check<'a> {
    clients: Side<'a>,
    servers: Side<'a>,
    /// The package of the service being compared: types in messages are written as there.
    package: String,
    /// The service being compared.
    service: String,
    /// Pairs of named types (reader's, writer's) already compared in a direction: each is compared
    /// and reported once, and recursive types end.
    compared: HashSet<(Flow, TypeName, TypeName)>,
    found: Vec<Incompatibility>,
}

impl<'a> Check<'a> {
    fn report(
        &mut self,
        place: &str,
        at: Option<&At<'_>>,
        declared: Declared,
        problem: String,
        hint: Option<String>,
    ) {
        self.found.push(Incompatibility {
            place: place.to_string(),
            value: at.map(|at| format!("{} `{}`", at.role, at.path)),
            problem,
            hint,
            in_clients: declared.clients,
            in_servers: declared.servers,
        });
    }

    fn report_at(&mut self, at: &At<'_>, declared: Declared, problem: String, hint: String) {
        self.report(at.place, Some(at), declared, problem, Some(hint));
    }

    /// The side that reads and the side that writes values flowing `flow`.
    fn sides(&self, flow: Flow) -> (Side<'a>, Side<'a>) {
        match flow {
            Flow::ToServers => (self.servers, self.clients),
            Flow::ToClients => (self.clients, self.servers),
        }
    }

    /// The declarations of the reader's and the writer's side of values flowing `flow`.
    fn declared(flow: Flow, read: Option<Declaration>, sent: Option<Declaration>) -> Declared {
        match flow {
            Flow::ToServers => Declared {
                clients: sent,
                servers: read,
            },
            Flow::ToClients => Declared {
                clients: read,
                servers: sent,
            },
        }
    }

    fn text(&self, ty: &Type) -> String {
        ty.idl_text(&self.package)
    }

    fn method_declaration(&self, method: &Method) -> Declaration {
        Declaration::Method {
            package: self.package.clone(),
            service: self.service.clone(),
            method: method.name.clone(),
        }
    }

    fn result_declaration(&self, method: &Method) -> Declaration {
        Declaration::Result {
            package: self.package.clone(),
            service: self.service.clone(),
            method: method.name.clone(),
        }
    }

    fn param_declaration(&self, method: &Method, param: &Param) -> Declaration {
        Declaration::Param {
            package: self.package.clone(),
            service: self.service.clone(),
            method: method.name.clone(),
            param: param.name.clone(),
        }
    }

    /// Compares a service of the clients' schema with the service of that name the servers serve.
    fn service(&mut self, service: &Service) {
        self.service.clone_from(&service.name);
        let place = format!("{}.{}", self.package, service.name);
        let servers = self.servers;
        let served = servers
            .schema
            .package(&self.package)
            .and_then(|package| package.services.iter().find(|s| s.name == service.name));
        let Some(served) = served else {
            let problem = format!(
                "{} have no such service: every call of it fails with NameError",
                servers.called
            );
            let declared = Declared {
                clients: Some(Declaration::Service {
                    package: self.package.clone(),
                    name: service.name.clone(),
                }),
                servers: None,
            };
            self.report(&place, None, declared, problem, Some(KEEP_SERVING.into()));
            return;
        };
        for method in &service.methods {
            let place = format!("{place}.{}", method.name);
            match served
                .methods
                .iter()
                .find(|m| m.wire_name == method.wire_name)
            {
                Some(served) => self.method(&place, method, served),
                None => {
                    let problem = format!(
                        "{} have no method `{}`: calls of it fail with NameError",
                        servers.called, method.wire_name
                    );
                    let declared = Declared {
                        clients: Some(self.method_declaration(method)),
                        servers: None,
                    };
                    self.report(&place, None, declared, problem, Some(KEEP_SERVING.into()));
                }
            }
        }
    }

    /// Compares a method as the clients call it with the method the servers serve.
    fn method(&mut self, place: &str, called: &Method, served: &Method) {
        let (clients, servers) = (self.clients.called, self.servers.called);
        let (sent, required) = (called.params.len(), served.required_params());
        if (required..=served.params.len()).contains(&sent) {
            // Optional parameters the clients do not know of are left out, and read as nil.
            for (sent, taken) in called.params.iter().zip(&served.params) {
                let at = At {
                    place,
                    role: "argument",
                    path: taken.name.clone(),
                    declared: Declared {
                        clients: Some(self.param_declaration(called, sent)),
                        servers: Some(self.param_declaration(served, taken)),
                    },
                };
                self.value(Flow::ToServers, &taken.ty, &sent.ty, &at);
            }
        } else {
            let problem = format!(
                "{servers} take {} where {clients} send {}: the call fails with TypeError",
                arguments_taken(served),
                arguments_sent(&called.params),
            );
            let hint = if sent < required {
                "make the new parameters optional (`T?`, `Option<T>` in a Rust trait) and put \
                 them last: servers read an optional argument a call leaves out as nil"
            } else {
                "add a method with the new parameters, and keep this one until every client has \
                 moved"
            };
            let declared = Declared {
                clients: Some(self.method_declaration(called)),
                servers: Some(self.method_declaration(served)),
            };
            self.report(place, None, declared, problem, Some(hint.into()));
        }
        self.returns(place, called, served);
        for error in &called.throws {
            let served_error = served.throws.iter().find(|e| e.name == error.name);
            if let Some(served_error) = served_error {
                let at = At {
                    place,
                    role: "error",
                    path: error.name.clone(),
                    declared: Declared {
                        clients: Some(Declaration::of_type(error)),
                        servers: Some(Declaration::of_type(served_error)),
                    },
                };
                self.named(Flow::ToClients, error, served_error, &at);
            }
        }
    }

    /// Compares what the clients expect a call to return with what the servers return.
    fn returns(&mut self, place: &str, called: &Method, served: &Method) {
        let (clients, servers) = (self.clients.called, self.servers.called);
        let declared = Declared {
            clients: Some(self.result_declaration(called)),
            servers: Some(self.result_declaration(served)),
        };
        let at = |role, path: &str| At {
            place,
            role,
            path: path.into(),
            declared: declared.clone(),
        };
        let problem = match (&called.returns, &served.returns) {
            (Returns::Unit, Returns::Unit) => None,
            (Returns::Value(expected), Returns::Value(sent)) => {
                self.value(Flow::ToClients, expected, sent, &at("result", "result"));
                None
            }
            (Returns::Stream(expected), Returns::Stream(sent)) => {
                self.value(Flow::ToClients, expected, sent, &at("stream item", "item"));
                None
            }
            (Returns::Value(expected), Returns::Unit) if accepts_nil(expected) => None,
            (Returns::Value(expected), Returns::Unit) => Some(format!(
                "{servers} return nothing (nil) where {clients} expect {}",
                self.text(expected)
            )),
            (Returns::Unit, Returns::Value(sent)) => Some(format!(
                "{servers} return {} where {clients} expect nothing (nil)",
                self.text(sent)
            )),
            (Returns::Stream(_), _) => Some(format!(
                "{servers} send one reply where {clients} expect a stream"
            )),
            (_, Returns::Stream(_)) => Some(format!(
                "{servers} send a stream where {clients} expect one reply"
            )),
        };
        if let Some(problem) = problem {
            let hint = "add a method with the new result, and keep this one until every client \
                        has moved";
            self.report(place, None, declared, problem, Some(hint.into()));
        }
    }

    /// Compares the type a reader reads at `at` with the type the writer sends there.
    fn value(&mut self, flow: Flow, read: &Type, sent: &Type, at: &At<'_>) {
        match (read, sent) {
            (Type::Any, _) => {}
            (Type::Optional(read), Type::Optional(sent)) => self.value(flow, read, sent, at),
            (Type::Optional(read), sent) => self.value(flow, read, sent, at),
            (Type::List(read), Type::List(sent)) => self.value(flow, read, sent, &at.child("[]")),
            (
                Type::Map {
                    key: read_key,
                    value: read_value,
                },
                Type::Map {
                    key: sent_key,
                    value: sent_value,
                },
            ) => {
                self.value(flow, read_key, sent_key, &at.child("{key}"));
                self.value(flow, read_value, sent_value, &at.child("{value}"));
            }
            (Type::Named(read), Type::Named(sent)) => self.named(flow, read, sent, at),
            (read, sent) if read == sent || widens(sent, read) => {}
            (read, sent) => {
                let (reader, writer) = self.sides(flow);
                let (read_text, sent_text) = (self.text(read), self.text(sent));
                let problem = if is_integer(sent) && is_integer(read) {
                    format!(
                        "{} send {sent_text} where {} read {read_text}: the values {read_text} \
                         cannot hold are refused",
                        writer.called, reader.called
                    )
                } else if matches!(sent, Type::Optional(_)) {
                    format!(
                        "{} may send nil ({sent_text}) where {} expect {read_text}",
                        writer.called, reader.called
                    )
                } else {
                    format!(
                        "{} send {sent_text} where {} expect {read_text}",
                        writer.called, reader.called
                    )
                };
                self.report_at(at, at.declared.clone(), problem, widening_hint(flow));
            }
        }
    }

    /// Compares two named types, once per pair and direction.
    fn named(&mut self, flow: Flow, read: &TypeName, sent: &TypeName, at: &At<'_>) {
        if !self.compared.insert((flow, read.clone(), sent.clone())) {
            return;
        }
        let (reader, writer) = self.sides(flow);
        let (Some(read_def), Some(sent_def)) =
            (reader.schema.type_def(read), writer.schema.type_def(sent))
        else {
            return;
        };
        let fields = |owner, fields| Fields {
            owner,
            variant: None,
            fields,
        };
        match (&read_def.kind, &sent_def.kind) {
            (
                TypeKind::Struct {
                    fields: read_fields,
                },
                TypeKind::Struct {
                    fields: sent_fields,
                },
            )
            | (
                TypeKind::Error {
                    fields: read_fields,
                },
                TypeKind::Error {
                    fields: sent_fields,
                },
            ) => {
                self.fields(
                    flow,
                    &fields(read, read_fields),
                    &fields(sent, sent_fields),
                    at,
                );
            }
            (
                TypeKind::Enum {
                    variants: read_variants,
                },
                TypeKind::Enum {
                    variants: sent_variants,
                },
            ) => {
                self.variants(flow, (read, read_variants), (sent, sent_variants), at);
            }
            (read_kind, sent_kind) => {
                let problem = format!(
                    "{} send {} `{}` where {} expect {} `{}`",
                    writer.called,
                    kind_name(sent_kind),
                    sent.idl_text(&self.package),
                    reader.called,
                    kind_name(read_kind),
                    read.idl_text(&self.package),
                );
                let (read, sent) = (Declaration::of_type(read), Declaration::of_type(sent));
                let declared = Self::declared(flow, Some(read), Some(sent));
                self.report_at(at, declared, problem, widening_hint(flow));
            }
        }
    }

    /// Compares the fields a reader reads with those the writer sends (matched by wire name).
    fn fields(&mut self, flow: Flow, read: &Fields<'_>, sent: &Fields<'_>, at: &At<'_>) {
        for field in read.fields {
            let step = format!(".{}", field.wire_name);
            let counterpart = sent.fields.iter().find(|s| s.wire_name == field.wire_name);
            let declared = Self::declared(
                flow,
                Some(read.declaration(field)),
                counterpart.map(|counterpart| sent.declaration(counterpart)),
            );
            let at = at.entering(&step, declared);
            match counterpart {
                Some(counterpart) => self.value(flow, &field.ty, &counterpart.ty, &at),
                None if accepts_missing(&field.ty) => {}
                None => {
                    let (reader, writer) = self.sides(flow);
                    let ty = self.text(&field.ty);
                    let problem = format!(
                        "{} require this field ({ty}), which {} do not send",
                        reader.called, writer.called
                    );
                    let hint = format!(
                        "make it optional (`{ty}?`): a missing optional field reads as nil"
                    );
                    self.report_at(&at, at.declared.clone(), problem, hint);
                }
            }
        }
    }

    /// Checks that the reader knows every variant the writer may send, with the same data.
    fn variants(
        &mut self,
        flow: Flow,
        (read_owner, read): (&TypeName, &[Variant]),
        (sent_owner, sent): (&TypeName, &[Variant]),
        at: &At<'_>,
    ) {
        let declaration = |owner: &TypeName, variant: &Variant| Declaration::Variant {
            package: owner.package.clone(),
            type_name: owner.name.clone(),
            variant: variant.name.clone(),
        };
        for variant in sent {
            let step = format!(".{}", variant.wire_name);
            let known = read.iter().find(|read| read.wire_name == variant.wire_name);
            let declared = Self::declared(
                flow,
                known.map(|known| declaration(read_owner, known)),
                Some(declaration(sent_owner, variant)),
            );
            let at = at.entering(&step, declared);
            let Some(known) = known else {
                let (reader, writer) = self.sides(flow);
                let problem = format!(
                    "{} may send this variant, which {} do not know",
                    writer.called, reader.called
                );
                let hint = match flow {
                    Flow::ToServers => "deploy servers that know it before clients that send it",
                    Flow::ToClients => "deploy clients that know it before servers that send it",
                };
                self.report_at(&at, at.declared.clone(), problem, hint.into());
                continue;
            };
            match (&known.data, &variant.data) {
                (VariantData::Unit, VariantData::Unit) => {}
                (VariantData::Tuple { items: read }, VariantData::Tuple { items: sent })
                    if read.len() == sent.len() =>
                {
                    for (index, (read, sent)) in read.iter().zip(sent).enumerate() {
                        self.value(flow, read, sent, &at.child(&format!(".{index}")));
                    }
                }
                (
                    VariantData::Struct {
                        fields: read_fields,
                    },
                    VariantData::Struct {
                        fields: sent_fields,
                    },
                ) => {
                    let read = Fields {
                        owner: read_owner,
                        variant: Some(&known.name),
                        fields: read_fields,
                    };
                    let sent = Fields {
                        owner: sent_owner,
                        variant: Some(&variant.name),
                        fields: sent_fields,
                    };
                    self.fields(flow, &read, &sent, &at);
                }
                (read, sent) => {
                    let (reader, writer) = self.sides(flow);
                    let problem = format!(
                        "{} send {} where {} expect {}",
                        writer.called,
                        variant_shape(sent),
                        reader.called,
                        variant_shape(read)
                    );
                    self.report_at(&at, at.declared.clone(), problem, widening_hint(flow));
                }
            }
        }
    }
}

/// The usual way out of a type change that readers refuse.
fn widening_hint(flow: Flow) -> String {
    let readers = match flow {
        Flow::ToServers => "servers",
        Flow::ToClients => "clients",
    };
    format!(
        "change a type only in ways its readers ({readers}) accept: a larger integer type, f32 to \
         f64, T to T? or any; or add a new method"
    )
}

/// `2 arguments (id, reason)`.
fn arguments_sent(params: &[Param]) -> String {
    let names: Vec<&str> = params.iter().map(|param| param.name.as_str()).collect();
    match names.len() {
        1 => format!("1 argument ({})", names[0]),
        count => format!("{count} arguments ({})", names.join(", ")),
    }
}

/// `2 arguments (id, reason)`, or `1 to 2 arguments (id, reason)` when calls may leave out the
/// optional parameters at the end.
fn arguments_taken(method: &Method) -> String {
    let (required, params) = (method.required_params(), &method.params);
    if required == params.len() {
        return arguments_sent(params);
    }
    let names: Vec<&str> = params.iter().map(|param| param.name.as_str()).collect();
    format!(
        "{required} to {} arguments ({})",
        names.len(),
        names.join(", ")
    )
}

/// Whether a reader of `ty` accepts nil.
fn accepts_nil(ty: &Type) -> bool {
    matches!(ty, Type::Optional(_) | Type::Any)
}

/// Whether a reader of a struct accepts the absence of a field of type `ty`: only an optional
/// field reads as nil when missing (a missing `any` field is refused by the Rust runtime).
fn accepts_missing(ty: &Type) -> bool {
    matches!(ty, Type::Optional(_))
}

/// The values an integer type holds, or `None` for other types.
fn integer_range(ty: &Type) -> Option<(i128, i128)> {
    let range = match ty {
        Type::I8 => (i8::MIN.into(), i8::MAX.into()),
        Type::I16 => (i16::MIN.into(), i16::MAX.into()),
        Type::I32 => (i32::MIN.into(), i32::MAX.into()),
        Type::I64 => (i64::MIN.into(), i64::MAX.into()),
        Type::U8 => (0, u8::MAX.into()),
        Type::U16 => (0, u16::MAX.into()),
        Type::U32 => (0, u32::MAX.into()),
        Type::U64 => (0, u64::MAX.into()),
        _ => return None,
    };
    Some(range)
}

fn is_integer(ty: &Type) -> bool {
    integer_range(ty).is_some()
}

/// Whether every value of `sent` reads as a `read`: a larger integer type, or f32 into f64.
fn widens(sent: &Type, read: &Type) -> bool {
    match (integer_range(sent), integer_range(read)) {
        (Some((sent_min, sent_max)), Some((read_min, read_max))) => {
            read_min <= sent_min && sent_max <= read_max
        }
        _ => matches!((sent, read), (Type::F32, Type::F64)),
    }
}

fn kind_name(kind: &TypeKind) -> &'static str {
    match kind {
        TypeKind::Struct { .. } => "struct",
        TypeKind::Enum { .. } => "enum",
        TypeKind::Error { .. } => "error",
    }
}

fn variant_shape(data: &VariantData) -> String {
    match data {
        VariantData::Unit => "no data".into(),
        VariantData::Tuple { items } if items.len() == 1 => "one value".into(),
        VariantData::Tuple { items } => format!("{} values", items.len()),
        VariantData::Struct { .. } => "fields".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Compiler, MemoryLoader};

    fn schema(text: &str) -> Schema {
        let loader = MemoryLoader::new().with_file("shop.rpc", text);
        Compiler::with_loader(loader)
            .compile(&["shop.rpc"])
            .unwrap_or_else(|diagnostics| panic!("{}", diagnostics.render(false)))
    }

    /// What breaks old clients of `old` calling servers of `new`.
    fn changes(old: &str, new: &str) -> Vec<Incompatibility> {
        let (old, new) = (schema(old), schema(new));
        let clients = Side {
            schema: &old,
            called: "old clients",
        };
        let servers = Side {
            schema: &new,
            called: "new servers",
        };
        breaking_changes(clients, servers)
    }

    /// What breaks old clients of `old` calling servers of `new`, one line each.
    fn breaks(old: &str, new: &str) -> Vec<String> {
        changes(old, new).iter().map(ToString::to_string).collect()
    }

    const SHOP: &str = "package shop;
        struct Ticket { id: u64, title: string, body: string? }
        enum Priority { Low, High }
        enum Event { Opened(Ticket), Moved(u64, string), Closed { id: u64 } }
        error NotFound { id: u64 }
        service Tickets {
            get(id: u32) -> Ticket throws NotFound;
            create(ticket: Ticket, priority: Priority) -> u32;
            events() -> stream<Event>;
            close(id: u64);
        }";

    /// `SHOP` with `from` replaced by `to`, which must be there.
    fn shop_with(from: &str, to: &str) -> String {
        assert!(SHOP.contains(from), "{from}");
        SHOP.replace(from, to)
    }

    #[test]
    fn an_unchanged_schema_breaks_nothing() {
        assert_eq!(breaks(SHOP, SHOP), Vec::<String>::new());
    }

    #[test]
    fn changes_every_reader_accepts_break_nothing() {
        let safe = [
            // Names that do not travel: parameters, types, a field that keeps its wire name.
            ("get(id: u32)", "get(ticket_id: u32)"),
            ("title: string,", "@name(\"title\") heading: string,"),
            // Wider where the servers read, narrower where they write.
            ("get(id: u32)", "get(id: u64)"),
            ("get(id: u32)", "get(id: i64?)"),
            ("-> u32;", "-> u16;"),
            ("close(id: u64)", "close(id: any)"),
            // A new optional field where servers read, a new field where only clients read.
            ("body: string? }", "body: string?, due: u64? }"),
            ("Closed { id: u64 }", "Closed { id: u64, reason: string }"),
            // Variants the servers accept, or stop sending; errors they stop raising.
            (
                "enum Priority { Low, High }",
                "enum Priority { Low, High, Urgent }",
            ),
            ("Moved(u64, string), ", ""),
            ("throws NotFound;", ";"),
            ("close(id: u64);", "close(id: u64);\n reopen(id: u64);"),
            // Optional parameters at the end, which old clients leave out.
            (
                "close(id: u64)",
                "close(id: u64, why: string?, notify: bool?)",
            ),
        ];
        for (from, to) in safe {
            assert_eq!(
                breaks(SHOP, &shop_with(from, to)),
                Vec::<String>::new(),
                "{to}"
            );
        }
    }

    #[test]
    fn methods_that_go_or_change_their_arguments_break() {
        assert_eq!(
            breaks(SHOP, &shop_with("close(id: u64);", "")),
            ["shop.Tickets.close: new servers have no method `close`: calls of it fail with NameError"]
        );
        assert_eq!(
            breaks(SHOP, &shop_with("close(id: u64)", "@name(\"shut\") close(id: u64)")),
            ["shop.Tickets.close: new servers have no method `close`: calls of it fail with NameError"]
        );
        assert_eq!(
            breaks(
                SHOP,
                &shop_with("close(id: u64)", "close(id: u64, why: string)")
            ),
            [
                "shop.Tickets.close: new servers take 2 arguments (id, why) where old clients \
                 send 1 argument (id): the call fails with TypeError"
            ]
        );
        // An optional parameter before a required one cannot be left out.
        let reordered = shop_with("close(id: u64)", "close(why: string?, id: u64)");
        assert_eq!(
            breaks(SHOP, &reordered),
            [
                "shop.Tickets.close: new servers take 2 arguments (why, id) where old clients \
                 send 1 argument (id): the call fails with TypeError"
            ]
        );
        let old = shop_with(
            "close(id: u64)",
            "close(id: u64, why: string?, notify: bool?)",
        );
        assert_eq!(
            breaks(&old, SHOP),
            [
                "shop.Tickets.close: new servers take 1 argument (id) where old clients send 3 \
                 arguments (id, why, notify): the call fails with TypeError"
            ]
        );
        let required_last = shop_with("close(id: u64)", "close(id: u64, why: string?, n: u8)");
        assert_eq!(
            breaks(SHOP, &required_last),
            [
                "shop.Tickets.close: new servers take 3 arguments (id, why, n) where old clients \
                 send 1 argument (id): the call fails with TypeError"
            ]
        );
        assert_eq!(
            breaks(SHOP, &shop_with("service Tickets", "service Desk")),
            ["shop.Tickets: new servers have no such service: every call of it fails with NameError"]
        );
    }

    #[test]
    fn arguments_the_servers_cannot_read_break() {
        assert_eq!(
            breaks(SHOP, &shop_with("close(id: u64)", "close(id: u32)")),
            [
                "shop.Tickets.close, argument `id`: old clients send u64 where new servers read \
                 u32: the values u32 cannot hold are refused"
            ]
        );
        assert_eq!(
            breaks(SHOP, &shop_with("close(id: u64)", "close(id: string)")),
            ["shop.Tickets.close, argument `id`: old clients send u64 where new servers expect string"]
        );
        // The argument's struct gains a required field, which the result's readers ignore.
        assert_eq!(
            breaks(
                SHOP,
                &shop_with("body: string? }", "body: string?, owner: string }")
            ),
            [
                "shop.Tickets.create, argument `ticket.owner`: new servers require this field \
                 (string), which old clients do not send"
            ]
        );
        assert_eq!(
            breaks(
                SHOP,
                &shop_with("enum Priority { Low, High }", "enum Priority { Low }")
            ),
            [
                "shop.Tickets.create, argument `priority.High`: old clients may send this \
                 variant, which new servers do not know"
            ]
        );
    }

    #[test]
    fn results_the_clients_cannot_read_break() {
        assert_eq!(
            breaks(SHOP, &shop_with("-> u32;", "-> u32?;")),
            [
                "shop.Tickets.create, result `result`: new servers may send nil (u32?) where \
                 old clients expect u32"
            ]
        );
        assert_eq!(
            breaks(SHOP, &shop_with("title: string,", "title: string?,")),
            [
                "shop.Tickets.get, result `result.title`: new servers may send nil (string?) \
                 where old clients expect string"
            ]
        );
        assert_eq!(
            breaks(
                SHOP,
                &shop_with("Closed { id: u64 }", "Closed { id: u64 }, Merged(u64)")
            ),
            [
                "shop.Tickets.events, stream item `item.Merged`: new servers may send this \
                 variant, which old clients do not know"
            ]
        );
        assert_eq!(
            breaks(SHOP, &shop_with("Moved(u64, string)", "Moved(u64)")),
            [
                "shop.Tickets.events, stream item `item.Moved`: new servers send one value \
                 where old clients expect 2 values"
            ]
        );
        assert_eq!(
            breaks(
                SHOP,
                &shop_with(
                    "error NotFound { id: u64 }",
                    "error NotFound { key: string }"
                )
            ),
            [
                "shop.Tickets.get, error `NotFound.id`: old clients require this field (u64), \
                 which new servers do not send"
            ]
        );
        assert_eq!(
            breaks(SHOP, &shop_with("close(id: u64);", "close(id: u64) -> bool;")),
            ["shop.Tickets.close: new servers return bool where old clients expect nothing (nil)"]
        );
        assert_eq!(
            breaks(SHOP, &shop_with("-> stream<Event>", "-> list<Event>")),
            ["shop.Tickets.events: new servers send one reply where old clients expect a stream"]
        );
        assert_eq!(
            breaks(
                SHOP,
                &shop_with(
                    "enum Priority { Low, High }",
                    "struct Priority { level: u8 }"
                )
            ),
            [
                "shop.Tickets.create, argument `priority`: old clients send enum `Priority` \
                 where new servers expect struct `Priority`"
            ]
        );
    }

    #[test]
    fn each_change_names_its_declarations_on_both_sides() {
        let declared = |old: &str, new: &str| {
            let found = changes(old, new);
            assert_eq!(found.len(), 1, "{found:?}");
            (found[0].in_clients.clone(), found[0].in_servers.clone())
        };
        let field = |type_name: &str, variant: Option<&str>, field: &str| Declaration::Field {
            package: "shop".into(),
            type_name: type_name.into(),
            variant: variant.map(str::to_string),
            field: field.into(),
        };
        assert_eq!(
            declared(
                SHOP,
                &shop_with("body: string? }", "body: string?, owner: string }")
            ),
            (None, Some(field("Ticket", None, "owner")))
        );
        assert_eq!(
            declared(
                SHOP,
                &shop_with("Closed { id: u64 }", "Closed { id: u64? }")
            ),
            (
                Some(field("Event", Some("Closed"), "id")),
                Some(field("Event", Some("Closed"), "id"))
            )
        );
        let merged = Declaration::Variant {
            package: "shop".into(),
            type_name: "Event".into(),
            variant: "Merged".into(),
        };
        assert_eq!(
            declared(
                SHOP,
                &shop_with("Closed { id: u64 }", "Closed { id: u64 }, Merged")
            ),
            (None, Some(merged))
        );
        let param = |method: &str, param: &str| Declaration::Param {
            package: "shop".into(),
            service: "Tickets".into(),
            method: method.into(),
            param: param.into(),
        };
        assert_eq!(
            declared(SHOP, &shop_with("close(id: u64)", "close(key: string)")),
            (Some(param("close", "id")), Some(param("close", "key")))
        );
        let close = Declaration::Method {
            package: "shop".into(),
            service: "Tickets".into(),
            method: "close".into(),
        };
        assert_eq!(
            declared(SHOP, &shop_with("close(id: u64);", "")),
            (Some(close), None)
        );
    }

    #[test]
    fn a_type_is_reported_once_and_recursion_ends() {
        let old = "package shop;
            struct Node { name: string, children: list<Node> }
            service Trees { get() -> Node; all() -> list<Node>; }";
        let new = old.replace("name: string,", "name: string?,");
        assert_eq!(
            breaks(old, &new),
            [
                "shop.Trees.get, result `result.name`: new servers may send nil (string?) where \
                 old clients expect string"
            ]
        );
    }

    #[test]
    fn the_other_way_round_is_the_other_deployment() {
        // New clients of old servers: a method the clients added is not there yet.
        let new = shop_with("close(id: u64);", "close(id: u64);\n reopen(id: u64);");
        let (old, new) = (schema(SHOP), schema(&new));
        let found = breaking_changes(
            Side {
                schema: &new,
                called: "new clients",
            },
            Side {
                schema: &old,
                called: "old servers",
            },
        );
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].place, "shop.Tickets.reopen");
        assert_eq!(found[0].hint.as_deref(), Some(KEEP_SERVING));
    }
}
