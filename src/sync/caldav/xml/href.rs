//! Hrefs from replies, resolved and normalised so two spellings of one resource compare equal.

use reqwest::Url;

/// Resolves an href from a response against the URL it answered (absolute path or full URL), and
/// normalises percent-encoding (decode unreserved chars, uppercase hex, collapse nothing else) so two
/// spellings of one resource compare equal. Returns None when it cannot be resolved.
///
/// Only `http` and `https` results are returned, and the fragment is dropped (it never names a
/// different resource). The result may be on another origin than `base`: checking that before
/// sending credentials is the caller's job.
pub fn normalise_href(base: &Url, href: &str) -> Option<Url> {
    let href = href.trim();
    if href.is_empty() {
        // `join("")` would answer the base itself, which is not what an empty href means.
        return None;
    }
    let mut url = base.join(href).ok()?;
    if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
        return None;
    }
    url.set_fragment(None);
    // The URL parser already removed dot segments, escaped ones included (`%2e%2e` is `..` to the
    // WHATWG URL standard), so decoding cannot create a new one here.
    let path = normalise_percent(url.path(), true);
    url.set_path(&path);
    if let Some(query) = url.query() {
        let query = normalise_percent(query, true);
        url.set_query(Some(&query));
    }
    Some(url)
}

/// Uppercases the hex of every `%XX` escape and, when `decode` is set, decodes those that stand for
/// unreserved characters (RFC 3986 section 2.3). The input is a serialised `Url`, hence ASCII.
fn normalise_percent(s: &str, decode: bool) -> String {
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%'
            && let Some(hex) = bytes.get(i + 1..i + 3)
            // Checked by hand: `from_str_radix` would also accept a sign such as `%+1`.
            && hex.iter().all(u8::is_ascii_hexdigit)
            && let Ok(hex) = std::str::from_utf8(hex)
            && let Ok(v) = u8::from_str_radix(hex, 16)
        {
            let unreserved = v.is_ascii_alphanumeric() || matches!(v, b'-' | b'.' | b'_' | b'~');
            if decode && unreserved {
                out.push(char::from(v));
            } else {
                out.push('%');
                out.push_str(&hex.to_ascii_uppercase());
            }
            i += 3;
        } else {
            out.push(char::from(b));
            i += 1;
        }
    }
    out
}
