//! Prints a generated module: `prettyplease` lays out each item, and this module adds what a
//! person would (a blank line between items and between the members of a trait or an impl) and
//! wraps the items in `pub mod <package> { … }`.

use proc_macro2::TokenStream;

/// The text of `pub mod <name> { … }` with its doc lines, from the module's inner attributes and
/// items. `imports` are the sibling modules (imported packages) the items name, in the order
/// rustfmt keeps: each gets a `use super::<import>;` whose comment says which `include_rpc!` it
/// needs, as rustc shows that line when the sibling is missing.
pub(super) fn module(
    name: &str,
    doc_lines: &[String],
    imports: &[&str],
    body: TokenStream,
) -> String {
    let file: syn::File = syn::parse2(body).expect("the Rust backend generates valid Rust");
    let mut blocks = Vec::new();
    if !file.attrs.is_empty() {
        blocks.push(unparse(file.attrs, Vec::new()));
    }
    if !imports.is_empty() {
        let uses: Vec<String> = imports
            .iter()
            .map(|import| {
                format!("use super::{import}; // needs rpcgen_runtime::include_rpc!(\"{import}\") too\n")
            })
            .collect();
        blocks.push(uses.concat());
    }
    for item in file.items {
        blocks.push(space_members(&unparse(Vec::new(), vec![item])));
    }
    let mut text = String::new();
    for line in doc_lines {
        if line.is_empty() {
            text.push_str("///\n");
        } else {
            text.push_str(&format!("/// {line}\n"));
        }
    }
    text.push_str(&format!("pub mod {name} {{\n"));
    for (index, block) in blocks.iter().enumerate() {
        if index > 0 {
            text.push('\n');
        }
        for line in block.lines() {
            if !line.is_empty() {
                text.push_str("    ");
                text.push_str(line);
            }
            text.push('\n');
        }
    }
    text.push_str("}\n");
    text
}

/// Prints inner attributes and items as prettyplease lays them out.
fn unparse(attrs: Vec<syn::Attribute>, items: Vec<syn::Item>) -> String {
    prettyplease::unparse(&syn::File {
        shebang: None,
        frontmatter: None,
        attrs,
        items,
    })
}

/// Puts a blank line between the members of a trait or an impl printed at the top level (members
/// are indented by four spaces): before a member that follows the end of another (`;` or `}`).
fn space_members(item: &str) -> String {
    let mut spaced = String::with_capacity(item.len() + 64);
    let mut previous: Option<&str> = None;
    for line in item.lines() {
        if previous.is_some_and(ends_a_member) && starts_a_member(line) {
            spaced.push('\n');
        }
        spaced.push_str(line);
        spaced.push('\n');
        previous = Some(line);
    }
    spaced
}

fn member_line(line: &str) -> Option<&str> {
    let content = line.strip_prefix("    ")?;
    (!content.starts_with(' ')).then_some(content)
}

fn starts_a_member(line: &str) -> bool {
    member_line(line).is_some_and(|content| {
        ["///", "#[", "fn ", "pub ", "const ", "async "]
            .iter()
            .any(|start| content.starts_with(start))
    })
}

fn ends_a_member(line: &str) -> bool {
    member_line(line).is_some_and(|content| {
        !content.starts_with("//")
            && !content.starts_with("#[")
            && (content == "}" || content.ends_with(';'))
    })
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::*;

    #[test]
    fn items_and_members_are_separated_by_blank_lines() {
        let body = quote! {
            #![allow(deprecated)]
            /// A.
            pub struct A { pub x: u8, pub y: u8 }
            impl A {
                /// One.
                pub fn one(&self) -> u8 { self.x }
                pub fn two(&self) -> u8 { self.y }
            }
            pub trait T { fn a(&self); fn b(&self); }
        };
        let docs = ["The demo.".to_string(), String::new(), "More.".to_string()];
        assert_eq!(
            module("demo", &docs, &["geo"], body),
            "/// The demo.\n///\n/// More.\npub mod demo {\n    #![allow(deprecated)]\n\n    \
             use super::geo; // needs rpcgen_runtime::include_rpc!(\"geo\") too\n\n    \
             /// A.\n    pub struct A {\n        pub x: u8,\n        pub y: u8,\n    }\n\n    \
             impl A {\n        /// One.\n        pub fn one(&self) -> u8 {\n            self.x\n        \
             }\n\n        pub fn two(&self) -> u8 {\n            self.y\n        }\n    }\n\n    \
             pub trait T {\n        fn a(&self);\n\n        fn b(&self);\n    }\n}\n"
        );
    }
}
