//! The view models of the TypeScript templates: every name, type expression, converter and doc
//! comment is computed here from the IR, so that the templates only lay them out.
//!
//! Conventions of the fields below: `doc` is a rendered JSDoc comment, indented and ending with a
//! newline, or empty; `name` is a TypeScript identifier; `ts_type` a TypeScript type expression;
//! `converter` a converter expression (`rpcgen.listOf(toTicket)`) or, for a declaration, the name
//! of its converter function; `*_literal` and `path_suffix` are JavaScript string literals.

use rpcgen_idl::ir::{
    Field, Method, Package, Returns, Schema, Service, TypeDef, TypeKind, Variant, VariantData,
};
use rpcgen_idl::naming::{self, NameKind, Target};

use super::types::{
    converter_identifier, path_step, property_key, string_literal, type_identifier, TypeRenderer,
    RUNTIME_NAMESPACE,
};

/// One generated `<package>.ts` file.
pub(super) struct PackageView {
    /// The IDL package name.
    pub package: String,
    /// The package's doc comment, rendered (empty when it has none).
    pub doc: String,
    /// Whether the file uses the runtime (a package that declares nothing does not).
    pub uses_runtime: bool,
    /// The packages this file imports, as namespaces named after them.
    pub imports: Vec<String>,
    /// The package's types, in declaration order.
    pub declarations: Vec<Declaration>,
    /// One client class per service.
    pub clients: Vec<ClientView>,
}

/// One user type.
pub(super) enum Declaration {
    /// A struct: an interface and its converter.
    Struct(StructView),
    /// An enum whose variants carry no data: a union of string literals and its converter.
    UnitEnum(UnitEnumView),
    /// An enum with data: a union of one-key objects (and strings) and its converter.
    DataEnum(DataEnumView),
    /// An error: a class extending the runtime's RemoteError.
    Error(ErrorView),
}

/// A struct.
pub(super) struct StructView {
    pub doc: String,
    pub name: String,
    pub converter: String,
    /// The fields, in declaration order.
    pub fields: Vec<FieldView>,
}

/// A field of a struct, an error or a struct variant.
pub(super) struct FieldView {
    /// The doc comment, rendered at the field's indentation.
    pub doc: String,
    /// The property key: the wire name, quoted when it is not an identifier.
    pub key: String,
    /// The TypeScript type.
    pub ts_type: String,
    /// The wire name as a string literal, to read it from a decoded map.
    pub wire_literal: String,
    /// What the path of the enclosing value gains for this field, as a string literal.
    pub path_suffix: String,
    /// The converter expression.
    pub converter: String,
}

/// An enum whose variants are all units.
pub(super) struct UnitEnumView {
    pub doc: String,
    pub name: String,
    pub converter: String,
    /// The variants: doc comment and wire name literal.
    pub variants: Vec<(String, String)>,
    /// The wire name literals, for the converter.
    pub names: Vec<String>,
}

/// An enum with at least one variant that carries data.
pub(super) struct DataEnumView {
    pub doc: String,
    pub name: String,
    pub converter: String,
    /// Every variant, in declaration order.
    pub variants: Vec<VariantView>,
    /// Wire name literals of the unit variants.
    pub unit_names: Vec<String>,
    /// Wire name literals of the variants with data.
    pub data_names: Vec<String>,
}

/// One variant of an enum with data.
pub(super) struct VariantView {
    pub doc: String,
    /// The wire name as a string literal (the `case` label).
    pub wire_literal: String,
    /// The property key of the one-key object.
    pub key: String,
    /// What the variant carries.
    pub payload: Payload,
}

/// What a variant carries, ready for the template.
pub(super) enum Payload {
    /// Nothing: the variant is its wire name.
    Unit,
    /// One value, the payload itself.
    Single {
        ts_type: String,
        converter: String,
        path_suffix: String,
    },
    /// Several values, an array.
    Tuple {
        path_suffix: String,
        items: Vec<TupleItem>,
    },
    /// Named fields, a map.
    Struct {
        path_suffix: String,
        fields: Vec<FieldView>,
    },
}

/// One value of a tuple variant with several values.
pub(super) struct TupleItem {
    pub ts_type: String,
    pub converter: String,
    /// What the enum's path gains for this item (`.Rect[0]`), as a string literal.
    pub path_suffix: String,
}

/// An error type.
pub(super) struct ErrorView {
    pub doc: String,
    pub name: String,
    /// The IDL name, as a string literal.
    pub error_name: String,
    /// The error's fields, the members of its `fields` property.
    pub fields: Vec<FieldView>,
}

/// The client class of a service.
pub(super) struct ClientView {
    pub doc: String,
    pub name: String,
    /// The service's IDL name, for the constructor's doc.
    pub service: String,
    /// One method per IDL method, in declaration order.
    pub methods: Vec<MethodView>,
}

/// One method of a client class.
pub(super) struct MethodView {
    pub doc: String,
    /// The method's name in TypeScript.
    pub name: String,
    /// The private static field holding the method's spec.
    pub spec: String,
    /// The parameters, in wire order (the trailing `options` is not among them).
    pub params: Vec<ParamView>,
    /// `async ` for a plain method; empty for a stream, which returns an iterable at once.
    pub keyword: &'static str,
    /// The declared return type: `Promise<Ticket>`, `AsyncIterable<Ticket>`.
    pub return_type: String,
    /// The runtime function that makes the call: `callMethod` or `streamMethod`.
    pub runtime_function: &'static str,
    /// The result type (the item type of a stream; `void` for none).
    pub result_type: String,
    /// The converter of the result (or of each stream item).
    pub result_converter: String,
    /// The declared result type as IDL text, as a string literal.
    pub result_idl: String,
    /// The wire name, as a string literal.
    pub wire_literal: String,
    /// The classes of the declared errors.
    pub errors: Vec<String>,
    /// The default timeout in seconds, from the method's `@timeout` or else its service's.
    pub timeout_seconds: Option<String>,
}

/// One parameter of a client method.
pub(super) struct ParamView {
    pub name: String,
    /// `?` for the optional parameters at the end, which a call may leave out; else empty.
    pub omittable: &'static str,
    pub ts_type: String,
    pub converter: String,
    /// The parameter's name as a string literal, for error messages.
    pub name_literal: String,
}

/// Names a method may not have in TypeScript even though they are not keywords: `constructor`
/// would define the class's constructor, and a `then` method would make every client look like a
/// promise to `await`.
const RESERVED_METHOD_NAMES: &[&str] = &["constructor", "then"];

/// Names a parameter may not have: the method bodies use them.
const RESERVED_PARAM_NAMES: &[&str] = &["options", RUNTIME_NAMESPACE];

/// One level of indentation in generated code.
const INDENT: &str = "  ";

impl PackageView {
    /// The view of `package`, whose types refer to others in `schema`.
    pub(super) fn new(schema: &Schema, package: &Package) -> PackageView {
        let renderer = TypeRenderer::new(&package.name);
        let mut imports = package.referenced_packages();
        imports.remove(&package.name);
        PackageView {
            package: package.name.clone(),
            doc: doc_comment("", &package.docs, None, &[]),
            uses_runtime: !package.types.is_empty() || !package.services.is_empty(),
            imports: package
                .imports
                .iter()
                .filter(|name| imports.contains(*name))
                .cloned()
                .collect(),
            declarations: package
                .types
                .iter()
                .map(|def| declaration(&renderer, def))
                .collect(),
            clients: package
                .services
                .iter()
                .map(|service| client(schema, &renderer, service))
                .collect(),
        }
    }
}

/// The name of the client class of a service: `TicketsClient`.
pub(super) fn client_class_name(service: &str) -> String {
    format!("{}Client", type_identifier(service))
}

fn declaration(renderer: &TypeRenderer, def: &TypeDef) -> Declaration {
    let doc = doc_comment("", &def.docs, def.deprecated.as_deref(), &[]);
    let name = type_identifier(&def.name);
    let converter = converter_identifier(&def.name);
    match &def.kind {
        TypeKind::Struct { fields } => Declaration::Struct(StructView {
            doc,
            name,
            converter,
            fields: field_views(renderer, fields, "", INDENT),
        }),
        TypeKind::Error { fields } => Declaration::Error(ErrorView {
            doc,
            name,
            error_name: string_literal(&def.name),
            fields: field_views(renderer, fields, "", &INDENT.repeat(2)),
        }),
        TypeKind::Enum { variants } => {
            let literals = |unit: bool| -> Vec<String> {
                variants
                    .iter()
                    .filter(|variant| matches!(variant.data, VariantData::Unit) == unit)
                    .map(|variant| string_literal(&variant.wire_name))
                    .collect()
            };
            let (unit_names, data_names) = (literals(true), literals(false));
            if data_names.is_empty() {
                Declaration::UnitEnum(UnitEnumView {
                    doc,
                    name,
                    converter,
                    variants: variants
                        .iter()
                        .map(|variant| (variant_doc(variant), string_literal(&variant.wire_name)))
                        .collect(),
                    names: unit_names,
                })
            } else {
                Declaration::DataEnum(DataEnumView {
                    doc,
                    name,
                    converter,
                    variants: variants
                        .iter()
                        .map(|variant| variant_view(renderer, variant))
                        .collect(),
                    unit_names,
                    data_names,
                })
            }
        }
    }
}

fn variant_doc(variant: &Variant) -> String {
    doc_comment(INDENT, &variant.docs, variant.deprecated.as_deref(), &[])
}

fn variant_view(renderer: &TypeRenderer, variant: &Variant) -> VariantView {
    let step = path_step(&variant.wire_name);
    let payload = match &variant.data {
        VariantData::Unit => Payload::Unit,
        VariantData::Tuple { items } if items.len() == 1 => Payload::Single {
            ts_type: renderer.ts_type(&items[0]),
            converter: renderer.converter(&items[0]),
            path_suffix: string_literal(&step),
        },
        VariantData::Tuple { items } => Payload::Tuple {
            path_suffix: string_literal(&step),
            items: items
                .iter()
                .enumerate()
                .map(|(index, ty)| TupleItem {
                    ts_type: renderer.ts_type(ty),
                    converter: renderer.converter(ty),
                    path_suffix: string_literal(&format!("{step}[{index}]")),
                })
                .collect(),
        },
        VariantData::Struct { fields } => Payload::Struct {
            path_suffix: string_literal(&step),
            fields: field_views(renderer, fields, &step, &INDENT.repeat(4)),
        },
    };
    VariantView {
        doc: variant_doc(variant),
        wire_literal: string_literal(&variant.wire_name),
        key: property_key(&variant.wire_name),
        payload,
    }
}

/// The views of `fields`; `base_step` is what the path gains before each field's own step, and
/// `indent` the indentation of their doc comments.
fn field_views(
    renderer: &TypeRenderer,
    fields: &[Field],
    base_step: &str,
    indent: &str,
) -> Vec<FieldView> {
    fields
        .iter()
        .map(|field| FieldView {
            doc: doc_comment(indent, &field.docs, field.deprecated.as_deref(), &[]),
            key: property_key(&field.wire_name),
            ts_type: renderer.ts_type(&field.ty),
            wire_literal: string_literal(&field.wire_name),
            path_suffix: string_literal(&format!("{base_step}{}", path_step(&field.wire_name))),
            converter: renderer.converter(&field.ty),
        })
        .collect()
}

fn client(schema: &Schema, renderer: &TypeRenderer, service: &Service) -> ClientView {
    let mut doc_lines = service.docs.clone();
    if !doc_lines.is_empty() {
        doc_lines.push(String::new());
    }
    doc_lines.push(format!(
        "A typed client of the `{}` service: one method per IDL method.",
        service.name
    ));
    ClientView {
        doc: doc_comment("", &doc_lines, service.deprecated.as_deref(), &[]),
        name: client_class_name(&service.name),
        service: service.name.clone(),
        methods: service
            .methods
            .iter()
            .map(|method| method_view(schema, renderer, service, method))
            .collect(),
    }
}

/// The TypeScript name of a method: lowerCamelCase, escaped when reserved.
pub(super) fn method_identifier(name: &str) -> String {
    escaped(
        naming::target_name(Target::TypeScript, NameKind::Method, name),
        RESERVED_METHOD_NAMES,
    )
}

/// The TypeScript name of a parameter: lowerCamelCase, escaped when reserved.
fn param_identifier(name: &str) -> String {
    escaped(
        naming::target_name(Target::TypeScript, NameKind::Param, name),
        RESERVED_PARAM_NAMES,
    )
}

/// `name`, with `_` appended when it is one of `reserved` (as keywords are escaped).
fn escaped(name: String, reserved: &[&str]) -> String {
    if reserved.contains(&name.as_str()) {
        format!("{name}_")
    } else {
        name
    }
}

fn method_view(
    schema: &Schema,
    renderer: &TypeRenderer,
    service: &Service,
    method: &Method,
) -> MethodView {
    let name = method_identifier(&method.name);
    let required = method.required_params();
    let params: Vec<ParamView> = method
        .params
        .iter()
        .enumerate()
        .map(|(index, param)| {
            let name = param_identifier(&param.name);
            ParamView {
                name_literal: string_literal(&name),
                omittable: if index < required { "" } else { "?" },
                ts_type: renderer.ts_type(&param.ty),
                converter: renderer.converter(&param.ty),
                name,
            }
        })
        .collect();
    let mut tags: Vec<String> = method
        .params
        .iter()
        .zip(&params)
        .filter(|(param, _)| !param.docs.is_empty())
        .map(|(param, view)| format!("@param {} {}", view.name, param.docs.join("\n")))
        .collect();
    tags.push("@param options Settings of this call only, such as `timeoutSeconds`.".into());
    let errors: Vec<String> = method
        .throws
        .iter()
        .map(|error| renderer.qualified(error, type_identifier(&error.name)))
        .collect();
    for (error, class) in method.throws.iter().zip(&errors) {
        let summary = schema
            .type_def(error)
            .and_then(|def| def.docs.first())
            .map_or(String::new(), |line| format!(" {line}"));
        tags.push(format!("@throws {{{class}}}{summary}"));
    }
    let (streams, result) = match &method.returns {
        Returns::Unit => (false, None),
        Returns::Value(ty) => (false, Some(ty)),
        Returns::Stream(ty) => (true, Some(ty)),
    };
    let result_type = result.map_or("void".into(), |ty| renderer.ts_type(ty));
    let (keyword, return_type, runtime_function) = if streams {
        ("", format!("AsyncIterable<{result_type}>"), "streamMethod")
    } else {
        ("async ", format!("Promise<{result_type}>"), "callMethod")
    };
    MethodView {
        doc: doc_comment(INDENT, &method.docs, method.deprecated.as_deref(), &tags),
        spec: format!("{}Spec", naming::lower_camel_case(&method.name)),
        name,
        params,
        keyword,
        return_type,
        runtime_function,
        result_type,
        result_converter: result.map_or(format!("{RUNTIME_NAMESPACE}.toVoid"), |ty| {
            renderer.converter(ty)
        }),
        result_idl: string_literal(&result.map_or("nil".into(), |ty| renderer.idl_text(ty))),
        wire_literal: string_literal(&method.wire_name),
        errors,
        timeout_seconds: service.method_timeout_ms(method).map(seconds),
    }
}

/// A `@timeout` in milliseconds as the runtime takes it: seconds, as a number literal.
fn seconds(milliseconds: u64) -> String {
    (milliseconds as f64 / 1000.0).to_string()
}

/// A JSDoc comment at `indent`, ending with a newline: the doc lines, then `tags`, then
/// `@deprecated`; empty when there is nothing to say. `*/` inside the text is escaped.
pub(super) fn doc_comment(
    indent: &str,
    docs: &[String],
    deprecated: Option<&str>,
    tags: &[String],
) -> String {
    let mut lines: Vec<String> = docs.to_vec();
    let mut tag_lines: Vec<String> = tags.to_vec();
    if let Some(reason) = deprecated {
        tag_lines.push(format!("@deprecated {reason}").trim_end().to_string());
    }
    if !lines.is_empty() && !tag_lines.is_empty() {
        lines.push(String::new());
    }
    lines.extend(
        tag_lines
            .iter()
            .flat_map(|tag| tag.lines().map(String::from)),
    );
    let lines: Vec<String> = lines
        .iter()
        .map(|line| line.replace("*/", "*\\/"))
        .collect();
    match lines.as_slice() {
        [] => String::new(),
        [line] => format!("{indent}/** {line} */\n"),
        _ => {
            let mut comment = format!("{indent}/**\n");
            for line in &lines {
                if line.is_empty() {
                    comment.push_str(&format!("{indent} *\n"));
                } else {
                    comment.push_str(&format!("{indent} * {line}\n"));
                }
            }
            comment.push_str(&format!("{indent} */\n"));
            comment
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doc_comments() {
        assert_eq!(doc_comment("", &[], None, &[]), "");
        assert_eq!(
            doc_comment("  ", &["One line.".into()], None, &[]),
            "  /** One line. */\n"
        );
        assert_eq!(doc_comment("", &[], Some(""), &[]), "/** @deprecated */\n");
        assert_eq!(
            doc_comment("", &["Ends a */ comment.".into()], Some("use b"), &[]),
            "/**\n * Ends a *\\/ comment.\n *\n * @deprecated use b\n */\n"
        );
    }

    #[test]
    fn reserved_member_names_are_escaped() {
        assert_eq!(method_identifier("ticket_list"), "ticketList");
        assert_eq!(method_identifier("constructor"), "constructor_");
        assert_eq!(method_identifier("then"), "then_");
        assert_eq!(method_identifier("delete"), "delete_");
        assert_eq!(param_identifier("options"), "options_");
        assert_eq!(param_identifier("rpcgen"), "rpcgen_");
        assert_eq!(param_identifier("call_options"), "callOptions");
    }

    #[test]
    fn timeouts_are_seconds() {
        assert_eq!(seconds(250), "0.25");
        assert_eq!(seconds(120_000), "120");
    }
}
