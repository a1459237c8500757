//! The two base64 alphabets (standard `+/`, URL-safe `-_`) in one run: a run that mixes them
//! decodes in neither as a whole, yet a decoder of either alphabet reads its pieces. The scan
//! ([`crate::decode`]) and the noise rule ([`crate::noise`]) both read those pieces, so a code
//! glued to the other alphabet's characters is still found.

/// The maximal pieces of `run` in one base64 alphabet (split at the other alphabet's `-`/`_`
/// or `+`/`/`), at least 8 characters long; none unless `run` mixes both alphabets (a run in
/// one alphabet is decoded whole). Each piece is in one alphabet, so it has no pieces itself.
pub fn single_alphabet_pieces(run: &[u8]) -> Vec<&[u8]> {
    let standard = |b: &u8| matches!(b, b'+' | b'/');
    let url = |b: &u8| matches!(b, b'-' | b'_');
    if !(run.iter().any(standard) && run.iter().any(url)) {
        return Vec::new();
    }
    let long = |p: &&[u8]| p.len() >= 8;
    let in_standard = run.split(url).filter(long);
    let in_url = run.split(standard).filter(long);
    in_standard.chain(in_url).collect()
}
