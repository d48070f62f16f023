//! The view model of one generated Python module: every name, annotation, codec, docstring and
//! expression that the template `templates/python/module.py` lays out, computed from the IR.
//!
//! Expressions that may need several lines (signatures, constructor calls, wire maps) are laid
//! out here with [`bracketed`], at the indentation the template puts them.

use rpcgen_idl::ir::{
    Field, Method, Package, Returns, Schema, Service, Type, TypeDef, TypeKind, Variant, VariantData,
};
use rpcgen_idl::naming::NameKind;

use super::names::{self, member_name, CLIENT_MEMBERS, ERROR_MEMBERS, PARAM_NAMES, VALUE_MEMBERS};
use super::text::{bracketed, docstring, string_literal, Layout, INDENT};
use super::types::{Constant, NamedCodecs, Scope, TypeWriter, DATACLASS, ENUM, UNION};

/// Indentation of a class body.
const CLASS_BODY: usize = INDENT;
/// Indentation of a method body.
const METHOD_BODY: usize = 2 * INDENT;

/// One package's module.
pub struct ModuleView {
    /// The module docstring.
    pub docstring: String,
    /// The import lines after `from __future__ import annotations` (a blank string separates
    /// the sections).
    pub imports: Vec<String>,
    /// Types, in declaration order.
    pub items: Vec<Item>,
    /// One pair of clients per service.
    pub clients: Vec<ClientView>,
    /// The codec and method constants, each after those it refers to.
    pub constants: Vec<Constant>,
}

/// A generated type.
pub enum Item {
    /// A struct: a dataclass that reads and writes itself.
    Struct(ValueClass),
    /// An enum whose variants carry no data: an `enum.Enum`.
    UnitEnum(UnitEnumView),
    /// An enum with data: a dataclass per variant, a union alias and a decoding function.
    DataEnum(DataEnumView),
    /// An error: an exception class.
    Error(ErrorView),
}

/// A frozen dataclass: a struct, or one variant of an enum with data.
pub struct ValueClass {
    /// The class name.
    pub name: String,
    /// The class docstring.
    pub docstring: String,
    /// The fields, in declaration order.
    pub fields: Vec<FieldView>,
    /// The dataclass decorator.
    pub decorator: &'static str,
    /// The return annotation of `to_wire`.
    pub wire_annotation: String,
    /// The statement creating the field writer of `to_wire`, if it needs one.
    pub writer: Option<String>,
    /// What `to_wire` returns.
    pub to_wire: String,
    /// `from_wire`, for a struct (variants are read by their enum's function).
    pub from_wire: Option<FromWire>,
}

/// A struct's `from_wire` static method.
pub struct FromWire {
    /// The decorator (`staticmethod`, qualified when a field hides it).
    pub staticmethod: String,
    /// The parameter's annotation (`object`, qualified when a field hides it).
    pub object: String,
    /// The statement creating the field reader.
    pub reader: String,
    /// What `from_wire` returns.
    pub constructor: String,
}

/// One field of a generated class.
pub struct FieldView {
    /// The attribute name.
    pub attribute: String,
    /// Its annotation.
    pub annotation: String,
    /// The attribute docstring, if the field has docs.
    pub docstring: Option<String>,
}

/// An `enum.Enum`.
pub struct UnitEnumView {
    /// The class name.
    pub name: String,
    /// Its base class.
    pub base: &'static str,
    /// The class docstring.
    pub docstring: String,
    /// The members, in declaration order.
    pub members: Vec<MemberView>,
}

/// A member of an `enum.Enum`.
pub struct MemberView {
    /// The member name.
    pub name: String,
    /// Its value: the variant's wire name, as a string literal.
    pub value: String,
    /// The member docstring, if the variant has docs.
    pub docstring: Option<String>,
}

/// An enum with data.
pub struct DataEnumView {
    /// The classes of the variants.
    pub variants: Vec<ValueClass>,
    /// The union alias.
    pub alias: String,
    /// What the alias stands for (`_Union[...]`).
    pub union: String,
    /// The alias docstring.
    pub docstring: String,
    /// The decoding function's name.
    pub decoder: String,
    /// The decoding function's `def` line.
    pub decoder_def: String,
    /// The decoding function's docstring.
    pub decoder_docstring: String,
    /// The statement creating the variant reader.
    pub reader: String,
    /// One case per variant.
    pub cases: Vec<CaseView>,
}

/// How the decoding function reads one variant.
pub struct CaseView {
    /// The variant's wire name, as a string literal.
    pub wire_name: String,
    /// The statements of the case.
    pub statements: Vec<String>,
}

/// An exception class for an IDL error.
pub struct ErrorView {
    /// The class name.
    pub name: String,
    /// The class docstring.
    pub docstring: String,
    /// The fields, in declaration order.
    pub fields: Vec<FieldView>,
    /// The `def __init__` line(s).
    pub init_def: String,
    /// The error's name on the wire, as a string literal.
    pub wire_name: String,
    /// The decorator of `from_remote`.
    pub staticmethod: String,
    /// The statement reading the fields in `from_remote`.
    pub reader: String,
    /// What `from_remote` returns.
    pub constructor: String,
}

/// The blocking and the asyncio client of one service.
pub struct ClientView {
    /// The blocking client's class name.
    pub name: String,
    /// The asyncio client's class name.
    pub async_name: String,
    /// The blocking client's docstring.
    pub docstring: String,
    /// The asyncio client's docstring.
    pub async_docstring: String,
    /// The `def __init__` line(s), the same for both.
    pub init_def: String,
    /// The warning a deprecated service gives when a client is created, as a string literal.
    pub deprecation: Option<String>,
    /// `property`, qualified when a method hides it.
    pub property: String,
    /// `str`, qualified when a method hides it.
    pub str: String,
    /// `object`, qualified when a method hides it.
    pub object: String,
    /// The methods, in declaration order.
    pub methods: Vec<MethodView>,
}

/// One method of both clients.
pub struct MethodView {
    /// The blocking client's `def` line(s).
    pub sync_def: String,
    /// The asyncio client's `def` line(s).
    pub async_def: String,
    /// The docstring.
    pub docstring: String,
    /// The warning a deprecated method gives, as a string literal.
    pub deprecation: Option<String>,
    /// The body of the blocking method.
    pub sync_call: String,
    /// The body of the asyncio method.
    pub async_call: String,
}

/// Builds the view of one module.
pub struct ModuleBuilder<'a> {
    package: &'a Package,
    types: TypeWriter<'a>,
    named_constants: Vec<Constant>,
    method_constants: Vec<Constant>,
}

impl<'a> ModuleBuilder<'a> {
    /// A builder for the module of `package`, whose private names already hold the module's fixed
    /// aliases and codec constants (see [`super::types::module_private_names`]).
    pub fn new(
        schema: &'a Schema,
        package: &'a Package,
        named_codecs: &'a NamedCodecs,
        private: names::PrivateNames,
    ) -> ModuleBuilder<'a> {
        ModuleBuilder {
            package,
            types: TypeWriter::new(schema, &package.name, named_codecs, private),
            named_constants: Vec::new(),
            method_constants: Vec::new(),
        }
    }

    /// The finished view.
    pub fn build(mut self) -> ModuleView {
        let package = self.package;
        let items = package.types.iter().map(|def| self.item(def)).collect();
        let clients = package
            .services
            .iter()
            .map(|service| self.client(service))
            .collect();
        let mut constants = std::mem::take(&mut self.named_constants);
        constants.extend(self.types.take_composite_codecs());
        constants.append(&mut self.method_constants);
        let generated = format!(
            "Generated by rpcgen from the IDL package ``{}``; do not edit.",
            package.name
        );
        ModuleView {
            docstring: docstring(&[package.docs.clone(), vec![generated]], 0)
                .expect("the docstring has a line"),
            imports: self.types.imports.lines(),
            items,
            clients,
            constants,
        }
    }

    fn item(&mut self, def: &TypeDef) -> Item {
        let name = names::type_name(&def.name);
        let docs = type_docs(def, &name);
        match &def.kind {
            TypeKind::Struct { fields } => {
                let value = format!(
                    "{}.named({}, {name}, {name}.from_wire)",
                    self.types.values(),
                    string_literal(&name)
                );
                self.named_constant(def, value);
                Item::Struct(self.struct_class(&name, docs, fields))
            }
            TypeKind::Enum { variants } if variants.iter().all(is_unit) => {
                let value = format!("{}.enum_of({name})", self.types.values());
                self.named_constant(def, value);
                Item::UnitEnum(self.unit_enum(&name, docs, variants))
            }
            TypeKind::Enum { variants } => {
                Item::DataEnum(self.data_enum(def, &name, docs, variants))
            }
            TypeKind::Error { fields } => Item::Error(self.error(def, &name, docs, fields)),
        }
    }

    /// Records the codec constant of one of the module's own types.
    fn named_constant(&mut self, def: &TypeDef, value: String) {
        let name = self.types.codec(&Type::Named(rpcgen_idl::ir::TypeName {
            package: self.package.name.clone(),
            name: def.name.clone(),
        }));
        self.named_constants.push(Constant { name, value });
    }

    fn field_view(
        &mut self,
        attribute: &str,
        ty: &Type,
        docs: Vec<Vec<String>>,
        scope: &Scope,
    ) -> FieldView {
        FieldView {
            attribute: attribute.to_string(),
            annotation: self.types.annotation(ty, scope),
            docstring: docstring(&docs, CLASS_BODY),
        }
    }

    /// `fields.put("attribute", codec, self.attribute)`: one field converted by `to_wire`.
    fn put(&mut self, attribute: &str, ty: &Type) -> String {
        let codec = self.types.codec(ty);
        format!(
            "fields.put({}, {codec}, self.{attribute})",
            string_literal(attribute)
        )
    }

    /// `fields.take("wire_name", codec)`: one field read from its wire map.
    fn take(&mut self, wire_name: &str, ty: &Type) -> String {
        format!(
            "fields.take({}, {})",
            string_literal(wire_name),
            self.types.codec(ty)
        )
    }

    /// The writer statement of a `to_wire` that converts fields, labelled with the class name.
    fn writer(&mut self, class: &str) -> String {
        format!(
            "fields = {}.FieldWriter({})",
            self.types.values(),
            string_literal(class)
        )
    }

    fn struct_class(&mut self, name: &str, docs: Vec<Vec<String>>, fields: &[Field]) -> ValueClass {
        let ClassFields { named, scope } = class_fields(fields, VALUE_MEMBERS);
        let fields = named
            .iter()
            .map(|(attribute, field)| {
                self.field_view(attribute, &field.ty, field_docs(field), &scope)
            })
            .collect();
        let entries: Vec<String> = named
            .iter()
            .map(|(attribute, field)| {
                format!(
                    "{}: {}",
                    string_literal(&field.wire_name),
                    self.put(attribute, &field.ty)
                )
            })
            .collect();
        let arguments: Vec<String> = named
            .iter()
            .map(|(attribute, field)| {
                format!("{attribute}={}", self.take(&field.wire_name, &field.ty))
            })
            .collect();
        let reader = format!(
            "{}.FieldReader(wire, {})",
            self.types.values(),
            string_literal(name)
        );
        let dict = self.types.builtin("dict", &scope);
        let str = self.types.builtin("str", &scope);
        let any = self.types.any();
        ValueClass {
            name: name.to_string(),
            docstring: class_docstring(docs),
            fields,
            decorator: self.dataclass(),
            wire_annotation: format!("{dict}[{str}, {any}]"),
            writer: (!named.is_empty()).then(|| self.writer(name)),
            to_wire: bracketed(METHOD_BODY, "{", &entries, "}", Layout::Split),
            from_wire: Some(FromWire {
                staticmethod: self.types.builtin("staticmethod", &scope),
                object: self.types.builtin("object", &scope),
                reader: if named.is_empty() {
                    reader
                } else {
                    format!("fields = {reader}")
                },
                constructor: bracketed(
                    METHOD_BODY,
                    &format!("{name}("),
                    &arguments,
                    ")",
                    Layout::Split,
                ),
            }),
        }
    }

    fn dataclass(&mut self) -> &'static str {
        self.types.imports.dataclass = true;
        DATACLASS
    }

    fn unit_enum(
        &mut self,
        name: &str,
        docs: Vec<Vec<String>>,
        variants: &[Variant],
    ) -> UnitEnumView {
        let members: Vec<MemberView> = variants
            .iter()
            .map(|variant| MemberView {
                name: member_name(NameKind::Variant, &variant.name, &[]),
                value: string_literal(&variant.wire_name),
                docstring: docstring(&variant_docs(variant), CLASS_BODY),
            })
            .collect();
        self.types.imports.enumeration = true;
        UnitEnumView {
            name: name.to_string(),
            base: ENUM,
            docstring: class_docstring(docs),
            members,
        }
    }

    fn data_enum(
        &mut self,
        def: &TypeDef,
        name: &str,
        docs: Vec<Vec<String>>,
        variants: &[Variant],
    ) -> DataEnumView {
        let classes: Vec<String> = variants
            .iter()
            .map(|variant| names::variant_class_name(&def.name, &variant.name))
            .collect();
        let decoder = names::variant_decoder_name(&def.name);
        let variant_classes = match classes.as_slice() {
            [only] => format!("({only},)"),
            _ => format!("({})", classes.join(", ")),
        };
        let value = format!(
            "{}.named({}, {variant_classes}, {decoder})",
            self.types.values(),
            string_literal(name)
        );
        self.named_constant(def, value);
        let mut views = Vec::with_capacity(variants.len());
        let mut cases = Vec::with_capacity(variants.len());
        for (variant, class) in variants.iter().zip(&classes) {
            let (view, statements) = self.variant(name, class, variant);
            views.push(view);
            cases.push(CaseView {
                wire_name: string_literal(&variant.wire_name),
                statements,
            });
        }
        self.types.imports.union = true;
        let object = self.types.builtin("object", &Scope::default());
        let mut decoder_docs = vec![format!(
            "Reads a ``{name}`` from its wire form (ProtocolError if it does not match)."
        )];
        decoder_docs.push(String::new());
        decoder_docs.push(format!(
            "The variants: {}.",
            classes
                .iter()
                .map(|class| format!("``{class}``"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        DataEnumView {
            variants: views,
            alias: name.to_string(),
            union: bracketed(0, &format!("{UNION}["), &classes, "]", Layout::Fit),
            docstring: docstring(&docs, 0).expect("type docs always have a line"),
            decoder_def: bracketed(
                0,
                &format!("def {decoder}("),
                &[format!("wire: {object}")],
                &format!(") -> {name}:"),
                Layout::Fit,
            ),
            decoder,
            decoder_docstring: docstring(&[decoder_docs], INDENT)
                .expect("the decoder docs have lines"),
            reader: format!(
                "variant = {}.VariantReader(wire, {})",
                self.types.values(),
                string_literal(name)
            ),
            cases,
        }
    }

    /// The class of one variant, and the statements that read it in the enum's decoding function.
    fn variant(
        &mut self,
        enum_name: &str,
        class: &str,
        variant: &Variant,
    ) -> (ValueClass, Vec<String>) {
        let wire = string_literal(&variant.wire_name);
        let docs = {
            let mut docs = variant_docs(variant);
            if docs.iter().all(Vec::is_empty) {
                docs = vec![vec![format!(
                    "The variant ``{}`` of ``{enum_name}``.",
                    variant.name
                )]];
            }
            docs
        };
        let construct = |arguments: &[String]| {
            bracketed(
                METHOD_BODY,
                &format!("return {class}("),
                arguments,
                ")",
                Layout::Fit,
            )
        };
        let any = self.types.any().to_string();
        let mut view = ValueClass {
            name: class.to_string(),
            docstring: class_docstring(docs),
            fields: Vec::new(),
            decorator: self.dataclass(),
            wire_annotation: any,
            writer: None,
            to_wire: wire.clone(),
            from_wire: None,
        };
        let statements = match &variant.data {
            VariantData::Unit => vec!["variant.unit()".to_string(), format!("return {class}()")],
            VariantData::Tuple { items } => {
                let attributes: Vec<String> = if items.len() == 1 {
                    vec!["value".to_string()]
                } else {
                    (0..items.len())
                        .map(|index| format!("value{index}"))
                        .collect()
                };
                let scope = Scope::class(
                    attributes
                        .iter()
                        .map(String::as_str)
                        .chain(VALUE_MEMBERS.iter().copied()),
                );
                view.fields = attributes
                    .iter()
                    .zip(items)
                    .map(|(attribute, ty)| self.field_view(attribute, ty, Vec::new(), &scope))
                    .collect();
                let puts: Vec<String> = attributes
                    .iter()
                    .zip(items)
                    .map(|(attribute, ty)| self.put(attribute, ty))
                    .collect();
                let payload = if items.len() == 1 {
                    puts[0].clone()
                } else {
                    bracketed(METHOD_BODY + INDENT, "[", &puts, "]", Layout::Split)
                };
                view.to_wire = bracketed(
                    METHOD_BODY,
                    "{",
                    &[format!("{wire}: {payload}")],
                    "}",
                    Layout::Fit,
                );
                view.writer = Some(self.writer(class));
                let count = items.len();
                let arguments: Vec<String> = attributes
                    .iter()
                    .zip(items)
                    .enumerate()
                    .map(|(index, (attribute, ty))| {
                        let codec = self.types.codec(ty);
                        if count == 1 {
                            format!("{attribute}=variant.value({codec})")
                        } else {
                            format!("{attribute}=variant.item({index}, {count}, {codec})")
                        }
                    })
                    .collect();
                vec![construct(&arguments)]
            }
            VariantData::Struct { fields } => {
                let ClassFields { named, scope } = class_fields(fields, VALUE_MEMBERS);
                view.fields = named
                    .iter()
                    .map(|(attribute, field)| {
                        self.field_view(attribute, &field.ty, field_docs(field), &scope)
                    })
                    .collect();
                let entries: Vec<String> = named
                    .iter()
                    .map(|(attribute, field)| {
                        format!(
                            "{}: {}",
                            string_literal(&field.wire_name),
                            self.put(attribute, &field.ty)
                        )
                    })
                    .collect();
                let payload = bracketed(METHOD_BODY + INDENT, "{", &entries, "}", Layout::Split);
                view.to_wire = bracketed(
                    METHOD_BODY,
                    "{",
                    &[format!("{wire}: {payload}")],
                    "}",
                    Layout::Fit,
                );
                view.writer = (!named.is_empty()).then(|| self.writer(class));
                let arguments: Vec<String> = named
                    .iter()
                    .map(|(attribute, field)| {
                        format!("{attribute}={}", self.take(&field.wire_name, &field.ty))
                    })
                    .collect();
                if named.is_empty() {
                    vec!["variant.fields()".to_string(), format!("return {class}()")]
                } else {
                    vec![
                        "fields = variant.fields()".to_string(),
                        construct(&arguments),
                    ]
                }
            }
        };
        (view, statements)
    }

    fn error(
        &mut self,
        def: &TypeDef,
        name: &str,
        docs: Vec<Vec<String>>,
        fields: &[Field],
    ) -> ErrorView {
        let ClassFields { named, scope } = class_fields(fields, ERROR_MEMBERS);
        let views: Vec<FieldView> = named
            .iter()
            .map(|(attribute, field)| {
                self.field_view(attribute, &field.ty, field_docs(field), &scope)
            })
            .collect();
        let str = self.types.builtin("str", &scope);
        let mut parameters = vec!["self".to_string()];
        parameters.extend(
            views
                .iter()
                .map(|view| format!("{}: {}", view.attribute, view.annotation)),
        );
        parameters.push("*".to_string());
        parameters.push(format!("message: {str} = \"\""));
        parameters.push(format!("traceback: {str} | None = None"));
        let mut arguments: Vec<String> = named
            .iter()
            .map(|(attribute, field)| {
                format!("{attribute}={}", self.take(&field.wire_name, &field.ty))
            })
            .collect();
        arguments.push("message=error.message".to_string());
        arguments.push("traceback=error.traceback".to_string());
        let reader = format!(
            "{}.error_fields(error, {})",
            self.types.values(),
            string_literal(&def.name)
        );
        self.types.runtime();
        ErrorView {
            name: name.to_string(),
            docstring: class_docstring(docs),
            fields: views,
            init_def: bracketed(
                CLASS_BODY,
                "def __init__(",
                &parameters,
                ") -> None:",
                Layout::Fit,
            ),
            wire_name: string_literal(&def.name),
            staticmethod: self.types.builtin("staticmethod", &scope),
            reader: if named.is_empty() {
                reader
            } else {
                format!("fields = {reader}")
            },
            constructor: bracketed(
                METHOD_BODY,
                &format!("{name}("),
                &arguments,
                ")",
                Layout::Split,
            ),
        }
    }

    fn client(&mut self, service: &Service) -> ClientView {
        let service_name = names::type_name(&service.name);
        let python_names: Vec<String> = service
            .methods
            .iter()
            .map(|method| member_name(NameKind::Method, &method.name, CLIENT_MEMBERS))
            .collect();
        let scope = Scope::class(
            python_names
                .iter()
                .map(String::as_str)
                .chain(CLIENT_MEMBERS.iter().copied()),
        );
        let methods = service
            .methods
            .iter()
            .zip(&python_names)
            .map(|(method, python)| self.method(&service_name, method, python, &scope))
            .collect();
        let str = self.types.builtin("str", &scope);
        let float = self.types.builtin("float", &scope);
        let parameters = [
            "self".to_string(),
            format!("endpoint: {str}"),
            "*".to_string(),
            format!("heartbeat: {float} | None = 5.0"),
            format!("timeout: {float} = 30.0"),
        ];
        let name = names::client_name(&service.name);
        let async_name = names::async_client_name(&service.name);
        let usage = |kind: &str, opening: String| {
            vec![
                format!("{kind}:"),
                String::new(),
                format!("    {opening}(\"tcp://127.0.0.1:4242\") as client:"),
                "        ...".to_string(),
                String::new(),
                "``heartbeat`` (seconds, ``None`` for none) must match the server's; ``timeout`` is"
                    .to_string(),
                "the default limit in seconds for each wait of a call. See rpcgen_runtime for more."
                    .to_string(),
            ]
        };
        let service_docs = |usage: Vec<String>| {
            let summary = if service.docs.is_empty() {
                vec![format!("The ``{}`` service.", service.name)]
            } else {
                service.docs.clone()
            };
            let mut paragraphs = vec![summary];
            if let Some(reason) = &service.deprecated {
                paragraphs.push(vec![deprecated_note(reason)]);
            }
            paragraphs.push(usage);
            class_docstring(paragraphs)
        };
        self.types.runtime();
        ClientView {
            docstring: service_docs(usage(
                "A blocking client, safe to share between threads",
                format!("with {name}"),
            )),
            async_docstring: service_docs(usage(
                "An asyncio client (many concurrent calls share its connection)",
                format!("async with {async_name}"),
            )),
            name,
            async_name,
            init_def: bracketed(
                CLASS_BODY,
                "def __init__(",
                &parameters,
                ") -> None:",
                Layout::Fit,
            ),
            deprecation: service.deprecated.as_ref().map(|reason| {
                self.types.values();
                string_literal(&deprecation_message(
                    &format!("the service {}", service.name),
                    reason,
                ))
            }),
            property: self.types.builtin("property", &scope),
            str,
            object: self.types.builtin("object", &scope),
            methods,
        }
    }

    fn method(
        &mut self,
        service_name: &str,
        method: &Method,
        python: &str,
        scope: &Scope,
    ) -> MethodView {
        let label = format!("{service_name}.{python}");
        let param_names: Vec<String> = method
            .params
            .iter()
            .map(|param| member_name(NameKind::Param, &param.name, PARAM_NAMES))
            .collect();
        let mut parameters = vec!["self".to_string()];
        for (param, python) in method.params.iter().zip(&param_names) {
            parameters.push(format!(
                "{python}: {}",
                self.types.annotation(&param.ty, scope)
            ));
        }
        parameters.push("*".to_string());
        let float = self.types.builtin("float", scope);
        parameters.push(format!("timeout: {float} | None = None"));

        let values = self.types.values();
        let (result_codec, sync_return, async_return) = match &method.returns {
            Returns::Unit => (
                format!("{values}.NIL"),
                "None".to_string(),
                "None".to_string(),
            ),
            Returns::Value(ty) => {
                let annotation = self.types.annotation(ty, scope);
                (self.types.codec(ty), annotation.clone(), annotation)
            }
            Returns::Stream(ty) => {
                let item = self.types.annotation(ty, scope);
                (
                    self.types.codec(ty),
                    format!("{values}.ItemStream[{item}]"),
                    format!("{values}.AsyncItemStream[{item}]"),
                )
            }
        };
        let constant =
            self.method_constant(service_name, method, &label, &param_names, result_codec);
        let streaming = matches!(method.returns, Returns::Stream(_));
        let arguments = match param_names.len() {
            0 => "()".to_string(),
            1 => format!("({},)", param_names[0]),
            _ => format!("({})", param_names.join(", ")),
        };
        let returns = if matches!(method.returns, Returns::Unit) {
            ""
        } else {
            "return "
        };
        let (sync_call, async_call) = if streaming {
            (
                format!("return {constant}.stream(self._client, {arguments}, timeout)"),
                format!("return {constant}.stream_async(self._client, {arguments}, timeout)"),
            )
        } else {
            (
                format!("{returns}{constant}.call(self._client, {arguments}, timeout)"),
                format!("{returns}await {constant}.call_async(self._client, {arguments}, timeout)"),
            )
        };
        let async_keyword = if streaming { "" } else { "async " };
        MethodView {
            sync_def: bracketed(
                CLASS_BODY,
                &format!("def {python}("),
                &parameters,
                &format!(") -> {sync_return}:"),
                Layout::Fit,
            ),
            async_def: bracketed(
                CLASS_BODY,
                &format!("{async_keyword}def {python}("),
                &parameters,
                &format!(") -> {async_return}:"),
                Layout::Fit,
            ),
            docstring: self.method_docstring(method, &param_names),
            deprecation: method
                .deprecated
                .as_ref()
                .map(|reason| string_literal(&deprecation_message(&format!("{label}()"), reason))),
            sync_call,
            async_call,
        }
    }

    fn method_constant(
        &mut self,
        service_name: &str,
        method: &Method,
        label: &str,
        param_names: &[String],
        result_codec: String,
    ) -> String {
        let params: Vec<String> = method
            .params
            .iter()
            .zip(param_names)
            .map(|(param, python)| {
                format!(
                    "({}, {})",
                    string_literal(python),
                    self.types.codec(&param.ty)
                )
            })
            .collect();
        let mut arguments = vec![
            string_literal(label),
            string_literal(&method.wire_name),
            bracketed(INDENT, "[", &params, "]", Layout::Fit),
            result_codec,
        ];
        if !method.throws.is_empty() {
            let errors: Vec<String> = method
                .throws
                .iter()
                .map(|error| {
                    let class = self.types.type_reference(error);
                    format!("{}: {class}.from_remote", string_literal(&error.name))
                })
                .collect();
            arguments.push(bracketed(INDENT, "errors={", &errors, "}", Layout::Fit));
        }
        if let Some(milliseconds) = method.timeout_ms {
            arguments.push(format!(
                "default_timeout={:?}",
                milliseconds as f64 / 1000.0
            ));
        }
        let name = self.types.private.claim(&format!(
            "{}_{}",
            names::upper_snake(service_name),
            names::upper_snake(&method.name)
        ));
        let values = self.types.values();
        self.method_constants.push(Constant {
            name: name.clone(),
            value: bracketed(
                0,
                &format!("{values}.Method("),
                &arguments,
                ")",
                Layout::Split,
            ),
        });
        name
    }

    fn method_docstring(&self, method: &Method, param_names: &[String]) -> String {
        let mut paragraphs = vec![if method.docs.is_empty() {
            vec![format!("Calls ``{}`` on the server.", method.wire_name)]
        } else {
            method.docs.clone()
        }];
        if let Some(reason) = &method.deprecated {
            paragraphs.push(vec![deprecated_note(reason)]);
        }
        let documented: Vec<String> = method
            .params
            .iter()
            .zip(param_names)
            .filter(|(param, _)| !param.docs.is_empty())
            .map(|(param, python)| format!("    {python}: {}", param.docs.join(" ")))
            .collect();
        if !documented.is_empty() {
            paragraphs.push(
                std::iter::once("Args:".to_string())
                    .chain(documented)
                    .collect(),
            );
        }
        if let Some(milliseconds) = method.timeout_ms {
            paragraphs.push(vec![format!(
                "Waits at most {} s unless ``timeout`` says otherwise (``@timeout``).",
                seconds(milliseconds)
            )]);
        }
        if !method.throws.is_empty() {
            let mut raises = vec!["Raises:".to_string()];
            for error in &method.throws {
                let class = shown_name(&self.package.name, error);
                let def = self.types.type_def(error);
                let summary = def
                    .docs
                    .first()
                    .cloned()
                    .unwrap_or_else(|| format!("the server raised ``{}``.", error.name));
                raises.push(format!("    {class}: {summary}"));
            }
            paragraphs.push(raises);
        }
        docstring(&paragraphs, METHOD_BODY).expect("a method docstring has a line")
    }
}

/// The fields of a generated class under their Python names, and the scope of the class.
struct ClassFields<'f> {
    named: Vec<(String, &'f Field)>,
    scope: Scope,
}

/// The Python names of `fields` (escaped when `taken` or keywords), and the scope of the class that
/// holds them besides `taken`.
fn class_fields<'f>(fields: &'f [Field], taken: &[&str]) -> ClassFields<'f> {
    let named: Vec<(String, &Field)> = fields
        .iter()
        .map(|field| (member_name(NameKind::Field, &field.name, taken), field))
        .collect();
    let scope = Scope::class(
        named
            .iter()
            .map(|(python, _)| python.as_str())
            .chain(taken.iter().copied()),
    );
    ClassFields { named, scope }
}

fn is_unit(variant: &Variant) -> bool {
    matches!(variant.data, VariantData::Unit)
}

/// The docstring paragraphs of a type: its docs (or a line naming it) and its deprecation.
fn type_docs(def: &TypeDef, name: &str) -> Vec<Vec<String>> {
    let docs = if def.docs.is_empty() {
        let kind = match def.kind {
            TypeKind::Struct { .. } => "struct",
            TypeKind::Enum { .. } => "enum",
            TypeKind::Error { .. } => "error",
        };
        vec![format!("The {kind} ``{name}``.")]
    } else {
        def.docs.clone()
    };
    with_deprecation(docs, def.deprecated.as_deref())
}

fn field_docs(field: &Field) -> Vec<Vec<String>> {
    with_deprecation(field.docs.clone(), field.deprecated.as_deref())
}

fn variant_docs(variant: &Variant) -> Vec<Vec<String>> {
    with_deprecation(variant.docs.clone(), variant.deprecated.as_deref())
}

fn with_deprecation(docs: Vec<String>, deprecated: Option<&str>) -> Vec<Vec<String>> {
    let mut paragraphs = vec![docs];
    if let Some(reason) = deprecated {
        paragraphs.push(vec![deprecated_note(reason)]);
    }
    paragraphs
}

fn class_docstring(paragraphs: Vec<Vec<String>>) -> String {
    docstring(&paragraphs, CLASS_BODY).expect("class docs always have a line")
}

/// How docs name a user type: `Ticket` in its own module, `common.Money` in another.
fn shown_name(package: &str, name: &rpcgen_idl::ir::TypeName) -> String {
    let class = names::type_name(&name.name);
    if name.package == package {
        class
    } else {
        format!("{}.{class}", name.package)
    }
}

/// `Deprecated: <reason>.` for docstrings.
fn deprecated_note(reason: &str) -> String {
    if reason.is_empty() {
        "Deprecated.".to_string()
    } else if reason.ends_with(['.', '!', '?']) {
        format!("Deprecated: {reason}")
    } else {
        format!("Deprecated: {reason}.")
    }
}

/// The text of a DeprecationWarning: `Tickets.first() is deprecated: use list`.
fn deprecation_message(what: &str, reason: &str) -> String {
    if reason.is_empty() {
        format!("{what} is deprecated")
    } else {
        format!("{what} is deprecated: {reason}")
    }
}

/// Milliseconds as seconds for a reader: `30`, `0.25`.
fn seconds(milliseconds: u64) -> String {
    let text = format!("{:?}", milliseconds as f64 / 1000.0);
    text.strip_suffix(".0").map_or(text.clone(), str::to_string)
}
