//! Small helpers for the wording of diagnostics: "did you mean …?" and lists of words.

/// The candidate closest to `word`, if one is close enough to be a likely typo: the same name in
/// another case, or one within a small edit distance (a third of the word's length, at least 1).
pub(crate) fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let candidates: Vec<&str> = candidates
        .into_iter()
        .filter(|candidate| *candidate != word)
        .collect();
    if let Some(same) = candidates
        .iter()
        .find(|candidate| candidate.eq_ignore_ascii_case(word))
    {
        return Some(same);
    }
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|candidate| (strsim::damerau_levenshtein(word, candidate), candidate))
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, candidate)| (*distance, *candidate))
        .map(|(_, candidate)| candidate)
}

/// Joins words as prose: `a`, `a or b`, `a, b or c` (with "or" or "and" as the conjunction).
pub(crate) fn list_words(words: &[&str], conjunction: &str) -> String {
    match words {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} {conjunction} {last}", init.join(", ")),
    }
}

/// Type names from other languages that people write by habit, with how the IDL writes them.
const FOREIGN_TYPES: &[(&str, &str)] = &[
    ("int", "`i32` or `i64`"),
    ("integer", "`i32` or `i64`"),
    ("long", "`i64`"),
    ("short", "`i16`"),
    ("byte", "`u8`"),
    ("int8", "`i8`"),
    ("int16", "`i16`"),
    ("int32", "`i32`"),
    ("int64", "`i64`"),
    ("uint", "`u32` or `u64`"),
    ("uint8", "`u8`"),
    ("uint16", "`u16`"),
    ("uint32", "`u32`"),
    ("uint64", "`u64`"),
    ("usize", "`u64`"),
    ("isize", "`i64`"),
    ("float", "`f32` or `f64`"),
    ("double", "`f64`"),
    ("number", "`f64`, or an integer type such as `i64`"),
    ("boolean", "`bool`"),
    ("str", "`string`"),
    ("String", "`string`"),
    ("text", "`string`"),
    ("object", "a `struct` you declare, or `any`"),
    ("Object", "a `struct` you declare, or `any`"),
    ("bytearray", "`bytes`"),
    ("Buffer", "`bytes`"),
    ("Uint8Array", "`bytes`"),
    ("Vec", "`list<T>`"),
    ("List", "`list<T>`"),
    ("Array", "`list<T>`"),
    ("Option", "`T?`"),
    ("Optional", "`T?`"),
    ("HashMap", "`map<string, V>`"),
    ("Map", "`map<string, V>`"),
    ("dict", "`map<string, V>`"),
    ("Dict", "`map<string, V>`"),
];

/// How the IDL writes a type name of another language (`int` → "`i32` or `i64`").
pub(crate) fn foreign_type(name: &str) -> Option<&'static str> {
    FOREIGN_TYPES
        .iter()
        .find(|(foreign, _)| *foreign == name)
        .map(|(_, idl)| *idl)
}

/// How the IDL writes a generic type of another language, given its written type arguments:
/// `Option<u64>` → `u64?`, `Vec<u8>` → `bytes`, `Vec<T>` → `list<T>`, `HashMap<K, V>` →
/// `map<K, V>`.
pub(crate) fn foreign_generic(name: &str, arguments: &str) -> Option<String> {
    match foreign_type(name)? {
        "`T?`" => Some(format!("`{arguments}?`")),
        "`list<T>`" if arguments == "u8" => Some("`bytes`".to_string()),
        "`list<T>`" => Some(format!("`list<{arguments}>`")),
        "`map<string, V>`" => Some(format!("`map<{arguments}>`")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_read_as_prose() {
        assert_eq!(list_words(&[], "or"), "");
        assert_eq!(list_words(&["`;`"], "or"), "`;`");
        assert_eq!(list_words(&["a", "b"], "and"), "a and b");
        assert_eq!(list_words(&["a", "b", "c"], "or"), "a, b or c");
    }

    #[test]
    fn foreign_types_have_an_idl_spelling() {
        assert_eq!(foreign_type("int"), Some("`i32` or `i64`"));
        assert_eq!(foreign_type("Ticket"), None);
        assert_eq!(foreign_generic("Option", "u64"), Some("`u64?`".into()));
        assert_eq!(foreign_generic("Vec", "u8"), Some("`bytes`".into()));
        assert_eq!(
            foreign_generic("Vec", "Ticket"),
            Some("`list<Ticket>`".into())
        );
        assert_eq!(
            foreign_generic("HashMap", "string, u64"),
            Some("`map<string, u64>`".into())
        );
        assert_eq!(foreign_generic("int", "u8"), None);
    }

    #[test]
    fn suggests_close_names_only() {
        let names = ["Ticket", "Priority", "string"];
        assert_eq!(did_you_mean("Tiket", names), Some("Ticket"));
        assert_eq!(did_you_mean("ticket", names), Some("Ticket"));
        assert_eq!(did_you_mean("strign", names), Some("string"));
        assert_eq!(did_you_mean("Order", names), None);
        assert_eq!(did_you_mean("Ticket", names), None);
    }
}
