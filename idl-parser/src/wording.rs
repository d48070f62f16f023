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
    fn suggests_close_names_only() {
        let names = ["Ticket", "Priority", "string"];
        assert_eq!(did_you_mean("Tiket", names), Some("Ticket"));
        assert_eq!(did_you_mean("ticket", names), Some("Ticket"));
        assert_eq!(did_you_mean("strign", names), Some("string"));
        assert_eq!(did_you_mean("Order", names), None);
        assert_eq!(did_you_mean("Ticket", names), None);
    }
}
