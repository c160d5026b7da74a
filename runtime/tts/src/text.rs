//! What callers hear, as text: the reading of prompt parts (money, numbers, digit strings,
//! dates) in Mandarin or English.
//!
//! Pure Rust with no audio dependency, so the flow simulator renders a prompt to exactly the
//! text the TTS engine will be given. [`plan`] is the shared core: it turns the parts of a
//! prompt into text to synthesize, library recordings and silences; [`render_text`] flattens
//! that plan to one display string. The reading rules are documented in `docs/tts.md` and in
//! the [`zh`] and [`en`] modules.

pub mod en;
pub mod zh;

/// Prompt language; decides the reading rules and the default voice.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Lang {
    /// Mandarin (the default for Courtyard's hotlines).
    #[default]
    Zh,
    /// English.
    En,
}

impl Lang {
    /// Parses a call's language code ("zh", "zh-CN", "cmn", "en", "en-GB", …).
    pub fn from_code(code: &str) -> Option<Lang> {
        let primary = code
            .split(['-', '_'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        match primary.as_str() {
            "zh" | "cmn" | "chi" | "zho" => Some(Lang::Zh),
            "en" | "eng" => Some(Lang::En),
            _ => None,
        }
    }

    /// The short code used in the WIT contract ("zh" or "en").
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }
}

/// One piece of a spoken prompt; mirrors the WIT `segment` variant.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Speech {
    /// Text read as written (digit runs inside it are read as numbers, see [`normalize`]).
    Text(String),
    /// A prompt-library key; the recording is played when one exists, else `fallback` is read.
    Prompt {
        /// Library key, e.g. "welcome".
        key: String,
        /// Text synthesized when the library has no recording for `key`.
        fallback: String,
    },
    /// An amount of money in fen (32050 → 三百二十元五角).
    Money(i64),
    /// A quantity (1502 → 一千五百零二).
    Number(i64),
    /// A string read character by character (phone and work-order numbers; 1 → 幺 in Mandarin).
    Digits(String),
    /// An ISO date, optionally with a time ("2026-11-27", "2026-11-27T14:30").
    Date(String),
    /// Silence, in milliseconds.
    Pause(u32),
}

/// One step of playing a prompt, after the reading rules have been applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Piece {
    /// Text for the TTS engine (adjacent text parts are merged so prosody flows).
    Say(String),
    /// A prompt-library recording, with the (already normalized) text to read if it is missing.
    Recording {
        /// Library key.
        key: String,
        /// Text to synthesize when no recording exists.
        fallback: String,
    },
    /// Silence, in milliseconds.
    Silence(u32),
}

/// Turns prompt parts into the pieces to play: text to synthesize, recordings and silences.
pub fn plan(lang: Lang, parts: &[Speech]) -> Vec<Piece> {
    let mut pieces: Vec<Piece> = Vec::new();
    for part in parts {
        let said = match part {
            Speech::Text(t) => normalize(lang, t),
            Speech::Money(fen) => match lang {
                Lang::Zh => zh::money(*fen),
                Lang::En => en::money(*fen),
            },
            Speech::Number(n) => match lang {
                Lang::Zh => zh::number(*n),
                Lang::En => en::number(*n),
            },
            Speech::Digits(d) => digits(lang, d),
            Speech::Date(d) => date(lang, d),
            Speech::Prompt { key, fallback } => {
                pieces.push(Piece::Recording {
                    key: key.clone(),
                    fallback: normalize(lang, fallback),
                });
                continue;
            }
            Speech::Pause(ms) => {
                if *ms > 0 {
                    pieces.push(Piece::Silence(*ms));
                }
                continue;
            }
        };
        if said.trim().is_empty() {
            continue;
        }
        match pieces.last_mut() {
            Some(Piece::Say(prev)) => join_into(lang, prev, &said),
            _ => pieces.push(Piece::Say(said)),
        }
    }
    pieces
}

/// Renders prompt parts to the text a caller hears; pauses become a comma, recordings show
/// their fallback text.
pub fn render_text(lang: Lang, parts: &[Speech]) -> String {
    let mut out = String::new();
    for piece in plan(lang, parts) {
        match piece {
            Piece::Say(t) | Piece::Recording { fallback: t, .. } => join_into(lang, &mut out, &t),
            Piece::Silence(_) => {
                let ends_in_punct = out.trim_end().chars().last().is_none_or(is_punct);
                if !ends_in_punct {
                    out.truncate(out.trim_end().len());
                    out.push_str(match lang {
                        Lang::Zh => "，",
                        Lang::En => ",",
                    });
                }
            }
        }
    }
    out.trim().to_string()
}

/// Appends `next` to `out`, with a space between English words.
fn join_into(lang: Lang, out: &mut String, next: &str) {
    let needs_space = lang == Lang::En
        && out.chars().last().is_some_and(|c| !c.is_whitespace())
        && next.chars().next().is_some_and(|c| c.is_alphanumeric());
    if needs_space {
        out.push(' ');
    }
    out.push_str(next);
}

fn is_punct(c: char) -> bool {
    matches!(
        c,
        '，' | '。' | '、' | '；' | '：' | '！' | '？' | ',' | '.' | ';' | ':' | '!' | '?'
    )
}

/// Reads a string character by character: digits one by one, letters as letters, `#`/`*` by
/// name, separators (`-`, space, `/`, `_`, `.`) as a short pause.
pub fn digits(lang: Lang, s: &str) -> String {
    let mut words: Vec<String> = Vec::new();
    let mut out = String::new();
    let flush = |words: &mut Vec<String>, out: &mut String| {
        if !words.is_empty() {
            join_into(
                lang,
                out,
                &words.join(if lang == Lang::En { " " } else { "" }),
            );
            words.clear();
        }
    };
    for c in s.trim().chars() {
        let c = fullwidth_to_ascii(c);
        match c {
            '0'..='9' => {
                let d = c as u8 - b'0';
                words.push(
                    match lang {
                        Lang::Zh => zh::digit(d),
                        Lang::En => en::digit(d),
                    }
                    .to_string(),
                );
            }
            'a'..='z' | 'A'..='Z' => {
                // Letters are spaced so they are spelled, and the Mandarin voice hands them to
                // the English one.
                flush(&mut words, &mut out);
                if out
                    .chars()
                    .last()
                    .is_some_and(|p| p.is_ascii_alphanumeric())
                {
                    out.push(' ');
                }
                out.push(c.to_ascii_uppercase());
                if lang == Lang::Zh {
                    out.push(' ');
                }
            }
            '#' | '*' | '+' => words.push(
                match (lang, c) {
                    (Lang::Zh, '#') => "井号",
                    (Lang::Zh, '*') => "星号",
                    (Lang::Zh, _) => "加",
                    (Lang::En, '#') => "hash",
                    (Lang::En, '*') => "star",
                    (Lang::En, _) => "plus",
                }
                .to_string(),
            ),
            '-' | ' ' | '/' | '_' | '.' | '—' | '－' => {
                flush(&mut words, &mut out);
                let t = out.trim_end().len();
                out.truncate(t);
                if !out.is_empty() && !out.ends_with(['，', ',']) {
                    out.push_str(if lang == Lang::Zh { "，" } else { "," });
                }
            }
            other => {
                flush(&mut words, &mut out);
                out.push(other);
            }
        }
    }
    flush(&mut words, &mut out);
    out.trim().trim_end_matches(['，', ',']).to_string()
}

/// Maps full-width digits and letters (common in Chinese input) to ASCII.
fn fullwidth_to_ascii(c: char) -> char {
    match c {
        '０'..='９' | 'Ａ'..='Ｚ' | 'ａ'..='ｚ' => {
            char::from_u32(c as u32 - 0xFEE0).unwrap_or(c)
        }
        _ => c,
    }
}

/// A parsed ISO date with an optional time.
#[derive(Debug, PartialEq, Eq)]
struct DateTime {
    year: u32,
    month: u32,
    day: Option<u32>,
    time: Option<(u32, u32)>,
}

/// Parses "YYYY-MM", "YYYY-MM-DD" (or with `/`), optionally followed by "THH:MM[:SS…]".
fn parse_date(s: &str) -> Option<DateTime> {
    let s = s.trim();
    let (date, time) = match s.find(['T', ' ']) {
        Some(i) => (&s[..i], Some(s[i + 1..].trim())),
        None => (s, None),
    };
    let mut fields = date.split(['-', '/']);
    let num = |f: Option<&str>, len: std::ops::RangeInclusive<usize>| -> Option<u32> {
        let f = f?;
        if !len.contains(&f.len()) || !f.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        f.parse().ok()
    };
    let year = num(fields.next(), 4..=4)?;
    let month = num(fields.next(), 1..=2).filter(|m| (1..=12).contains(m))?;
    let day = match fields.next() {
        Some(f) => {
            Some(num(Some(f), 1..=2).filter(|&d| d >= 1 && d <= days_in_month(year, month))?)
        }
        None => None,
    };
    if fields.next().is_some() {
        return None;
    }
    let time = match time {
        Some(t) if day.is_some() => {
            let mut hm = t.split(':');
            let h = num(hm.next(), 1..=2).filter(|&h| h < 24)?;
            let m = hm
                .next()?
                .get(..2)
                .and_then(|m| num(Some(m), 2..=2))
                .filter(|&m| m < 60)?;
            Some((h, m))
        }
        Some(_) => return None,
        None => None,
    };
    Some(DateTime {
        year,
        month,
        day,
        time,
    })
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Reads an ISO date (and time); a malformed date is read as plain text and logged.
pub fn date(lang: Lang, s: &str) -> String {
    let Some(dt) = parse_date(s) else {
        tracing::warn!(
            date = s,
            "not an ISO date (YYYY-MM-DD[THH:MM]); reading it as text"
        );
        // Digits and separators only: read digit by digit rather than as a big quantity.
        if s.chars()
            .all(|c| c.is_ascii_digit() || "-/:T .".contains(c))
        {
            return digits(lang, s);
        }
        return normalize(lang, s);
    };
    let mut out = match lang {
        Lang::Zh => zh::date(dt.year, dt.month, dt.day),
        Lang::En => en::date(dt.year, dt.month, dt.day),
    };
    if let Some((h, m)) = dt.time {
        match lang {
            Lang::Zh => out.push_str(&zh::time(h, m)),
            Lang::En => {
                out.push_str(", at ");
                out.push_str(&en::time(h, m));
            }
        }
    }
    out
}

/// Rewrites digit runs inside free text with the reading rules, so what is displayed is what
/// is spoken: "12:30" is a time, "3.5" a decimal, "5%" a percentage, a run that starts with 0 or is longer than 9
/// digits (a phone or order number) is read digit by digit, anything else as a quantity.
pub fn normalize(lang: Lang, text: &str) -> String {
    let chars: Vec<char> = text.chars().map(fullwidth_digit).collect();
    let mut out = String::with_capacity(text.len() * 2);
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let run_end = |from: usize| {
            (from..chars.len())
                .find(|&j| !chars[j].is_ascii_digit())
                .unwrap_or(chars.len())
        };
        let end = run_end(i);
        let run: String = chars[i..end].iter().collect();
        let mut next = end;
        let mut reading = None;
        // hh:mm
        if chars.get(end) == Some(&':') && run.len() <= 2 {
            let m_end = run_end(end + 1);
            if m_end - (end + 1) == 2 {
                let h: u32 = run.parse().unwrap_or(99);
                let m: u32 = chars[end + 1..m_end]
                    .iter()
                    .collect::<String>()
                    .parse()
                    .unwrap_or(99);
                if h < 24 && m < 60 {
                    reading = Some(match lang {
                        Lang::Zh => zh::time(h, m),
                        Lang::En => en::time(h, m),
                    });
                    next = m_end;
                }
            }
        }
        // decimal
        if reading.is_none()
            && chars.get(end) == Some(&'.')
            && chars.get(end + 1).is_some_and(char::is_ascii_digit)
        {
            let f_end = run_end(end + 1);
            let frac: String = chars[end + 1..f_end].iter().collect();
            if let Ok(n) = run.parse::<i64>() {
                reading = Some(match lang {
                    Lang::Zh => format!("{}点{}", zh::number(n), zh::fraction_digits(&frac)),
                    Lang::En => format!("{} point {}", en::number(n), en::fraction_digits(&frac)),
                });
                next = f_end;
            }
        }
        let reading = match reading {
            Some(r) => r,
            None if (run.len() > 1 && run.starts_with('0')) || run.len() > 9 => digits(lang, &run),
            None => match run.parse::<i64>() {
                Ok(n) => match lang {
                    Lang::Zh => zh::number(n),
                    Lang::En => en::number(n),
                },
                Err(_) => digits(lang, &run),
            },
        };
        // 5% → 百分之五 / five percent.
        let reading = if matches!(chars.get(next), Some('%' | '％')) {
            next += 1;
            match lang {
                Lang::Zh => format!("百分之{reading}"),
                Lang::En => format!("{reading} percent"),
            }
        } else {
            reading
        };
        if lang == Lang::En && out.chars().last().is_some_and(char::is_alphanumeric) {
            out.push(' ');
        }
        out.push_str(&reading);
        if lang == Lang::En && chars.get(next).is_some_and(|c| c.is_alphanumeric()) {
            out.push(' ');
        }
        i = next;
    }
    out
}

fn fullwidth_digit(c: char) -> char {
    match c {
        '０'..='９' => fullwidth_to_ascii(c),
        _ => c,
    }
}

#[cfg(test)]
mod tests;
