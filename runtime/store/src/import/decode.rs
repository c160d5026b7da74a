//! Text encoding detection for CSV files exported from Chinese spreadsheets (UTF-8 or GBK).
//!
//! Excel on Chinese Windows saves "CSV" as GBK; newer tools write UTF-8, often with a BOM. We
//! decide per file by majority of non-ASCII lines, then decode line by line so a stray line in the
//! other encoding is reported as `line N: wrong encoding` instead of corrupting the whole file.

use encoding_rs::GBK;

/// A decoded file: the text (bad lines blanked, line numbers preserved) and the bad line numbers.
pub struct Decoded {
    /// "UTF-8" or "GBK".
    pub encoding: &'static str,
    /// Text with every bad line replaced by an empty line.
    pub text: String,
    /// 1-based numbers of lines that were not valid in the file's encoding.
    pub bad_lines: Vec<usize>,
}

fn gbk_line(line: &[u8]) -> Option<String> {
    let (s, had_errors) = GBK.decode_without_bom_handling(line);
    (!had_errors).then(|| s.into_owned())
}

/// Detect the encoding and decode.
pub fn decode(bytes: &[u8]) -> Decoded {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF".as_slice()).unwrap_or(bytes);
    let lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    let (mut utf8_votes, mut gbk_votes) = (0usize, 0usize);
    for l in &lines {
        if l.is_ascii() {
            continue;
        }
        if std::str::from_utf8(l).is_ok() {
            utf8_votes += 1;
        } else if gbk_line(l).is_some() {
            gbk_votes += 1;
        }
    }
    let gbk = gbk_votes > utf8_votes;
    let mut text = String::with_capacity(bytes.len() + bytes.len() / 2);
    let mut bad_lines = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let l = l.strip_suffix(b"\r").unwrap_or(l);
        let decoded = if l.is_ascii() || !gbk {
            std::str::from_utf8(l).ok().map(str::to_string)
        } else {
            // A UTF-8 line in a GBK file may still "decode" as GBK mojibake; prefer rejecting it.
            if std::str::from_utf8(l).is_ok() { None } else { gbk_line(l) }
        };
        match decoded {
            Some(s) => text.push_str(&s),
            None => bad_lines.push(i + 1),
        }
        if i + 1 < lines.len() {
            text.push('\n');
        }
    }
    Decoded { encoding: if gbk { "GBK" } else { "UTF-8" }, text, bad_lines }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_gbk_and_reports_foreign_lines() {
        let (gbk, _, _) = GBK.encode("name\n张伟\n李娜\n");
        let d = decode(&gbk);
        assert_eq!(d.encoding, "GBK");
        assert_eq!(d.text, "name\n张伟\n李娜\n");
        let mut mixed = b"name\n".to_vec();
        mixed.extend_from_slice("王芳\n".as_bytes());
        mixed.extend_from_slice(&GBK.encode("李娜\n").0);
        mixed.extend_from_slice("赵磊\n".as_bytes());
        let d = decode(&mixed);
        assert_eq!(d.encoding, "UTF-8");
        assert_eq!(d.bad_lines, vec![3]);
    }
}
