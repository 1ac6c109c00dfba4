//! Turning invite bodies into plain text the join patterns can read: HTML to text (tags stripped, entities
//! decoded, `href` targets kept), e-mail quote markers removed, and wrapped links (Outlook Safe Links, Google
//! redirects) unwrapped to their target.

/// HTML → (text, link targets). Block elements become line breaks; `<style>`, `<script>` and `<head>` content is
/// dropped; `&…;` entities are decoded. Not a full HTML parser: enough for mail bodies, and linear in the input.
pub fn html_to_text(html: &str) -> (String, Vec<String>) {
    let mut text = String::with_capacity(html.len() / 2);
    let mut hrefs = Vec::new();
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        text.push_str(&decode_entities(&rest[..lt]));
        let after = &rest[lt + 1..];
        if let Some(comment) = after.strip_prefix("!--") {
            rest = comment.find("-->").map_or("", |end| &comment[end + 3..]);
            continue;
        }
        let Some(gt) = after.find('>') else {
            rest = "";
            break;
        };
        let tag = &after[..gt];
        rest = &after[gt + 1..];
        let name: String = tag.trim_start_matches('/').chars().take_while(|c| c.is_ascii_alphanumeric()).collect::<String>().to_ascii_lowercase();
        if matches!(name.as_str(), "style" | "script" | "head" | "title") && !tag.starts_with('/') {
            let close = format!("</{name}");
            rest = find_ignore_case(rest, &close).map_or("", |i| &rest[i..]);
            continue;
        }
        if name == "a" {
            if let Some(href) = attribute(tag, "href") {
                hrefs.push(decode_entities(&href));
            }
        }
        if matches!(name.as_str(), "br" | "p" | "div" | "tr" | "li" | "table" | "h1" | "h2" | "h3" | "h4") {
            text.push('\n');
        } else if matches!(name.as_str(), "td" | "span" | "a") && tag.starts_with('/') {
            text.push(' ');
        }
    }
    text.push_str(&decode_entities(rest));
    (text, hrefs)
}

fn find_ignore_case(haystack: &str, needle: &str) -> Option<usize> {
    haystack.to_ascii_lowercase().find(needle)
}

/// Value of attribute `name` in a tag body (`a href="…" class=x`).
fn attribute(tag: &str, name: &str) -> Option<String> {
    let lower = tag.to_ascii_lowercase();
    let mut from = 0;
    while let Some(pos) = lower.get(from..)?.find(name) {
        let at = from + pos;
        from = at + name.len();
        let before_ok = at == 0 || lower.as_bytes().get(at - 1).is_some_and(|b| b.is_ascii_whitespace());
        let after = tag.get(from..)?.trim_start();
        let Some(value) = after.strip_prefix('=').map(str::trim_start) else { continue };
        if !before_ok {
            continue;
        }
        return Some(match value.chars().next() {
            Some(q @ ('"' | '\'')) => value[1..].split(q).next().unwrap_or_default().to_owned(),
            _ => value.split(|c: char| c.is_whitespace() || c == '>').next().unwrap_or_default().to_owned(),
        });
    }
    None
}

/// Decodes `&amp;`-style named entities common in mail bodies and numeric `&#NN;` / `&#xHH;` references.
/// Unknown entities are left as written.
pub fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let tail = &rest[amp..];
        let decoded = tail.get(1..tail.find(';').filter(|i| *i <= 10).unwrap_or(0)).and_then(|entity| {
            let c = match entity {
                "amp" => '&',
                "lt" => '<',
                "gt" => '>',
                "quot" => '"',
                "apos" => '\'',
                "nbsp" => ' ',
                "ndash" => '–',
                "mdash" => '—',
                "rsquo" => '’',
                "lsquo" => '‘',
                "hellip" => '…',
                "bull" => '•',
                _ => {
                    let num = entity.strip_prefix('#')?;
                    let code = match num.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                        None => num.parse().ok()?,
                    };
                    char::from_u32(code)?
                }
            };
            Some((c, entity.len() + 2))
        });
        match decoded {
            Some((c, len)) => {
                out.push(if c == '\u{a0}' { ' ' } else { c });
                rest = &tail[len..];
            }
            None => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out.replace('\u{a0}', " ")
}

/// Removes e-mail quote markers (`> `, `>> `, `> > `) at the start of each line, so a forwarded invite reads like
/// the original.
pub fn strip_quote_markers(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let mut l = line;
        loop {
            let trimmed = l.trim_start_matches([' ', '\t']);
            match trimmed.strip_prefix('>') {
                Some(next) => l = next,
                None => break,
            }
        }
        out.push_str(if l.len() == line.len() { line } else { l.strip_prefix(' ').unwrap_or(l) });
    }
    out
}

/// The target of a wrapped link: Outlook Safe Links (`…safelinks.protection.outlook.com/?url=<encoded>&…`) and
/// Google redirects (`https://www.google.com/url?q=<encoded>&…`). Other links are returned unchanged.
pub fn unwrap_link(url: &str) -> String {
    let lower = url.to_ascii_lowercase();
    let key = if lower.contains(".safelinks.protection.outlook.com/") {
        "url"
    } else if lower.starts_with("https://www.google.com/url?") {
        "q"
    } else {
        return url.to_owned();
    };
    query_param(url, key).map_or_else(|| url.to_owned(), |v| percent_decode(&v))
}

/// Raw value of query parameter `key` (not decoded).
pub fn query_param(url: &str, key: &str) -> Option<String> {
    let query = url.split_once('?')?.1.split('#').next()?;
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        k.eq_ignore_ascii_case(key).then(|| v.to_owned())
    })
}

/// `%HH` decoding (and `+` as space, as forms encode it); invalid escapes are kept as written.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok()).and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b, hex) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_body_to_text_and_links() {
        let html = "<html><head><style>p{color:red}</style></head><body><p>Join&nbsp;Zoom&#160;Meeting<br>\
<a href=\"https://us02web.zoom.us/j/85012345678?pwd=abc&amp;x=1\">Click here</a></p><!-- <a href=\"x\"> -->\
<div>Meeting ID: 850&#x20;1234 5678 &lt;ok&gt; &bogus; & done</div></body></html>";
        let (text, hrefs) = html_to_text(html);
        assert_eq!(hrefs, ["https://us02web.zoom.us/j/85012345678?pwd=abc&x=1"]);
        assert!(text.contains("Join Zoom Meeting\n"), "{text}");
        assert!(text.contains("Meeting ID: 850 1234 5678 <ok> &bogus; & done"), "{text}");
        assert!(!text.contains("color"));
    }

    #[test]
    fn unterminated_markup_does_not_hang_or_panic() {
        for html in ["<a href=\"x", "<!-- open", "text <", "&#xFFFFFFFF; &#;", "<style>never closed"] {
            let _ = html_to_text(html);
        }
        assert_eq!(decode_entities("&#xFFFFFFFF;"), "&#xFFFFFFFF;");
    }

    #[test]
    fn quote_markers_are_removed() {
        assert_eq!(strip_quote_markers("> a\n>> b\n> > c\nd >e\n"), "a\nb\nc\nd >e\n");
    }

    #[test]
    fn safe_links_and_google_redirects_unwrap() {
        let safe = "https://nam12.safelinks.protection.outlook.com/?url=https%3A%2F%2Fteams.microsoft.com%2Fl%2Fmeetup-join%2Fx&data=05%7C01";
        assert_eq!(unwrap_link(safe), "https://teams.microsoft.com/l/meetup-join/x");
        let google = "https://www.google.com/url?q=https://acme.webex.com/meet/jdoe&sa=D&ust=1";
        assert_eq!(unwrap_link(google), "https://acme.webex.com/meet/jdoe");
        assert_eq!(unwrap_link("https://zoom.us/j/1"), "https://zoom.us/j/1");
        assert_eq!(percent_decode("%zz%41"), "%zzA");
    }
}
