//! The views of a package's types: dataclasses for structs and for the variants of enums with
//! data, `enum.Enum` classes, the unions and decoding functions of enums with data, and exception
//! classes for errors.

use rpcgen_idl::ir::{Field, Type, TypeDef, TypeKind, Variant, VariantData};
use rpcgen_idl::naming::NameKind;

use super::super::names::{self, member_name, ERROR_MEMBERS, VALUE_MEMBERS};
use super::super::text::{bracketed, docstring, string_literal, Layout, INDENT};
use super::super::types::{Scope, DATACLASS, ENUM, UNION};
use super::{
    class_docstring, init_def, with_deprecation, Item, ModuleBuilder, CLASS_BODY, METHOD_BODY,
};

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

impl ModuleBuilder<'_> {
    /// The view of one of the package's types (and the codec constant of a struct or an enum).
    pub(super) fn item(&mut self, def: &TypeDef) -> Item {
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

    /// The views of a class's fields, under their Python names.
    fn field_views(&mut self, named: &[(String, &Field)], scope: &Scope) -> Vec<FieldView> {
        named
            .iter()
            .map(|(attribute, field)| {
                self.field_view(attribute, &field.ty, field_docs(field), scope)
            })
            .collect()
    }

    /// `"wire_name": fields.put(…)` for each field: the entries of the wire map `to_wire` writes.
    fn wire_entries(&mut self, named: &[(String, &Field)]) -> Vec<String> {
        named
            .iter()
            .map(|(attribute, field)| {
                format!(
                    "{}: {}",
                    string_literal(&field.wire_name),
                    self.put(attribute, &field.ty)
                )
            })
            .collect()
    }

    /// `attribute=fields.take(…)` for each field: the arguments of the constructor call that
    /// rebuilds a class from its wire map.
    fn take_arguments(&mut self, named: &[(String, &Field)]) -> Vec<String> {
        named
            .iter()
            .map(|(attribute, field)| {
                format!("{attribute}={}", self.take(&field.wire_name, &field.ty))
            })
            .collect()
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
        let fields = self.field_views(&named, &scope);
        let entries = self.wire_entries(&named);
        let arguments = self.take_arguments(&named);
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
                reader: reader_statement(reader, &named),
                constructor: constructor_call(name, &arguments),
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
                view.fields = self.field_views(&named, &scope);
                let entries = self.wire_entries(&named);
                let payload = bracketed(METHOD_BODY + INDENT, "{", &entries, "}", Layout::Split);
                view.to_wire = bracketed(
                    METHOD_BODY,
                    "{",
                    &[format!("{wire}: {payload}")],
                    "}",
                    Layout::Fit,
                );
                view.writer = (!named.is_empty()).then(|| self.writer(class));
                let arguments = self.take_arguments(&named);
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
        let views = self.field_views(&named, &scope);
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
        let mut arguments = self.take_arguments(&named);
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
            init_def: init_def(&parameters),
            wire_name: string_literal(&def.name),
            staticmethod: self.types.builtin("staticmethod", &scope),
            reader: reader_statement(reader, &named),
            constructor: constructor_call(name, &arguments),
        }
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

/// The statement creating a field reader: bound to `fields` when the class has fields to take,
/// a bare call (which still checks the wire form) when it has none.
fn reader_statement(reader: String, named: &[(String, &Field)]) -> String {
    if named.is_empty() {
        reader
    } else {
        format!("fields = {reader}")
    }
}

/// `Name(arguments…)`, one argument a line when they do not fit on one: what a `from_wire` or
/// `from_remote` returns.
fn constructor_call(name: &str, arguments: &[String]) -> String {
    bracketed(
        METHOD_BODY,
        &format!("{name}("),
        arguments,
        ")",
        Layout::Split,
    )
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
